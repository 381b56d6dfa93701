"""One validation layer: constraints declared once, beside the fields they govern, and one checker.

Modelled on scikit-learn's ``utils._param_validation``: a setting's rule is a value
(``Interval(Real, 0, None, closed="neither")``, ``Options("fp32", "bf16", "fp16")``),
declared once next to the field it governs::

    learning_rate: float = field(default=2e-5, metadata=constraint(Interval(Real, 0, None, closed="neither")))

and one checker, `validate`, turns a broken value into a `ConfigError` naming where
it came from (the file, or ``notebook parameter``), the dotted key
(``settings.intermediate.learning_rate``) and what was expected. The experiment
file, the notebooks' parameters and the Python constructors all go through it,
so a rule and its message exist once.

An `Origin` says where values come from, which decides how an error describes
them and whether a string may stand for a number; the rules themselves are the same:

* Python callers (`PYTHON`): values shown as ``repr`` (``expected one of fp32,
  bf16, fp16, got 'fp8'``); numeric strings accepted for numbers, because
  papermill's YAML 1.1 reads ``1e-5`` as a string;
* notebook parameters (`NOTEBOOK`): the same leniency, values described by their
  YAML type (``got boolean false``, ``unknown value 'fp8'``), with the YAML 1.1
  trap explained;
* an experiment file (`file_origin`): read as YAML 1.2 (`xlt_lib.experiment.yamlio`),
  so a number must be written as one (a quoted ``'0.4'`` is refused with a hint);
  the message ends with the line the value is on.

Real intervals refuse NaN and ±inf unless a constraint says ``finite=False``: a
non-finite learning rate would train nothing and cannot be written into a run id.
This module imports nothing heavier than the standard library, so that checking a
configuration never loads torch.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal, Protocol

from xlt_lib.errors import ConfigError

KeyPath = tuple[str | int, ...]

#: The dataclass field metadata entry that holds a field's `Constraint`.
CONSTRAINT = "constraint"


def dotted(key: KeyPath) -> str:
    """``("conditions", "cs", "languages", 3)`` -> ``conditions.cs.languages[3]``."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def suggest(name: object, known: Iterable[str]) -> str:
    """`` (did you mean 'seeds'?)`` for the closest known name, or ``""``."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
    """``boolean false`` style description of a parsed YAML value."""
    name = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, bool):
        return f"{name} {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return name
    return f"{name} {value!r}"


# -- where values come from ------------------------------------------------------------------
class SourceMap(Protocol):
    """Line numbers and source text of parsed values (`xlt_lib.experiment.yamlio.YamlDocument`)."""

    def line(self, key: KeyPath) -> int | None: ...

    def source(self, key: KeyPath) -> str | None: ...


@dataclass(frozen=True)
class Origin:
    """Where values come from; decides how an error names and describes them.

    ``name`` prefixes every message (a file path, ``notebook parameter``, or nothing
    for Python callers). ``yaml``: values were written in YAML, so they are described
    by YAML type and the boolean trap is explained. ``strict``: the source is
    read as YAML 1.2, where a number is written as a number, so no string is taken
    for one and no ``2.0`` for an integer. ``relocatable``: a dataclass checking its
    own fields, whose errors (`FieldError`) the caller moves to its own origin and key.
    """

    name: str = ""
    document: SourceMap | None = None
    yaml: bool = False
    strict: bool = False
    relocatable: bool = False

    def error(self, key: KeyPath, message: str) -> ConfigError:
        """The one shape of a validation error: ``<origin>: <dotted key>: <message> (line N)``."""
        where = dotted(key) or ("<top level>" if self.name else "")
        line = self.line(key)
        text = ": ".join(part for part in (self.name, where, message) if part)
        text += f" (line {line})" if line else ""
        return FieldError(text, key, message) if self.relocatable else ConfigError(text)

    def line(self, key: KeyPath) -> int | None:
        return self.document.line(key) if self.document is not None else None

    def source(self, key: KeyPath) -> str | None:
        return self.document.source(key) if self.document is not None else None

    def got(self, value: Any) -> str:
        """How an error shows a value of the wrong type."""
        return describe(value) if self.yaml else repr(value)


#: Values passed from Python (constructors, ``from_dict``).
PYTHON = Origin()
#: Values a notebook's ``parameters`` cell received (papermill reads ``-f`` files as YAML 1.1).
NOTEBOOK = Origin("notebook parameter", yaml=True)


def file_origin(path: object, document: SourceMap | None = None) -> Origin:
    """Values of an experiment file read by `xlt_lib.experiment.yamlio` (YAML 1.2 numbers)."""
    return Origin(str(path), document, yaml=True, strict=True)


#: A dataclass's own fields, checked in ``__post_init__`` (see `check_instance`).
_INSTANCE = Origin(relocatable=True)


class FieldError(ConfigError):
    """A dataclass's complaint about one of its own fields, before it knows where the values came from.

    ``__post_init__`` knows only the field's name; `build`, which knows the file
    and the enclosing key, moves the error there with `reanchor`. Raised as is, it
    is a plain `ConfigError` naming the field.
    """

    def __init__(self, text: str, key: KeyPath, message: str) -> None:
        super().__init__(text)
        self.key = key
        self.message = message

    def reanchor(self, key: KeyPath, origin: Origin) -> ConfigError:
        """The same error under ``key`` of ``origin``."""
        return origin.error((*key, *self.key), self.message)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def type_error(value: Any, expected: str, key: KeyPath, origin: Origin) -> ConfigError:
    """``expected <what>, got <value>``, explaining YAML's boolean and quoted-number traps."""
    message = f"expected {expected}, got {origin.got(value)}"
    source = origin.source(key)
    if isinstance(value, bool) and "string" in expected:
        written = source if source is not None else ("no" if value is False else "yes")
        message += f" — YAML reads {written} as {str(value).lower()}; quote it: '{written}'"
    elif origin.strict and isinstance(value, str) and "number" in expected and _looks_numeric(value):
        message += f" — {value!r} is quoted or not a YAML number; write it unquoted, e.g. 1.0e-5"
    elif isinstance(value, int) and not isinstance(value, bool) and source and source != str(value):
        message += f" (written as {source})"
    return origin.error(key, message)


# -- constraints ------------------------------------------------------------------------------
class Constraint:
    """A rule for one value: `check` returns the value (normalised) or raises `ConfigError`."""

    def describe(self) -> str:
        """What the rule expects, as an error message says it (``a positive number``)."""
        raise NotImplementedError

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


class Anything(Constraint):
    """Any value (for pass-through mappings such as SLURM's ``additional``)."""

    def describe(self) -> str:
        return "any value"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        return value


@dataclass(frozen=True)
class Interval(Constraint):
    """An integer or real number in an interval (scikit-learn's ``Interval``).

    ``type_`` is `numbers.Integral` or `numbers.Real`; ``None`` for a bound means
    unbounded; ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``.
    Booleans are never numbers. Real values come back as ``float`` and must be
    finite unless ``finite=False`` allows ±inf (NaN lies in no interval). Outside strict (YAML 1.2) origins, a numeric
    string is read as a real number and an integral float as an integer.
    """

    type_: type
    left: float | None
    right: float | None
    closed: Literal["both", "left", "right", "neither"] = "both"
    finite: bool = True

    def __post_init__(self) -> None:
        if self.type_ not in (Integral, Real):
            raise TypeError(f"Interval type must be numbers.Integral or numbers.Real, got {self.type_!r}")

    @property
    def _noun(self) -> str:
        return "integer" if self.type_ is Integral else "number"

    def _closed_left(self) -> bool:
        return self.closed in ("both", "left")

    def _closed_right(self) -> bool:
        return self.closed in ("both", "right")

    def describe(self) -> str:
        noun = self._noun
        if self.left is None and self.right is None:
            return f"an {noun}" if noun == "integer" else f"a {noun}"
        if self.right is None:
            if self.left == 0 and not self._closed_left():
                return f"a positive {noun}"
            return f"{self._article()} {noun} {'>=' if self._closed_left() else '>'} {self.left}"
        if self.left is None:
            return f"{self._article()} {noun} {'<=' if self._closed_right() else '<'} {self.right}"
        brackets = ("[" if self._closed_left() else "(", "]" if self._closed_right() else ")")
        return f"{self._article()} {noun} in {brackets[0]}{self.left}, {self.right}{brackets[1]}"

    def _article(self) -> str:
        return "an" if self._noun == "integer" else "a"

    def _number(self, value: Any, key: KeyPath, origin: Origin) -> int | float:
        expected = f"{self._article()} {self._noun}"
        if isinstance(value, bool):
            raise type_error(value, expected, key, origin)
        if self.type_ is Integral:
            if isinstance(value, int):
                return value
            if not origin.strict and isinstance(value, float) and value.is_integer():
                return int(value)
            raise type_error(value, expected, key, origin)
        if isinstance(value, str) and not origin.strict:
            try:
                return float(value)  # YAML 1.1 (papermill) reads 1e-5 as a string
            except ValueError:
                pass
        if isinstance(value, int | float):
            return float(value)
        raise type_error(value, expected, key, origin)

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        number = self._number(value, key, origin)
        if self.finite and not math.isfinite(number):
            raise origin.error(key, f"expected a finite {self._noun}, got {number!r}")
        below = self.left is not None and (
            number < self.left or (number == self.left and not self._closed_left())
        )
        above = self.right is not None and (
            number > self.right or (number == self.right and not self._closed_right())
        )
        if below or above or math.isnan(number):
            raise origin.error(key, f"expected {self.describe()}, got {number!r}")
        return number


class Options(Constraint):
    """One of a fixed set of strings (scikit-learn's ``StrOptions``)."""

    def __init__(self, *choices: str) -> None:
        self.choices: tuple[str, ...] = tuple(choices)

    def describe(self) -> str:
        return f"one of {', '.join(self.choices)}"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        listed = ", ".join(self.choices)
        if not isinstance(value, str):
            raise type_error(value, f"a string, one of: {listed}", key, origin)
        if value in self.choices:
            return value
        hint = suggest(value, self.choices)
        if origin.yaml:
            raise origin.error(key, f"unknown value {value!r}{hint}; expected one of: {listed}")
        raise origin.error(key, f"expected one of {listed}, got {value!r}{hint}")


@dataclass(frozen=True)
class String(Constraint):
    """A string; non-empty (not only whitespace) unless ``non_empty=False``."""

    non_empty: bool = True

    def describe(self) -> str:
        return "a non-empty string" if self.non_empty else "a string"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        if not isinstance(value, str):
            raise type_error(value, "a string", key, origin)
        if self.non_empty and not value.strip():
            raise origin.error(key, "expected a non-empty string")
        return value


@dataclass(frozen=True)
class LanguageCode(Constraint):
    """A language code as data files name them: ``de``, ``yue``, ``zh-Hant`` (2-3 lower-case letters, a tag)."""

    def describe(self) -> str:
        return "a language code such as 'de'"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        if not isinstance(value, str):
            raise type_error(value, "a language code", key, origin)
        head, dash, tag = value.replace("_", "-").partition("-")
        good_head = 2 <= len(head) <= 3 and head.isascii() and head.isalpha() and head.islower()
        good_tag = not dash or (2 <= len(tag) <= 8 and tag.isascii() and tag.isalnum())
        if not (good_head and good_tag):
            raise origin.error(key, f"expected a language code such as 'de', got {value!r}")
        return value


class Boolean(Constraint):
    """``true`` or ``false`` (never a string such as ``"yes"``)."""

    def describe(self) -> str:
        return "true or false"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        if not isinstance(value, bool):
            raise type_error(value, "true or false", key, origin)
        return value


@dataclass(frozen=True)
class Nullable(Constraint):
    """``None`` (YAML ``null``) or a value that satisfies ``inner``."""

    inner: Constraint

    def describe(self) -> str:
        return f"{self.inner.describe()} or null"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        return None if value is None else self.inner.check(value, key, origin)


@dataclass(frozen=True)
class ListOf(Constraint):
    """A list (or tuple) whose items satisfy ``item``; errors name the item's index.

    ``non_empty`` and ``unique`` are on by default; ``noun`` names an item in the
    duplicate message (``seed 1 is listed twice``); ``single`` takes a lone string
    as a list of one; ``container`` is what comes back (``list`` or ``tuple``).
    """

    item: Constraint
    non_empty: bool = True
    unique: bool = True
    noun: str = ""
    single: bool = False
    container: Callable[[list[Any]], Any] = list

    def describe(self) -> str:
        return "a non-empty list" if self.non_empty else "a list"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        single = self.single and isinstance(value, str)
        if single:
            value = [value]
        elif not isinstance(value, list | tuple):
            raise type_error(value, "a list", key, origin)
        if self.non_empty and not value:
            raise origin.error(key, "expected a non-empty list, got an empty one")
        out: list[Any] = []
        for i, item in enumerate(value):
            item_key = key if single else (*key, i)
            checked = self.item.check(item, item_key, origin)
            if self.unique and checked in out:
                noun = f"{self.noun} " if self.noun else ""
                raise origin.error(item_key, f"{noun}{checked!r} is listed twice")
            out.append(checked)
        return self.container(out)


@dataclass(frozen=True)
class MappingOf(Constraint):
    """A mapping whose keys satisfy ``keys`` and values satisfy ``values``; errors name the entry."""

    keys: Constraint
    values: Constraint

    def describe(self) -> str:
        return "a mapping"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        if not isinstance(value, Mapping):
            raise type_error(value, "a mapping", key, origin)
        out = {}
        for name, item in value.items():
            entry = self.keys.check(name, (*key, str(name)), origin)
            out[entry] = self.values.check(item, (*key, str(name)), origin)
        return out


# -- the checker ----------------------------------------------------------------------------
def validate(value: Any, rule: Constraint, key: KeyPath = (), origin: Origin = PYTHON) -> Any:
    """``value`` normalised if it satisfies ``rule``, else a `ConfigError` naming ``origin`` and ``key``."""
    return rule.check(value, key, origin)


def constraint(rule: Constraint) -> dict[str, Constraint]:
    """Field metadata declaring ``rule``: ``field(default=..., metadata=constraint(...))``."""
    return {CONSTRAINT: rule}


def field_constraints(cls: type) -> dict[str, Constraint]:
    """The declared constraint of every field of dataclass ``cls`` that has one."""
    return {f.name: f.metadata[CONSTRAINT] for f in dataclasses.fields(cls) if CONSTRAINT in f.metadata}


def check_keys(
    values: Any,
    allowed: Iterable[str],
    key: KeyPath = (),
    origin: Origin = PYTHON,
    *,
    required: Iterable[str] = (),
    noun: str = "key",
) -> dict[str, Any]:
    """``values`` if it is a mapping whose keys are all ``allowed`` and include ``required``."""
    if not isinstance(values, Mapping):
        raise type_error(values, "a mapping", key, origin)
    allowed = list(allowed)
    for name in values:
        if name not in allowed:
            raise origin.error(
                (*key, name), f"unknown {noun}{suggest(name, allowed)}; known {noun}s: {', '.join(allowed)}"
            )
    for name in required:
        if name not in values:
            if origin.yaml:
                raise origin.error(key, f"missing required key {name!r}")
            raise origin.error((*key, name), "required")
    return dict(values)


def validate_fields(
    cls: type, values: Mapping[str, Any], key: KeyPath = (), origin: Origin = PYTHON
) -> dict[str, Any]:
    """Each value of ``values`` checked against the constraint declared on ``cls``'s field of that name."""
    rules = field_constraints(cls)
    return {
        name: rules[name].check(value, (*key, name), origin) if name in rules else value
        for name, value in values.items()
    }


def build(
    cls: type,
    values: Any,
    key: KeyPath = (),
    origin: Origin = PYTHON,
    *,
    required: Iterable[str] = (),
    noun: str = "key",
) -> Any:
    """An instance of dataclass ``cls`` from a mapping: keys, each field's constraint, then the constructor.

    Errors the constructor raises about its own fields (rules that relate two
    fields) are re-anchored under ``key`` of ``origin``.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    checked = validate_fields(
        cls, check_keys(values, names, key, origin, required=required, noun=noun), key, origin
    )
    try:
        return cls(**checked)
    except FieldError as exc:
        raise exc.reanchor(key, origin) from None


def check_instance(obj: Any) -> None:
    """For ``__post_init__`` of a frozen dataclass: check every constrained field, store its normal form.

    Errors are `FieldError`s naming the field, so that `build` can move them to
    the file and key the values came from.
    """
    for name, rule in field_constraints(type(obj)).items():
        object.__setattr__(obj, name, rule.check(getattr(obj, name), (name,), _INSTANCE))


def relation_error(key: KeyPath, message: str) -> FieldError:
    """For a rule relating two fields, raised in ``__post_init__``: a `FieldError` at field ``key``."""
    return FieldError(f"{dotted(key)}: {message}", key, message)


__all__ = [
    "CONSTRAINT",
    "NOTEBOOK",
    "PYTHON",
    "Anything",
    "Boolean",
    "Constraint",
    "FieldError",
    "Integral",
    "Interval",
    "KeyPath",
    "ListOf",
    "MappingOf",
    "Nullable",
    "Options",
    "Origin",
    "Real",
    "SourceMap",
    "String",
    "build",
    "check_instance",
    "check_keys",
    "constraint",
    "describe",
    "dotted",
    "field_constraints",
    "file_origin",
    "relation_error",
    "suggest",
    "type_error",
    "validate",
]
