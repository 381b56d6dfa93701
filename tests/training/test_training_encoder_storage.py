"""Phase-2 encoders store what training changed; frozen tensors are referenced in the base model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel

from xlt_lib.errors import ConfigError, ModelError
from xlt_lib.experiment.cost import encoder_bytes, model_bytes, word_embedding_bytes
from xlt_lib.model import load_model, load_tokenizer, model_identity
from xlt_lib.model.folder import check_model_folder
from xlt_lib.model.referenced import (
    CHANGED_WEIGHTS,
    REFERENCES_FILE,
    BaseModelError,
    load_state_dict,
    verify_base,
)
from xlt_lib.training import TrainingSettings
from xlt_lib.training.encoder_io import read_encoder_record, save_encoder
from xlt_lib.training.heads import load_with_head

FROZEN = TrainingSettings.from_dict({"freeze_word_embeddings": True})
WORDS = "embeddings.word_embeddings.weight"


def _trained(base_dir: Path, settings: TrainingSettings = FROZEN) -> torch.nn.Module:
    """The base with a head, every trainable tensor moved as training would move it."""
    model = load_with_head(base_dir, "classification", ("a", "b"), settings)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn(param.shape, generator=generator) * 0.01)
    return model


def _save(model: torch.nn.Module, base_dir: Path, out: Path, storage: str) -> Path:
    record = {"parent_model": model_identity(str(base_dir)), "task": "mnli"}
    return save_encoder(model, load_tokenizer(str(base_dir)), out, record, storage=storage)


@pytest.fixture(scope="module")
def own_base(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny model that tests may damage."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path_factory.mktemp("base") / "model"))


def test_a_changed_save_reloads_every_tensor_of_a_full_save_exactly(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    model = _trained(tiny_model_dir)
    full = _save(model, tiny_model_dir, tmp_path / "full", "full")
    changed = _save(model, tiny_model_dir, tmp_path / "changed", "changed")

    assert not (changed / "model.safetensors").exists()  # plain from_pretrained must not half-load it
    stored = load_file(changed / CHANGED_WEIGHTS)
    assert WORDS not in stored and len(stored) == len(load_file(full / "model.safetensors")) - 1
    assert (changed / CHANGED_WEIGHTS).stat().st_size < 0.25 * (full / "model.safetensors").stat().st_size
    assert read_encoder_record(changed)["storage"]["layout"] == "changed"
    assert read_encoder_record(full)["storage"] == {"layout": "full"}

    expected = load_file(full / "model.safetensors")
    restored = load_state_dict(changed)
    assert set(restored) == set(expected)
    for key, tensor in expected.items():
        assert torch.equal(restored[key], tensor), key

    # Phase 3's loader and load_model give the same model from either folder.
    settings = TrainingSettings(seed=3)
    from_full = load_with_head(full, "classification", ("a", "b"), settings).state_dict()
    from_changed = load_with_head(changed, "classification", ("a", "b"), settings).state_dict()
    assert set(from_full) == set(from_changed)
    for key, tensor in from_full.items():
        assert torch.equal(from_changed[key], tensor), key
    plain = load_model(str(changed)).state_dict()
    for key, tensor in expected.items():
        assert torch.equal(plain[key], tensor), key
    check_model_folder(changed)
    assert model_identity(str(changed))["references"]["base"] == str(tiny_model_dir)


def test_nothing_frozen_means_a_full_folder(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = _trained(tiny_model_dir, TrainingSettings())
    out = _save(model, tiny_model_dir, tmp_path / "enc", "changed")
    assert (out / "model.safetensors").is_file() and not (out / REFERENCES_FILE).exists()
    assert read_encoder_record(out)["storage"] == {"layout": "full"}


def test_a_missing_or_different_base_is_a_named_error(own_base: Path, tmp_path: Path) -> None:
    model = _trained(own_base)
    changed = _save(model, own_base, tmp_path / "changed", "changed")
    full = _save(model, own_base, tmp_path / "full", "full")
    weights = own_base / "model.safetensors"
    original = load_file(weights)

    # different weights under the same name: caught by the checksum of the referenced bytes
    verify_base(changed)
    save_file({**original, WORDS: original[WORDS] + 1.0}, str(weights))
    with pytest.raises(BaseModelError, match="holds different weights"):
        verify_base(changed)  # what `xlt check` runs
    with pytest.raises(BaseModelError, match=r"holds different weights.*re-run the parent"):
        load_with_head(changed, "classification", ("a", "b"), FROZEN)

    # a base of another shape: caught from headers alone (xlt check, the run's preflight)
    save_file({**original, WORDS: original[WORDS][:10]}, str(weights))
    with pytest.raises(BaseModelError, match="different model"):
        check_model_folder(changed)

    # no base at all
    moved = own_base.rename(own_base.with_name("gone"))
    try:
        with pytest.raises(BaseModelError, match=rf"missing \(expected at {own_base}\)") as caught:
            load_state_dict(changed)
        assert isinstance(caught.value, ModelError)
        # the self-contained folder needs no base
        assert AutoModel.from_pretrained(str(full), use_safetensors=True) is not None
        check_model_folder(full)
    finally:
        moved.rename(own_base)
        save_file(original, str(weights))
    assert torch.equal(load_state_dict(changed)[WORDS], original[WORDS])


def test_encoder_storage_is_a_setting_that_leaves_existing_run_ids_alone() -> None:
    assert "encoder_storage" not in TrainingSettings().to_dict()  # the default hashes as before
    full = TrainingSettings.from_dict({"encoder_storage": "full"})
    assert full.to_dict()["encoder_storage"] == "full"
    assert TrainingSettings.from_dict(full.to_dict()) == full
    with pytest.raises(ConfigError, match="encoder_storage"):
        TrainingSettings.from_dict({"encoder_storage": "some"})


def test_the_disk_estimate_leaves_out_what_an_encoder_references(tiny_model_dir: Path) -> None:
    words = load_file(tiny_model_dir / "model.safetensors")[WORDS]
    embedding = words.numel() * words.element_size()
    model = str(tiny_model_dir)
    assert word_embedding_bytes(model) == embedding
    full = encoder_bytes(model, {"freeze_word_embeddings": True, "encoder_storage": "full"})
    assert full == model_bytes(model)
    assert encoder_bytes(model, {"freeze_word_embeddings": True}) == full - embedding
    assert encoder_bytes(model, {"freeze_word_embeddings": False}) == full  # everything trains
    assert word_embedding_bytes("xlm-roberta-large") == 0  # a hub model's encoders are written in full
