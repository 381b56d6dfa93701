"""Notebook files around papermill: checked before they run, written whole or not at all.

* `check_notebooks`: a truncated or hand-broken phase notebook made papermill fail
  each run with ``NotJSONError`` and no file name, and ``--dry-run`` passed it. Every
  notebook a plan will execute is parsed first; a bad one is a `ConfigError` naming
  the file and how to restore it.
* `atomic_output`: papermill saves the executed notebook after every cell with a plain
  ``open(path, "w")``; a full disk (or a kill) mid-save left half a JSON file. Output
  paths handed to papermill go through an I/O handler (papermill's own extension
  point, ``papermill.iorw.papermill_io``) that writes each save to a temporary file
  and moves it into place (`xlt_lib.experiment.records.atomic_write`): the notebook on
  disk is always a whole one, and a failed save raises an `OSError` naming the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import records

#: Prefix that routes a papermill output path to `AtomicLocalHandler`.
ATOMIC_SCHEME = "xlt-atomic://"


def check_notebooks(paths: Iterable[Path]) -> None:
    """Raise `ConfigError` for a notebook that is missing or not a valid notebook (truncated JSON)."""
    for path in dict.fromkeys(Path(p) for p in paths):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: notebook not found (restore it: git checkout -- {path.name})"
            ) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(
                f"{path}: not a valid notebook (truncated or edited outside Jupyter?): {exc}; "
                f"restore it (git checkout -- {path.name}) or repair it in Jupyter"
            ) from None
        if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
            raise ConfigError(
                f"{path}: not a notebook (no 'cells' list); restore it (git checkout -- {path.name})"
            )


def _local(path: str) -> str:
    return path[len(ATOMIC_SCHEME) :] if path.startswith(ATOMIC_SCHEME) else path


class AtomicLocalHandler:
    """papermill I/O handler for local files whose every write is atomic."""

    def read(self, path: str) -> str:
        return Path(_local(path)).read_text(encoding="utf-8")

    def listdir(self, path: str) -> list[str]:
        return [os.path.join(path, name) for name in os.listdir(_local(path))]

    def write(self, buf: str, path: str) -> None:
        records.atomic_write_text(_local(path), buf)

    def pretty_path(self, path: str) -> str:
        return _local(path)


def atomic_output(path: Path) -> str:
    """The output path to give papermill so that ``path`` is always written atomically."""
    global _registered
    if not _registered:
        from papermill.iorw import papermill_io  # heavy third-party import, only when executing

        papermill_io.register(ATOMIC_SCHEME, AtomicLocalHandler())
        _registered = True
    return ATOMIC_SCHEME + str(path)


_registered = False
