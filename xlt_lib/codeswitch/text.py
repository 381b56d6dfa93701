"""Cutting English text into switchable units, and casing translations.

The references split on single spaces and look words up with punctuation
attached (``"writes."`` is not in any dictionary); here a *word* is a maximal
run of word characters with inner apostrophes (``we've``), so leading and
trailing punctuation stays where it is and only the bare word is replaced.
Hyphens separate words (``well-known`` → ``well``, ``known``) unless the
dictionary knows the hyphenated form. Every word is a unit; a word also
records the dictionary phrases (from any language) that start at it, which the
switcher prefers, longest first, when the drawn language has them (greedy
longest match, left to right). A phrase may only cross white space or a
hyphen, never other punctuation.

Each unit is returned as a character span of the original text, so the switcher
rebuilds the text by splicing translations into those spans: white space,
punctuation and the offsets of untouched text survive exactly (extractive QA
relies on that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")

CASE_LOWER, CASE_CAPITAL, CASE_UPPER = 0, 1, 2

#: Languages whose dotless/dotted i pairs differ from the default Unicode mapping.
_DOTTED_I_LANGUAGES = frozenset({"tr", "az"})


class Phrase(NamedTuple):
    """A dictionary phrase starting at a word: ``n_words`` words ending at character ``end``."""

    n_words: int
    end: int
    key: str


class Unit(NamedTuple):
    """A word ``text[start:end]``; ``key`` is its look-up form, ``phrases`` the dictionary
    phrases that start at it (longest first, usually none)."""

    start: int
    end: int
    key: str
    case: int
    phrases: tuple[Phrase, ...] = ()


class PhraseIndex:
    """First word → longest phrase length, over every multi-word key of some dictionaries.

    Lets the unit finder try phrase matches only at words that start a phrase.
    """

    def __init__(self, keys_by_language: Mapping[str, Mapping[str, object]]) -> None:
        self.keys: set[str] = set()
        self.prefixes: set[str] = set()  # every 2+-word prefix of a phrase: lets a match attempt stop early
        self.longest_from: dict[str, int] = {}
        for entries in keys_by_language.values():
            for key in entries:
                if " " not in key and "-" not in key:
                    continue
                words = _WORD.findall(key)
                if len(words) < 2:
                    continue
                self.keys.add(key)
                for m in list(_WORD.finditer(key))[1:]:
                    self.prefixes.add(key[: m.end()])
                first = words[0]
                self.longest_from[first] = max(self.longest_from.get(first, 0), len(words))


def case_of(word: str) -> int:
    """How an English word is cased: lower, Capitalised (incl. ``I``) or UPPER (``USA``)."""
    if not word[:1].isupper():
        return CASE_LOWER
    if len(word) > 1 and word.isupper():
        return CASE_UPPER
    return CASE_CAPITAL


def apply_case(translation: str, case: int, language: str) -> str:
    """Carry the English word's case over to a translation.

    Scripts without case (Arabic, Devanagari, Thai, Han, ...) come back unchanged
    because ``str.upper`` is the identity on them; Turkish and Azerbaijani map
    ``i`` to ``İ``.
    """
    if case == CASE_LOWER or not translation:
        return translation
    if language in _DOTTED_I_LANGUAGES:
        translation = translation.replace("i", "\u0130") if case == CASE_UPPER else translation
        if case == CASE_CAPITAL and translation[0] == "i":
            return "\u0130" + translation[1:]
    if case == CASE_UPPER:
        return translation.upper()
    return translation[0].upper() + translation[1:]


def find_units(text: str, phrases: PhraseIndex | None = None) -> list[Unit]:
    """The words of ``text``, left to right, each with the dictionary phrases starting at it."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    units: list[Unit] = []
    n = len(spans)
    longest_from = phrases.longest_from if phrases is not None else {}
    for i, (start, end) in enumerate(spans):
        word = text[start:end]
        key = word.replace("\u2019", "'").lower()
        longest = longest_from.get(key, 0)
        found: tuple[Phrase, ...] = ()
        if longest > 1 and i + 1 < n:
            found = _phrases_at(text, spans, i, min(longest, n - i), phrases)  # type: ignore[arg-type]
        units.append(Unit(start, end, key, case_of(word), found))
    return units


def _phrases_at(
    text: str, spans: list[tuple[int, int]], i: int, max_words: int, index: PhraseIndex
) -> tuple[Phrase, ...]:
    """The dictionary phrases of 2 to ``max_words`` words starting at word ``i``, longest first."""
    parts = [text[spans[i][0] : spans[i][1]]]
    found: list[Phrase] = []
    for j in range(i + 1, i + max_words):
        gap = text[spans[j - 1][1] : spans[j][0]]
        if gap == "-":
            parts.append("-")
        elif gap.isspace():
            parts.append(" ")
        else:
            break
        parts.append(text[spans[j][0] : spans[j][1]])
        key = "".join(parts).replace("\u2019", "'").lower()
        if key not in index.prefixes:
            break
        if key in index.keys:
            found.append(Phrase(j - i + 1, spans[j][1], key))
    return tuple(reversed(found))
