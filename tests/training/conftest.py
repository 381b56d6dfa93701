"""Fixtures shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# Three CCGbank-style sentences: word<TAB>supertag, blank line between sentences.
CCG_TRAIN = """The\tNP[nb]/N
dog\tN
barks\tS[dcl]\\NP
.\t.

Cats\tN
sleep\tS[dcl]\\NP

A\tNP[nb]/N
bird\tN
sings\tS[dcl]\\NP
loudly\t(S\\NP)\\(S\\NP)
"""
CCG_DEV = """The\tNP[nb]/N
cat\tN
sleeps\tS[dcl]\\NP
"""


@pytest.fixture
def ccg_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ccg"
    root.mkdir()
    (root / "train.tsv").write_text(CCG_TRAIN)
    (root / "dev.tsv").write_text(CCG_DEV)
    monkeypatch.setenv("XLT_CCG_DIR", str(root))
    return root
