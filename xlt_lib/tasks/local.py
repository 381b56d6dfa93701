"""Readers for the local file layouts of the offline mirror (``shared/data/README.md``).

Each reader turns one file into `RawRow`s: the canonical content fields of one
example (no ``id``/``language`` yet, labels still as written in the file), its
native key (the row number, JSON key or the file's own id) and where it came from,
so that every problem is reported with the file and line (or JSON key).

The readers are hand-written rather than `datasets.load_dataset("csv"/"json")`
because the layouts need validation the generic builders do not do (field counts
per line, PAWS-X's unquoted double quotes, GLUE-subset JSON objects keyed by row,
SQuAD answer offsets), and a bad row must be named by its line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlt_lib.errors import DataError


@dataclass(frozen=True)
class RawRow:
    """One example as read from a file, before labels are indexed and ids assigned."""

    key: str
    where: str
    fields: dict[str, Any]


Reader = Callable[[Path, str], Iterable[Any]]  # yields RawRow


def _fail(task: str, path: Path, where: str | int, message: str) -> DataError:
    location = f"line {where}" if isinstance(where, int) else where
    return DataError(f"task {task!r}: {path}: {location}: {message}")


def _read_bytes(task: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"task {task!r}: missing data file {path}") from None
    except OSError as exc:
        raise DataError(f"task {task!r}: cannot read {path}: {exc.strerror}") from None


def _decode(task: str, path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(task, path, line, f"undecodable bytes at byte {exc.start} (expected UTF-8)") from None


def _lines(task: str, path: Path) -> list[str]:
    """The file's lines, decoded strictly as UTF-8, without line ends."""
    text = _decode(task, path, _read_bytes(task, path))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _split_fields(task: str, path: Path, number: int, line: str, names: tuple[str, ...]) -> list[str]:
    # Tab-split by hand, never csv quoting: PAWS-X fields contain bare double quotes.
    fields = line.split("\t")
    if len(fields) != len(names):
        raise _fail(
            task,
            path,
            number,
            f"expected {len(names)} tab-separated fields ({', '.join(names)}), found {len(fields)}",
        )
    return fields


def read_tsv_pairs(path: Path, task: str) -> Iterator[RawRow]:
    """``text_a<TAB>text_b<TAB>label`` without header (XNLI, PAWS-X dev); key = row number."""
    names = ("text_a", "text_b", "label")
    for index, line in enumerate(_lines(task, path)):
        a, b, label = _split_fields(task, path, index + 1, line, names)
        yield RawRow(f"{index:05d}", f"line {index + 1}", {"text_a": a, "text_b": b, "label": label})


def _header_rows(task: str, path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    lines = _lines(task, path)
    if not lines:
        raise _fail(task, path, 1, f"empty file (expected a header with {', '.join(required)})")
    header = tuple(lines[0].split("\t"))
    missing = [name for name in required if name not in header]
    if missing:
        raise _fail(task, path, 1, f"header lacks column(s) {', '.join(missing)} (found {', '.join(header)})")
    for number, line in enumerate(lines[1:], start=2):
        values = _split_fields(task, path, number, line, header)
        yield number, dict(zip(header, values, strict=True))


def read_tsv_pairs_header(path: Path, task: str) -> Iterator[RawRow]:
    """PAWS-X style TSV with header ``id sentence1 sentence2 label [...]``; key = row number."""
    for index, (number, row) in enumerate(_header_rows(task, path, ("sentence1", "sentence2", "label"))):
        fields = {"text_a": row["sentence1"], "text_b": row["sentence2"], "label": row["label"]}
        yield RawRow(f"{index:05d}", f"line {number}", fields)


def read_tsv_pairs_id_header(path: Path, task: str) -> Iterator[RawRow]:
    """PAWS-X test TSV with header ``id sentence1 sentence2 label``; key = the file's own ``id``.

    The labelled PAWS-X test files do not list items in the same order in every
    language (row 562 is item 286 in English, 2212 in German): keying by the
    ``id`` column pairs each item with itself across languages. (The training file
    keeps row-number keys: they decide which examples a capped run trains on.)
    """
    for number, row in _header_rows(task, path, ("id", "sentence1", "sentence2", "label")):
        if not row["id"].strip():
            raise _fail(task, path, number, "empty id")
        fields = {"text_a": row["sentence1"], "text_b": row["sentence2"], "label": row["label"]}
        yield RawRow(row["id"].strip(), f"line {number}", fields)


def read_tsv_sentence_header(path: Path, task: str) -> Iterator[RawRow]:
    """SST-2 style TSV with header ``sentence label``; key = row number."""
    for index, (number, row) in enumerate(_header_rows(task, path, ("sentence", "label"))):
        yield RawRow(f"{index:05d}", f"line {number}", {"text_a": row["sentence"], "label": row["label"]})


def _load_json(task: str, path: Path) -> Any:
    text = _decode(task, path, _read_bytes(task, path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(task, path, exc.lineno, f"invalid JSON ({exc.msg}, column {exc.colno})") from None


def _require(task: str, path: Path, where: str, record: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(record, dict):
        raise _fail(task, path, where, f"expected an object with {', '.join(keys)}")
    missing = [key for key in keys if key not in record]
    if missing:
        raise _fail(task, path, where, f"missing key(s) {', '.join(missing)} (expected {', '.join(keys)})")


def read_indexed_json_pairs(path: Path, task: str) -> Iterator[RawRow]:
    """GLUE-subset JSON ``{"0": {"text_a", "text_b", "label"}, ...}``; key = the JSON key."""
    data = _load_json(task, path)
    if not isinstance(data, dict):
        raise _fail(task, path, "top level", "expected a JSON object keyed by row number")
    for key, record in data.items():
        where = f"JSON key {key!r}"
        _require(task, path, where, record, ("text_a", "text_b", "label"))
        fields = {"text_a": record["text_a"], "text_b": record["text_b"], "label": record["label"]}
        for name in ("text_a", "text_b"):
            if not isinstance(fields[name], str):
                raise _fail(task, path, f"{where}.{name}", "expected a string")
        yield RawRow(f"{int(key):05d}" if key.isdigit() else key, where, fields)


def read_hellaswag_jsonl(path: Path, task: str) -> Iterator[RawRow]:
    """HellaSwag JSON lines ``{"ind", "ctx", "endings", "label"}``; key = ``ind``."""
    for number, line in enumerate(_lines(task, path), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(task, path, number, f"invalid JSON ({exc.msg}, column {exc.colno})") from None
        _require(task, path, f"line {number}", record, ("ind", "ctx", "endings", "label"))
        endings = record["endings"]
        if not isinstance(endings, list) or not all(isinstance(e, str) for e in endings):
            raise _fail(task, path, number, "`endings` must be a list of strings")
        fields = {"context": record["ctx"], "question": "", "choices": endings, "label": record["label"]}
        yield RawRow(str(record["ind"]), f"line {number}", fields)


def read_cosmosqa_csv(path: Path, task: str) -> Iterator[RawRow]:
    """Cosmos QA CSV ``id,context,question,answer0..answer3,label``; key = ``id``."""
    text = _decode(task, path, _read_bytes(task, path))
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    required = ("id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label")
    missing = [name for name in required if name not in (reader.fieldnames or ())]
    if missing:
        raise _fail(task, path, 1, f"header lacks column(s) {', '.join(missing)}")
    try:
        for record in reader:
            if None in record or any(record[name] is None for name in required):
                raise _fail(
                    task,
                    path,
                    reader.line_num,
                    f"expected {len(reader.fieldnames or ())} comma-separated fields",
                )
            choices = [record[f"answer{i}"] for i in range(4)]
            fields = {
                "context": record["context"],
                "question": record["question"],
                "choices": choices,
                "label": record["label"],
            }
            yield RawRow(record["id"], f"line {reader.line_num}", fields)
    except csv.Error as exc:
        raise _fail(task, path, reader.line_num, f"malformed CSV ({exc})") from None


def read_squad_json(path: Path, task: str) -> Iterator[RawRow]:
    """SQuAD v1.1/v2.0 JSON; one row per question; key = the question id.

    Where the file's question ids are not unique (the offline English TyDiQA-GoldP
    train file numbers questions per article), the key is the question's position
    ``a<article>-p<paragraph>-q<question>`` instead, which is stable for a given file.

    Answers are checked against their context: a span that does not match the
    context at ``answer_start``, or an empty answer text (a file whose labels were
    blanked, like the offline TyDiQA dev file), is an error. SQuAD 2.0's
    ``is_impossible`` questions get empty answer lists.
    """
    rows = list(_squad_rows(path, task))
    unique = len({row.key for row in rows}) == len(rows)
    for row in rows:
        position = row.fields.pop("_position")
        yield RawRow(row.key if unique else position, row.where, row.fields)


def _squad_rows(path: Path, task: str) -> Iterator[RawRow]:
    data = _load_json(task, path)
    _require(task, path, "top level", data, ("data",))
    for a, article in enumerate(data["data"]):
        _require(task, path, f"data[{a}]", article, ("paragraphs",))
        for p, paragraph in enumerate(article["paragraphs"]):
            _require(task, path, f"data[{a}].paragraphs[{p}]", paragraph, ("context", "qas"))
            context = paragraph["context"]
            for q, qa in enumerate(paragraph["qas"]):
                where = f"JSON data[{a}].paragraphs[{p}].qas[{q}]"
                _require(task, path, where, qa, ("id", "question", "answers"))
                texts: list[str] = []
                starts: list[int] = []
                if not qa.get("is_impossible", False):
                    if not qa["answers"]:
                        raise _fail(task, path, where, "answerable question without answers")
                    for answer in qa["answers"]:
                        _require(task, path, where, answer, ("text", "answer_start"))
                        text, start = answer["text"], answer["answer_start"]
                        if not text:
                            raise _fail(
                                task, path, where, "empty answer text (labels removed from this file?)"
                            )
                        if not isinstance(start, int) or context[start : start + len(text)] != text:
                            raise _fail(
                                task, path, where, f"answer {text!r} is not in the context at offset {start}"
                            )
                        texts.append(text)
                        starts.append(start)
                fields = {
                    "question": qa["question"],
                    "context": context,
                    "answers": {"text": texts, "answer_start": starts},
                    "_position": f"a{a:04d}-p{p:02d}-q{q:02d}",
                }
                yield RawRow(str(qa["id"]), where, fields)


def read_word_tag_tsv(path: Path, task: str) -> Iterator[RawRow]:
    """``word<TAB>tag`` per line, blank line between sentences; key = sentence number."""
    tokens: list[str] = []
    tags: list[str] = []
    start = 1
    index = 0
    lines = _lines(task, path)
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip() == "":
            if tokens:
                yield RawRow(f"{index:05d}", f"line {start}", {"tokens": tokens, "tags": tags})
                index += 1
            tokens, tags, start = [], [], number + 1
            continue
        word, tag = _split_fields(task, path, number, line, ("word", "tag"))
        if not word or not tag:
            raise _fail(task, path, number, "empty word or tag")
        tokens.append(word)
        tags.append(tag)


READERS: dict[str, Reader] = {
    "tsv_pairs": read_tsv_pairs,
    "tsv_pairs_header": read_tsv_pairs_header,
    "tsv_pairs_id_header": read_tsv_pairs_id_header,
    "tsv_sentence_header": read_tsv_sentence_header,
    "indexed_json_pairs": read_indexed_json_pairs,
    "hellaswag_jsonl": read_hellaswag_jsonl,
    "cosmosqa_csv": read_cosmosqa_csv,
    "squad_json": read_squad_json,
    "word_tag_tsv": read_word_tag_tsv,
}


def register_reader(name: str, reader: Reader) -> None:
    """Make ``reader`` available to `LocalSplit` entries by ``name`` (a known name cannot be redefined)."""
    if name in READERS and READERS[name] is not reader:
        raise DataError(f"reader {name!r} is already registered")
    READERS[name] = reader


def reader_for(reader: str | Reader) -> Reader:
    """The reader function a `LocalSplit` names (or holds, for a task file's reader)."""
    if isinstance(reader, str):
        try:
            return READERS[reader]
        except KeyError:
            raise DataError(f"unknown reader {reader!r}; known readers: {', '.join(READERS)}") from None
    return reader


def count_rows(path: Path, reader: str | Reader) -> int | None:
    """A cheap row count for listings (no parsing beyond line or key counting).

    Line-based files count non-blank lines (minus a header); JSON files count their
    records. Returns ``None`` for a missing file.
    """
    if not path.is_file():
        return None
    if not isinstance(reader, str):
        count = getattr(reader, "count", None)
        return count(path) if callable(count) else sum(1 for _ in reader(path, "count"))
    if reader in ("squad_json",):
        data = json.loads(path.read_bytes())
        return sum(len(p["qas"]) for article in data.get("data", []) for p in article.get("paragraphs", []))
    if reader == "indexed_json_pairs":
        return len(json.loads(path.read_bytes()))
    if reader == "word_tag_tsv":
        blocks = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n")
        return sum(1 for block in blocks if block.strip())
    if reader == "cosmosqa_csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines - 1 if reader.endswith("_header") else lines
