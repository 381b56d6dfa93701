"""Where things live: data, caches, runs and reports.

One module resolves every location so that a user can move any of them with one
environment variable, and so that tests can point them at temporary folders.

Data resolution order (the offline mirror makes the package usable without the
Hugging Face hub):

1. an explicit directory (a function argument or an experiment's ``data_dir`` key),
2. the ``XLT_DATA_DIR`` environment variable,
3. ``../shared/data`` next to the checkout, when it exists,
4. otherwise ``None``: loaders fall back to the Hugging Face hub.
"""

from __future__ import annotations

import os
from pathlib import Path

from xlt_lib.errors import DataError

_PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The checkout holding this package (the folder with ``pyproject.toml``).

    Falls back to the current directory for a non-editable install, where there is
    no checkout to speak of.
    """
    candidate = _PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def cache_dir() -> Path:
    """Folder for derived artefacts that can be rebuilt (converted models, caches).

    ``XLT_CACHE_DIR`` overrides; the default is ``<repo>/.xlt-cache`` so that a
    checkout is self-contained and ``git clean -X`` removes it.
    """
    env = os.environ.get("XLT_CACHE_DIR")
    return Path(env).expanduser().resolve() if env else repo_root() / ".xlt-cache"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The local data directory to read task files from, or ``None`` for the hub.

    An explicitly named directory (argument or ``XLT_DATA_DIR``) must exist: a typo
    there should fail loudly rather than silently fall back to the network.
    """
    for name, value in (("data_dir", explicit), ("XLT_DATA_DIR", os.environ.get("XLT_DATA_DIR"))):
        if value:
            path = Path(value).expanduser().resolve()
            if not path.is_dir():
                raise DataError(f"{name}={value!s}: no such directory")
            return path
    mirror = repo_root().parent / "shared" / "data"
    return mirror.resolve() if mirror.is_dir() else None


def runs_dir() -> Path:
    """Root of all run records (``XLT_RUNS_DIR`` overrides; default ``<repo>/runs``)."""
    env = os.environ.get("XLT_RUNS_DIR")
    return Path(env).expanduser().resolve() if env else repo_root() / "runs"


def reports_dir() -> Path:
    """Root of rendered reports (``XLT_REPORTS_DIR`` overrides; default ``<repo>/reports``)."""
    env = os.environ.get("XLT_REPORTS_DIR")
    return Path(env).expanduser().resolve() if env else repo_root() / "reports"
