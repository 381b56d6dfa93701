"""A reader configured by data, for task files: a common layout plus a field mapping.

A user-defined task (`xlt_lib.experiment.task_files`) does not write Python to read
its files: it names a layout (TSV with or without a header, JSON lines, a JSON list
or object) and maps each canonical column of its format to the file's fields::

    reader:
      layout: jsonl
      id: idx                              # optional; default: the row number
      fields:
        context: premise
        question: question
        choices: [choice1, choice2]        # several fields -> one list column
        label: label

A mapping value is a field name, a list of field names (a list column), or
``{value: ...}`` for a constant (a format column the file does not have, such as
an empty ``question``). Every row goes through the same checks as the built-in
readers, and a problem names the file and line (or JSON key).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlt_lib.errors import DataError
from xlt_lib.tasks.local import RawRow, _fail, _header_rows, _lines, _load_json, _split_fields

#: The file layouts a `FieldMapReader` reads.
LAYOUTS = ("tsv", "tsv_header", "jsonl", "json")


@dataclass(frozen=True)
class Constant:
    """A mapping target that is not read from the file: every row gets ``value``."""

    value: Any


Source = str | tuple[str, ...] | Constant


@dataclass(frozen=True)
class FieldMapReader:
    """Reads one of `LAYOUTS` and maps the file's fields to canonical columns.

    ``columns`` names the fields of a ``tsv`` file without header, in order.
    ``id`` names the field holding each example's own id (row number otherwise;
    a JSON object's keys for ``json`` holding an object).
    """

    layout: str
    fields: Mapping[str, Source]
    columns: tuple[str, ...] | None = None
    id: str | None = None
    name: str = field(default="fields", compare=False)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise DataError(f"reader layout {self.layout!r}: expected one of {', '.join(LAYOUTS)}")
        if self.layout == "tsv" and not self.columns:
            raise DataError("reader layout 'tsv' (no header) needs `columns`: the names of its fields")

    def needed(self) -> tuple[str, ...]:
        """The file fields this mapping reads (checked on every row)."""
        out: list[str] = [self.id] if self.id else []
        for source in self.fields.values():
            if isinstance(source, str):
                out.append(source)
            elif isinstance(source, tuple):
                out.extend(source)
        return tuple(dict.fromkeys(out))

    def __call__(self, path: Path, task: str) -> Iterator[RawRow]:
        for index, (key, where, record) in enumerate(self._records(path, task)):
            if not isinstance(record, dict):
                raise _fail(task, path, where, f"expected an object with {', '.join(self.needed())}")
            missing = [name for name in self.needed() if name not in record]
            if missing:
                raise _fail(
                    task,
                    path,
                    where,
                    f"missing field(s) {', '.join(missing)} (the task file's reader maps them)",
                )
            own = str(record[self.id]).strip() if self.id else (key or f"{index:05d}")
            if not own:
                raise _fail(task, path, where, f"empty id in field {self.id!r}")
            location = f"line {where}" if isinstance(where, int) else where
            yield RawRow(own, location, {name: _pick(record, source) for name, source in self.fields.items()})

    def count(self, path: Path) -> int:
        """Rows of ``path``, cheaply (for listings)."""
        if self.layout == "json":
            data = json.loads(path.read_bytes())
            return len(data) if isinstance(data, dict | list) else 0
        with path.open("rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        return lines - 1 if self.layout == "tsv_header" else lines

    def _records(self, path: Path, task: str) -> Iterator[tuple[str | None, str | int, Any]]:
        if self.layout == "tsv":
            assert self.columns is not None
            for number, line in enumerate(_lines(task, path), start=1):
                values = _split_fields(task, path, number, line, self.columns)
                yield None, number, dict(zip(self.columns, values, strict=True))
        elif self.layout == "tsv_header":
            for number, row in _header_rows(task, path, self.needed()):
                yield None, number, row
        elif self.layout == "jsonl":
            for number, line in enumerate(_lines(task, path), start=1):
                if not line.strip():
                    continue
                try:
                    yield None, number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _fail(task, path, number, f"invalid JSON ({exc.msg}, column {exc.colno})") from None
        else:
            data = _load_json(task, path)
            if isinstance(data, dict):
                for key, record in data.items():
                    yield str(key), f"JSON key {key!r}", record
            elif isinstance(data, list):
                for i, record in enumerate(data):
                    yield None, f"JSON item [{i}]", record
            else:
                raise _fail(
                    task, path, "top level", "expected a JSON list of records or an object of records"
                )


def _pick(record: dict[str, Any], source: Source) -> Any:
    if isinstance(source, Constant):
        return source.value
    if isinstance(source, tuple):
        return [record[name] for name in source]
    return record[source]
