"""A run record's manifest: size and SHA-256 of every file, so a damaged record is visibly damaged.

``metrics.json`` being present says that a run finished; it does not say that the
files beside it are still the ones the run wrote. A truncated ``predictions.parquet``,
a ``metrics.json`` replaced by ``{}`` or a deleted encoder would otherwise be
reused as results. ``manifest.json`` lists every file of the record (``config.yaml``,
``env.json``, ``predictions.parquet``, ``encoder/*``, ``metrics.json`` itself and,
added by the runner once papermill has saved it, ``executed.ipynb``) with its size
and SHA-256. It is written just before ``metrics.json`` (which stays the last file and
the mark of completion): a run killed in between has no ``metrics.json`` and is
simply rerun.

Verification comes in two depths:

* **quick** (every ``xlt run`` / ``xlt report`` plan): every listed file exists with
  its size, small files (up to `QUICK_HASH_LIMIT`) match their SHA-256, and larger
  ones (encoder weights) match the SHA-256 of their first MiB (`HEAD_BYTES`, which
  holds a safetensors file's header). Hashing a 470 MB encoder in full takes about
  0.4 s warm and 0.9 s cold on the development machine, and a plan reads every
  encoder of the grid: the full hash is kept for `xlt check`.
* **full** (`xlt check`): every file's complete SHA-256.

Records written before manifests existed (no ``manifest.json`` and no
``record_format`` in ``env.json``) are *legacy*: only what can be checked without
a manifest is (`legacy_problems`). This module is below `records` and knows no run
semantics beyond file names.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
#: In ``env.json``: the record layout version. 2 = records carry a manifest.
RECORD_FORMAT = 2
#: Files up to this size are hashed in full on every plan; larger ones by their head.
QUICK_HASH_LIMIT = 64 << 20
HEAD_BYTES = 1 << 20
_CHUNK = 1 << 20
#: Never listed: the manifest itself, the failure record, and temporary files (".name.xxx.tmp").
_UNLISTED = frozenset({MANIFEST, "error.json"})


def _sha256(path: Path, limit: int | None = None) -> str:
    digest = hashlib.sha256()
    left = limit
    with open(path, "rb") as handle:
        while left is None or left > 0:
            chunk = handle.read(_CHUNK if left is None else min(_CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            if left is not None:
                left -= len(chunk)
    return digest.hexdigest()


def describe_file(path: Path) -> dict[str, Any]:
    """``{size, sha256}`` of a file, plus ``head_sha256`` (its first MiB) when it is large."""
    entry: dict[str, Any] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    if entry["size"] > QUICK_HASH_LIMIT:
        entry["head_sha256"] = _sha256(path, HEAD_BYTES)
    return entry


def describe_bytes(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def record_files(run_dir: Path, *, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Relative POSIX paths of the record's files (no hidden/temporary files, no manifest)."""
    out = []
    for root, dirs, files in os.walk(run_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            relative = (Path(root) / name).relative_to(run_dir).as_posix()
            if relative not in _UNLISTED and relative not in exclude:
                out.append(relative)
    return out


def record_dirs(run_dir: Path) -> list[str]:
    """Relative POSIX paths of the record's folders (an encoder folder counts even when empty)."""
    out = []
    for root, dirs, _files in os.walk(run_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [(Path(root) / name).relative_to(run_dir).as_posix() for name in dirs]
    return out


def build(run_dir: Path, *, exclude: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """The manifest entries of the files now in ``run_dir``."""
    return {name: describe_file(run_dir / name) for name in record_files(run_dir, exclude=exclude)}


def read(run_dir: Path) -> dict[str, Any] | None:
    """The manifest, ``None`` when there is none; an unreadable one reads as ``{}`` (damaged)."""
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def verify(run_dir: Path, *, full: bool = False) -> list[str]:
    """What is wrong with the record's files against its manifest (empty: the record is whole)."""
    run_dir = Path(run_dir)
    manifest = read(run_dir)
    if manifest is None:
        return [f"{MANIFEST} is missing"]
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return [f"{MANIFEST} is unreadable or lists no files"]
    gone = [name for name in manifest.get("dirs") or [] if not (run_dir / name).is_dir()]
    problems = [f"{name}/ is missing" for name in gone]
    for name, entry in sorted(files.items()):
        if any(name.startswith(f"{folder}/") for folder in gone):
            continue  # inside a folder already reported missing
        path = run_dir / name
        if not isinstance(entry, dict) or "size" not in entry or "sha256" not in entry:
            problems.append(f"{MANIFEST}: bad entry for {name}")
            continue
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        except OSError as exc:
            problems.append(f"{name} cannot be read ({exc.strerror})")
            continue
        if size != entry["size"]:
            problems.append(f"{name} has {size} bytes, the run wrote {entry['size']} (truncated or replaced)")
            continue
        try:
            if full or size <= QUICK_HASH_LIMIT:
                ok = _sha256(path) == entry["sha256"]
            else:
                ok = entry.get("head_sha256") in (None, _sha256(path, HEAD_BYTES))
        except OSError as exc:
            problems.append(f"{name} cannot be read ({exc.strerror})")
            continue
        if not ok:
            problems.append(f"{name} is not the file the run wrote (sha256 differs)")
    return problems
