"""The `transformers.Trainer` as xlt uses it: arguments, guards, callbacks.

What is added to the stock Trainer, and why:

- a non-finite loss stops the run at once with a `TrainingError` naming the step
  and learning rate (`XltTrainer.training_step`); the Trainer itself would silently
  replace it in the logged average (``logging_nan_inf_filter``) and go on;
- a padding-minimal, resumable training order (`PaddingMinimalSampler`);
- evaluation always in dataset order, so predictions line up with example ids;
- a meter of training time and examples that excludes evaluation and
  checkpointing, saved in checkpoints so a resumed run reports totals;
- dynamic code-switching: `EpochSetter` re-switches a lazy dataset every epoch;
- quiet batch mode: progress bars only in a notebook or on a terminal
  (``XLT_PROGRESS=0``/``1`` forces either), one log line per evaluation.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import SequentialSampler
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import ExportableState, PrinterCallback, TrainerState

from xlt_lib.errors import TrainingError
from xlt_lib.training.device import check_precision, training_device
from xlt_lib.training.sampling import PaddingMinimalSampler
from xlt_lib.training.settings import TrainingSettings

logger = logging.getLogger("xlt_lib.training")


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """In batch mode, silence the per-map (``datasets``) and per-save/load (``transformers``) bars.

    The previous state is restored afterwards, so a notebook keeps its bars.
    """
    import datasets.utils.logging as datasets_logging
    import transformers.utils.logging as transformers_logging

    switches = [
        (datasets_logging.is_progress_bar_enabled(), datasets_logging.enable_progress_bar),
        (transformers_logging.is_progress_bar_enabled(), transformers_logging.enable_progress_bar),
    ]
    if not show_progress():
        datasets_logging.disable_progress_bar()
        transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        for was_enabled, enable in switches:
            if was_enabled:
                enable()


def show_progress() -> bool:
    """Whether to draw progress bars: ``XLT_PROGRESS`` if set, else notebook or terminal."""
    env = os.environ.get("XLT_PROGRESS")
    if env is not None:
        return env.strip().lower() not in ("", "0", "false", "no", "off")
    try:
        from IPython import get_ipython

        if type(get_ipython()).__name__ == "ZMQInteractiveShell":
            return True
    except ImportError:
        pass
    return sys.stdout.isatty()


class ThroughputMeter(TrainerCallback, ExportableState):
    """Seconds spent training, examples seen and summed loss, excluding evaluation and saving.

    The clock runs from the end of one optimizer step to the end of the next, so it
    includes data loading and collation; it restarts after every evaluation, save
    or log, so those never count. Its state is saved with each checkpoint
    (``stateful_callbacks`` of ``trainer_state.json``) and reloaded on resume, so a
    resumed run reports totals and the mean loss over *all* its steps (the Trainer's
    ``training_loss`` covers only the steps since the resume).
    """

    def __init__(self) -> None:
        self.train_seconds = 0.0
        self.examples = 0
        self.loss_sum = 0.0
        self._mark: float | None = None

    def state(self) -> dict[str, Any]:
        return {
            "args": {},
            "attributes": {
                "train_seconds": self.train_seconds,
                "examples": self.examples,
                "loss_sum": self.loss_sum,
            },
        }

    def restore(self, checkpoint: str | os.PathLike[str]) -> None:
        saved = TrainerState.load_from_json(os.path.join(checkpoint, "trainer_state.json")).stateful_callbacks
        attributes = saved.get(type(self).__name__, {}).get("attributes", {})
        self.train_seconds = float(attributes.get("train_seconds", 0.0))
        self.examples = int(attributes.get("examples", 0))
        self.loss_sum = float(attributes.get("loss_sum", 0.0))

    def _restart(self, *args: Any, **kwargs: Any) -> None:
        self._mark = time.perf_counter()

    on_train_begin = on_epoch_begin = on_evaluate = on_save = on_log = _restart

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        now = time.perf_counter()
        if self._mark is not None:
            self.train_seconds += now - self._mark
        self._mark = now


class EpochSetter(TrainerCallback):
    """Calls ``dataset.set_epoch(epoch)`` at each epoch start (dynamic code-switching)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.dataset.set_epoch(math.floor(state.epoch + 1e-9) if state.epoch else 0)


class EvalLogger(TrainerCallback):
    """One log line per evaluation and per logging step (replaces the Trainer's dict printer)."""

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: dict[str, float] | None = None, **kw: Any
    ):
        shown = {}
        for key, value in (metrics or {}).items():
            name = key.split("_", 1)[-1]  # eval_accuracy, dev_accuracy -> accuracy
            if isinstance(value, int | float) and not name.endswith(("runtime", "per_second")):
                shown[name] = value
        text = ", ".join(f"{k}={v:.4g}" for k, v in shown.items())
        logger.info("step %d (epoch %.2f): dev %s", state.global_step, state.epoch or 0.0, text)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any):
        if logs and "loss" in logs:
            logger.info(
                "step %d/%d (epoch %.2f): loss %.4f, lr %.3g",
                state.global_step,
                state.max_steps,
                state.epoch or 0.0,
                logs["loss"],
                logs.get("learning_rate", float("nan")),
            )


class XltTrainer(Trainer):
    """Trainer with a per-step finite-loss guard and xlt's samplers and meter."""

    def __init__(self, *args: Any, lengths: list[int] | None = None, meter: ThroughputMeter, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lengths = lengths
        self.meter = meter
        self.add_callback(meter)
        self.remove_callback(PrinterCallback)
        self.add_callback(EvalLogger())

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        if self.lengths is None:
            return super()._get_train_sampler(train_dataset)
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return PaddingMinimalSampler(self.lengths, self.args.per_device_train_batch_size, seed=seed)

    def _get_eval_sampler(self, eval_dataset: Any) -> Any:
        if self.args.world_size > 1:
            return super()._get_eval_sampler(eval_dataset)
        return SequentialSampler(eval_dataset)

    def training_step(
        self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
    ) -> torch.Tensor:
        loss = super().training_step(model, inputs, num_items_in_batch)
        # The Trainer already synchronises on the loss every step (its nan/inf filter),
        # so this check costs nothing extra; under DDP every rank must agree to stop.
        bad = ~torch.isfinite(loss)
        if self.args.world_size > 1:
            bad = self.accelerator.reduce(bad.float(), reduction="sum") > 0
        if bool(bad):
            lr = (
                self.lr_scheduler.get_last_lr()[0]
                if self.lr_scheduler is not None
                else self.args.learning_rate
            )
            raise TrainingError(
                f"non-finite training loss ({loss.item()}) at step {self.state.global_step + 1} "
                f"with learning rate {lr:.3g}: lower learning_rate or check the data"
            )
        self.meter.loss_sum += float(loss)
        batch = inputs.get("input_ids")
        self.meter.examples += int(batch.shape[0]) if batch is not None else 0
        return loss


def training_arguments(
    settings: TrainingSettings,
    output_dir: str | os.PathLike[str],
    *,
    epochs: float,
    select_metric: str | None,
    steps_per_epoch: int,
) -> TrainingArguments:
    """TrainingArguments for one phase.

    ``select_metric`` is the dev metric that picks the checkpoint when
    ``settings.selection == "best_en_dev"`` (``None``: no dev evaluation during
    training). Evaluation and checkpointing share one interval (the Trainer needs
    that to keep the best checkpoint): ``eval_interval`` steps, else every epoch.
    """
    device = training_device()
    flags = check_precision(settings.precision, device)
    selecting = settings.selection == "best_en_dev" and select_metric is not None
    strategy = "steps" if settings.eval_interval else "epoch"
    interval = settings.eval_interval or max(1, steps_per_epoch)
    return TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.eval_batch_size or 2 * settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation,
        num_train_epochs=epochs,
        max_steps=settings.max_steps if settings.max_steps is not None else -1,
        lr_scheduler_type="linear",
        warmup_steps=settings.warmup_ratio,
        weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm,
        seed=settings.seed,
        data_seed=settings.seed,
        full_determinism=settings.full_determinism,
        eval_strategy=strategy if select_metric is not None else "no",
        eval_steps=interval if strategy == "steps" else None,
        save_strategy=strategy,
        save_steps=interval if strategy == "steps" else None,
        save_total_limit=2,
        load_best_model_at_end=selecting,
        metric_for_best_model=select_metric if selecting else None,
        greater_is_better=True if selecting else None,
        logging_strategy="steps",
        logging_steps=min(interval, 50),  # a heartbeat line in batch mode (EvalLogger.on_log)
        report_to="none",
        disable_tqdm=not show_progress(),
        log_level="warning",
        dataloader_num_workers=0,
        dataloader_pin_memory=device.type == "cuda",
        # Without it, a CPU-only process under torchrun trains alone on all the data (transformers
        # reads "no GPU, not use_cpu" as not parallel); with it, gloo DDP splits the batches.
        use_cpu=device.type == "cpu",
        ddp_find_unused_parameters=False,  # one head, all used (multi-task sets it back to True)
        **flags,
    )
