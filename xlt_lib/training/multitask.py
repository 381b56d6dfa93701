"""Phase 2 on several intermediate tasks at once: one shared encoder, one head per task.

The multi-task condition of Phang et al. (2020) (jiant's multi-task runs): every
optimizer step trains on a batch of one task, drawn by the run's sampler
(`xlt_lib.training.task_sampler`); the heads are the ordinary ``AutoModelFor*``
heads of each format over one shared encoder (`xlt_lib.training.multitask_model`).
Code-switching applies to every task with the same settings as single-task
training. The result is an ``encoder/`` folder saved exactly like a single-task
one, so phase 3, the runner and the reports treat "multi-task" as one more
intermediate condition; ``xlt_encoder.json`` adds the tasks, the sampler, the
sampling probabilities and how many examples and batches of each task were seen.

Model selection (``selection: best_en_dev``) uses the mean over tasks of each
task's English dev score on a 0-1 scale (its format's `TaskFormat.primary_score`:
accuracy; SQuAD F1 / 100 for extractive QA), as jiant does. Resuming, the train-info
record, the encoder record and the clean-up are the training core's
(`xlt_lib.training.core`), as in single-task training. Several GPUs work as in
single-task training (see `xlt_lib.training.phases`); each process draws its own
batches, so a step may train different heads on different processes, and DDP is
told that some parameters go unused in a step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState, TrainerState

from xlt_lib.codeswitch import CodeSwitchConfig, build_switcher
from xlt_lib.model import load_tokenizer, model_identity, resolve_model
from xlt_lib.tasks import TaskSpec, collator_for, get_format, resolved_task
from xlt_lib.training.core import (
    CHECKPOINTS,
    ENCODER,
    IntermediateResult,
    encoder_record,
    fit,
    keep_encoder,
    metric_fn,
    resumable_checkpoint,
    run_fingerprint,
    steps_per_epoch,
)
from xlt_lib.training.data import EvalSet, eval_set, train_set
from xlt_lib.training.device import check_precision, training_device
from xlt_lib.training.learning import JUDGED_FORMATS, check_multitask, majority_rate
from xlt_lib.training.multitask_data import TASK_KEY, MultiTaskCollator, MultiTaskDataset, TaskTagged
from xlt_lib.training.multitask_model import MultiTaskModel, build_multitask_model
from xlt_lib.training.multitask_spec import MultiTaskSpec
from xlt_lib.training.settings import TrainingSettings
from xlt_lib.training.task_sampler import TaskBatchSampler, task_probabilities
from xlt_lib.training.timings import RunTimings
from xlt_lib.training.trainer import ThroughputMeter, XltTrainer, training_arguments

logger = logging.getLogger("xlt_lib.training")

SELECT_METRIC = "average"


class TaskCounter(TrainerCallback, ExportableState):
    """Examples and batches trained on per task, saved with checkpoints (a resumed run reports totals)."""

    def __init__(self, task_names: Sequence[str]) -> None:
        self.task_names = list(task_names)
        self.examples = [0] * len(self.task_names)
        self.batches = [0] * len(self.task_names)

    def add(self, task: int, examples: int) -> None:
        self.examples[task] += examples
        self.batches[task] += 1

    def state(self) -> dict[str, Any]:
        return {"args": {}, "attributes": {"examples": self.examples, "batches": self.batches}}

    def restore(self, checkpoint: str | os.PathLike[str]) -> None:
        saved = TrainerState.load_from_json(os.path.join(checkpoint, "trainer_state.json")).stateful_callbacks
        attributes = saved.get(type(self).__name__, {}).get("attributes", {})
        self.examples = [int(n) for n in attributes.get("examples", self.examples)]
        self.batches = [int(n) for n in attributes.get("batches", self.batches)]


class MultiTaskTrainer(XltTrainer):
    """`XltTrainer` over task-homogeneous batches, with per-task counts and per-task dev scoring.

    ``dev_sets`` (task name -> (spec, dev set), in task-index order) are what
    `evaluate` scores when called without a dataset; it reports every task's
    metrics under ``<prefix>_<task>_*`` and their mean under ``<prefix>_average``.
    """

    def __init__(
        self,
        *args: Any,
        batch_sampler: TaskBatchSampler,
        dev_sets: dict[str, tuple[TaskSpec, EvalSet]],
        counter: TaskCounter,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.batch_sampler = batch_sampler
        self.dev_sets = dev_sets
        self.counter = counter
        self.add_callback(counter)

    def get_train_dataloader(self) -> DataLoader:
        loader = DataLoader(
            self.train_dataset,
            batch_sampler=self.batch_sampler,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )
        return self.accelerator.prepare(loader)

    def training_step(
        self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
    ) -> torch.Tensor:
        task = int(inputs[TASK_KEY])
        size = int(inputs["input_ids"].shape[0])
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.counter.add(task, size)
        return loss

    def evaluate(
        self, eval_dataset: Any = None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        if eval_dataset is not None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        metrics: dict[str, float] = {}
        self.task_metrics: dict[str, dict[str, float]] = {}
        saved = self.compute_metrics, self.label_names
        try:
            for index, (name, (spec, dev)) in enumerate(self.dev_sets.items()):
                self.compute_metrics = metric_fn(spec, dev)
                # The Trainer cannot read the gold keys off `MultiTaskModel.forward`, whose
                # inputs depend on the task: the format names them.
                self.label_names = list(get_format(spec.format).label_names)
                prefix = f"{metric_key_prefix}_{name}"
                task_metrics = super().evaluate(TaskTagged(dev.features, index), ignore_keys, prefix)
                metrics.update(task_metrics)
                self.task_metrics[name] = {k.removeprefix(prefix + "_"): v for k, v in task_metrics.items()}
        finally:
            self.compute_metrics, self.label_names = saved
        scores = [
            get_format(spec.format).primary_score(self.task_metrics[name])
            for name, (spec, _) in self.dev_sets.items()
        ]
        average = metrics[f"{metric_key_prefix}_{SELECT_METRIC}"] = float(sum(scores) / len(scores))
        logger.info("step %d: dev average over %d tasks %.4f", self.state.global_step, len(scores), average)
        return metrics


def run_multitask(
    model: str,
    spec: MultiTaskSpec,
    settings: TrainingSettings,
    codeswitch: CodeSwitchConfig | None = None,
    output_dir: str | os.PathLike[str] = ".",
    data_dir: str | os.PathLike[str] | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    *,
    timings: RunTimings | None = None,
) -> IntermediateResult:
    """Train ``model`` on all of ``spec.tasks`` at once and save its encoder (see the module docstring).

    Called by `xlt_lib.training.run_intermediate` when its task is a `MultiTaskSpec`.
    ``settings`` apply to every task (``max_train_examples`` and ``max_dev_examples``
    per task); ``epochs_by_task`` is looked up under ``spec.name``. ``timings``: as for
    `run_intermediate` (`xlt_lib.training.timings`).
    """
    timings = timings if timings is not None else RunTimings()
    check_precision(settings.precision, training_device())
    output_dir = Path(output_dir)
    with timings.part("provenance"):
        parent = model_identity(model)
    with timings.part("model"):
        resolved = resolve_model(model)
        tokenizer = load_tokenizer(resolved)
    specs = [resolved_task(task, data_dir) for task in spec.tasks]
    with timings.part("data"):
        switcher = build_switcher(codeswitch, data_dir) if codeswitch is not None else None  # one for all
        trains = [train_set(task, tokenizer, settings, codeswitch, data_dir, switcher) for task in specs]
        dev_sets = {
            task.name: (
                task,
                eval_set(
                    task,
                    task.selection_split,
                    task.selection_language,
                    tokenizer,
                    settings,
                    settings.max_dev_examples,
                    data_dir,
                ),
            )
            for task in specs
        }
    sizes = {task.name: len(train.dataset) for task, train in zip(specs, trains, strict=True)}
    probabilities = task_probabilities(sizes, spec.sampler, spec.temperature)
    sampler = TaskBatchSampler(
        [train.lengths for train in trains],
        [probabilities[task.name] for task in specs],
        settings.batch_size,
        seed=settings.seed,
    )
    selecting = settings.selection == "best_en_dev"
    checkpoint_dir = output_dir / CHECKPOINTS
    resume = resumable_checkpoint(
        checkpoint_dir,
        run_fingerprint(
            phase="intermediate",
            encoder=resolved,
            task=spec.identity(),
            codeswitch=codeswitch,
            settings=settings,
        ),
    )
    args = training_arguments(
        settings,
        checkpoint_dir,
        epochs=settings.epochs_for(spec.name),
        select_metric=SELECT_METRIC if selecting else None,
        steps_per_epoch=steps_per_epoch(len(sampler), settings.gradient_accumulation),
    )
    args.remove_unused_columns = False  # the model takes task_id plus whatever its task's head takes
    args.ddp_find_unused_parameters = True  # the other tasks' heads get no gradient in a step

    counter = TaskCounter([task.name for task in specs])
    meter = ThroughputMeter()
    with timings.part("model"):
        multitask_model = build_multitask_model(resolved, specs, settings)
    trainer = MultiTaskTrainer(
        model=multitask_model,
        args=args,
        data_collator=MultiTaskCollator([collator_for(task, tokenizer) for task in specs]),
        train_dataset=MultiTaskDataset([train.dataset for train in trains]),
        eval_dataset={
            name: TaskTagged(dev.features, i) for i, (name, (_, dev)) in enumerate(dev_sets.items())
        },
        processing_class=tokenizer,
        callbacks=list(callbacks),
        meter=meter,
        batch_sampler=sampler,
        dev_sets=dev_sets,
        counter=counter,
    )
    if resume is not None:
        meter.restore(resume)
        counter.restore(resume)
    with timings.part("training"):
        train_info = fit(
            trainer,
            meter=meter,
            resume=resume,
            settings=settings,
            codeswitch=codeswitch,
            examples=sum(train.n_examples for train in trains),
            train_task=list(spec.tasks),
            what="multi-task intermediate training",
        )

    examples, batches = _totals(trainer, counter)
    seen = {
        task.name: {
            "train_examples": train.n_examples,
            "train_features": sizes[task.name],
            "probability": probabilities[task.name],
            "examples_seen": examples[i],
            "batches_seen": batches[i],
        }
        for i, (task, train) in enumerate(zip(specs, trains, strict=True))
    }
    train_info.update(sampler=spec.sampler, temperature=spec.temperature, tasks=seen)
    with timings.part("evaluation"):
        dev = _dev_scores(trainer, dev_sets)
    metrics: dict[str, Any] = {
        "phase": "intermediate",
        "task": spec.name,
        "format": "multitask",
        "multitask": spec.to_dict(),
        "dev_split": {task.name: task.selection_split for task in specs},
        "dev": dev,
        "train": train_info,
    }
    learning = check_multitask(dev, {task.name: task.format for task in specs})
    if learning is not None:
        metrics["learning"] = learning.to_dict()
    encoder_dir = output_dir / ENCODER
    model_: MultiTaskModel = trainer.model
    record = encoder_record(
        parent=parent,
        task=spec.name,
        task_format="multitask",
        codeswitch=codeswitch,
        settings=settings,
        train=train_info,
        num_layers=model_.config.num_hidden_layers,
        dev=dev,
        tasks=list(spec.tasks),
        formats={task.name: task.format for task in specs},
        sampler=spec.sampler,
        temperature=spec.temperature,
        probabilities=probabilities,
        seen={name: {k: v[k] for k in ("examples_seen", "batches_seen")} for name, v in seen.items()},
    )
    with timings.part("saving"):
        keep_encoder(trainer, model_.head(0), tokenizer, encoder_dir, record, checkpoint_dir)
    return IntermediateResult(encoder_dir=encoder_dir, metrics=metrics)


def _totals(trainer: MultiTaskTrainer, counter: TaskCounter) -> tuple[list[int], list[int]]:
    """Per-task examples and batches over all processes (each counts only its own batches)."""
    if trainer.args.world_size <= 1:
        return counter.examples, counter.batches
    both = torch.tensor([counter.examples, counter.batches], device=trainer.args.device)
    summed = trainer.accelerator.reduce(both, reduction="sum").tolist()
    return [int(n) for n in summed[0]], [int(n) for n in summed[1]]


def _dev_scores(trainer: MultiTaskTrainer, dev_sets: dict[str, tuple[TaskSpec, EvalSet]]) -> dict[str, Any]:
    """English dev scores of the final (selected) model, per task, and their mean."""
    raw = trainer.evaluate(metric_key_prefix="dev")
    out: dict[str, Any] = {}
    for name, (task, dev) in dev_sets.items():
        kept = {
            k: float(v)
            for k, v in trainer.task_metrics[name].items()
            if not k.endswith(("runtime", "per_second")) and k != "epoch"
        }
        if task.format in JUDGED_FORMATS:  # the chance level `learning.check_multitask` compares against
            kept["majority_rate"] = majority_rate(dev.examples["label"])
        out[name] = {
            **kept,
            "n": len(dev.examples),
            "split": task.selection_split,
            "language": task.selection_language,
        }
    out[SELECT_METRIC] = float(raw[f"dev_{SELECT_METRIC}"])
    return out
