"""The settings of one code-switching condition (CoSDA-ML, Qin et al. 2020).

A `CodeSwitchConfig` is part of an experiment's condition, so it round-trips
through YAML (`to_dict` / `from_dict`) and is validated where it is built: YAML 1.1
turns an unquoted ``no`` into ``False`` and leaves ``4e-1`` a string, and a
typo in a key should fail with the key's name rather than be ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from xlt_lib.errors import ConfigError

#: The 14 non-English XNLI languages (the default target set of the study).
XNLI_TARGET_LANGUAGES: tuple[str, ...] = (
    "ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip

MODES = ("per_word", "per_sentence")
SCHEDULES = ("dynamic", "static")


def _ratio(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"codeswitch.{key}: expected a number in [0, 1], got {value!r}")
    if isinstance(value, str):
        # YAML 1.1 reads 4e-1 as a string; accept any spelling float() accepts.
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"codeswitch.{key}: expected a number in [0, 1], got {value!r}") from None
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"codeswitch.{key}: expected a number in [0, 1], got {value!r}")
    return float(value)


def _language_tuple(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"codeswitch.{key}: expected a list of language codes, got {value!r}")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            hint = " (YAML 1.1 reads an unquoted no as false: quote it, 'no')" if item is False else ""
            raise ConfigError(f"codeswitch.{key}: expected language codes (strings), got {item!r}{hint}")
        out.append(item.strip())
    if len(set(out)) != len(out):
        dupes = sorted({x for x in out if out.count(x) > 1})
        raise ConfigError(f"codeswitch.{key}: languages listed twice: {', '.join(dupes)}")
    return tuple(out)


@dataclass(frozen=True)
class CodeSwitchConfig:
    """How English training text is code-switched.

    ``sentence_ratio`` is CoSDA-ML's ``ratio`` (the chance an example is switched at
    all) and ``token_ratio`` its ``cross`` (the chance each word of a chosen example
    is replaced). ``mode="per_word"`` draws a target language for every word, as
    CoSDA-ML does, so one sentence mixes several languages; ``"per_sentence"`` draws
    one language per example. ``schedule="dynamic"`` switches afresh every epoch
    (CoSDA-ML's choice), ``"static"`` switches once and keeps that version.
    """

    languages: tuple[str, ...]
    sentence_ratio: float = 1.0
    token_ratio: float = 0.4
    mode: Literal["per_word", "per_sentence"] = "per_word"
    schedule: Literal["dynamic", "static"] = "dynamic"
    seed: int = 42
    fields: tuple[str, ...] | None = None
    dictionaries: Mapping[str, str] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise in place once, at construction
        set_(self, "languages", _language_tuple("languages", self.languages))
        if not self.languages:
            raise ConfigError("codeswitch.languages: expected at least one target language")
        set_(self, "sentence_ratio", _ratio("sentence_ratio", self.sentence_ratio))
        set_(self, "token_ratio", _ratio("token_ratio", self.token_ratio))
        if self.mode not in MODES:
            raise ConfigError(f"codeswitch.mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"codeswitch.schedule: expected one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"codeswitch.seed: expected a non-negative integer, got {self.seed!r}")
        if self.fields is not None:
            if isinstance(self.fields, str) or not isinstance(self.fields, Sequence) or not self.fields:
                raise ConfigError(
                    f"codeswitch.fields: expected a non-empty list of field names, got {self.fields!r}"
                )
            if not all(isinstance(f, str) and f for f in self.fields):
                raise ConfigError(
                    f"codeswitch.fields: expected field names (strings), got {list(self.fields)!r}"
                )
            set_(self, "fields", tuple(self.fields))
        if self.dictionaries is not None:
            if not isinstance(self.dictionaries, Mapping):
                raise ConfigError(
                    f"codeswitch.dictionaries: expected a mapping language -> path, got {self.dictionaries!r}"
                )
            for lang, path in self.dictionaries.items():
                if lang not in self.languages:
                    raise ConfigError(
                        f"codeswitch.dictionaries.{lang}: not one of the languages ({', '.join(self.languages)})"
                    )
                if not isinstance(path, str) or not path:
                    raise ConfigError(f"codeswitch.dictionaries.{lang}: expected a file path, got {path!r}")
            set_(self, "dictionaries", dict(self.dictionaries))

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-ready values (lists, not tuples)."""
        return {
            "languages": list(self.languages),
            "sentence_ratio": self.sentence_ratio,
            "token_ratio": self.token_ratio,
            "mode": self.mode,
            "schedule": self.schedule,
            "seed": self.seed,
            "fields": None if self.fields is None else list(self.fields),
            "dictionaries": None if self.dictionaries is None else dict(self.dictionaries),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CodeSwitchConfig:
        """Build from a parsed YAML mapping; unknown or missing keys are named in the error."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"codeswitch: expected a mapping of settings, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(
                f"codeswitch: unknown key(s) {', '.join(map(str, unknown))}; expected some of {', '.join(sorted(known))}"
            )
        if "languages" not in d:
            raise ConfigError("codeswitch.languages: required (the target languages to switch into)")
        return cls(**dict(d))

    @property
    def expected_rate_factor(self) -> float:
        """``sentence_ratio × token_ratio``: the switch rate of a word every language covers."""
        return self.sentence_ratio * self.token_ratio
