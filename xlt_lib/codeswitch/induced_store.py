"""Where induced dictionaries live in the xlt cache, and how they are written and read.

An induced dictionary is derived data (rebuildable from the encoder and the
candidate sources), so it lives under the cache directory, one language per
file set, written atomically (`xlt_lib.atomic`) so that a reader sees a whole
dictionary or none:

``<cache>/dictionaries/induced/en-xx.scores.tsv``
    every English query with its best candidate and score (``english<TAB>foreign<TAB>score``),
    best score first: what a different threshold would keep;
``<cache>/dictionaries/induced/en-xx.json``
    how it was built: encoder and its identity, settings, candidate sources and
    counts, threshold, the precision expected at that threshold;
``<cache>/dictionaries/induced/en-xx.txt``
    the pairs scoring at least the threshold, in the tab-separated dictionary
    format `load_dictionary` reads. Written last: its presence means "built".

A run's provenance records the SHA-256 of ``en-xx.txt`` like that of any
dictionary file, so rebuilding it differently makes runs that used it stale.
Light at import (no torch): preflight and configuration validation use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xlt_lib.atomic import atomic_write_text
from xlt_lib.paths import cache_dir

#: Folder of induced dictionaries under the cache directory.
INDUCED_SUBDIR = ("dictionaries", "induced")


def induced_dir() -> Path:
    """``<cache>/dictionaries/induced`` (``XLT_CACHE_DIR`` moves it with the rest of the cache)."""
    return cache_dir().joinpath(*INDUCED_SUBDIR)


def induced_dictionary_path(language: str) -> Path:
    """The dictionary file code-switching reads for ``dictionaries: induced``."""
    return induced_dir() / f"en-{language}.txt"


def induced_scores_path(language: str) -> Path:
    return induced_dir() / f"en-{language}.scores.tsv"


def induced_meta_path(language: str) -> Path:
    return induced_dir() / f"en-{language}.json"


def is_built(language: str) -> bool:
    return induced_dictionary_path(language).is_file()


def build_hint(languages: Sequence[str]) -> str:
    """The command that builds the induced dictionaries of ``languages``."""
    return f"xlt codeswitch induce --languages {','.join(languages)}"


def read_meta(language: str) -> dict[str, Any] | None:
    """The build record of a language's induced dictionary, or ``None`` when none is built."""
    path = induced_meta_path(language)
    if not (path.is_file() and is_built(language)):
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _clean(text: str) -> str:
    """A dictionary field on one line (tabs and newlines would break the file format)."""
    return " ".join(text.split())


def write_induced(
    language: str, scored: Iterable[tuple[str, str, float]], threshold: float, meta: dict[str, Any]
) -> Path:
    """Write the scores, the build record and (last) the dictionary of one language; returns its path.

    ``scored`` holds (english, foreign, score) for every query; pairs with
    ``score >= threshold`` form the dictionary.
    """
    rows = sorted(((_clean(e), _clean(f), float(s)) for e, f, s in scored), key=lambda r: (-r[2], r[0]))
    rows = [r for r in rows if r[0] and r[1]]
    kept = [r for r in rows if r[2] >= threshold]
    atomic_write_text(induced_scores_path(language), "".join(f"{e}\t{f}\t{s:.6f}\n" for e, f, s in rows))
    record = {**meta, "language": language, "threshold": threshold, "queries": len(rows), "pairs": len(kept)}
    atomic_write_text(induced_meta_path(language), json.dumps(record, indent=2, sort_keys=True) + "\n")
    return atomic_write_text(induced_dictionary_path(language), "".join(f"{e}\t{f}\n" for e, f, _ in kept))
