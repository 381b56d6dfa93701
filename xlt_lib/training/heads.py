"""An encoder with a fresh task head, built the way each task format needs.

Only the encoder travels between phases; every phase puts a new, randomly
initialised head of the right kind on it (`transformers` ``AutoModelFor*``
classes), so the same function serves phase 2 and phase 3 and any encoder that
``from_pretrained`` can read (the offline default, a phase-2 ``encoder/`` folder,
a hub id).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from transformers import AutoConfig, PreTrainedModel, set_seed

from xlt_lib.errors import ConfigError, ModelError
from xlt_lib.model.referenced import is_referencing, load_state_dict, model_class
from xlt_lib.tasks import get_format
from xlt_lib.training.settings import TrainingSettings

log = logging.getLogger(__name__)


def load_with_head(
    encoder: str | Path,
    task_format: str,
    labels: list[str] | tuple[str, ...] | None,
    settings: TrainingSettings,
) -> PreTrainedModel:
    """Load ``encoder`` (a local folder or hub id) with a new head for ``task_format``.

    The head class and its label maps are the format's (`TaskFormat.head_class`).

    The head's initialisation is seeded with ``settings.seed`` so that two runs with
    the same seed start from the same weights. ``settings.num_layers`` keeps only
    the first N transformer layers: passing ``num_hidden_layers`` to
    ``from_pretrained`` builds the shorter stack and loads exactly those layers'
    weights, for any architecture whose config has that field.
    """
    head = get_format(task_format)
    kwargs = head.head_config(labels)
    try:
        config = AutoConfig.from_pretrained(str(encoder), **kwargs)
    except OSError as exc:
        raise ModelError(f"{encoder}: cannot read an encoder config ({exc})") from exc
    if settings.num_layers is not None:
        available = getattr(config, "num_hidden_layers", None)
        if available is None:
            raise ConfigError(f"num_layers: {encoder} has no num_hidden_layers to cut")
        if settings.num_layers > available:
            raise ConfigError(
                f"num_layers: {settings.num_layers} requested but {encoder} has only {available} layers"
            )
        config.num_hidden_layers = settings.num_layers
    set_seed(settings.seed)
    # transformers prints a multi-line load report (in red, in notebooks) for the
    # keys a fresh head and a cut stack leave missing or unused; both are expected
    # here, so it is replaced by one log line that says which they were.
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # A phase-2 encoder that stores only what training changed is completed from its
    # base model first (bit-identical, checked), then loaded exactly like a full folder.
    state = load_state_dict(encoder) if is_referencing(encoder) else None
    try:  # safetensors only: a pickled checkpoint can run code when unpickled
        if state is not None:
            model, info = model_class(head.head_class(), config).from_pretrained(
                None, config=config, state_dict=state, output_loading_info=True
            )
        else:
            model, info = head.head_class().from_pretrained(
                str(encoder), config=config, use_safetensors=True, output_loading_info=True
            )
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"{encoder}: cannot load safetensors weights ({exc})") from exc
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    log.info(
        "loaded %s with a new %s head: %d tensors initialised fresh (%s), %d unused",
        encoder,
        task_format,
        len(info["missing_keys"]),
        _summarise_keys(info["missing_keys"]),
        len(info["unexpected_keys"]),
    )
    if settings.freeze_embedding_block:
        freeze_embedding_block(model, encoder)
    elif settings.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    return model


def freeze_embedding_block(model: PreTrainedModel, encoder: str | Path = "the encoder") -> None:
    """Freeze every parameter of ``model``'s embedding block (words, positions, token types, LayerNorm).

    With none of them trainable, the block's output needs no gradient, so autograd
    stops at layer 0's input: the backward pass skips the LayerNorm and the three
    embedding lookups, and AdamW holds no state for them. The block is the base
    model's ``embeddings`` module, as BERT-family encoders (BERT, RoBERTa, XLM-R,
    ELECTRA, DeBERTa) name it; an encoder without one is a `ConfigError`.
    """
    block = getattr(model.base_model, "embeddings", None)
    if not isinstance(block, torch.nn.Module):
        raise ConfigError(f"freeze_embedding_block: {encoder} has no embedding block (base_model.embeddings)")
    block.requires_grad_(False)
    model.get_input_embeddings().weight.requires_grad_(False)  # the word matrix, wherever it lives


def _summarise_keys(keys: Any) -> str:
    """``classifier, pooler`` rather than every tensor name: the modules keys belong to."""
    modules = sorted({key.rsplit(".", 1)[0].split(".", 1)[-1] if "." in key else key for key in keys})
    return ", ".join(modules) or "none"
