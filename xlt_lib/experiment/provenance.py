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


def check_run(run_dir: Path, model: str | None, cache: ProvenanceCache) -> ProvenanceCheck:
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

    for file, digest in sorted((env.get("data") or {}).items()):
        now = cache.sha256(file)
        if now is None:
            check.stale.append(f"input file {file} is gone")
        elif now != digest:
            check.stale.append(f"input file {file} changed (sha256 {digest[:12]} -> {now[:12]})")

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
