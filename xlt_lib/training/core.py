"""What every training run shares: resume, fit, record, clean up.

Single-task training (`xlt_lib.training.phases`, phases 2 and 3) and multi-task
training (`xlt_lib.training.multitask`) build different Trainers (one head, or one
head per task over a shared encoder) but run them the same way, and what they
write must mean the same thing to phase 3, the runner and the reports. So the
parts that decide that live here, once:

- `resumable_checkpoint`: a run that finds checkpoints in ``output_dir/checkpoints``
  resumes from the newest one if they were written with the same model, task,
  code-switching and settings (``xlt_fingerprint.json``), and refuses otherwise;
- `fit`: ``Trainer.train`` (resumed where asked) and the train-info record of
  ``metrics.json``;
- `encoder_record` and `keep_encoder`: ``encoder/`` with its ``xlt_encoder.json``,
  written by the main process, then the checkpoints dropped (nothing reads them any
  more) and every process waiting for that;
- `metric_fn`: the ``compute_metrics`` of a task's dev set.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers.trainer_utils import get_last_checkpoint

from xlt_lib import __version__
from xlt_lib.codeswitch import CodeSwitchConfig
from xlt_lib.errors import TrainingError
from xlt_lib.tasks import TaskSpec, get_format
from xlt_lib.training.data import EvalSet
from xlt_lib.training.encoder_io import save_encoder
from xlt_lib.training.settings import TrainingSettings
from xlt_lib.training.trainer import ThroughputMeter

if TYPE_CHECKING:
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase, Trainer

logger = logging.getLogger("xlt_lib.training")

FINGERPRINT_NAME = "xlt_fingerprint.json"
CHECKPOINTS = "checkpoints"
ENCODER = "encoder"


@dataclass
class IntermediateResult:
    """Phase 2's outcome: where the encoder is, and dev/train metrics."""

    encoder_dir: Path
    metrics: dict[str, Any]


def codeswitch_record(codeswitch: CodeSwitchConfig | None) -> dict[str, Any] | None:
    """How a run's training text was switched, as its records hold it (``None``: not switched)."""
    return codeswitch.to_dict() if codeswitch is not None else None


# -- resuming ------------------------------------------------------------------------


def run_fingerprint(
    *,
    phase: str,
    encoder: str,
    task: str | dict[str, Any],
    codeswitch: CodeSwitchConfig | None,
    settings: TrainingSettings,
    **extra: Any,
) -> dict[str, Any]:
    """What must match for a run to resume another's checkpoints (``extra``: more such fields)."""
    return {
        "phase": phase,
        "encoder": encoder,
        "task": task,
        **extra,
        "codeswitch": codeswitch_record(codeswitch),
        "settings": settings.to_dict(),
    }


def resumable_checkpoint(checkpoint_dir: Path, fingerprint: dict[str, Any]) -> str | None:
    """The checkpoint to resume from, or ``None``; records ``fingerprint`` for a later resume."""
    path = checkpoint_dir / FINGERPRINT_NAME
    text = json.dumps(fingerprint, indent=2, sort_keys=True, default=str)
    last = get_last_checkpoint(str(checkpoint_dir)) if checkpoint_dir.is_dir() else None
    if last is not None:
        saved = path.read_text() if path.is_file() else None
        if saved != text:
            raise TrainingError(
                f"{checkpoint_dir}: holds checkpoints of a different run (model, task, code-switching or "
                f"settings differ from {path.name}); delete the folder to start afresh"
            )
        return last
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
    return None


def steps_per_epoch(items: int, items_per_step: int) -> int:
    """Optimizer steps in one pass over ``items`` (features or batches), over all processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return math.ceil(items / (items_per_step * world))


# -- training ------------------------------------------------------------------------


def fit(
    trainer: Trainer,
    *,
    meter: ThroughputMeter,
    resume: str | None,
    settings: TrainingSettings,
    codeswitch: CodeSwitchConfig | None,
    examples: int,
    train_task: str | list[str],
    what: str,
) -> dict[str, Any]:
    """Train (from ``resume`` when given) and return the ``train`` record of ``metrics.json``.

    ``examples``: distinct training examples (before tokenisation); ``train_task``:
    what was trained on (a task name, or the task list of a multi-task run);
    ``what``: the run's name in the log.
    """
    if resume is not None:
        logger.info("resuming %s from %s", what, resume)
    output = trainer.train(resume_from_checkpoint=resume)
    state = trainer.state
    selecting = settings.selection == "best_en_dev"
    selected = state.global_step
    if selecting and state.best_model_checkpoint:
        selected = int(Path(state.best_model_checkpoint).name.rsplit("-", 1)[-1])
    return {
        "loss": meter.loss_sum / state.global_step if state.global_step else float(output.training_loss),
        "steps": int(state.global_step),
        "epochs": float(state.epoch or 0.0),
        "examples": examples,
        "examples_seen": meter.examples,
        "train_seconds": meter.train_seconds,
        "examples_per_s": meter.examples / meter.train_seconds if meter.train_seconds else None,
        "selection": settings.selection,
        "selected_step": selected,
        "best_dev": float(state.best_metric) if selecting and state.best_metric is not None else None,
        "resumed_from": resume,
        "codeswitch": codeswitch_record(codeswitch),
        "train_task": train_task,
    }


# -- what a run leaves behind ------------------------------------------------------------


def encoder_record(
    *,
    parent: dict[str, Any],
    task: str,
    task_format: str,
    codeswitch: CodeSwitchConfig | None,
    settings: TrainingSettings,
    train: dict[str, Any],
    num_layers: int,
    dev: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """``xlt_encoder.json``: what produced a phase-2 encoder (``extra``: what a multi-task run adds)."""
    return {
        "xlt_version": __version__,
        "parent_model": parent,
        "task": task,
        "format": task_format,
        **extra,
        "codeswitch": codeswitch_record(codeswitch),
        "settings": settings.to_dict(),
        "seed": settings.seed,
        "steps": train["steps"],
        "selected_step": train["selected_step"],
        "num_layers": num_layers,
        "dev": dev,
        "storage": {"layout": settings.encoder_storage},
    }


def keep_encoder(
    trainer: Trainer,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    encoder_dir: Path,
    record: dict[str, Any],
    checkpoint_dir: Path,
) -> None:
    """Phase 2's ending: the main process saves ``model``'s encoder, then the checkpoints go.

    How (``record["storage"]["layout"]``, from `encoder_record`): only the tensors
    training changed, or every tensor (see `xlt_lib.training.encoder_io`).
    """
    if trainer.is_world_process_zero():
        storage = record.get("storage", {}).get("layout", "changed")
        save_encoder(model, tokenizer, encoder_dir, record, storage=storage)
    drop_checkpoints(trainer, checkpoint_dir)


def drop_checkpoints(trainer: Trainer, checkpoint_dir: Path) -> None:
    """Delete the checkpoints (main process) and let every process wait until that is done."""
    if trainer.is_world_process_zero():
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()


# -- dev scoring ---------------------------------------------------------------------


def metric_fn(task: TaskSpec, dev: EvalSet) -> Callable[[EvalPrediction], dict[str, float]]:
    """``compute_metrics`` for the Trainer, on the dev set of ``task`` (its format's metrics)."""
    return get_format(task.format).dev_metrics(dev.examples, dev.windows)
