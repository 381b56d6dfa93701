"""Is a complete run still the run its inputs would produce today?

A run's id hashes what the experiment file says (settings, model name, task, data
directory, ...), not the bytes behind those names. A data file corrected in place,
a model folder re-trained under the same path, an edited dictionary or a new xlt
release would otherwise let `plan` reuse a result that no longer follows from its
inputs. Every run records those bytes in ``env.json`` (SHA-256 of each data and
dictionary file read, the model's identity, the xlt version and git commit), so
the planner compares them with the present before it skips a run:

* a changed or missing data/dictionary file, changed model weights or another xlt
  version make the run **stale**: it is rerun, and the reason is printed;
* a run recorded under another data source (``XLT_DATA_DIR`` or the mirror switched,
  the hub instead of files) is **stale** too: the run id hashes the experiment's
  ``data_dir`` key, which is ``null`` when the directory comes from the environment,
  so the resolved directory recorded in ``env.json["data_source"]`` is compared with
  the one this plan resolves (records older than that field are judged by where
  their recorded data files lie);
* another git commit of the same xlt version is only **noted** (a commit that touched
  nothing the run uses would otherwise redo days of work): the note names both
  commits, and ``--force`` reruns everything.

Checksums and identities are computed once per plan (`ProvenanceCache`): runs share
their data files and models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlt_lib
from xlt_lib.checksums import file_sha256
from xlt_lib.errors import XltError
from xlt_lib.experiment import records
from xlt_lib.model.identity import model_identity
from xlt_lib.paths import data_dir as resolve_data_dir


@dataclass
class ProvenanceCheck:
    """What differs between a complete run's record and the present."""

    stale: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ProvenanceCache:
    """Present-day checksums, model identities and code version, each computed once per plan."""

    _sha: dict[str, str | None] = field(default_factory=dict)
    _models: dict[str, Any] = field(default_factory=dict)
    _code: dict[str, Any] | None = None
    _roots: dict[str | None, Path | None] = field(default_factory=dict)

    def data_root(self, data_dir: str | None) -> Path | None:
        """The data directory a run with this ``data_dir`` key reads today (``None``: the hub).

        Raises `DataError` for a named directory that does not exist (``XLT_DATA_DIR=/typo``):
        a plan must not judge results against data it cannot see.
        """
        if data_dir not in self._roots:
            self._roots[data_dir] = resolve_data_dir(data_dir)
        return self._roots[data_dir]

    def sha256(self, path: str) -> str | None:
        if path not in self._sha:
            try:
                self._sha[path] = file_sha256(path) if Path(path).is_file() else None
            except (OSError, XltError):
                self._sha[path] = None
        return self._sha[path]

    def model(self, name: str) -> Any:
        """The model's identity now, or the error text when it cannot be determined."""
        if name not in self._models:
            try:
                self._models[name] = model_identity(name)
            except (OSError, XltError) as exc:
                self._models[name] = f"unavailable ({exc})"
        return self._models[name]

    def code(self) -> dict[str, Any]:
        if self._code is None:
            self._code = {"version": xlt_lib.__version__, "git": records.git_state()}
        return self._code


def _comparable_model(identity: Any) -> Any:
    """The part of a model identity that pins weights (drops where the folder happens to be)."""
    if not isinstance(identity, dict):
        return identity
    return {key: value for key, value in identity.items() if key not in ("path", "name")}


def data_source(root: Path | None) -> dict[str, Any]:
    """What ``env.json["data_source"]`` records: a local directory, or the Hugging Face hub."""
    return {"kind": "hub"} if root is None else {"kind": "local", "dir": str(root)}


def _describe_source(source: Any) -> str:
    if isinstance(source, dict) and source.get("kind") == "local":
        return str(source.get("dir"))
    return "the Hugging Face hub" if isinstance(source, dict) else repr(source)


def _relative(file: str, root: Path | None) -> str:
    """A data file as ``task/file`` under the data directory when it lies there, else as recorded."""
    if root is not None:
        try:
            return Path(file).relative_to(root).as_posix()
        except ValueError:
            pass
    return file


def _data_source_changes(env: dict[str, Any], root: Path | None) -> list[str]:
    """Why the recorded data source is not the present one (empty: it is)."""
    recorded = env.get("data_source")
    present = data_source(root)
    if recorded is not None:
        if recorded != present:
            return [f"data dir changed: {_describe_source(recorded)} -> {_describe_source(present)}"]
        return []
    # A record from before data_source: judge by where its data files were read.
    files = [Path(name) for name in (env.get("data") or {})]
    if not files:
        return []
    if root is None:
        return [f"data dir changed: {files[0].parent} -> the Hugging Face hub"]
    outside = [file for file in files if not file.is_relative_to(root)]
    data_files = [file for file in outside if "dictionaries" not in file.parts]  # named ones live anywhere
    if data_files:
        return [f"data dir changed: {data_files[0].parent} -> {root}"]
    return []


def check_run(
    run_dir: Path, model: str | None, cache: ProvenanceCache, data_dir: str | None = None
) -> ProvenanceCheck:
    """Compare a complete run's ``env.json`` with the present.

    ``model`` is the model the run started from (``None`` for a phase-3 run on a
    phase-2 encoder: a changed parent is rerun, and its children with it). A run
    without ``env.json`` (written by another tool) has nothing to compare.
    """
    check = ProvenanceCheck()
    path = Path(run_dir) / records.ENV
    if not path.is_file():
        return check
    try:
        env = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        check.stale.append(f"{records.ENV} unreadable ({exc})")
        return check
    if not isinstance(env, dict):
        check.stale.append(f"{records.ENV} is not a JSON object")
        return check

    root = cache.data_root(data_dir)
    check.stale += _data_source_changes(env, root)
    for file, digest in sorted((env.get("data") or {}).items()):
        now = cache.sha256(file)
        name = _relative(file, root)
        if now is None:
            check.stale.append(f"data: {name} is missing (input file {file} is gone)")
        elif now != digest:
            check.stale.append(
                f"data: {name} changed (input file {file}, sha256 {digest[:12]} -> {now[:12]})"
            )

    if model is not None and env.get("model") is not None:
        recorded, present = _comparable_model(env["model"]), _comparable_model(cache.model(model))
        if recorded != present:
            check.stale.append(f"model {model!r} is not the one the run used (its identity changed)")

    code = cache.code()
    recorded_version = (env.get("packages") or {}).get("xlt")
    if recorded_version is not None and recorded_version != code["version"]:
        check.stale.append(f"recorded with xlt {recorded_version}, this is xlt {code['version']}")
    recorded_commit = (env.get("git") or {}).get("commit")
    commit = code["git"].get("commit")
    if recorded_commit and commit and recorded_commit != commit:
        check.notes.append(f"recorded at git commit {recorded_commit[:12]}, the checkout is at {commit[:12]}")
    return check
