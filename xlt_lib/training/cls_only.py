"""The last encoder layer computed for the first ([CLS]) position only, where nothing else is read.

Sequence-classification and multiple-choice heads of the BERT family (BERT, RoBERTa,
XLM-R, and the offline default e5) read the last layer's output at position 0 only,
through BERT's pooler or RoBERTa's ``features[:, 0]``. The last layer's other positions
are computed and thrown away. Per token a layer costs about 12 h² multiply-adds
(query, key, value and output projections, 4 h²; feed-forward, 8 h²), of which the
other positions need only their keys and values (2 h²). So the last layer is
computed for position 0 alone, attending over every position's keys and values:
the same logits and gradients (to float rounding), ~5/6 of one layer's matmuls and
its attention and dropout work for the other positions (what that gains on the offline
default: ``benchmarks/results/train_throughput.md``). Which heads read position 0 only
is the format's to say (`TaskFormat.first_position_only`).

Written by hand because transformers has no option for it: its layers always
return every position. The weights and module tree stay untouched (only the last
layer's ``forward`` is replaced on that instance), so ``state_dict`` and
``save_pretrained`` are unaffected. The layer then returns a length-1 sequence:
``last_hidden_state`` is ``(batch, 1, hidden)``, which is all these heads read.
"""

from __future__ import annotations

import logging
import types
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from xlt_lib.tasks import get_format

log = logging.getLogger(__name__)

#: Architectures whose layers are BERT's (post-LayerNorm, ``attention.self.{query,key,value}``,
#: ``attention.output``, ``feed_forward_chunk``) and whose classification and multiple-choice
#: heads read position 0 only.
BERT_LAYER_MODEL_TYPES = frozenset({"bert", "roberta", "xlm-roberta", "camembert"})
#: Attention implementations whose masks this module knows: an additive float mask (eager)
#: or a boolean keep-mask (sdpa, and `xlt_lib.training.cpu_dropout`'s xlt_sdpa), ``(batch, 1,
#: query, key)`` or ``None``.
KNOWN_ATTENTION = frozenset({"eager", "sdpa", "xlt_sdpa"})


def why_not_cls_only(model: nn.Module, task_format: str) -> str | None:
    """Why ``model`` cannot have a [CLS]-only last layer, or None when it can."""
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    if not get_format(task_format).first_position_only:
        return f"a {task_format} head reads every position"
    if model_type not in BERT_LAYER_MODEL_TYPES:
        return f"model type {model_type!r} is not one of {', '.join(sorted(BERT_LAYER_MODEL_TYPES))}"
    if getattr(config, "is_decoder", False) or getattr(config, "add_cross_attention", False):
        return "the encoder is configured as a decoder"
    implementation = getattr(config, "_attn_implementation", None) or "eager"
    if implementation not in KNOWN_ATTENTION:
        return (
            f"attention implementation {implementation!r} is not one of {', '.join(sorted(KNOWN_ATTENTION))}"
        )
    return None


def use_cls_only_last_layer(model: nn.Module, task_format: str) -> bool:
    """Compute ``model``'s last layer for position 0 only, if its head reads nothing else.

    Returns whether it did; a model it does not apply to is left as it is (and the
    reason logged), so callers can ask for it unconditionally.
    """
    reason = why_not_cls_only(model, task_format)
    if reason is not None:
        log.info("last layer computed for every position: %s", reason)
        return False
    layer = model.base_model.encoder.layer[-1]
    layer.forward = types.MethodType(_first_position_forward, layer)
    return True


def has_cls_only_last_layer(model: nn.Module) -> bool:
    """Whether `use_cls_only_last_layer` was applied to ``model``."""
    layer = model.base_model.encoder.layer[-1]
    return getattr(layer.forward, "__func__", None) is _first_position_forward


def _first_position_forward(
    layer: nn.Module,
    hidden_states: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *args: Any,
    **kwargs: Any,
) -> torch.Tensor:
    """BERT's layer (self-attention, add & norm, feed-forward, add & norm) for position 0.

    Mirrors ``BertLayer.forward``: ``F.scaled_dot_product_attention`` takes both
    mask kinds transformers builds (additive float for eager, boolean keep-mask for
    sdpa) and applies attention-probability dropout as eager attention does.
    """
    attention = layer.attention.self
    batch = hidden_states.shape[0]
    first = hidden_states[:, :1]
    heads_shape = (batch, -1, attention.num_attention_heads, attention.attention_head_size)
    query = attention.query(first).view(heads_shape).transpose(1, 2)
    key = attention.key(hidden_states).view(heads_shape).transpose(1, 2)
    value = attention.value(hidden_states).view(heads_shape).transpose(1, 2)
    if attention_mask is not None:
        attention_mask = attention_mask[:, :, :1, :]  # the query row of position 0
    attended = F.scaled_dot_product_attention(
        query,
        key,
        value,
        attn_mask=attention_mask,
        dropout_p=attention.dropout.p if layer.training else 0.0,
        scale=attention.scaling,
    )
    attended = attended.transpose(1, 2).reshape(batch, 1, -1)
    attention_output = layer.attention.output(attended, first)
    return layer.feed_forward_chunk(attention_output)
