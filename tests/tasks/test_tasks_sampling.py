"""Subsampling: deterministic, label-balanced, and the same items in every language."""

from __future__ import annotations

import collections

import pytest
from datasets import Dataset

from xlt_lib.errors import ConfigError
from xlt_lib.tasks import load_split, subsample


def test_same_items_in_every_language_and_balanced(data_dir) -> None:
    picks = {}
    for language in ("en", "sw", "zh"):
        ds = load_split("xnli", "test", language, data_dir=data_dir)
        small = subsample(ds, 300, seed=13)
        assert collections.Counter(small["label"]) == {0: 100, 1: 100, 2: 100}
        picks[language] = list(small["id"])
    assert picks["en"] == picks["sw"] == picks["zh"]
    assert picks["en"] == sorted(picks["en"])  # original order kept


def test_deterministic_given_seed_and_independent_of_row_order() -> None:
    rows = [{"id": f"t-{i:03d}", "label": i % 2} for i in range(100)]
    ds = Dataset.from_list(rows)
    shuffled = ds.shuffle(seed=0)
    a = set(subsample(ds, 10, seed=5)["id"])
    assert a == set(subsample(ds, 10, seed=5)["id"]) == set(subsample(shuffled, 10, seed=5)["id"])
    assert a != set(subsample(ds, 10, seed=6)["id"])


def test_proportional_quotas_for_imbalanced_labels() -> None:
    ds = Dataset.from_list([{"id": str(i), "label": 0 if i < 75 else 1} for i in range(100)])
    assert collections.Counter(subsample(ds, 20, seed=0)["label"]) == {0: 15, 1: 5}


def test_noop_and_bad_sizes() -> None:
    ds = Dataset.from_list([{"id": str(i), "label": 0} for i in range(5)])
    assert subsample(ds, None, seed=0) is ds and subsample(ds, 5, seed=0) is ds
    with pytest.raises(ConfigError, match="n=0"):
        subsample(ds, 0, seed=0)


def test_unstratified_without_label_column(data_dir) -> None:
    ds = load_split("tydiqa_en", "dev", data_dir=data_dir)
    assert len(subsample(ds, 25, seed=3, stratify_by="label")) == 25
