"""User-defined tasks: a YAML task file in the user's project becomes a `TaskSpec`.

An experiment names its task files (``tasks: [tasks/copa.yaml]``, relative to the
experiment file); each declares one task the way the built-in registry does, with
data instead of code::

    name: xcopa
    format: multiple_choice
    description: XCOPA-style cause/effect choice, trained on English.
    labels: ["0", "1"]
    num_choices: 2
    languages: [en, et, ht]           # the languages it knows; local test files may add more
    train_task: xcopa                 # a target: fine-tuned on this task's English train split
    eval_split: test
    splits:
      train: {path: "copa/train-{language}.jsonl", languages: [en]}
      dev: "copa/val-{language}.jsonl"
      test: "copa/test-{language}.jsonl"
    reader:                           # for every split; a split may give its own `reader`
      layout: jsonl                   # tsv (with `columns`), tsv_header, jsonl or json
      id: idx
      fields: {context: premise, question: question, choices: [choice1, choice2], label: label}
    data_dir: null                    # optional, relative to this file; default: the run's data directory

`load_task_file` validates every key (errors name the file, key and line) and
`register_task_files` makes the tasks known by name to everything that takes a
task name. Their content enters the run id of every run that uses them
(`task_identity`); built-in tasks are named by their name alone, as before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from numbers import Integral
from pathlib import Path
from typing import Any

from xlt_lib.errors import ConfigError
from xlt_lib.experiment.yamlio import load_yaml, plain
from xlt_lib.tasks.formats import FORMATS
from xlt_lib.tasks.mapped import LAYOUTS, Constant, FieldMapReader
from xlt_lib.tasks.registry import TASKS, get_task, is_user_task, register_task
from xlt_lib.tasks.spec import LocalSource, LocalSplit, TaskSpec
from xlt_lib.validation import (
    Anything,
    Interval,
    KeyPath,
    LanguageCode,
    ListOf,
    Nullable,
    Options,
    Origin,
    String,
    check_keys,
    file_origin,
    validate,
)

KEYS = (
    "name",
    "format",
    "description",
    "labels",
    "num_choices",
    "text_fields",
    "languages",
    "train_task",
    "eval_split",
    "selection_split",
    "splits",
    "reader",
    "data_dir",
    "notes",
)
SPLIT_KEYS = ("path", "languages", "reader")
READER_KEYS = ("layout", "fields", "columns", "id")
#: Canonical columns that hold text (code-switching may rewrite them), in column order.
TEXT_COLUMNS = ("text_a", "text_b", "context", "question", "choices", "tokens")
_STRING = String()
_NAMES = ListOf(_STRING, container=tuple)
_LANGUAGES = ListOf(LanguageCode(), noun="language", container=tuple)


def load_task_file(path: str | os.PathLike[str]) -> TaskSpec:
    """The `TaskSpec` a task file declares, fully validated (nothing is registered)."""
    doc = load_yaml(path)
    origin = file_origin(path, doc)
    return _parse(doc.data, origin, Path(path).expanduser().resolve().parent)


def register_task_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[TaskSpec, ...]:
    """Load and register each task file; returns the specs (idempotent for unchanged files)."""
    return tuple(register_task(load_task_file(path)) for path in paths)


def task_identity(name: str) -> str | dict[str, Any]:
    """How a task enters a run id: a built-in task by its name; a user task by its name and content.

    The content digest covers every field of the spec (format, labels, files, reader
    mapping), so editing a task file changes the ids of the runs that use it.
    """
    if not is_user_task(name):
        return name
    text = json.dumps(spec_dict(get_task(name)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {"name": name, "spec": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def spec_dict(spec: TaskSpec) -> dict[str, Any]:
    """A plain, JSON-able dict of a spec (readers as their layout and mapping)."""

    def convert(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        return value

    out = convert(spec)
    assert isinstance(out, dict)
    return out


def _parse(data: Any, origin: Origin, folder: Path) -> TaskSpec:
    top = check_keys(data, KEYS, (), origin, required=("name", "format", "labels", "languages", "splits"))
    name = validate(top["name"], _STRING, ("name",), origin)
    if not all(ch.isalnum() or ch in "-_" for ch in name):
        raise origin.error(("name",), f"task names are letters, digits, '-' or '_', got {name!r}")
    if name in TASKS:
        raise origin.error(("name",), f"{name!r} is a built-in task; choose another name")
    task_format = validate(top["format"], Options(*FORMATS), ("format",), origin)
    labels = validate(top["labels"], ListOf(Anything(), container=tuple), ("labels",), origin)
    labels = tuple(str(label) for label in labels)
    languages = validate(top["languages"], _LANGUAGES, ("languages",), origin)
    splits = _splits(top["splits"], origin, top.get("reader"))
    default_fields = _mapped_columns(splits)
    text_fields = (
        validate(top["text_fields"], _NAMES, ("text_fields",), origin)
        if "text_fields" in top
        else tuple(column for column in TEXT_COLUMNS if column in default_fields)
    )
    train_task = validate(top.get("train_task"), Nullable(_STRING), ("train_task",), origin)
    if train_task is not None and train_task != name:
        try:
            get_task(train_task)
        except ConfigError as exc:
            raise origin.error(("train_task",), str(exc)) from None
    split_names = tuple(splits)
    eval_split = validate(top.get("eval_split", "dev"), Options(*split_names), ("eval_split",), origin)
    selection = validate(
        top.get("selection_split", "dev"), Options(*split_names), ("selection_split",), origin
    )
    num_choices = validate(
        top.get("num_choices"), Nullable(Interval(Integral, 2, None, closed="left")), ("num_choices",), origin
    )
    data_dir = validate(top.get("data_dir"), Nullable(_STRING), ("data_dir",), origin)
    root = None
    if data_dir is not None:
        resolved = (folder / Path(data_dir).expanduser()).resolve()
        if not resolved.is_dir():
            raise origin.error(("data_dir",), f"no such directory: {data_dir!r} (resolved to {resolved})")
        root = str(resolved)
    notes = validate(
        top.get("notes", []), ListOf(_STRING, non_empty=False, container=tuple), ("notes",), origin
    )
    description = validate(top.get("description", f"{name} (task file)"), _STRING, ("description",), origin)
    spec = TaskSpec(
        name=name,
        format=task_format,
        description=description,
        labels=labels,
        text_fields=text_fields,
        languages=languages,
        splits=split_names,
        local=LocalSource(splits=splits, root=root),
        train_task=train_task,
        eval_split=eval_split,
        selection_split=selection,
        num_choices=num_choices,
        notes=notes,
    )
    expected = {column for column in spec.columns if column not in ("id", "language")}
    for split, entry in splits.items():
        reader = entry.reader
        assert isinstance(reader, FieldMapReader)
        missing = sorted(expected - set(reader.fields))
        unknown = sorted(set(reader.fields) - expected)
        key: KeyPath = ("splits", split, "reader") if reader.name == split else ("reader",)
        if missing:
            raise origin.error(
                (*key, "fields"),
                f"format {task_format} needs column(s) {', '.join(missing)} "
                "(map each to a field of the file, or to {value: ...})",
            )
        if unknown:
            raise origin.error(
                (*key, "fields"),
                f"unknown column(s) {', '.join(unknown)}; {task_format} has {', '.join(sorted(expected))}",
            )
    return spec


def _mapped_columns(splits: dict[str, LocalSplit]) -> set[str]:
    out: set[str] = set()
    for entry in splits.values():
        if isinstance(entry.reader, FieldMapReader):
            out |= set(entry.reader.fields)
    return out


def _splits(value: Any, origin: Origin, default_reader: Any) -> dict[str, LocalSplit]:
    key: KeyPath = ("splits",)
    splits = check_keys(value, ("train", "dev", "test"), key, origin, noun="split")
    if not splits:
        raise origin.error(key, "expected at least one split (train, dev, test)")
    out: dict[str, LocalSplit] = {}
    for split, entry in splits.items():
        skey: KeyPath = (*key, split)
        if isinstance(entry, str):
            entry = {"path": entry}
        entry = check_keys(entry, SPLIT_KEYS, skey, origin, required=("path",))
        path = validate(entry["path"], _STRING, (*skey, "path"), origin)
        if Path(path).is_absolute() or ".." in Path(path).parts:
            raise origin.error(
                (*skey, "path"), "expected a path inside the data directory (relative, no '..')"
            )
        languages = (
            validate(entry["languages"], _LANGUAGES, (*skey, "languages"), origin)
            if "languages" in entry
            else None
        )
        if "{language}" not in path and languages is None:
            raise origin.error(
                (*skey, "path"),
                "a path without {language} serves the languages listed in `languages`; list them",
            )
        if "reader" in entry:
            reader = _reader(entry["reader"], (*skey, "reader"), origin, name=split)
        elif default_reader is not None:
            reader = _reader(default_reader, ("reader",), origin)
        else:
            raise origin.error(skey, "no reader: give a top-level `reader` or one for this split")
        out[split] = LocalSplit(path=path, reader=reader, languages=languages)
    return out


def _reader(value: Any, key: KeyPath, origin: Origin, name: str = "fields") -> FieldMapReader:
    spec = check_keys(value, READER_KEYS, key, origin, required=("layout", "fields"))
    layout = validate(spec["layout"], Options(*LAYOUTS), (*key, "layout"), origin)
    columns = validate(spec["columns"], _NAMES, (*key, "columns"), origin) if "columns" in spec else None
    if layout == "tsv" and columns is None:
        raise origin.error(key, "layout tsv (no header) needs `columns`: the names of its fields, in order")
    mapping = check_keys(
        spec["fields"], (*TEXT_COLUMNS, "label", "answers", "tags"), (*key, "fields"), origin, noun="column"
    )
    fields: dict[str, Any] = {}
    for column, source in mapping.items():
        ckey: KeyPath = (*key, "fields", column)
        if isinstance(source, dict):
            constant = check_keys(source, ("value",), ckey, origin, required=("value",))
            fields[column] = Constant(plain(constant["value"]))
        elif isinstance(source, list):
            fields[column] = validate(source, _NAMES, ckey, origin)
        else:
            fields[column] = validate(source, _STRING, ckey, origin)
    if columns is not None:
        needed = [
            s
            for v in fields.values()
            for s in ((v,) if isinstance(v, str) else v if isinstance(v, tuple) else ())
        ]
        unknown = [s for s in needed if s not in columns]
        if unknown:
            raise origin.error((*key, "fields"), f"field(s) {', '.join(unknown)} are not in `columns`")
    ident = validate(spec.get("id"), Nullable(_STRING), (*key, "id"), origin)
    return FieldMapReader(layout=layout, fields=fields, columns=columns, id=ident, name=name)
