"""Saving a phase-2 encoder (without its head) and reading back what produced it.

``storage="full"`` writes an ordinary, self-contained Hugging Face model folder
(``config.json``, ``model.safetensors``, tokenizer files) that any tool loads with
``AutoModelFor*.from_pretrained``, e.g. for sharing. ``storage="changed"`` (the
default) writes only the tensors training changed: parameters that stayed frozen and
still equal the parent model's (the word embeddings under the ``cpu`` profile,
~80 % of the offline default's bytes) are referenced in it
(`xlt_lib.model.referenced`), and xlt's loaders restore them bit-identically. A
parent that is not a local folder (a hub id) cannot be referenced, so its encoders
are written in full. Either way the folder also holds ``xlt_encoder.json``: the
parent model's identity, the task, the code-switching and training settings, the
seed, the number of steps and how the weights are stored. The base model is what `PreTrainedModel.base_model` returns; for
BERT-style encoders that includes the pooler, which BERT treats as part of the
encoder (the task heads are the classifier / QA / tagging layers on top of it).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from xlt_lib.errors import ModelError
from xlt_lib.model.referenced import (
    base_folder,
    base_key,
    is_referencing,
    load_state_dict,
    save_referencing,
    weight_files,
)

RECORD_NAME = "xlt_encoder.json"
STORAGES = ("changed", "full")

log = logging.getLogger(__name__)


def save_encoder(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    out_dir: str | os.PathLike[str],
    record: dict[str, Any],
    storage: str = "changed",
) -> Path:
    """Write the encoder of ``model`` with ``tokenizer`` and ``record`` to ``out_dir``.

    ``storage``: ``"changed"`` references the frozen tensors that still equal the
    parent's (``record["parent_model"]``: its ``name`` and ``path``); ``"full"``
    copies every tensor. The folder is assembled next to its destination and renamed
    into place, so a crash never leaves a half-written ``encoder/`` that looks usable.
    """
    if storage not in STORAGES:
        raise ModelError(f"encoder storage {storage!r}: expected one of {', '.join(STORAGES)}")
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    base = model.base_model
    referenced = _referenced(model, record.get("parent_model") or {}) if storage == "changed" else None
    # The head's label maps say nothing about the encoder; keep them out of its config.
    saved_labels = (base.config.id2label, base.config.label2id)
    base.config.id2label, base.config.label2id = {0: "LABEL_0", 1: "LABEL_1"}, {"LABEL_0": 0, "LABEL_1": 1}
    try:
        if referenced:
            staging.mkdir(parents=True)
            config = copy.deepcopy(base.config)
            config.architectures = [type(base).__name__]  # what save_pretrained records
            config.save_pretrained(staging)
            parent = record["parent_model"]
            references = save_referencing(
                base.state_dict(), referenced, {"name": parent["name"], "path": parent["path"]}, staging
            )
            stored = {"layout": "changed", "referenced_bytes": references["bytes"]}
        else:
            base.save_pretrained(staging)
            stored = {"layout": "full"}
    finally:
        base.config.id2label, base.config.label2id = saved_labels
    tokenizer.save_pretrained(staging)
    record = {**record, "storage": stored}
    (staging / RECORD_NAME).write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    return out_dir


def _referenced(model: PreTrainedModel, parent: dict[str, Any]) -> dict[str, str]:
    """Encoder tensor -> parent key, for the frozen parameters still equal to the parent's.

    Only parameters that did not train are candidates, and each is compared with the
    parent's tensor, so a reference never stands for weights that differ.
    """
    from safetensors import safe_open

    name, path = parent.get("name"), parent.get("path")
    if not name or not path:
        log.info("encoder storage: parent %r is not a local folder; writing every tensor", name)
        return {}
    folder = base_folder(name, path)
    if not folder.is_dir():
        return {}
    base = model.base_model
    frozen = [key for key, param in base.named_parameters() if not param.requires_grad]
    if not frozen:
        return {}
    if is_referencing(folder):
        # a referencing parent: its own stored or referenced tensors, read through its loader
        parent_state = load_state_dict(folder)
        lookup = parent_state.__getitem__
        keys = parent_state.keys()
    else:
        files = weight_files(folder)
        keys = files.keys()

        def lookup(key: str) -> torch.Tensor:
            with safe_open(str(files[key]), framework="pt") as handle:
                return handle.get_tensor(key)

    state = base.state_dict()
    referenced: dict[str, str] = {}
    for key in frozen:
        found = base_key(key, keys, model.base_model_prefix)
        if found is not None and torch.equal(state[key], lookup(found)):
            referenced[key] = found
    return referenced


def read_encoder_record(encoder_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``xlt_encoder.json`` of a phase-2 encoder, or ``None`` for a plain model folder."""
    path = Path(encoder_dir) / RECORD_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from exc
