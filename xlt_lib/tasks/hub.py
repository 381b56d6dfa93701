"""Reading tasks from the Hugging Face hub: fetching, then adapting the hub schema.

The two steps are separate on purpose. `fetch` is the only function that touches
the network (`datasets.load_dataset`); the adapters are pure functions from rows in
the hub's own schema to `RawRow`s, so they are tested offline on small fixtures in
that schema (tests monkeypatch `fetch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from xlt_lib.errors import DataError
from xlt_lib.tasks.local import RawRow
from xlt_lib.tasks.spec import HubSource

Adapter = Callable[[Iterable[dict[str, Any]], str], Iterator[RawRow]]


def fetch(source: HubSource, hub_split: str, language: str) -> Any:
    """Download (or read from the ``datasets`` cache) one split of a hub dataset."""
    import datasets

    config = source.config.format(language=language) if source.config else None
    try:
        return datasets.load_dataset(source.path, config, split=hub_split)
    except Exception as exc:  # the hub raises many unrelated types (connection, auth, missing config)
        raise DataError(
            f"cannot load {source.path!r} (config {config!r}, split {hub_split!r}) from the Hugging Face hub: "
            f"{type(exc).__name__}: {exc}. Offline, point XLT_DATA_DIR (or data_dir) at local files."
        ) from exc


def _where(origin: str, index: int) -> str:
    return f"{origin} row {index}"


def _check(row: dict[str, Any], keys: tuple[str, ...], origin: str, index: int) -> None:
    missing = [key for key in keys if key not in row]
    if missing:
        raise DataError(f"{_where(origin, index)}: missing column(s) {', '.join(missing)}")


def _native_key(row: dict[str, Any], index: int, *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value is not None and value != "":
            return f"{value:05d}" if isinstance(value, int) else str(value)
    return f"{index:05d}"


def adapt_premise_hypothesis(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """``premise, hypothesis, label`` (XNLI, GLUE MNLI, SNLI, ANLI); key = ``idx``/``uid`` or row number.

    XNLI is row-aligned across its language configs, and it has no id column, so its
    key is the row number (as for the local files).
    """
    for index, row in enumerate(rows):
        _check(row, ("premise", "hypothesis", "label"), origin, index)
        fields = {"text_a": row["premise"], "text_b": row["hypothesis"], "label": row["label"]}
        yield RawRow(_native_key(row, index, "uid", "idx"), _where(origin, index), fields)


def adapt_sentence_pair(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """PAWS-X ``id, sentence1, sentence2, label``; key = row number (row-aligned across languages)."""
    for index, row in enumerate(rows):
        _check(row, ("sentence1", "sentence2", "label"), origin, index)
        fields = {"text_a": row["sentence1"], "text_b": row["sentence2"], "label": row["label"]}
        yield RawRow(f"{index:05d}", _where(origin, index), fields)


def adapt_question_pair(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """GLUE QQP ``question1, question2, label, idx``."""
    for index, row in enumerate(rows):
        _check(row, ("question1", "question2", "label"), origin, index)
        fields = {"text_a": row["question1"], "text_b": row["question2"], "label": row["label"]}
        yield RawRow(_native_key(row, index, "idx"), _where(origin, index), fields)


def adapt_single_sentence(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """GLUE SST-2 ``sentence, label, idx``."""
    for index, row in enumerate(rows):
        _check(row, ("sentence", "label"), origin, index)
        yield RawRow(
            _native_key(row, index, "idx"),
            _where(origin, index),
            {"text_a": row["sentence"], "label": row["label"]},
        )


def adapt_hellaswag(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """Rowan/hellaswag ``ind, ctx, endings, label`` (label is a string on the hub)."""
    for index, row in enumerate(rows):
        _check(row, ("ind", "ctx", "endings", "label"), origin, index)
        fields = {
            "context": row["ctx"],
            "question": "",
            "choices": list(row["endings"]),
            "label": row["label"],
        }
        yield RawRow(_native_key(row, index, "ind"), _where(origin, index), fields)


def adapt_commonsenseqa(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """tau/commonsense_qa ``id, question, choices{label, text}, answerKey``; no context."""
    for index, row in enumerate(rows):
        _check(row, ("id", "question", "choices", "answerKey"), origin, index)
        choices = row["choices"]
        if list(choices.get("label", [])) != ["A", "B", "C", "D", "E"]:
            raise DataError(
                f"{_where(origin, index)}: expected choice labels A-E, found {choices.get('label')}"
            )
        fields = {
            "context": "",
            "question": row["question"],
            "choices": list(choices["text"]),
            "label": row["answerKey"],
        }
        yield RawRow(str(row["id"]), _where(origin, index), fields)


def adapt_cosmosqa(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """allenai/cosmos_qa ``id, context, question, answer0..answer3, label``."""
    for index, row in enumerate(rows):
        _check(
            row,
            ("id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"),
            origin,
            index,
        )
        fields = {
            "context": row["context"],
            "question": row["question"],
            "choices": [row[f"answer{i}"] for i in range(4)],
            "label": row["label"],
        }
        yield RawRow(str(row["id"]), _where(origin, index), fields)


def adapt_squad(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """rajpurkar/squad(_v2) ``id, question, context, answers{text, answer_start}``."""
    for index, row in enumerate(rows):
        _check(row, ("id", "question", "context", "answers"), origin, index)
        answers = row["answers"]
        texts, starts = list(answers.get("text", [])), [int(s) for s in answers.get("answer_start", [])]
        if len(texts) != len(starts):
            raise DataError(
                f"{_where(origin, index)}: answers.text and answers.answer_start differ in length"
            )
        fields = {
            "question": row["question"],
            "context": row["context"],
            "answers": {"text": texts, "answer_start": starts},
        }
        yield RawRow(str(row["id"]), _where(origin, index), fields)


def adapt_tydiqa_english(rows: Iterable[dict[str, Any]], origin: str) -> Iterator[RawRow]:
    """TyDiQA-GoldP (``secondary_task``), English questions only (ids start with ``english``)."""
    english = (row for row in rows if str(row.get("id", "")).startswith("english"))
    yield from adapt_squad(english, origin)


ADAPTERS: dict[str, Adapter] = {
    "premise_hypothesis": adapt_premise_hypothesis,
    "sentence_pair": adapt_sentence_pair,
    "question_pair": adapt_question_pair,
    "single_sentence": adapt_single_sentence,
    "hellaswag": adapt_hellaswag,
    "commonsenseqa": adapt_commonsenseqa,
    "cosmosqa": adapt_cosmosqa,
    "squad": adapt_squad,
    "tydiqa_english": adapt_tydiqa_english,
}
