"""`xlt_lib.training.cls_only`: the [CLS]-only last layer gives the heads exactly what the full layer does."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
from tiny_encoder import TINY_ENCODER
from transformers import (
    BertConfig,
    BertForMultipleChoice,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    XLMRobertaConfig,
    XLMRobertaForMultipleChoice,
    XLMRobertaForSequenceClassification,
)

from xlt_lib.training.cls_only import has_cls_only_last_layer, use_cls_only_last_layer, why_not_cls_only


def _batch(shape: tuple[int, ...], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random ids with right padding of varied lengths (the mask is what the last layer must honour)."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, TINY_ENCODER["vocab_size"], shape, generator=generator)
    lengths = torch.randint(3, shape[-1] + 1, shape[:-1], generator=generator)
    mask = (torch.arange(shape[-1]) < lengths.unsqueeze(-1)).long()
    input_ids = input_ids * mask + 1 * (1 - mask)  # pad id 1, as XLM-R's
    return {"input_ids": input_ids, "attention_mask": mask}


def _pair(model_class: type, config: object) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    full = model_class(config)
    fast = copy.deepcopy(full)
    return full, fast


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize(
    ("model_class", "config_class", "shape", "task_format"),
    [
        (BertForSequenceClassification, BertConfig, (4, 11), "classification"),
        (XLMRobertaForSequenceClassification, XLMRobertaConfig, (4, 11), "classification"),
        (BertForMultipleChoice, BertConfig, (3, 4, 9), "multiple_choice"),
        (XLMRobertaForMultipleChoice, XLMRobertaConfig, (3, 4, 9), "multiple_choice"),
    ],
)
def test_logits_and_gradients_equal_the_full_layer(
    model_class: type, config_class: type, shape: tuple[int, ...], task_format: str, attention: str
) -> None:
    config = config_class(**TINY_ENCODER, num_labels=3, attn_implementation=attention, pad_token_id=1)
    full, fast = _pair(model_class, config)
    assert not has_cls_only_last_layer(fast)
    assert use_cls_only_last_layer(fast, task_format) and has_cls_only_last_layer(fast)
    batch = _batch(shape)
    labels = (
        torch.tensor([0, 2, 1, 2][: shape[0]])
        if task_format == "classification"
        else torch.arange(shape[0]) % shape[1]
    )
    full.eval(), fast.eval()  # dropout off: the two must agree to float rounding
    out_full = full(**batch, labels=labels)
    out_fast = fast(**batch, labels=labels)
    torch.testing.assert_close(out_fast.logits, out_full.logits, rtol=1e-5, atol=1e-6)
    out_full.loss.backward()
    out_fast.loss.backward()
    full_grads = dict(full.named_parameters())
    for name, parameter in fast.named_parameters():
        torch.testing.assert_close(parameter.grad, full_grads[name].grad, rtol=1e-4, atol=1e-6, msg=name)
    assert fast.state_dict().keys() == full.state_dict().keys(), "the module tree is unchanged"


def test_training_mode_runs_dropout_and_only_the_first_position_is_computed() -> None:
    config = BertConfig(
        **TINY_ENCODER, num_labels=2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1
    )
    _, fast = _pair(BertForSequenceClassification, config)
    use_cls_only_last_layer(fast, "classification")
    fast.train()
    batch = _batch((2, 7))
    hidden = fast.bert(**batch).last_hidden_state
    assert hidden.shape == (2, 1, TINY_ENCODER["hidden_size"])
    torch.manual_seed(1)
    first = fast(**batch).logits
    torch.manual_seed(2)
    assert not torch.equal(first, fast(**batch).logits), "dropout is active in training"


def test_heads_that_read_every_position_or_unknown_layers_are_left_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bert = BertConfig(**TINY_ENCODER)
    qa = BertForQuestionAnswering(bert)
    caplog.set_level(logging.INFO, logger="xlt_lib.training.cls_only")
    assert not use_cls_only_last_layer(qa, "extractive_qa")
    assert "reads every position" in caplog.text
    assert "tagging head reads every position" in why_not_cls_only(qa, "tagging")
    distil = DistilBertForSequenceClassification(
        DistilBertConfig(vocab_size=120, dim=32, n_layers=1, n_heads=4, hidden_dim=64)
    )
    assert "model type 'distilbert'" in why_not_cls_only(distil, "classification")
    decoder = BertForSequenceClassification(BertConfig(**TINY_ENCODER, is_decoder=True))
    assert why_not_cls_only(decoder, "classification") == "the encoder is configured as a decoder"
    flex = BertForSequenceClassification(BertConfig(**TINY_ENCODER))
    flex.config._attn_implementation = "flex_attention"
    assert "flex_attention" in why_not_cls_only(flex, "classification")
    assert not has_cls_only_last_layer(qa), "a refused model keeps its layer"
