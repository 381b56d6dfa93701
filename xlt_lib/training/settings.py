"""Training settings shared by every phase, with validation and named profiles.

One frozen dataclass holds every knob that changes what a run learns, so that the
experiment runner can hash `TrainingSettings.to_dict()` into a run id and record
it. Display-only choices (progress bars) are deliberately *not* settings: they
would change the hash without changing the result (see `xlt_lib.training.trainer`
for the ``XLT_PROGRESS`` environment variable).

Values usually arrive from YAML read by papermill as YAML 1.1, where ``1e-5`` is a
*string* and ``no`` is ``False``; `from_dict` therefore checks every type itself
and accepts numeric strings only for float fields.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xlt_lib.errors import ConfigError

PRECISIONS = ("fp32", "bf16", "fp16")
SELECTIONS = ("best_en_dev", "last")


@dataclass(frozen=True)
class TrainingSettings:
    """Everything a phase needs to know about *how* to train (not *what* on).

    Epochs: ``epochs`` applies to any task not named in ``epochs_by_task``; the
    reference study trains XNLI for 2 epochs and PAWS-X for 5, which the ``gpu``
    profile expresses as ``epochs_by_task={"xnli": 2, "pawsx": 5}``. Keys are task
    names as the caller passes them (the target for phase 3, the intermediate task
    for phase 2). ``max_steps``, when set, overrides epochs altogether.

    ``cls_only_last_layer`` computes the last layer for the [CLS] position alone
    where the head reads nothing else (classification and multiple choice on
    BERT-family encoders, see `xlt_lib.training.cls_only`): the same model with
    less work per step. ``fast_cpu_dropout`` draws dropout masks on CPU from 16-bit
    lanes of torch's generator (`xlt_lib.training.cpu_dropout`), ~4.5x cheaper than
    ``bernoulli_`` on non-Intel CPUs; GPUs keep torch's dropout. Both are settings,
    and so part of a run's identity, because they change which random numbers
    dropout draws, hence the exact trajectory (not the model or its distribution).
    """

    learning_rate: float = 2e-5
    batch_size: int = 16
    gradient_accumulation: int = 1
    epochs: float = 1.0
    epochs_by_task: dict[str, float] = field(default_factory=dict)
    max_steps: int | None = None
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_length: int = 128
    doc_stride: int | None = None
    eval_interval: int | None = None
    eval_batch_size: int | None = None
    seed: int = 0
    freeze_word_embeddings: bool = False
    num_layers: int | None = None
    cls_only_last_layer: bool = True
    fast_cpu_dropout: bool = True
    precision: str = "fp32"
    max_train_examples: int | None = None
    max_eval_examples: int | None = None
    max_dev_examples: int | None = None
    selection: str = "best_en_dev"
    full_determinism: bool = False

    def __post_init__(self) -> None:
        _check_positive(self, "learning_rate", "batch_size", "gradient_accumulation", "max_length")
        _check_positive(self, "max_grad_norm")
        if not (self.epochs > 0 and math.isfinite(self.epochs)):
            raise ConfigError(f"epochs: expected a positive number, got {self.epochs!r}")
        for task, value in self.epochs_by_task.items():
            if not isinstance(task, str) or not (isinstance(value, int | float) and value > 0):
                raise ConfigError(
                    f"epochs_by_task.{task}: expected task name -> positive number of epochs, got {value!r}"
                )
        for name in (
            "max_steps",
            "eval_interval",
            "eval_batch_size",
            "num_layers",
            "max_train_examples",
            "max_eval_examples",
            "max_dev_examples",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name}: expected a positive integer or null, got {value!r}")
        if self.doc_stride is not None and not 0 < self.doc_stride < self.max_length:
            raise ConfigError(
                f"doc_stride: expected 1 to max_length-1 ({self.max_length - 1}), got {self.doc_stride}"
            )
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"warmup_ratio: expected a fraction in [0, 1), got {self.warmup_ratio!r}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay: expected >= 0, got {self.weight_decay!r}")
        if self.seed < 0:
            raise ConfigError(f"seed: expected a non-negative integer, got {self.seed!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision: expected one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.selection not in SELECTIONS:
            raise ConfigError(f"selection: expected one of {', '.join(SELECTIONS)}, got {self.selection!r}")

    # -- construction -------------------------------------------------------

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str = "training") -> TrainingSettings:
        """Validated settings from a plain mapping (an experiment file's ``training:`` block).

        An unknown key or a value of the wrong type raises `ConfigError` naming
        ``<where>.<key>`` and what was expected.
        """
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where}: expected a mapping of settings, got {type(values).__name__}")
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        converted: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(sorted(known))})")
            converted[key] = _coerce(f"{where}.{key}", value, hints[key])
        try:
            return cls(**converted)
        except ConfigError as exc:
            raise ConfigError(f"{where}.{exc}") from None

    @classmethod
    def profile(cls, name: str, **overrides: Any) -> TrainingSettings:
        """Named starting points, overridable key by key (validated like `from_dict`).

        ``gpu``: the reference study (Phang et al. 2020, jiant): lr 1e-5, effective
        batch 32, max length 256, 10 % warm-up, XNLI 2 epochs, PAWS-X 5, checkpoint
        selected on English dev.

        ``cpu``: what a 2-core machine finishes in minutes while staying clearly
        above chance (measured in ``benchmarks/results/train_throughput.md``):
        word embeddings frozen (AdamW over the 96M-row embedding matrix is ~40 % of
        a step), batch 16, lr 5e-5 (the short schedule needs a larger rate than
        1e-5), max length 128 (covers >99 % of MNLI/XNLI/PAWS-X pairs), 4,000
        training examples, 1 epoch, evaluation on the first 1,000 rows per language.
        That lands XNLI at the reference loop's accuracy; PAWS-X needs more pairs
        (it leaves chance after ~3,500; 12,000 reach 83 % en): override
        ``max_train_examples`` for it.
        """
        profiles: dict[str, dict[str, Any]] = {
            "gpu": {
                "learning_rate": 1e-5,
                "batch_size": 32,
                "gradient_accumulation": 1,
                "epochs": 2.0,
                "epochs_by_task": {"xnli": 2.0, "pawsx": 5.0},
                "warmup_ratio": 0.1,
                "weight_decay": 0.01,
                "max_length": 256,
                "max_dev_examples": 500,
                "selection": "best_en_dev",
            },
            "cpu": {
                "learning_rate": 5e-5,
                "batch_size": 16,
                "gradient_accumulation": 1,
                "epochs": 1.0,
                "warmup_ratio": 0.1,
                "weight_decay": 0.01,
                "max_length": 128,
                "freeze_word_embeddings": True,
                "max_train_examples": 4000,
                "max_eval_examples": 1000,
                "max_dev_examples": 500,
                "selection": "last",
            },
        }
        if name not in profiles:
            raise ConfigError(f"training profile {name!r}: unknown (known: {', '.join(sorted(profiles))})")
        return cls.from_dict({**profiles[name], **overrides}, where=f"profile {name}")

    # -- use ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-safe values, for hashing and for the run record."""
        out = dataclasses.asdict(self)
        out["epochs_by_task"] = dict(sorted(self.epochs_by_task.items()))
        return out

    def replace(self, **changes: Any) -> TrainingSettings:
        """A copy with some settings changed (validated)."""
        return self.from_dict({**self.to_dict(), **changes})

    def epochs_for(self, task: str) -> float:
        """Epochs to train ``task`` for (its override, else ``epochs``)."""
        return float(self.epochs_by_task.get(task, self.epochs))

    @property
    def qa_stride(self) -> int:
        """Overlap of strided QA windows: ``doc_stride``, else a third of ``max_length`` (HF's 128 of 384)."""
        return self.doc_stride if self.doc_stride is not None else self.max_length // 3

    @property
    def effective_batch_size(self) -> int:
        """Examples per optimizer step on one device."""
        return self.batch_size * self.gradient_accumulation


def _check_positive(settings: TrainingSettings, *names: str) -> None:
    for name in names:
        value = getattr(settings, name)
        if not value > 0:
            raise ConfigError(f"{name}: expected a positive number, got {value!r}")


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against a field's type hint, converting only lossless cases."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(key, value, inner)
    if value is None:
        raise ConfigError(f"{key}: expected {_describe(hint)}, got null")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-5 as a string
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        _, value_hint = typing.get_args(hint)
        return {str(k): _coerce(f"{key}.{k}", v, value_hint) for k, v in value.items()}
    raise TypeError(f"unhandled type hint {hint!r} for {key}")  # a bug in this module, not user input


def _describe(hint: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(hint, str(hint))
