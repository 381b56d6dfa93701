"""Tokenisation per format, its cache, and dynamic-padding collators (real tokenizer, tiny model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.tasks import collator_for, encode_batch, load_split, subsample, tokenize
from xlt_lib.tasks import tokenization as tokenization_module

CCG_DIR = Path(__file__).parent / "fixtures" / "ccg"


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_classification_pairs(data_dir, tokenizer) -> None:
    ds = load_split("xnli", "test", "zh", data_dir=data_dir).select(range(8))
    features = tokenize(ds, "xnli", tokenizer, 32)
    assert features.column_names == ["id", "language", "input_ids", "attention_mask", "labels"]
    assert features["id"] == ds["id"] and features["labels"] == ds["label"]
    first = features[0]["input_ids"]
    assert (
        first[0] == tokenizer.cls_token_id and first.count(tokenizer.sep_token_id) == 3
    )  # <s> A </s></s> B </s>
    assert max(len(ids) for ids in features["input_ids"]) <= 32
    assert tokenizer.unk_token_id not in {t for ids in features["input_ids"] for t in ids}


def test_single_sentence(data_dir, tokenizer) -> None:
    ds = load_split("sst2", "test", data_dir=data_dir).select(range(4))
    encoded = encode_batch(ds[:4], "sst2", tokenizer, 64)
    assert all(ids.count(tokenizer.sep_token_id) == 1 for ids in encoded["input_ids"])


def test_collator_pads_to_the_longest_in_batch_not_max_length(data_dir, tokenizer) -> None:
    ds = tokenize(load_split("mnli", "dev", data_dir=data_dir).select(range(8)), "mnli", tokenizer, 256)
    batch = collator_for("mnli", tokenizer)([ds[i] for i in range(8)])
    longest = max(len(ids) for ids in ds["input_ids"])
    assert tuple(batch["input_ids"].shape) == (8, longest) and longest < 256
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert batch["input_ids"][batch["attention_mask"] == 0].eq(tokenizer.pad_token_id).all()


def test_multiple_choice_nested_per_choice(data_dir, tokenizer) -> None:
    ds = load_split("hellaswag", "dev", data_dir=data_dir).select(range(3))
    features = tokenize(ds, "hellaswag", tokenizer, 64)
    assert [len(choices) for choices in features["input_ids"]] == [4, 4, 4]
    context_ids = tokenizer(ds[0]["context"], add_special_tokens=False)["input_ids"]
    assert features[0]["input_ids"][0][1 : 1 + len(context_ids)] == context_ids
    batch = collator_for("hellaswag", tokenizer)([features[i] for i in range(3)])
    assert batch["input_ids"].shape[:2] == (3, 4) and tuple(batch["labels"].shape) == (3,)


def test_qa_training_positions_recover_the_answer(data_dir, tokenizer) -> None:
    ds = load_split("tydiqa_en", "dev", data_dir=data_dir).select(range(6))
    features = tokenize(ds, "tydiqa_en", tokenizer, 96, doc_stride=32)
    assert len(features) > len(ds)  # long contexts overflow into several windows
    answers = {row["id"]: row["answers"]["text"][0] for row in ds}
    found = set()
    for feature in features:
        start, end = feature["start_positions"], feature["end_positions"]
        if start == 0:
            assert end == 0  # answer outside this window: points at <s>
            continue
        span = tokenizer.decode(feature["input_ids"][start : end + 1]).strip()
        assert span == answers[feature["example_id"]]
        found.add(feature["example_id"])
    assert found == set(answers)
    batch = collator_for("tydiqa_en", tokenizer)([features[i] for i in range(4)])
    assert set(batch) == {"input_ids", "attention_mask", "start_positions", "end_positions"}


def test_qa_eval_features_keep_context_offsets_only(data_dir, tokenizer) -> None:
    ds = load_split("tydiqa_en", "dev", data_dir=data_dir).select(range(2))
    features = tokenize(ds, "tydiqa_en", tokenizer, 64, train=False, doc_stride=16)
    assert features.column_names == ["input_ids", "attention_mask", "example_id", "offset_mapping"]
    feature = features[0]
    question_length = len(tokenizer(ds[0]["question"].lstrip())["input_ids"])
    assert all(o is None for o in feature["offset_mapping"][: question_length + 1])
    start, end = next(o for o in feature["offset_mapping"] if o is not None)
    assert ds[0]["context"][start:end].strip()


def test_tagging_labels_first_subword_only(tokenizer) -> None:
    ds = load_split("ccg", "train", data_dir=CCG_DIR)
    features = tokenize(ds, "ccg", tokenizer, 64)
    labels, ids = features[0]["labels"], features[0]["input_ids"]
    assert labels[0] == -100 and labels[-1] == -100  # <s>, </s>
    assert [label for label in labels if label != -100] == ds[0]["tags"]  # one label per word
    assert len(ids) > len(ds[0]["tokens"]) + 2  # some words split into several pieces
    batch = collator_for("ccg", tokenizer)([features[0], features[1]])
    assert batch["labels"].shape == batch["input_ids"].shape
    assert (batch["labels"][1][batch["attention_mask"][1] == 0] == -100).all()


def test_second_tokenize_hits_the_cache(data_dir, tokenizer, monkeypatch) -> None:
    ds = subsample(load_split("xnli", "dev", "ur", data_dir=data_dir), 30, seed=1)
    first = tokenize(ds, "xnli", tokenizer, 48)

    def must_not_run(*args, **kwargs):
        raise AssertionError("tokenised again instead of reading the cache")

    monkeypatch.setattr(tokenization_module, "encode_batch", must_not_run)
    tokenizer("warm", "state", truncation=True, max_length=7, padding="max_length")  # changes backend state
    reloaded = subsample(load_split("xnli", "dev", "ur", data_dir=data_dir), 30, seed=1)
    second = tokenize(reloaded, "xnli", tokenizer, 48)
    assert second.cache_files == first.cache_files and second["input_ids"] == first["input_ids"]
    with pytest.raises(AssertionError, match="tokenised again"):
        tokenize(ds, "xnli", tokenizer, 40)  # another max_length must not reuse the cache


def test_cached_features_are_the_features_tokenising_afresh_gives(data_dir, tokenizer) -> None:
    from xlt_lib.tasks import get_task

    ds = subsample(load_split("xnli", "test", "sw", data_dir=data_dir), 24, seed=3)
    first = tokenize(ds, "xnli", tokenizer, 40)
    cached = tokenize(
        subsample(load_split("xnli", "test", "sw", data_dir=data_dir), 24, seed=3), "xnli", tokenizer, 40
    )
    assert cached.cache_files == first.cache_files  # read back, not recomputed
    afresh = encode_batch(ds[:], get_task("xnli"), tokenizer, 40)  # no cache involved
    assert cached.column_names == list(afresh)
    for column in afresh:
        assert cached[column][:] == afresh[column], column


def test_other_rows_or_changed_data_miss_the_cache(tmp_path, data_dir, tokenizer, monkeypatch) -> None:
    lines = (data_dir / "xnli" / "test-en.tsv").read_text(encoding="utf-8").splitlines(keepends=True)[:30]
    root = tmp_path / "data"
    (root / "xnli").mkdir(parents=True)
    source = root / "xnli" / "test-en.tsv"
    source.write_text("".join(lines), encoding="utf-8")
    calls = []
    real = tokenization_module.encode_batch
    monkeypatch.setattr(
        tokenization_module, "encode_batch", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs)
    )

    def features(seed: int):
        return tokenize(
            subsample(load_split("xnli", "test", "en", data_dir=root), 10, seed), "xnli", tokenizer, 40
        )

    first = features(seed=0)
    assert calls and features(seed=0)["input_ids"][:] == first["input_ids"][:]
    hits = len(calls)
    features(seed=0)
    assert len(calls) == hits  # same rows, same file: a hit
    features(seed=1)
    assert len(calls) > hits  # other rows selected: tokenised afresh
    hits = len(calls)
    source.write_text("".join(line.replace("\t", " changed\t", 1) for line in lines), encoding="utf-8")
    changed = features(seed=0)
    assert len(calls) > hits  # the file's content changed: tokenised afresh
    assert changed["id"][:] == first["id"][:] and changed["input_ids"][:] != first["input_ids"][:]


def test_tokenizer_fingerprint_is_remembered_until_the_tokenizer_changes(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    fresh = AutoTokenizer.from_pretrained(tiny_model_dir)
    first = tokenization_module.tokenizer_fingerprint(fresh)
    assert first == tokenization_module._fingerprint(fresh)
    assert tokenization_module.tokenizer_fingerprint(fresh) == first
    fresh.add_tokens(["xltnewtoken"])
    changed = tokenization_module.tokenizer_fingerprint(fresh)
    assert changed != first and changed == tokenization_module._fingerprint(fresh)
