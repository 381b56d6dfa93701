"""Hub adapters on fixtures in each hub dataset's own schema (fetch is monkeypatched)."""

from __future__ import annotations

import pytest

from xlt_lib.errors import DataError
from xlt_lib.tasks import get_task, load_split

HUB_SPLITS = [
    ("xnli", "test", "de"), ("xnli", "dev", "en"), ("pawsx", "train", "en"), ("pawsx", "dev", "fr"),
    ("mnli", "train", "en"), ("mnli", "dev", "en"), ("anli", "train", "en"), ("qqp", "train", "en"),
    ("sst2", "train", "en"), ("snli", "train", "en"), ("snli", "test", "en"), ("hellaswag", "train", "en"),
    ("commonsenseqa", "train", "en"), ("cosmosqa", "train", "en"), ("squad", "train", "en"),
    ("squad_v2", "train", "en"), ("tydiqa_en", "train", "en"), ("tydiqa_en", "dev", "en"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "split", "language"), HUB_SPLITS)
def test_hub_task_adapts_to_canonical_columns(fake_hub, name: str, split: str, language: str) -> None:
    spec = get_task(name)
    ds = load_split(name, split, language, source="hub")
    assert tuple(ds.column_names) == spec.columns
    assert len(ds) > 0 and set(ds["language"]) == {language}
    assert all(i.startswith(f"{name}-{split}-") for i in ds["id"])
    assert len(set(ds["id"])) == len(ds)
    assert [call[0] for call in fake_hub] == [spec.hub.path] * len(spec.hub.splits[split])
    if "label" in ds.column_names:
        assert set(ds["label"]) <= set(range(len(spec.labels)))


def test_rows_without_gold_label_are_dropped(fake_hub) -> None:
    assert len(load_split("mnli", "train", source="hub")) == 4  # fixture: 4 labelled + 1 with label -1
    assert len(load_split("snli", "train", source="hub")) == 4


def test_anli_concatenates_the_three_rounds(fake_hub) -> None:
    ds = load_split("anli", "dev", source="hub")
    assert [call[2] for call in fake_hub] == ["dev_r1", "dev_r2", "dev_r3"]
    assert len(ds) == 6 and ds[0]["id"] == "anli-dev-dev-r1-0"


def test_xnli_hub_ids_pair_with_local_ids(fake_hub) -> None:
    ds = load_split("xnli", "test", "de", source="hub")
    assert ds["id"][:2] == ["xnli-test-00000", "xnli-test-00001"]
    assert ds.features["label"].int2str(ds[3]["label"]) == "entailment"


def test_multiple_choice_labels(fake_hub) -> None:
    csqa = load_split("commonsenseqa", "train", source="hub")
    assert csqa[1]["label"] == 1 and csqa[1]["choices"][1] == "populated areas"
    assert csqa[0]["context"] == "" and csqa[0]["question"].startswith("The sanctions")
    hella = load_split("hellaswag", "train", source="hub")
    assert hella[0]["label"] == 3 and hella[0]["id"] == "hellaswag-train-00004"


def test_squad_v2_unanswerable_has_empty_answers(fake_hub) -> None:
    ds = load_split("squad_v2", "train", source="hub")
    assert ds[2]["answers"] == {"text": [], "answer_start": []}
    assert ds[0]["answers"]["text"] == ["a golden statue of the Virgin Mary"]


def test_tydiqa_keeps_only_english(fake_hub) -> None:
    ds = load_split("tydiqa_en", "train", source="hub")
    assert ds["id"] == ["tydiqa_en-train-english--2409452236283373306-0"]


def test_hub_split_missing_is_a_clear_error(fake_hub) -> None:
    with pytest.raises(DataError, match="'commonsenseqa' split 'test' is not on the Hugging Face hub"):
        from xlt_lib.tasks.loading import resolve_source

        resolve_source(get_task("commonsenseqa"), "test", "en", "hub")


def test_adapter_reports_missing_column() -> None:
    from xlt_lib.tasks.hub import adapt_premise_hypothesis

    with pytest.raises(DataError, match=r"facebook/xnli:test row 1: missing column\(s\) hypothesis"):
        list(
            adapt_premise_hypothesis(
                [{"premise": "a", "hypothesis": "b", "label": 0}, {"premise": "a", "label": 0}],
                "facebook/xnli:test",
            )
        )
