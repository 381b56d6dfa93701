"""Bilingual English→X dictionaries: loading, validation and look-up.

Two formats are read: MUSE ground truth (``english foreign``, one pair a line,
white-space separated, a source word on several lines) and tab-separated files
whose sides may be several words (``english phrase<TAB>foreign``, the Swahili and
Urdu dictionaries). English keys are normalised (lowercase, single spaces,
``’`` → ``'``) so that a look-up of a word or phrase taken from running text is
one dict access; multi-word keys are matched as phrases by the switcher.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from xlt_lib.errors import DictionaryError
from xlt_lib.paths import data_dir as resolve_data_dir

#: Where the default dictionary of a language is looked for, in order, under the data directory.
DEFAULT_LOCATIONS: tuple[str, ...] = ("dictionaries/muse/en-{lang}.txt", "dictionaries/extra/en-{lang}.txt")


def normalise_key(english: str) -> str:
    """The look-up form of an English word or phrase: lowercase, single spaces, straight apostrophes."""
    return " ".join(english.replace("\u2019", "'").lower().split())


@dataclass(frozen=True)
class BilingualDictionary:
    """English → one target language, indexed by normalised English key.

    ``entries`` maps each key to its distinct translations in file order (a
    repeated pair is counted in ``n_duplicates`` and kept once).
    """

    language: str
    entries: Mapping[str, tuple[str, ...]]
    path: Path | None = None
    n_lines: int = 0
    n_duplicates: int = 0
    n_skipped: int = 0
    skipped_lines: tuple[int, ...] = field(default=(), repr=False)
    #: Where it came from: ``muse``, ``extra`` (the data directory's defaults), ``file`` (named in
    #: the configuration) or ``induced`` (`xlt_lib.codeswitch.sources`); empty when not known.
    source: str = ""

    @classmethod
    def from_pairs(
        cls, language: str, pairs: Iterable[tuple[str, str]], path: Path | None = None
    ) -> BilingualDictionary:
        """Index (english, foreign) pairs; used by the file loader and by tests."""
        entries: dict[str, list[str]] = {}
        n = dup = 0
        for english, foreign in pairs:
            n += 1
            # Fast path for the common single plain word (MUSE): lowercase is all it needs.
            key = english.lower() if english.isalnum() else normalise_key(english)
            translations = entries.setdefault(key, [])
            if foreign in translations:
                dup += 1
            else:
                translations.append(foreign)
        return cls(
            language=language,
            entries={k: tuple(v) for k, v in entries.items()},
            path=path,
            n_lines=n,
            n_duplicates=dup,
        )

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, english: object) -> bool:
        return isinstance(english, str) and normalise_key(english) in self.entries

    def lookup(self, english: str) -> tuple[str, ...]:
        """All translations of a word or phrase (any case), or ``()``."""
        return self.entries.get(normalise_key(english), ())

    @property
    def n_pairs(self) -> int:
        """Distinct (english, foreign) pairs."""
        return sum(len(v) for v in self.entries.values())

    @property
    def max_words(self) -> int:
        """Length in words of the longest English key (1 for a word-only dictionary)."""
        return max((k.count(" ") + 1 for k in self.entries), default=0)

    def filled_from(self, other: BilingualDictionary) -> BilingualDictionary:
        """This dictionary, plus ``other``'s translations of the English entries it lacks.

        Used for ``dictionaries: default+induced``: a curated list keeps every word it has
        (its translations are better than an induced guess), and the induced dictionary
        fills only the words the list does not cover. ``source`` stays this one's: the caller
        (`xlt_lib.codeswitch.sources`) names the combination.
        """
        if other.language != self.language:
            raise DictionaryError(
                f"cannot fill the {self.language!r} dictionary from a {other.language!r} one"
            )
        added = {k: v for k, v in other.entries.items() if k not in self.entries}
        return BilingualDictionary(
            language=self.language,
            entries={**self.entries, **added},
            path=self.path,
            n_lines=self.n_lines + other.n_lines,
            n_duplicates=self.n_duplicates,
            n_skipped=self.n_skipped + other.n_skipped,
            skipped_lines=self.skipped_lines,
            source=self.source,
        )

    def summary(self) -> dict[str, object]:
        """One row of a dictionary table (see `diagnostics.dictionary_table`)."""
        n_phrases = sum(1 for k in self.entries if " " in k)
        return {
            "language": self.language,
            "source": self.source,
            "path": str(self.path) if self.path else None,
            "lines": self.n_lines,
            "pairs": self.n_pairs,
            "english_entries": len(self.entries),
            "phrase_entries": n_phrases,
            "translations_per_entry": self.n_pairs / len(self.entries) if self.entries else 0.0,
            "duplicates": self.n_duplicates,
            "skipped": self.n_skipped,
        }


def _parse_line(line: str) -> tuple[str, str] | None:
    """(english, foreign) or ``None`` for a malformed line.

    A line with a tab is tab-separated (both sides may hold spaces); otherwise it
    must be exactly two white-space separated words (MUSE).
    """
    if "\t" in line:
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) == 2 and parts[0] and parts[1]:
            return parts[0], parts[1]
        return None
    parts = line.split()
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _numbered_lines(path: Path) -> Iterable[tuple[int, str | None]]:
    """(line number, text) pairs; text is ``None`` for a line that is not UTF-8.

    Decodes the whole file at once (fast path) and only on failure line by line,
    to name the offending line.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        for lineno, raw_line in enumerate(raw.split(b"\n"), start=1):
            try:
                yield lineno, raw_line.decode("utf-8").rstrip("\r")
            except UnicodeDecodeError:
                yield lineno, None
        return
    for lineno, line in enumerate(text.split("\n"), start=1):
        yield lineno, line.rstrip("\r")


def load_dictionary(
    path: str | os.PathLike[str], language: str, *, on_error: Literal["raise", "skip"] = "raise"
) -> BilingualDictionary:
    """Read one dictionary file (MUSE or tab-separated; UTF-8).

    A malformed line (not two fields, or not UTF-8) raises `DictionaryError` naming
    the file and line number; with ``on_error="skip"`` it is skipped and counted
    (``n_skipped``, ``skipped_lines``). Blank lines are ignored.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    path = Path(path)
    if not path.is_file():
        raise DictionaryError(f"{path}: no such dictionary file (language {language!r})")
    pairs: list[tuple[str, str]] = []
    skipped: list[int] = []
    for lineno, line in _numbered_lines(path):
        if line is None:
            pair, line = None, "<not UTF-8>"
        else:
            if not line.strip():
                continue
            pair = _parse_line(line)
        if pair is None:
            if on_error == "raise":
                raise DictionaryError(
                    f"{path}:{lineno}: malformed dictionary line {line[:80]!r}; expected "
                    "'english foreign' (MUSE, white space) or 'english phrase<TAB>foreign' in UTF-8 "
                    "(load with on_error='skip' to skip such lines)"
                )
            skipped.append(lineno)
            continue
        pairs.append(pair)
    if not pairs:
        raise DictionaryError(f"{path}: no dictionary entries (language {language!r})")
    d = BilingualDictionary.from_pairs(language, pairs, path=path)
    return BilingualDictionary(
        language=language,
        entries=d.entries,
        path=path,
        n_lines=d.n_lines + len(skipped),
        n_duplicates=d.n_duplicates,
        n_skipped=len(skipped),
        skipped_lines=tuple(skipped),
    )


def default_dictionary_path(language: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The default file of a language: MUSE where it has one, else ``dictionaries/extra``."""
    root = resolve_data_dir(data_dir)
    if root is None:
        raise DictionaryError(
            f"no data directory to find the {language!r} dictionary in: set XLT_DATA_DIR or pass data_dir"
        )
    candidates = [root / pattern.format(lang=language) for pattern in DEFAULT_LOCATIONS]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DictionaryError(
        f"no dictionary for language {language!r}: tried {', '.join(map(str, candidates))} "
        "(name a file with codeswitch.dictionaries)"
    )


def load_dictionaries(
    languages: Sequence[str],
    data_dir: str | os.PathLike[str] | None = None,
    paths: Mapping[str, str | os.PathLike[str]] | None = None,
    *,
    on_error: Literal["raise", "skip"] = "raise",
) -> dict[str, BilingualDictionary]:
    """One dictionary per language, in the order given.

    ``paths`` overrides the file of some languages; the others default to
    ``<data>/dictionaries/muse/en-xx.txt``, then ``<data>/dictionaries/extra/en-xx.txt``
    (Urdu and Swahili, which MUSE lacks).
    """
    paths = dict(paths or {})
    unknown = sorted(set(paths) - set(languages))
    if unknown:
        raise DictionaryError(f"dictionary paths given for languages not switched into: {', '.join(unknown)}")
    out: dict[str, BilingualDictionary] = {}
    for lang in languages:
        path = Path(paths[lang]) if lang in paths else default_dictionary_path(lang, data_dir)
        out[lang] = load_dictionary(path, lang, on_error=on_error)
    return out
