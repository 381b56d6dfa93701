"""Saving a phase-2 encoder (without its head) and reading back what produced it.

The folder is an ordinary Hugging Face model folder (``config.json``,
``model.safetensors``, tokenizer files), so phase 3 or any other tool loads it with
``AutoModelFor*.from_pretrained``, plus ``xlt_encoder.json``: the parent model's
identity, the task, the code-switching and training settings, the seed and the
number of steps. The base model is what `PreTrainedModel.base_model` returns; for
BERT-style encoders that includes the pooler, which BERT treats as part of the
encoder (the task heads are the classifier / QA / tagging layers on top of it).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from xlt_lib.errors import ModelError

RECORD_NAME = "xlt_encoder.json"


def save_encoder(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    out_dir: str | os.PathLike[str],
    record: dict[str, Any],
) -> Path:
    """Write the encoder of ``model`` with ``tokenizer`` and ``record`` to ``out_dir``.

    The folder is assembled next to its destination and renamed into place, so a
    crash never leaves a half-written ``encoder/`` that looks usable.
    """
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    base = model.base_model
    # The head's label maps say nothing about the encoder; keep them out of its config.
    saved_labels = (base.config.id2label, base.config.label2id)
    base.config.id2label, base.config.label2id = {0: "LABEL_0", 1: "LABEL_1"}, {"LABEL_0": 0, "LABEL_1": 1}
    try:
        base.save_pretrained(staging)
    finally:
        base.config.id2label, base.config.label2id = saved_labels
    tokenizer.save_pretrained(staging)
    (staging / RECORD_NAME).write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    return out_dir


def read_encoder_record(encoder_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``xlt_encoder.json`` of a phase-2 encoder, or ``None`` for a plain model folder."""
    path = Path(encoder_dir) / RECORD_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from exc
