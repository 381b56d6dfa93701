"""Phase 2 (intermediate-task training) and phase 3 (target fine-tuning + zero-shot evaluation).

Both phases are one `transformers.Trainer` run of an encoder with a fresh head
(`xlt_lib.training.heads`); they differ in what they keep: phase 2 keeps the
encoder (``output_dir/encoder``, without its head), phase 3 keeps per-language
scores and per-example predictions.

Checkpoints, resuming, the train-info record and the encoder record are the
training core's (`xlt_lib.training.core`), shared with multi-task training
(`xlt_lib.training.multitask`), to which `run_intermediate` hands a `MultiTaskSpec`.

Several GPUs: the same code runs under Trainer's DDP. Put the call in a script and
launch it with ``torchrun --nproc_per_node=4 script.py`` or
``accelerate launch --num_processes 4 script.py``; ``batch_size`` is per device,
so the effective batch is ``batch_size * gradient_accumulation * processes``.
Only the main process writes the encoder and deletes checkpoints; every process
returns the same metrics and predictions. On CPU the same launch runs gloo DDP
(``torchrun --standalone --nproc_per_node=2``, one thread per process; tested in
``tests/training/test_training_ddp.py``). On a 2-core machine that is no faster than
one process with two threads (the gradient all-reduce costs what the second process
gains; ``benchmarks/results/train_throughput.md``): it is there so that what runs on
a laptop runs unchanged on GPUs.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasets import Dataset
from transformers import PreTrainedTokenizerBase, TrainerCallback

from xlt_lib.codeswitch import CodeSwitchConfig
from xlt_lib.errors import ConfigError
from xlt_lib.model import load_tokenizer, model_identity, resolve_model
from xlt_lib.tasks import TaskSpec, collator_for, evaluation_languages, get_format, resolved_task
from xlt_lib.training.cls_only import use_cls_only_last_layer
from xlt_lib.training.core import (
    CHECKPOINTS,
    ENCODER,
    IntermediateResult,
    drop_checkpoints,
    encoder_record,
    fit,
    keep_encoder,
    metric_fn,
    resumable_checkpoint,
    run_fingerprint,
    steps_per_epoch,
)
from xlt_lib.training.cpu_dropout import use_cpu_dropout
from xlt_lib.training.data import TrainSet, eval_set, feature_lengths, train_set
from xlt_lib.training.device import check_precision, training_device
from xlt_lib.training.encoder_io import read_encoder_record
from xlt_lib.training.heads import load_with_head
from xlt_lib.training.learning import JUDGED_FORMATS, check_dev, check_transfer, final_loss, majority_rate
from xlt_lib.training.multitask import run_multitask
from xlt_lib.training.multitask_spec import MultiTaskSpec
from xlt_lib.training.settings import TrainingSettings
from xlt_lib.training.timings import RunTimings
from xlt_lib.training.trainer import (
    EpochSetter,
    ThroughputMeter,
    XltTrainer,
    quiet_progress,
    training_arguments,
)

logger = logging.getLogger("xlt_lib.training")

__all__ = [
    "IntermediateResult",
    "PreparedRun",
    "TransferResult",
    "build_trainer",
    "run_intermediate",
    "run_transfer",
]


@dataclass
class TransferResult:
    """Phase 3's outcome: ``metrics`` as in ARCHITECTURE.md and one row per evaluated example."""

    metrics: dict[str, Any]
    predictions: pd.DataFrame


@dataclass
class _Fitted:
    trainer: XltTrainer
    tokenizer: PreTrainedTokenizerBase
    train: dict[str, Any]
    checkpoint_dir: Path


# -- public entry points --------------------------------------------------------------


def _quiet(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` with ``datasets``' progress bars off in batch mode."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with quiet_progress():
            return function(*args, **kwargs)

    return wrapper


@_quiet
def run_intermediate(
    model: str,
    task: str | MultiTaskSpec,
    settings: TrainingSettings,
    codeswitch: CodeSwitchConfig | None = None,
    output_dir: str | os.PathLike[str] = ".",
    data_dir: str | os.PathLike[str] | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    timings: RunTimings | None = None,
) -> IntermediateResult:
    """Train ``model`` on the English intermediate ``task`` and save its encoder.

    ``codeswitch`` switches the training text (dynamic: afresh every epoch;
    static: once). The encoder goes to ``output_dir/encoder`` with
    ``xlt_encoder.json``; ``metrics`` holds the dev scores of the selected
    checkpoint (accuracy; SQuAD exact match and F1 for extractive QA) and ``train``.
    ``callbacks`` are extra `TrainerCallback` objects (tests use one to interrupt).
    ``timings``, when given, receives the seconds spent on data, model, training,
    evaluation and saving (`xlt_lib.training.timings`).
    A `MultiTaskSpec` (or its notebook form ``{"multitask": {...}}``) trains on all its
    tasks at once with one shared encoder (`xlt_lib.training.multitask`).
    """
    multitask = MultiTaskSpec.from_parameter(task)
    if multitask is not None:
        return run_multitask(
            model, multitask, settings, codeswitch, output_dir, data_dir, callbacks, timings=timings
        )
    timings = timings if timings is not None else RunTimings()
    spec = resolved_task(task, data_dir)
    output_dir = Path(output_dir)
    with timings.part("provenance"):
        parent = model_identity(model)  # before training: a bad name fails in seconds, not hours
    fitted = _fit(
        phase="intermediate",
        encoder=model,
        head_task=spec,
        train_task=spec,
        settings=settings,
        codeswitch=codeswitch,
        output_dir=output_dir,
        data_dir=data_dir,
        callbacks=callbacks,
        timings=timings,
    )
    trainer = fitted.trainer
    start = time.perf_counter()
    dev = _evaluate_dev(trainer, spec, fitted.tokenizer, settings, data_dir, timings)
    dev_seconds = time.perf_counter() - start
    metrics: dict[str, Any] = {
        "phase": "intermediate",
        "task": spec.name,
        "format": spec.format,
        "dev_split": spec.selection_split,
        "dev": dev,
        "train": fitted.train,
        # What planning reads (`xlt_lib.experiment.throughput`), as phase 3 records its evaluation.
        "eval": {
            "examples": dev["n"],
            "seconds": dev_seconds,
            "examples_per_s": dev["n"] / dev_seconds if dev_seconds else None,
        },
    }
    if "majority_rate" in dev and "accuracy" in dev:
        metrics["learning"] = check_dev(
            dev["accuracy"],
            dev["n"],
            dev["majority_rate"],
            train_loss=final_loss(trainer.state.log_history),
            num_classes=len(spec.labels),
        ).to_dict()
    encoder_dir = output_dir / ENCODER
    record = encoder_record(
        parent=parent,
        task=spec.name,
        task_format=spec.format,
        codeswitch=codeswitch,
        settings=settings,
        train=fitted.train,
        num_layers=trainer.model.config.num_hidden_layers,
        dev=dev,
    )
    with timings.part("saving"):
        keep_encoder(trainer, trainer.model, fitted.tokenizer, encoder_dir, record, fitted.checkpoint_dir)
    return IntermediateResult(encoder_dir=encoder_dir, metrics=metrics)


@_quiet
def run_transfer(
    encoder: str,
    target: str,
    settings: TrainingSettings,
    codeswitch: CodeSwitchConfig | None = None,
    output_dir: str | os.PathLike[str] = ".",
    data_dir: str | os.PathLike[str] | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    languages: Sequence[str] | None = None,
    timings: RunTimings | None = None,
) -> TransferResult:
    """Fine-tune ``encoder`` on ``target``'s English training data, evaluate zero-shot on all its languages.

    ``languages``: the languages to evaluate (``None``: every language the evaluation
    split offers; for local data, the files present). ``timings``: as for `run_intermediate`.

    ``encoder`` is ``"offline-default"``, a model folder (a phase-2
    ``<run>/encoder``) or a hub id. XNLI trains on MNLI and PAWS-X on English
    PAWS-X (`TaskSpec.train_task`); the checkpoint is chosen on English dev
    (``settings.selection``); every language of ``target``'s eval split is scored,
    and the model's outputs decoded into predictions, by the target's format
    (`TaskFormat.score`).
    """
    timings = timings if timings is not None else RunTimings()
    spec = resolved_task(target, data_dir)
    if not spec.is_target:
        raise ConfigError(f"target {target!r}: not a transfer target (targets have a train_task, e.g. xnli)")
    train_spec = resolved_task(spec.train_task, data_dir)
    if train_spec.format != spec.format or tuple(train_spec.labels) != tuple(spec.labels):
        raise ConfigError(
            f"target {spec.name!r}: its training task {train_spec.name!r} has format/labels "
            f"{train_spec.format}/{list(train_spec.labels)}, expected {spec.format}/{list(spec.labels)}"
        )
    with timings.part("model"):
        resolved = resolve_model(encoder)
        record = read_encoder_record(resolved) if Path(resolved).is_dir() else None
    output_dir = Path(output_dir)
    fitted = _fit(
        phase="transfer",
        encoder=encoder,
        head_task=spec,
        train_task=train_spec,
        settings=settings,
        codeswitch=codeswitch,
        output_dir=output_dir,
        data_dir=data_dir,
        callbacks=callbacks,
        timings=timings,
    )
    trainer = fitted.trainer
    task_format = get_format(spec.format)
    per_language: dict[str, dict[str, float]] = {}
    frames: list[pd.DataFrame] = []
    eval_seconds, eval_examples = 0.0, 0
    for language in evaluation_languages(spec, spec.eval_split, data_dir, languages):
        with timings.part("data"):
            evaluation = eval_set(
                spec,
                spec.eval_split,
                language,
                fitted.tokenizer,
                settings,
                settings.max_eval_examples,
                data_dir,
            )
        examples = evaluation.examples
        with timings.part("evaluation"):
            start = time.perf_counter()
            outputs = _predict_in_length_order(trainer, evaluation.features)
            eval_seconds += time.perf_counter() - start
            eval_examples += len(examples)
            scored = task_format.score(outputs, examples, evaluation.windows, spec)
        per_language[language] = scored.metrics
        frames.append(
            pd.DataFrame(
                {
                    "id": examples["id"],
                    "language": language,
                    "gold": scored.gold,
                    "prediction": scored.prediction,
                }
            )
        )
        shown = task_format.summary_metrics[0]
        logger.info(
            "%s %s %s: %s %.4f", spec.name, spec.eval_split, language, shown, per_language[language][shown]
        )
    metrics: dict[str, Any] = {
        "phase": "transfer",
        "target": spec.name,
        "eval_split": spec.eval_split,
        "per_language": per_language,
        "average": {
            key: float(np.mean([scores[key] for scores in per_language.values()]))
            for key in task_format.summary_metrics
        },
        "encoder": {
            "source": encoder,
            "intermediate_task": record.get("task") if record else None,
            "codeswitch": record.get("codeswitch") if record else None,
        },
        "train": fitted.train,
        "eval": {
            "examples": eval_examples,
            "seconds": eval_seconds,
            "examples_per_s": eval_examples / eval_seconds if eval_seconds else None,
        },
    }
    if settings.selection == "best_en_dev":
        metrics["dev"] = _evaluate_dev(trainer, spec, fitted.tokenizer, settings, data_dir, timings)
    predictions = pd.concat(frames, ignore_index=True)
    if spec.format in JUDGED_FORMATS:
        metrics["learning"] = check_transfer(
            predictions["gold"].tolist(),
            predictions["prediction"].tolist(),
            predictions["language"].tolist(),
            num_classes=len(spec.labels),
            train_loss=final_loss(trainer.state.log_history),
        ).to_dict()
    with timings.part("saving"):
        drop_checkpoints(trainer, fitted.checkpoint_dir)
    return TransferResult(metrics=metrics, predictions=predictions)


# -- the shared training run -----------------------------------------------------------


@dataclass
class PreparedRun:
    """A Trainer ready to train, with what the phase needs around it."""

    trainer: XltTrainer
    tokenizer: PreTrainedTokenizerBase
    train: TrainSet
    meter: ThroughputMeter
    resume: str | None
    checkpoint_dir: Path


def build_trainer(
    *,
    phase: str,
    encoder: str,
    head_task: TaskSpec,
    train_task: TaskSpec,
    settings: TrainingSettings,
    codeswitch: CodeSwitchConfig | None,
    output_dir: Path,
    data_dir: str | os.PathLike[str] | None,
    callbacks: Sequence[TrainerCallback],
    timings: RunTimings | None = None,
) -> PreparedRun:
    """Data, model with a fresh head, and an `XltTrainer` for one phase (the benchmark uses it too).

    Trains ``head_task``'s head on ``train_task``'s English training data; the
    dev set is ``head_task``'s selection split. Finds a checkpoint to resume from.
    ``timings`` receives the seconds spent on data (reading, tokenising) and the model.
    """
    timings = timings if timings is not None else RunTimings()
    check_precision(settings.precision, training_device())  # fail before any data is read
    with timings.part("model"):
        resolved = resolve_model(encoder)
        tokenizer = load_tokenizer(resolved)
    with timings.part("data"):
        train: TrainSet = train_set(train_task, tokenizer, settings, codeswitch, data_dir)
        dev = eval_set(
            head_task,
            head_task.selection_split,
            head_task.selection_language,
            tokenizer,
            settings,
            settings.max_dev_examples,
            data_dir,
        )
    select_metric = get_format(head_task.format).selection_metric
    selecting = settings.selection == "best_en_dev"

    checkpoint_dir = output_dir / CHECKPOINTS
    resume = resumable_checkpoint(
        checkpoint_dir,
        run_fingerprint(
            phase=phase,
            encoder=resolved,
            task=head_task.name,
            train_task=train_task.name,
            codeswitch=codeswitch,
            settings=settings,
        ),
    )
    args = training_arguments(
        settings,
        checkpoint_dir,
        epochs=settings.epochs_for(head_task.name),
        select_metric=select_metric if selecting else None,
        steps_per_epoch=steps_per_epoch(len(train.dataset), settings.effective_batch_size),
    )
    with timings.part("model"):
        model = load_with_head(resolved, head_task.format, head_task.labels, settings)
        if settings.cls_only_last_layer:
            use_cls_only_last_layer(model, head_task.format)
        if settings.fast_cpu_dropout and training_device().type == "cpu":
            use_cpu_dropout(model)
        meter = ThroughputMeter()
        extra = [EpochSetter(train.dataset)] if train.dynamic else []
        trainer = XltTrainer(
            model=model,
            args=args,
            data_collator=collator_for(head_task, tokenizer),
            train_dataset=train.dataset,
            eval_dataset=dev.features if selecting else None,
            processing_class=tokenizer,
            compute_metrics=metric_fn(head_task, dev),
            callbacks=[*extra, *callbacks],
            lengths=train.lengths,
            meter=meter,
        )
    if resume is not None:
        meter.restore(resume)
    return PreparedRun(trainer, tokenizer, train, meter, resume, checkpoint_dir)


def _fit(
    *, settings: TrainingSettings, codeswitch: CodeSwitchConfig | None, timings: RunTimings, **kwargs: Any
) -> _Fitted:
    prepared = build_trainer(settings=settings, codeswitch=codeswitch, timings=timings, **kwargs)
    with timings.part("training"):
        info = fit(
            prepared.trainer,
            meter=prepared.meter,
            resume=prepared.resume,
            settings=settings,
            codeswitch=codeswitch,
            examples=prepared.train.n_examples,
            train_task=kwargs["train_task"].name,
            what=kwargs["phase"],
        )
    return _Fitted(
        trainer=prepared.trainer,
        tokenizer=prepared.tokenizer,
        train=info,
        checkpoint_dir=prepared.checkpoint_dir,
    )


# -- evaluation ------------------------------------------------------------------------


def _evaluate_dev(
    trainer: XltTrainer,
    task: TaskSpec,
    tokenizer: PreTrainedTokenizerBase,
    settings: TrainingSettings,
    data_dir: str | os.PathLike[str] | None,
    timings: RunTimings,
) -> dict[str, Any]:
    """Scores of the final (selected) model on ``task``'s English dev set."""
    with timings.part("data"):
        dev = eval_set(
            task,
            task.selection_split,
            task.selection_language,
            tokenizer,
            settings,
            settings.max_dev_examples,
            data_dir,
        )
    with timings.part("evaluation"):
        trainer.compute_metrics = metric_fn(task, dev)
        scores = trainer.evaluate(eval_dataset=dev.features, metric_key_prefix="dev")
    kept = {k.removeprefix("dev_"): float(v) for k, v in scores.items() if k.startswith("dev_")}
    kept = {k: v for k, v in kept.items() if not k.endswith(("runtime", "per_second"))}
    if task.format in JUDGED_FORMATS:  # the chance level `learning.check_dev` compares against
        kept["majority_rate"] = majority_rate(dev.examples["label"])
    return {
        **kept,
        "n": len(dev.examples),
        "split": task.selection_split,
        "language": task.selection_language,
    }


def _predict_in_length_order(trainer: XltTrainer, features: Dataset) -> np.ndarray | tuple[np.ndarray, ...]:
    """Model outputs in dataset order (logits; a tuple where the head has several, as QA's start
    and end logits), computed on length-sorted batches (far less padding)."""
    order = np.argsort(feature_lengths(features), kind="stable")
    dev_metrics, trainer.compute_metrics = trainer.compute_metrics, None  # dev scoring does not apply here
    try:
        output = trainer.predict(features.select(order.tolist()))
    finally:
        trainer.compute_metrics = dev_metrics

    def restored(sorted_outputs: np.ndarray) -> np.ndarray:
        out = np.empty_like(sorted_outputs)
        out[order] = sorted_outputs
        return out

    if isinstance(output.predictions, tuple):
        return tuple(restored(outputs) for outputs in output.predictions)
    return restored(output.predictions)
