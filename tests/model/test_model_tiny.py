"""The tiny random encoder used by every other package's tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlt_lib.errors import ModelError
from xlt_lib.model import build_tiny_model


def test_same_seed_same_bytes_other_seed_other_weights(offline_model_dir: Path, tmp_path: Path) -> None:
    import torch

    state = torch.random.get_rng_state()
    first = build_tiny_model(tmp_path / "a", tokenizer_source=offline_model_dir, seed=3)
    second = build_tiny_model(tmp_path / "b", tokenizer_source=offline_model_dir, seed=3)
    third = build_tiny_model(tmp_path / "c", tokenizer_source=offline_model_dir, seed=4)
    assert torch.equal(state, torch.random.get_rng_state()), "the global RNG must be left alone"
    weights = [(d / "model.safetensors").read_bytes() for d in (first, second, third)]
    assert weights[0] == weights[1]
    assert weights[0] != weights[2]


def test_tiny_model_has_the_real_tokenizer_and_loads_with_a_head(
    tiny_model_dir: Path, offline_model_dir: Path
) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    assert (tiny_model_dir / "tokenizer.json").read_bytes() == (
        offline_model_dir / "tokenizer.json"
    ).read_bytes()
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"]) == (2, 32, 2)
    assert (config["intermediate_size"], config["pad_token_id"], config["vocab_size"]) == (64, 1, 250037)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(tiny_model_dir), num_labels=3, use_safetensors=True
    )
    batch = tokenizer(["Die Katze schläft."], ["猫在睡觉。"], return_tensors="pt")
    loss = model(**batch, labels=torch.tensor([1])).loss
    loss.backward()
    assert torch.isfinite(loss)


def test_tiny_model_rejects_an_impossible_shape(offline_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="divisible"):
        build_tiny_model(tmp_path, tokenizer_source=offline_model_dir, hidden_size=30, num_heads=4)
