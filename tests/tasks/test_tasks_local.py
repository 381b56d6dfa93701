"""Loading every locally available task from the offline mirror into canonical columns."""

from __future__ import annotations

import collections

import pytest

from xlt_lib.errors import ConfigError, DataError
from xlt_lib.tasks import get_task, load_split, resolve_source
from xlt_lib.tasks.loading import carve_part

LOCAL_SPLITS = [
    ("pawsx", "train"), ("pawsx", "test"), ("mnli", "train"), ("mnli", "dev"), ("qqp", "dev"),
    ("sst2", "test"), ("snli", "dev"), ("hellaswag", "dev"), ("cosmosqa", "dev"), ("tydiqa_en", "dev"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "split"), LOCAL_SPLITS)
def test_local_task_loads_canonical_columns(data_dir, name: str, split: str) -> None:
    ds = load_split(name, split, data_dir=data_dir)
    spec = get_task(name)
    assert tuple(ds.column_names) == spec.columns
    row = ds[0]
    assert row["id"].startswith(f"{name}-{split}-") and row["language"] == "en"
    assert len(set(ds["id"])) == len(ds)
    if "label" in ds.column_names:
        assert ds.features["label"].names == list(spec.labels)
        assert set(ds["label"]) <= set(range(len(spec.labels)))
    if spec.format == "multiple_choice":
        assert all(len(choices) == spec.num_choices for choices in ds["choices"])
    if spec.format == "extractive_qa":
        for example in ds.select(range(20)):
            for text, start in zip(
                example["answers"]["text"], example["answers"]["answer_start"], strict=True
            ):
                assert example["context"][start : start + len(text)] == text


def test_xnli_test_is_15_languages_of_5010_balanced_aligned_rows(data_dir) -> None:
    ids = None
    labels = None
    for language in get_task("xnli").languages:
        ds = load_split("xnli", "test", language, data_dir=data_dir)
        assert len(ds) == 5010
        assert collections.Counter(ds["label"]) == {0: 1670, 1: 1670, 2: 1670}
        assert set(ds["language"]) == {language}
        ids = ids or list(ds["id"])
        labels = labels or list(ds["label"])
        assert list(ds["id"]) == ids and list(ds["label"]) == labels  # row i is the same item everywhere
    assert ids[42] == "xnli-test-00042"


def test_pawsx_dev_is_7_languages_of_2000_rows(data_dir) -> None:
    for language in get_task("pawsx").languages:
        ds = load_split("pawsx", "dev", language, data_dir=data_dir)
        assert len(ds) == 2000
        assert set(ds["label"]) == {0, 1}


def test_pawsx_quotes_never_merge_rows(data_dir) -> None:
    """Non-English PAWS-X dev has bare double quotes; csv quoting would merge rows."""
    ds = load_split("pawsx", "dev", "de", data_dir=data_dir)
    assert any('"' in text for text in ds["text_a"])
    assert max(len(text) for text in ds["text_a"]) < 1000


def test_mnli_labels_are_hub_order(data_dir) -> None:
    ds = load_split("mnli", "dev", data_dir=data_dir)
    first = (data_dir / "glue/mnli/dev.json").read_text(encoding="utf-8")
    assert ds.features["label"].int2str(ds[0]["label"]) in first[:2000]


@pytest.mark.parametrize("name", ["hellaswag", "cosmosqa", "tydiqa_en"])
def test_carved_splits_are_disjoint_deterministic_and_cover_the_file(data_dir, name: str) -> None:
    train = load_split(name, "train", data_dir=data_dir)
    dev = load_split(name, "dev", data_dir=data_dir)
    train_keys = {i.removeprefix(f"{name}-train-") for i in train["id"]}
    dev_keys = {i.removeprefix(f"{name}-dev-") for i in dev["id"]}
    assert not train_keys & dev_keys
    assert 0.05 < len(dev) / (len(train) + len(dev)) < 0.15
    assert all(carve_part(key, 10) == "dev" for key in dev_keys)
    assert list(load_split(name, "dev", data_dir=data_dir)["id"]) == list(dev["id"])


def test_second_load_is_cached_with_a_stable_fingerprint(data_dir) -> None:
    first = load_split("qqp", "dev", data_dir=data_dir)
    second = load_split("qqp", "dev", data_dir=data_dir)
    assert first._fingerprint == second._fingerprint
    assert first.cache_files and first.cache_files == second.cache_files


def test_source_resolution(data_dir, monkeypatch) -> None:
    xnli = get_task("xnli")
    assert resolve_source(xnli, "test", "de", "auto", data_dir) == ("local", data_dir)
    assert resolve_source(xnli, "test", "de", "hub", data_dir) == ("hub", None)
    # Issue 13: with a data directory, a split the files lack is never read from the hub silently.
    assert resolve_source(get_task("pawsx"), "test", "de", "auto", data_dir) == ("local", data_dir)
    with pytest.raises(DataError, match=r"missing data file .*pawsx/test-de\.tsv"):
        load_split("pawsx", "test", "de", data_dir=data_dir)
    assert resolve_source(get_task("anli"), "train", "en", "auto", data_dir) == ("hub", None)
    with pytest.raises(DataError, match=r"no local files for split 'train', language 'de'.*source: hub"):
        resolve_source(get_task("pawsx"), "train", "de", "local", data_dir)
    with pytest.raises(DataError, match=r"no local files for split 'test' .*source: hub"):
        resolve_source(get_task("snli"), "test", "en", "auto", data_dir)
    with pytest.raises(ConfigError, match="source='web'"):
        resolve_source(xnli, "test", "de", "web", data_dir)  # type: ignore[arg-type]
    monkeypatch.setenv("XLT_DATA_DIR", str(data_dir / "no-such-dir"))
    with pytest.raises(DataError, match=r"XLT_DATA_DIR=.*no such directory"):
        resolve_source(xnli, "test", "de", "auto", None)


def test_unknown_language_for_a_task(data_dir) -> None:
    with pytest.raises(ConfigError, match="valid languages: de, en, es, fr, ja, ko, zh"):
        load_split("pawsx", "dev", "ar", data_dir=data_dir)
