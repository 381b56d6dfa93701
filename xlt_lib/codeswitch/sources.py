"""Which dictionary file each switched language reads, as a code-switching config says.

``codeswitch.dictionaries`` (`CodeSwitchConfig.dictionary_choice`) gives, per
language, nothing (the data directory's default: MUSE, else ``dictionaries/extra``),
a file, ``induced`` (the dictionary induced from the encoder, in the cache),
``default+induced`` (the default, its missing words filled from the induced
dictionary) or, for all languages at once, ``muse+induced`` (MUSE where the data
directory has it, induced elsewhere). `dictionary_source` turns that into one
`DictionarySource`: its kind, its path (and the path of the dictionary that fills
it) and, where it cannot be read now, why not and what to do. Training (`load_configured_dictionaries`), a run's
provenance, preflight and the diagnostics all resolve through here, so they
agree on the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from xlt_lib.codeswitch.config import (
    DEFAULT_FILLED_BY_INDUCED,
    INDUCED,
    MUSE_ELSE_INDUCED,
    CodeSwitchConfig,
)
from xlt_lib.codeswitch.dictionary import (
    DEFAULT_LOCATIONS,
    BilingualDictionary,
    default_dictionary_path,
    load_dictionary,
)
from xlt_lib.codeswitch.induced_store import build_hint, induced_dictionary_path
from xlt_lib.errors import DictionaryError
from xlt_lib.paths import data_dir as resolve_data_dir

#: Where a language's MUSE dictionary lies under the data directory (the first default location).
MUSE_LOCATION = DEFAULT_LOCATIONS[0]


@dataclass(frozen=True)
class DictionarySource:
    """Where one language's dictionary comes from; ``problem`` says why it cannot be read now."""

    language: str
    kind: str  # muse | extra | file | induced, or muse+induced / extra+induced when ``fill`` is set
    path: Path | None
    problem: str | None = None
    #: The dictionary whose translations fill the English words this one lacks (``default+induced``).
    fill: DictionarySource | None = None

    @property
    def induced(self) -> bool:
        """Does it read an induced dictionary (which ``xlt codeswitch induce`` builds)?"""
        return self.kind == "induced" or (self.fill is not None and self.fill.induced)

    def require(self) -> Path:
        """The path, or `DictionaryError` with the problem (and, for induced ones, the command to build it)."""
        if self.problem is not None or self.path is None:
            raise DictionaryError(f"dictionary {self.language}: {self.problem}")
        return self.path

    def required_files(self) -> tuple[Path, ...]:
        """Every file it reads (its own, then the filling one's); `DictionaryError` if one cannot be read."""
        return (self.require(), *(() if self.fill is None else self.fill.required_files()))

    def first_problem(self) -> str | None:
        """Why it cannot be read now (its own problem, else its filling dictionary's), or ``None``."""
        return self.problem or (None if self.fill is None else self.fill.first_problem())


def _default(language: str, data_dir: str | os.PathLike[str] | None) -> DictionarySource:
    """The data directory's default (`default_dictionary_path`: MUSE, else ``dictionaries/extra``)."""
    try:
        path = default_dictionary_path(language, data_dir)
    except DictionaryError as exc:
        return DictionarySource(language, "muse", None, str(exc))
    return DictionarySource(language, "muse" if path.parent.name == "muse" else "extra", path)


def _muse(language: str, data_dir: str | os.PathLike[str] | None) -> DictionarySource | None:
    """The language's MUSE dictionary under the data directory, or ``None``."""
    root = resolve_data_dir(data_dir)
    path = None if root is None else root / MUSE_LOCATION.format(lang=language)
    return DictionarySource(language, "muse", path) if path is not None and path.is_file() else None


def _induced(language: str) -> DictionarySource:
    path = induced_dictionary_path(language)
    if path.is_file():
        return DictionarySource(language, "induced", path)
    return DictionarySource(
        language, "induced", path, f"induced dictionary not built yet: run `{build_hint([language])}`"
    )


def dictionary_source(
    language: str, choice: str | None, data_dir: str | os.PathLike[str] | None = None
) -> DictionarySource:
    """Resolve one language's ``dictionaries`` choice (``None``: the default) to a source."""
    if choice is None:
        return _default(language, data_dir)
    if choice == INDUCED:
        return _induced(language)
    if choice == MUSE_ELSE_INDUCED:
        return _muse(language, data_dir) or _induced(language)
    if choice == DEFAULT_FILLED_BY_INDUCED:
        default = _default(language, data_dir)
        if default.problem is not None:  # no default dictionary at all: the induced one alone
            return _induced(language)
        return replace(default, kind=f"{default.kind}+induced", fill=_induced(language))
    path = Path(choice).expanduser()
    return DictionarySource(
        language, "file", path, None if path.is_file() else f"no such dictionary file {choice!r}"
    )


def dictionary_sources(
    config: CodeSwitchConfig, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, DictionarySource]:
    """The source of every language of ``config``, in its language order."""
    return {
        lang: dictionary_source(lang, config.dictionary_choice(lang), data_dir) for lang in config.languages
    }


def load_configured_dictionaries(
    config: CodeSwitchConfig, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, BilingualDictionary]:
    """One dictionary per language of ``config``, each marked with its source kind."""
    return {lang: _load(source) for lang, source in dictionary_sources(config, data_dir).items()}


def _load(source: DictionarySource) -> BilingualDictionary:
    """One source's dictionary, filled from its ``fill`` where it has one, marked with its kind."""
    dictionary = load_dictionary(source.require(), source.language)
    if source.fill is not None:
        dictionary = dictionary.filled_from(_load(source.fill))
    return replace(dictionary, source=source.kind)
