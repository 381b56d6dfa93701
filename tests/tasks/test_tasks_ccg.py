"""CCG supertagging from user-supplied CCGbank-derived files."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.errors import DataError
from xlt_lib.tasks import load_split, resolved_task
from xlt_lib.tasks.loading import UNKNOWN_TAG

CCG_DIR = Path(__file__).parent / "fixtures" / "ccg"


def test_ccg_loads_sentences_with_the_training_tag_set(monkeypatch) -> None:
    monkeypatch.setenv("XLT_CCG_DIR", str(CCG_DIR))
    train = load_split("ccg", "train")
    names = train.features["tags"].feature.names
    assert names[-1] == UNKNOWN_TAG and names[:-1] == sorted(names[:-1])
    assert len(train) == 2 and train[1]["tokens"] == ["Mr.", "Vinken", "is", "chairman", "."]
    assert [names[t] for t in train[0]["tags"][:3]] == ["N/N", "N", ","]
    assert resolved_task("ccg").labels == tuple(names)


def test_ccg_dev_tags_unseen_in_train_map_to_unk() -> None:
    dev = load_split("ccg", "dev", data_dir=CCG_DIR)
    names = dev.features["tags"].feature.names
    assert [names[t] for t in dev[0]["tags"]] == ["N/N", "N", UNKNOWN_TAG, UNKNOWN_TAG, "."]


def test_ccg_without_a_directory_says_how_to_set_it(monkeypatch) -> None:
    monkeypatch.delenv("XLT_CCG_DIR", raising=False)
    with pytest.raises(DataError, match="XLT_CCG_DIR"):
        load_split("ccg", "train")


def test_ccg_bad_line(tmp_path) -> None:
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.tsv").write_text("The\tNP/N\ncat N\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=r"train\.tsv: line 2: expected 2 tab-separated fields \(word, tag\), found 1"
    ):
        load_split("ccg", "train", data_dir=tmp_path)
