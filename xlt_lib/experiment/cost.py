"""What a plan will cost before it runs: examples to train and evaluate, and disk to write.

Numbers are upper bounds computed from the settings: the training examples seen
(``cap × epochs``, or the split's rows × epochs without a cap, or ``max_steps × batch``), the examples
evaluated (English model-selection dev plus every evaluation language), and the
disk a phase-2 encoder takes: the size of the model's folder, less the word
embeddings when they stay frozen (``freeze_word_embeddings`` or ``freeze_embedding_block``) and are referenced in
a local base model rather than copied (``encoder_storage: changed``, the default;
see `xlt_lib.model.referenced`; a hub model's encoders are saved in full). Split sizes are read from local files (cached per call); for
hub data with no cap they are the published sizes of `KNOWN_SPLIT_ROWS`, else unknown and shown as such.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlt_lib.errors import XltError
from xlt_lib.experiment.grid import RunSpec
from xlt_lib.model.loading import resolve_model
from xlt_lib.model.referenced import weight_files
from xlt_lib.tasks import get_task, load_split, resolve_source

#: Approximate fp32 weight sizes of common hub encoders (bytes), for planning without a download.
KNOWN_MODEL_BYTES = {
    "xlm-roberta-base": 1_110_000_000,
    "FacebookAI/xlm-roberta-base": 1_110_000_000,
    "xlm-roberta-large": 2_240_000_000,
    "FacebookAI/xlm-roberta-large": 2_240_000_000,
    "bert-base-multilingual-cased": 710_000_000,
    "google-bert/bert-base-multilingual-cased": 710_000_000,
}
#: Published sizes of hub splits that no local mirror holds here (dataset cards), for planning
#: without a download: (task, split) -> rows. ANLI concatenates its three rounds; CCG is CCGbank's
#: sections 02-21 (train) and 00 (dev).
KNOWN_SPLIT_ROWS = {
    ("anli", "train"): 162_865,
    ("anli", "dev"): 3_200,
    ("commonsenseqa", "train"): 9_741,
    ("commonsenseqa", "dev"): 1_221,
    ("squad", "train"): 87_599,
    ("squad", "dev"): 10_570,
    ("ccg", "train"): 39_604,
    ("ccg", "dev"): 1_913,
}
#: Files written by every run besides weights (notebook, records, predictions), generously.
RECORD_BYTES = 2_000_000


@dataclass
class RunCost:
    train_examples: int | None
    eval_examples: int | None
    disk_bytes: int | None


@functools.lru_cache(maxsize=256)
def split_rows(task: str, split: str, language: str, data_dir: str | None) -> int | None:
    """Rows of a split read from local files, else its published size (`KNOWN_SPLIT_ROWS`), else ``None``."""
    known = KNOWN_SPLIT_ROWS.get((task, split)) if language == "en" else None
    try:
        kind, _ = resolve_source(get_task(task), split, language, "auto", data_dir)
        if kind != "local":
            return known
        return int(load_split(task, split, language, data_dir=data_dir).num_rows)
    except (XltError, OSError, ValueError):
        return known


def _capped(cap: int | None, task: str, split: str, language: str, data_dir: str | None) -> int | None:
    """``cap`` when set (an upper bound that needs no data loading), else the split's rows."""
    if cap is not None:
        return cap
    return split_rows(task, split, language, data_dir)


@functools.lru_cache(maxsize=32)
def model_bytes(model: str) -> int | None:
    """Bytes of a model's weights: a local folder's safetensors, or a known hub size."""
    if model in KNOWN_MODEL_BYTES:
        return KNOWN_MODEL_BYTES[model]
    try:
        resolved = Path(resolve_model(model))
    except (XltError, OSError):
        return None
    if resolved.is_dir():
        return sum(path.stat().st_size for path in resolved.iterdir() if path.is_file())
    return None


_DTYPE_BYTES = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "I64": 8, "I32": 4, "I8": 1, "U8": 1}


@functools.lru_cache(maxsize=32)
def word_embedding_bytes(model: str) -> int:
    """Bytes of a local model's word-embedding matrix (read from the safetensors header), else 0.

    What a phase-2 encoder with frozen word embeddings references instead of copying;
    0 for a hub model, whose encoders are written in full.
    """
    from safetensors import safe_open

    if model in KNOWN_MODEL_BYTES:
        return 0
    try:
        resolved = Path(resolve_model(model))
        files = weight_files(resolved) if resolved.is_dir() else {}
    except (XltError, OSError, ValueError):
        return 0
    total = 0
    for key, path in files.items():
        if key.endswith("word_embeddings.weight"):
            with safe_open(str(path), framework="np") as handle:
                sliced = handle.get_slice(key)
                total += math.prod(sliced.get_shape()) * _DTYPE_BYTES.get(sliced.get_dtype(), 4)
    return total


def encoder_bytes(model: str, settings: dict[str, Any]) -> int | None:
    """Disk of one phase-2 encoder of ``model`` under ``settings`` (see the module's note)."""
    weights = model_bytes(model)
    if weights is None:
        return None
    frozen = settings.get("freeze_word_embeddings") or settings.get("freeze_embedding_block")
    if frozen and settings.get("encoder_storage", "changed") == "changed":
        weights -= word_embedding_bytes(model)
    return weights


def estimate(run: RunSpec) -> RunCost:
    """Upper-bound cost of one run (a multi-task phase 2: the sum over its tasks)."""
    settings: dict[str, Any] = run.settings
    if run.phase == "intermediate" and run.multitask is not None:
        epochs = settings.get("epochs_by_task", {}).get(run.intermediate, settings["epochs"])
        one_task = {**settings, "epochs": epochs, "epochs_by_task": {}}
        parts = [
            estimate(replace(run, intermediate=task, multitask=None, settings=one_task))
            for task in run.multitask["tasks"]
        ]
        trained = [p.train_examples for p in parts]
        train = None if any(n is None for n in trained) else sum(n or 0 for n in trained)
        if settings.get("max_steps"):
            train = parts[0].train_examples  # max_steps counts steps over all tasks together
        part_evaluated = [p.eval_examples for p in parts]
        evaluation = None if any(n is None for n in part_evaluated) else sum(n or 0 for n in part_evaluated)
        return RunCost(train, evaluation, parts[0].disk_bytes)
    task_name = run.intermediate if run.phase == "intermediate" else str(run.target)
    spec = get_task(task_name)
    train_task = spec.name if run.phase == "intermediate" else (spec.train_task or spec.name)
    epochs = float(settings.get("epochs_by_task", {}).get(task_name, settings["epochs"]))
    if settings.get("max_steps"):
        train = (
            int(settings["max_steps"]) * int(settings["batch_size"]) * int(settings["gradient_accumulation"])
        )
    else:
        rows = _capped(settings.get("max_train_examples"), train_task, "train", "en", run.data_dir)
        train = None if rows is None else math.ceil(rows * epochs)
    dev = _capped(
        settings.get("max_dev_examples"),
        spec.name,
        spec.selection_split,
        spec.selection_language,
        run.data_dir,
    )
    evaluated: list[int | None] = [dev] if settings.get("selection") != "last" else []
    if run.phase == "transfer":
        split = run.eval_split or spec.eval_split
        evaluated += [
            _capped(settings.get("max_eval_examples"), spec.name, split, lang, run.data_dir)
            for lang in spec.languages
        ]
    evaluation = None if any(n is None for n in evaluated) else sum(n for n in evaluated if n is not None)
    disk: int | None = RECORD_BYTES
    if run.phase == "intermediate":
        weights = encoder_bytes(run.model, settings)
        disk = None if weights is None else weights + RECORD_BYTES
    return RunCost(train, evaluation, disk)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit in ("B", "kB") else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"
