"""`xlt_lib.training.cpu_dropout`: the same dropout distribution as torch's, from cheaper masks."""

from __future__ import annotations

import json

import pytest
import torch
from tiny_encoder import TINY_ENCODER
from torch import nn
from torch.nn import functional as F
from transformers import BertConfig, BertForSequenceClassification

from xlt_lib.training.cpu_dropout import (
    ATTENTION_NAME,
    CpuDropout,
    cpu_dropout,
    keep_mask,
    sdpa_with_cpu_dropout,
    use_cpu_dropout,
)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_masks_drop_each_element_with_probability_p(p: float) -> None:
    torch.manual_seed(0)
    mask = keep_mask((1000, 997), p)  # an odd count: the last 64-bit draw is used in part
    assert mask.dtype == torch.bool and mask.shape == (1000, 997)
    dropped = 1.0 - mask.float().mean().item()
    assert abs(dropped - p) < 0.003, dropped  # ~6 standard errors at n = 997,000
    # no position is favoured (each 64-bit draw feeds four neighbouring elements)
    by_lane = 1.0 - mask.flatten()[:996_000].view(-1, 4).float().mean(0)
    assert torch.allclose(by_lane, torch.full((4,), p), atol=0.006), by_lane


def test_masks_follow_torch_seed() -> None:
    torch.manual_seed(3)
    first = keep_mask((64, 64), 0.1)
    second = keep_mask((64, 64), 0.1)
    torch.manual_seed(3)
    assert torch.equal(keep_mask((64, 64), 0.1), first)
    assert not torch.equal(first, second), "each call draws a fresh mask"


def test_dropout_zeroes_dropped_scales_kept_and_backpropagates_through_the_same_mask() -> None:
    x = torch.randn(300, 400, requires_grad=True)
    torch.manual_seed(1)
    y = cpu_dropout(x, 0.25)
    torch.manual_seed(1)
    keep = keep_mask(x.shape, 0.25)
    torch.testing.assert_close(y, torch.where(keep, x / 0.75, 0.0))
    y.sum().backward()
    torch.testing.assert_close(x.grad, keep.float() / 0.75)
    ones = torch.ones(2000, 500)
    assert abs(cpu_dropout(ones, 0.1).mean().item() - 1.0) < 0.01, "the expectation is kept"
    assert cpu_dropout(x, 0.0) is x and not cpu_dropout(x, 1.0).any()


def test_module_is_identity_in_eval_and_torchs_dropout_off_cpu_paths() -> None:
    module = CpuDropout(0.3)
    x = torch.randn(8, 16)
    module.eval()
    assert module(x) is x
    module.train()
    out = module(x)
    assert ((out == 0) | torch.isclose(out, x / 0.7)).all()
    inplace = CpuDropout(0.3, inplace=True).train()(x.clone())  # torch's own path, same distribution
    assert ((inplace == 0) | torch.isclose(inplace, x / 0.7)).all()


def _qkv(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, 4, 6, 8, generator=generator) for _ in range(3))
    keep = torch.ones(2, 1, 6, 6, dtype=torch.bool)
    keep[1, :, :, 4:] = False  # the second sequence has two padded keys
    return q, k, v, keep


def test_attention_without_dropout_is_sdpa() -> None:
    q, k, v, keep = _qkv()
    module = nn.Module()
    module.is_causal = False
    out, _ = sdpa_with_cpu_dropout(module, q, k, v, keep, dropout=0.0, scaling=0.3)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, scale=0.3).transpose(1, 2)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("mask_kind", ["bool", "additive"])
def test_attention_with_dropout_is_the_math_kernel_with_our_mask(mask_kind: str) -> None:
    q, k, v, keep = _qkv()
    mask = keep if mask_kind == "bool" else torch.where(keep, 0.0, torch.finfo(torch.float32).min)
    torch.manual_seed(5)
    out, _ = sdpa_with_cpu_dropout(nn.Module(), q, k, v, mask, dropout=0.2, scaling=0.3)
    probabilities = torch.softmax((q @ k.transpose(-2, -1) * 0.3).masked_fill(~keep, float("-inf")), dim=-1)
    torch.manual_seed(5)
    dropped = torch.where(keep_mask(probabilities.shape, 0.2), probabilities / 0.8, 0.0)
    torch.testing.assert_close(out, (dropped @ v).transpose(1, 2))
    padded_weight = dropped[1, :, :, 4:]
    assert not padded_weight.any(), "padded keys get no attention"


def _bert(attention: str) -> BertForSequenceClassification:
    torch.manual_seed(0)
    return BertForSequenceClassification(
        BertConfig(**TINY_ENCODER, num_labels=3, attn_implementation=attention)
    )


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_model_swap_keeps_weights_and_eval_outputs(attention: str, tmp_path) -> None:
    original = _bert(attention)
    model = _bert(attention)
    dropouts = sum(type(m) is nn.Dropout for m in model.modules())
    assert use_cpu_dropout(model) == dropouts > 0
    assert not any(type(m) is nn.Dropout for m in model.modules())
    assert model.config._attn_implementation == (ATTENTION_NAME if attention == "sdpa" else "eager")
    assert model.state_dict().keys() == original.state_dict().keys()
    ids = torch.randint(5, 120, (3, 9), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[0, 6:] = 0
    original.eval(), model.eval()
    torch.testing.assert_close(
        model(ids, attention_mask=mask).logits, original(ids, attention_mask=mask).logits
    )

    model.train()  # training: dropout active, deterministic under the seed
    torch.manual_seed(7)
    first = model(ids, attention_mask=mask).logits
    torch.manual_seed(7)
    assert torch.equal(model(ids, attention_mask=mask).logits, first)
    assert not torch.allclose(first, original(ids, attention_mask=mask).logits)

    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert ATTENTION_NAME not in json.dumps(saved), "a saved encoder does not depend on xlt's attention"
