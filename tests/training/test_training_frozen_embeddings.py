"""``freeze_embedding_block``: the whole embedding block stays as loaded, and backpropagation stops at layer 0."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny_encoder import TINY_ENCODER
from transformers import GPT2Config, GPT2ForSequenceClassification, XLMRobertaConfig, XLMRobertaModel

from xlt_lib.errors import ConfigError
from xlt_lib.experiment.cost import encoder_bytes, model_bytes
from xlt_lib.experiment.grid import run_hash
from xlt_lib.training import TrainingSettings
from xlt_lib.training.heads import freeze_embedding_block, load_with_head

LABELS = ("a", "b", "c")


@pytest.fixture
def encoder_dir(tmp_path: Path) -> Path:
    """A throw-away XLM-R encoder saved from a config (safetensors, as `load_with_head` requires)."""
    torch.manual_seed(0)
    config = XLMRobertaConfig(**{**TINY_ENCODER, "max_position_embeddings": 48, "type_vocab_size": 2})
    XLMRobertaModel(config).save_pretrained(tmp_path / "encoder", safe_serialization=True)
    return tmp_path / "encoder"


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, TINY_ENCODER["vocab_size"], (4, 9), generator=generator)
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "token_type_ids": torch.randint(0, 2, input_ids.shape, generator=generator),
        "labels": torch.tensor([0, 1, 2, 1]),
    }


def _one_step(model: torch.nn.Module) -> bool:
    """One AdamW step on a batch; returns whether layer 0's input needed a gradient."""
    seen: list[bool] = []
    layer0 = model.base_model.encoder.layer[0]
    hook = layer0.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(
            (args[0] if args else kwargs["hidden_states"]).requires_grad
        ),
        with_kwargs=True,
    )
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model(**_batch()).loss.backward()
    optimizer.step()
    hook.remove()
    return seen[0]


def test_the_whole_block_is_frozen_and_layer_0_still_trains(encoder_dir: Path) -> None:
    settings = TrainingSettings(freeze_embedding_block=True, cls_only_last_layer=False)
    model = load_with_head(encoder_dir, "classification", LABELS, settings)
    embeddings = model.base_model.embeddings
    names = {name for name, _ in embeddings.named_parameters()}
    assert {"word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight"} <= names
    assert {"LayerNorm.weight", "LayerNorm.bias"} <= names
    before = {name: p.detach().clone() for name, p in embeddings.named_parameters()}
    layer0_before = {
        name: p.detach().clone() for name, p in model.base_model.encoder.layer[0].named_parameters()
    }

    needed_grad = _one_step(model)

    assert not needed_grad  # autograd stops at layer 0's input
    for name, param in embeddings.named_parameters():
        assert not param.requires_grad and param.grad is None, name
        assert torch.equal(param, before[name]), name  # bit-identical after the step
    for name, param in model.base_model.encoder.layer[0].named_parameters():
        assert param.grad is not None, name
    changed = [
        name
        for name, param in model.base_model.encoder.layer[0].named_parameters()
        if not torch.equal(param, layer0_before[name])
    ]
    assert "attention.self.query.weight" in changed and "output.dense.weight" in changed


def test_freezing_only_the_words_still_backpropagates_into_the_block(encoder_dir: Path) -> None:
    settings = TrainingSettings(freeze_word_embeddings=True, cls_only_last_layer=False)
    model = load_with_head(encoder_dir, "classification", LABELS, settings)
    embeddings = model.base_model.embeddings
    positions = embeddings.position_embeddings.weight.detach().clone()

    assert _one_step(model)  # the position embeddings and the LayerNorm train, so the input needs a gradient
    assert embeddings.word_embeddings.weight.grad is None
    assert embeddings.LayerNorm.weight.grad is not None
    assert not torch.equal(embeddings.position_embeddings.weight, positions)


def test_an_encoder_without_an_embedding_block_is_refused() -> None:
    model = GPT2ForSequenceClassification(GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=50))
    with pytest.raises(ConfigError, match="freeze_embedding_block: gpt2-tiny has no embedding block"):
        freeze_embedding_block(model, "gpt2-tiny")


def test_the_setting_leaves_existing_run_ids_alone() -> None:
    # Hashes of the settings as recorded before freeze_embedding_block existed: the
    # defaults and both profiles must hash exactly as they did.
    assert run_hash(TrainingSettings().to_dict()) == "776f2e55b288"
    assert run_hash(TrainingSettings.profile("cpu").to_dict()) == "513ed3729679"
    assert run_hash(TrainingSettings.profile("gpu").to_dict()) == "9bc384ceca31"
    frozen = TrainingSettings.profile("cpu", freeze_embedding_block=True)
    assert frozen.to_dict()["freeze_embedding_block"] is True
    assert TrainingSettings.from_dict(frozen.to_dict()) == frozen
    assert run_hash(frozen.to_dict()) != "513ed3729679"
    with pytest.raises(ConfigError, match=r"training\.freeze_embedding_block: expected true or false"):
        TrainingSettings.from_dict({"freeze_embedding_block": "all"})


def test_the_disk_estimate_references_the_frozen_words(encoder_dir: Path) -> None:
    full = model_bytes(str(encoder_dir))
    assert full is not None
    words = TINY_ENCODER["vocab_size"] * TINY_ENCODER["hidden_size"] * 4
    assert encoder_bytes(str(encoder_dir), {"freeze_embedding_block": True}) == full - words
    assert (
        encoder_bytes(str(encoder_dir), {"freeze_embedding_block": True, "encoder_storage": "full"}) == full
    )
