"""Training settings shared by every phase, with validation and named profiles.

One frozen dataclass holds every knob that changes what a run learns, so that the
experiment runner can hash `TrainingSettings.to_dict()` into a run id and record
it. Display-only choices (progress bars) are deliberately *not* settings: they
would change the hash without changing the result (see `xlt_lib.training.trainer`
for the ``XLT_PROGRESS`` environment variable).

Every field declares its rule beside it (`xlt_lib.validation`); `from_dict` and the
constructor check values against those rules, so the experiment file, the notebooks
and Python callers share one rule and one message per setting. Values usually
arrive from YAML read by papermill as YAML 1.1, where ``1e-5`` is a *string* and
``no`` is ``False``; numeric strings are therefore accepted for float fields only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from xlt_lib.validation import (
    PYTHON,
    Boolean,
    Interval,
    KeyPath,
    MappingOf,
    Nullable,
    Options,
    Origin,
    String,
    build,
    check_instance,
    constraint,
    relation_error,
)

PRECISIONS = ("fp32", "bf16", "fp16")
ENCODER_STORAGES = ("changed", "full")
#: Settings added after experiments were recorded: `to_dict` writes them only when
#: they differ from their default, so that adding one does not change the run ids
#: (content hashes of the settings) of existing experiments. Each default reproduces
#: exactly what runs did before the setting existed.
_OMITTED_AT_DEFAULT = ("encoder_storage", "freeze_embedding_block")
SELECTIONS = ("best_en_dev", "last")
_POSITIVE = Interval(Real, 0, None, closed="neither")
_POSITIVE_INT = Interval(Integral, 0, None, closed="neither")


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

    ``freeze_word_embeddings`` keeps the word-embedding matrix as loaded (the
    ``cpu`` profile's default: AdamW over it is ~40 % of a step).
    ``freeze_embedding_block`` freezes the whole embedding block: word, position
    and token-type embeddings and the embeddings' LayerNorm (so it implies the
    former). Nothing before layer 0 then needs a gradient, and backpropagation
    stops at layer 0's input instead of running through the embedding block. It
    changes the model (a few hundred thousand fewer trainable parameters), so it is
    a modelling choice like freezing the words; `to_dict` omits it at its default
    so existing run ids stay as they were.

    ``encoder_storage`` says how phase 2 saves its encoder: ``"changed"`` (default)
    writes only the tensors training changed and references the frozen ones in the
    parent model (`xlt_lib.model.referenced`); ``"full"`` writes a self-contained
    folder, e.g. for sharing. It changes no result; `to_dict` omits it at its default
    so existing run ids stay as they were. ``"full"`` is part of the run id (the
    record it writes differs), so switching a finished experiment to it retrains.
    """

    learning_rate: float = field(default=2e-5, metadata=constraint(_POSITIVE))
    batch_size: int = field(default=16, metadata=constraint(_POSITIVE_INT))
    gradient_accumulation: int = field(default=1, metadata=constraint(_POSITIVE_INT))
    epochs: float = field(default=1.0, metadata=constraint(_POSITIVE))
    epochs_by_task: dict[str, float] = field(
        default_factory=dict, metadata=constraint(MappingOf(String(), _POSITIVE))
    )
    max_steps: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    warmup_ratio: float = field(default=0.1, metadata=constraint(Interval(Real, 0.0, 1.0, closed="left")))
    weight_decay: float = field(default=0.01, metadata=constraint(Interval(Real, 0.0, None, closed="left")))
    max_grad_norm: float = field(default=1.0, metadata=constraint(_POSITIVE))
    max_length: int = field(default=128, metadata=constraint(_POSITIVE_INT))
    doc_stride: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    eval_interval: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    eval_batch_size: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    seed: int = field(default=0, metadata=constraint(Interval(Integral, 0, None, closed="left")))
    freeze_word_embeddings: bool = field(default=False, metadata=constraint(Boolean()))
    freeze_embedding_block: bool = field(default=False, metadata=constraint(Boolean()))
    num_layers: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    cls_only_last_layer: bool = field(default=True, metadata=constraint(Boolean()))
    fast_cpu_dropout: bool = field(default=True, metadata=constraint(Boolean()))
    precision: str = field(default="fp32", metadata=constraint(Options(*PRECISIONS)))
    max_train_examples: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    max_eval_examples: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    max_dev_examples: int | None = field(default=None, metadata=constraint(Nullable(_POSITIVE_INT)))
    selection: str = field(default="best_en_dev", metadata=constraint(Options(*SELECTIONS)))
    full_determinism: bool = field(default=False, metadata=constraint(Boolean()))
    encoder_storage: str = field(default="changed", metadata=constraint(Options(*ENCODER_STORAGES)))

    def __post_init__(self) -> None:
        check_instance(self)  # each field against its declared constraint
        if self.doc_stride is not None and not self.doc_stride < self.max_length:
            raise relation_error(
                ("doc_stride",),
                f"expected 1 to max_length-1 ({self.max_length - 1}), got {self.doc_stride}",
            )

    # -- construction -------------------------------------------------------

    @classmethod
    def from_dict(
        cls, values: Mapping[str, Any], *, where: str | KeyPath = "training", origin: Origin = PYTHON
    ) -> TrainingSettings:
        """Validated settings from a plain mapping (an experiment file's ``settings:`` block).

        An unknown key or a value of the wrong type raises `ConfigError` naming
        ``<where>.<key>`` (within ``origin``) and what was expected.
        """
        key: KeyPath = ((where,) if where else ()) if isinstance(where, str) else where
        if not isinstance(values, Mapping):
            raise origin.error(key, f"expected a mapping of settings, got {type(values).__name__}")
        return build(cls, values, key, origin, noun="setting")

    @classmethod
    def from_profile(
        cls,
        name: str | None,
        overrides: Mapping[str, Any],
        *,
        where: str | KeyPath = (),
        origin: Origin = PYTHON,
        profile_key: KeyPath = (),
    ) -> TrainingSettings:
        """`profile` ``name`` (the defaults when ``None``) with ``overrides``, validated like `from_dict`.

        An unknown profile is reported at ``profile_key``; a bad value at ``<where>.<key>``.
        """
        if name is not None and name not in PROFILES:
            raise origin.error(
                profile_key, f"training profile {name!r}: unknown (known: {', '.join(sorted(PROFILES))})"
            )
        base = PROFILES[name] if name is not None else {}
        return cls.from_dict({**base, **overrides}, where=where, origin=origin)

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
        return cls.from_profile(name, overrides, where=f"profile {name}")

    # -- use ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-safe values, for hashing and for the run record."""
        out = dataclasses.asdict(self)
        out["epochs_by_task"] = dict(sorted(self.epochs_by_task.items()))
        for name in _OMITTED_AT_DEFAULT:
            if out[name] == _DEFAULTS[name]:
                del out[name]
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


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainingSettings)}

#: Named starting points (see `TrainingSettings.profile`).
PROFILES: dict[str, dict[str, Any]] = {
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
