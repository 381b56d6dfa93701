"""The registry: every spec is internally consistent, and bad names get helpful errors."""

from __future__ import annotations

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.tasks import TASKS, get_task, task_names
from xlt_lib.tasks.hub import ADAPTERS
from xlt_lib.tasks.local import READERS
from xlt_lib.tasks.registry import check_language, check_split

EXPECTED = {
    "xnli", "pawsx", "mnli", "anli", "qqp", "sst2", "snli", "hellaswag",
    "commonsenseqa", "cosmosqa", "squad", "squad_v2", "tydiqa_en", "ccg",
}  # fmt: skip


def test_registry_holds_the_study_tasks() -> None:
    assert set(task_names()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_is_consistent(name: str) -> None:
    spec = get_task(name)
    assert spec.name == name
    assert set(spec.text_fields) <= set(spec.columns)
    assert spec.eval_split in spec.splits
    assert spec.selection_split in spec.splits
    assert spec.hub is not None or spec.local is not None
    if spec.hub is not None:
        assert spec.hub.adapter in ADAPTERS
        assert set(spec.hub.splits) <= set(spec.splits)
    if spec.local is not None:
        assert set(spec.local.splits) <= set(spec.splits)
        assert all(entry.reader in READERS for entry in spec.local.splits.values())
    if spec.train_task is not None:
        assert get_task(spec.train_task).languages == ("en",) or spec.train_task == spec.name
    if spec.format in ("classification", "multiple_choice"):
        assert spec.labels
    if spec.format == "multiple_choice":
        assert spec.num_choices == len(spec.labels)


def test_targets_as_in_xtreme() -> None:
    xnli, pawsx = get_task("xnli"), get_task("pawsx")
    assert xnli.labels == ("entailment", "neutral", "contradiction")
    assert len(xnli.languages) == 15 and xnli.train_task == "mnli" and xnli.eval_split == "test"
    assert pawsx.languages == ("de", "en", "es", "fr", "ja", "ko", "zh")
    assert pawsx.train_task == "pawsx" and pawsx.eval_split == "dev"
    assert {name for name, spec in TASKS.items() if spec.is_target} == {"xnli", "pawsx"}


def test_unknown_task_suggests_and_lists() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown task 'xnl'.*did you mean 'xnli'.*valid tasks: xnli, pawsx"
    ):
        get_task("xnl")


def test_unknown_language_and_split_list_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"no language 'ja'.*valid languages: ar, bg"):
        check_language(get_task("xnli"), "ja")
    with pytest.raises(ConfigError, match=r"no split 'train'.*valid splits: dev, test"):
        check_split(get_task("xnli"), "train")
