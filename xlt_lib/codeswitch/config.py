"""The settings of one code-switching condition (CoSDA-ML, Qin et al. 2020).

A `CodeSwitchConfig` is part of an experiment's condition, so it round-trips
through YAML (`to_dict` / `from_dict`) and is validated where it is built: YAML 1.1
turns an unquoted ``no`` into ``False`` and leaves ``4e-1`` a string, and a
typo in a key should fail with the key's name rather than be ignored. Each field
declares its rule beside it (`xlt_lib.validation`); the experiment file and the
notebooks check code-switching settings through `CodeSwitchConfig.from_dict` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import Any, Literal

from xlt_lib.validation import (
    PYTHON,
    Constraint,
    Interval,
    KeyPath,
    ListOf,
    MappingOf,
    Nullable,
    Options,
    Origin,
    String,
    build,
    check_instance,
    constraint,
    relation_error,
    type_error,
)

#: The 14 non-English XNLI languages (the default target set of the study).
XNLI_TARGET_LANGUAGES: tuple[str, ...] = (
    "ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip

MODES = ("per_word", "per_sentence")
#: The code-switching method of a config that names none (`xlt_lib.codeswitch.methods`).
DEFAULT_METHOD = "cosda"
SCHEDULES = ("dynamic", "static")
_RATIO = Interval(Real, 0.0, 1.0, closed="both")

#: ``dictionaries: induced``: every language reads the dictionary induced from the encoder
#: (`xlt_lib.codeswitch.induced_store`, built by ``xlt codeswitch induce``).
INDUCED = "induced"
#: ``dictionaries: muse+induced``: a language's MUSE dictionary where the data directory has one,
#: its induced dictionary elsewhere (Swahili and Urdu among XNLI's languages).
MUSE_ELSE_INDUCED = "muse+induced"
#: ``dictionaries: default+induced`` (for all languages, or per language): the data directory's
#: default dictionary (MUSE, else ``dictionaries/extra``) for the English words it has, the induced
#: dictionary's translations for the words it lacks; the induced one alone where there is no default.
DEFAULT_FILLED_BY_INDUCED = "default+induced"
#: What ``dictionaries`` may be as a whole, besides a per-language mapping.
DICTIONARY_CHOICES = (INDUCED, MUSE_ELSE_INDUCED, DEFAULT_FILLED_BY_INDUCED)
#: The keywords a per-language entry may name instead of a file.
LANGUAGE_DICTIONARY_CHOICES = (INDUCED, DEFAULT_FILLED_BY_INDUCED)


class DictionarySources(Constraint):
    """``codeswitch.dictionaries``: one choice for every language, or one per language.

    A whole-config choice is ``induced``, ``muse+induced`` or ``default+induced``; a
    mapping gives some languages a dictionary file, ``induced`` or ``default+induced``
    (the others keep their default: MUSE, else ``dictionaries/extra``). A file
    literally named ``induced`` is written ``./induced``.
    """

    _entries = MappingOf(String(), String())

    def describe(self) -> str:
        keywords = " or ".join(LANGUAGE_DICTIONARY_CHOICES)
        return f"one of {', '.join(DICTIONARY_CHOICES)}, or a mapping of language -> file, {keywords}"

    def check(self, value: Any, key: KeyPath, origin: Origin) -> Any:
        if isinstance(value, str):
            return Options(*DICTIONARY_CHOICES).check(value, key, origin)
        if not isinstance(value, Mapping):
            raise type_error(value, self.describe(), key, origin)
        return self._entries.check(value, key, origin)


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

    languages: tuple[str, ...] = field(
        metadata=constraint(ListOf(String(), noun="language", container=tuple))
    )
    sentence_ratio: float = field(default=1.0, metadata=constraint(_RATIO))
    token_ratio: float = field(default=0.4, metadata=constraint(_RATIO))
    mode: Literal["per_word", "per_sentence"] = field(
        default="per_word", metadata=constraint(Options(*MODES))
    )
    schedule: Literal["dynamic", "static"] = field(
        default="dynamic", metadata=constraint(Options(*SCHEDULES))
    )
    seed: int = field(default=42, metadata=constraint(Interval(Integral, 0, None, closed="left")))
    fields: tuple[str, ...] | None = field(
        default=None, metadata=constraint(Nullable(ListOf(String(), unique=False, container=tuple)))
    )
    #: Per language a file, ``induced`` or ``default+induced``, or one choice for all (`DictionarySources`).
    dictionaries: Mapping[str, str] | str | None = field(
        default=None, hash=False, metadata=constraint(Nullable(DictionarySources()))
    )
    #: The method (`xlt_lib.codeswitch.methods`): a registered name or ``module:function``.
    method: str = field(default=DEFAULT_METHOD, metadata=constraint(String()))

    def __post_init__(self) -> None:
        check_instance(self)  # each field against its declared constraint (normalised in place)
        for lang in self.dictionaries if isinstance(self.dictionaries, Mapping) else ():
            if lang not in self.languages:
                raise relation_error(
                    ("dictionaries", lang), f"not one of the languages ({', '.join(self.languages)})"
                )

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
            "dictionaries": (
                dict(self.dictionaries) if isinstance(self.dictionaries, Mapping) else self.dictionaries
            ),
            # Only a non-default method is written, so that CoSDA-ML conditions keep their run ids.
            **({"method": self.method} if self.method != DEFAULT_METHOD else {}),
        }

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], *, where: str | KeyPath = "codeswitch", origin: Origin = PYTHON
    ) -> CodeSwitchConfig:
        """Build from a parsed YAML mapping; unknown or missing keys are named in the error."""
        key: KeyPath = ((where,) if where else ()) if isinstance(where, str) else where
        if not isinstance(d, Mapping):
            raise origin.error(key, f"expected a mapping of settings, got {type(d).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(map(str, set(d) - set(known)))
        if unknown and not origin.yaml:  # a YAML origin names each key where it was written instead
            raise origin.error(
                key, f"unknown key(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}"
            )
        return build(cls, d, key, origin, required=("languages",))

    def dictionary_choice(self, language: str) -> str | None:
        """What ``dictionaries`` says for one language: a file, a keyword of `DICTIONARY_CHOICES`, or ``None`` (default)."""
        if isinstance(self.dictionaries, Mapping):
            return self.dictionaries.get(language)
        return self.dictionaries

    @property
    def expected_rate_factor(self) -> float:
        """``sentence_ratio × token_ratio``: the switch rate of a word every language covers."""
        return self.sentence_ratio * self.token_ratio
