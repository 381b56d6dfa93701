"""Typed reading of parsed YAML (or notebook parameters), with errors a researcher can act on.

Every error names the file, the dotted key and what was expected, suggests the
closest known key for a typo (difflib), and explains YAML 1.1 traps using the text
the value was written as. A schema library (jsonschema, pydantic) validates types
well but reports neither the source text of a value nor these hints, and its
messages name schema paths rather than the user's keys; the schema here is small
enough that typed accessors say it more plainly.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from xlt_lib.errors import ConfigError
from xlt_lib.experiment.yamlio import KeyPath, YamlDocument, dotted

_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def describe(value: Any) -> str:
    """``got boolean false`` style description of a parsed value."""
    name = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, bool):
        return f"{name} {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return name
    return f"{name} {value!r}"


class Checker:
    """Typed accessors over one document; each failure raises one `ConfigError`.

    ``origin`` names the source in messages (``params/demo.yaml``, or
    ``notebook parameter`` for values papermill injected).
    """

    def __init__(self, origin: str, document: YamlDocument | None = None) -> None:
        self.origin = origin
        self.document = document

    # -- errors -------------------------------------------------------------------------
    def error(self, key: KeyPath, message: str) -> ConfigError:
        where = dotted(key) or "<top level>"
        line = self.document.line(key) if self.document is not None else None
        suffix = f" (line {line})" if line else ""
        return ConfigError(f"{self.origin}: {where}: {message}{suffix}")

    def _type_error(self, key: KeyPath, value: Any, expected: str) -> ConfigError:
        message = f"expected {expected}, got {describe(value)}"
        source = self.document.source(key) if self.document is not None else None
        if isinstance(value, bool) and "string" in expected:
            written = source if source is not None else ("no/off" if value is False else "yes/on")
            message += f" — YAML reads {written} as {str(value).lower()}; quote it: '{written}'"
        elif isinstance(value, str) and "number" in expected and _looks_numeric(value):
            message += f" — {value!r} is quoted or not a YAML number; write it unquoted, e.g. 1.0e-5"
        elif isinstance(value, int) and not isinstance(value, bool) and source and source != str(value):
            message += f" (written as {source})"
        return self.error(key, message)

    # -- structure ----------------------------------------------------------------------
    def mapping(
        self,
        value: Any,
        key: KeyPath,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A mapping whose keys are all in ``allowed`` and include ``required``."""
        if not isinstance(value, dict):
            raise self._type_error(key, value, "a mapping")
        allowed = list(allowed)
        for name in value:
            if name not in allowed:
                raise self.error(
                    (*key, name), f"unknown key{suggest(name, allowed)}; known keys: {', '.join(allowed)}"
                )
        for name in required:
            if name not in value:
                raise self.error(key, f"missing required key {name!r}")
        return value

    def sequence(self, value: Any, key: KeyPath, *, non_empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            raise self._type_error(key, value, "a list")
        if non_empty and not value:
            raise self.error(key, "expected a non-empty list, got an empty one")
        return value

    # -- scalars ------------------------------------------------------------------------
    def string(self, value: Any, key: KeyPath, *, choices: Iterable[str] | None = None) -> str:
        if not isinstance(value, str):
            expected = "a string" if choices is None else f"a string, one of: {', '.join(choices)}"
            raise self._type_error(key, value, expected)
        if not value.strip():
            raise self.error(key, "expected a non-empty string")
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                raise self.error(
                    key,
                    f"unknown value {value!r}{suggest(value, choices)}; expected one of: {', '.join(choices)}",
                )
        return value

    def optional_string(self, value: Any, key: KeyPath) -> str | None:
        return None if value is None else self.string(value, key)

    def integer(self, value: Any, key: KeyPath, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._type_error(key, value, "an integer")
        if minimum is not None and value < minimum:
            raise self.error(key, f"expected an integer >= {minimum}, got {value}")
        return value

    def number(
        self, value: Any, key: KeyPath, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._type_error(key, value, "a number")
        if not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {value}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self.error(key, f"expected a number in [{minimum}, {maximum}], got {value}")
        return float(value)

    def boolean(self, value: Any, key: KeyPath) -> bool:
        if not isinstance(value, bool):
            raise self._type_error(key, value, "true or false")
        return value

    def string_list(self, value: Any, key: KeyPath, *, choices: Iterable[str] | None = None) -> list[str]:
        """A non-empty list of distinct strings (a single string is taken as a list of one)."""
        items = [value] if isinstance(value, str) else self.sequence(value, key)
        out: list[str] = []
        for i, item in enumerate(items):
            item_key = key if isinstance(value, str) else (*key, i)
            text = self.string(item, item_key, choices=choices)
            if text in out:
                raise self.error(item_key, f"{text!r} is listed twice")
            out.append(text)
        return out


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'seeds'?)`` for the closest known name, or ``""``."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def plain(value: Any) -> Any:
    """A deep copy made of dicts, lists and scalars (for canonical JSON and YAML dumps)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
