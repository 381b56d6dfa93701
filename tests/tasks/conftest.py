"""Fixtures for the task/data tests: an isolated dataset cache and a fake hub.

The fake hub serves small fixture files written in each hub dataset's own schema
(``fixtures/hub/<owner>__<name>.json``, keyed ``"<config>/<hub split>"``), so the
hub adapters are tested offline exactly as `datasets.load_dataset` would feed them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def tasks_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tasks-cache")


@pytest.fixture(autouse=True)
def _isolated_dataset_cache(tasks_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Canonical datasets and tokenisation caches go to a per-session temporary folder."""
    monkeypatch.setenv("XLT_CACHE_DIR", str(tasks_cache_dir))
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, str]]:
    """Replace `xlt_lib.tasks.hub.fetch` by a reader of the hub-schema fixtures; returns the fetch log."""
    from datasets import Dataset

    from xlt_lib.errors import DataError
    from xlt_lib.tasks import hub

    calls: list[tuple[str, str | None, str]] = []

    def fetch(source, hub_split, language):
        config = source.config.format(language=language) if source.config else None
        calls.append((source.path, config, hub_split))
        path = FIXTURES / "hub" / (source.path.replace("/", "__") + ".json")
        table = json.loads(path.read_text(encoding="utf-8"))
        key = f"{config}/{hub_split}"
        if key not in table:
            raise DataError(f"fixture {path.name} has no {key}")
        return Dataset.from_list(table[key])

    monkeypatch.setattr(hub, "fetch", fetch)
    return calls
