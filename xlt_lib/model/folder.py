"""A quick check that a local model folder can be loaded, before hours of grid depend on it.

``from_pretrained`` finds a truncated weight file, a pickled-only folder or a
tokenizer that does not fit the model only when a run's notebook loads it, and then
reports it as a `SafetensorError` or, for a tokenizer with more pieces than the
model has embeddings, as an ``IndexError`` deep inside the first training step.
`check_model_folder` reads only headers (the safetensors header, ``config.json``,
the tokenizer's vocabulary) and names the file at fault.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xlt_lib.errors import ModelError
from xlt_lib.model.referenced import check_base, is_referencing


def check_model_folder(folder: str | Path) -> None:
    """Raise `ModelError` naming the file when ``folder`` is not a loadable safetensors model."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    config = _config(folder)
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        pickled = sorted(p.name for p in folder.glob("*.bin")) or ["none"]
        raise ModelError(
            f"{folder}: no *.safetensors weights (pickled weights: {', '.join(pickled)}); "
            "xlt loads safetensors only - re-save the model with save_pretrained()"
        )
    for path in weights:
        _check_safetensors(path)
    if is_referencing(folder):
        check_base(folder)  # a missing or different base model: `BaseModelError`, naming it
    _check_tokenizer(folder, config)


def _config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing; a model folder needs its config.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable ({exc})") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path}: expected a JSON object")
    return config


def _check_safetensors(path: Path) -> None:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as handle:
            handle.keys()
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{path}: corrupt or truncated weights ({exc})") from None


def _check_tokenizer(folder: Path, config: dict[str, Any]) -> None:
    """The tokenizer must not produce ids the model has no embedding for."""
    path = folder / "tokenizer.json"
    vocab_size = config.get("vocab_size")
    if not path.is_file() or not isinstance(vocab_size, int):
        return  # a slow tokenizer or an exotic config: from_pretrained will judge
    from tokenizers import Tokenizer

    try:
        pieces = Tokenizer.from_file(str(path)).get_vocab_size(with_added_tokens=True)
    except Exception as exc:  # tokenizers raises a bare Exception for malformed files
        raise ModelError(f"{path}: unreadable tokenizer ({exc})") from None
    if pieces > vocab_size:
        raise ModelError(
            f"{path}: tokenizer mismatch: it has {pieces} pieces but {folder / 'config.json'} "
            f"embeds only vocab_size={vocab_size}; the tokenizer belongs to another model"
        )
