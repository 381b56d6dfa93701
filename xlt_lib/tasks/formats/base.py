"""What every task format answers: the interface of `xlt_lib.tasks.formats`.

A format (classification, multiple choice, extractive QA, tagging) decides, for
every task of that format: the canonical columns and their ``datasets`` features,
how a row is normalised when loaded, how a batch is tokenised, how a batch is
padded, which ``AutoModelFor*`` head sits on the encoder and whether that head
reads the first position only, which dev metric selects a checkpoint, and how
model outputs become predictions and scores. jiant's task templates are the
precedent: the loader, the tokeniser, the phases and the multi-task trainer ask
the format instead of branching on its name, so a new format, or a target of an
existing one, is a change in one module.

This package sits in the task layer, which validating an experiment file
imports: torch, transformers, datasets and numpy are imported inside the methods
that need them, never here. Formats read a task through `FormatTask` (the fields
of `xlt_lib.tasks.spec.TaskSpec` they need), so they do not import the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from xlt_lib.errors import DataError
from xlt_lib.tasks.formats.metrics import classification_metrics

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from transformers import EvalPrediction, PreTrainedTokenizerBase

FormatName = Literal["classification", "multiple_choice", "extractive_qa", "tagging"]

#: Label id ignored by the loss (PyTorch's ``CrossEntropyLoss`` default).
IGNORE_INDEX = -100

Batch = dict[str, list[Any]]
Collator = Callable[[list[dict[str, Any]]], dict[str, Any]]
MetricFn = Callable[["EvalPrediction"], dict[str, float]]


class FormatTask(Protocol):
    """The fields of a task that its format reads (`TaskSpec` has them all)."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def text_fields(self) -> tuple[str, ...]: ...

    @property
    def num_choices(self) -> int | None: ...


@dataclass(frozen=True)
class Scored:
    """Predictions on one evaluation split and their scores.

    ``metrics`` holds the format's `TaskFormat.summary_metrics` and ``n`` (examples);
    ``gold`` and ``prediction`` have one entry per example (the columns of
    ``predictions.parquet``).
    """

    metrics: dict[str, float]
    gold: ArrayLike
    prediction: ArrayLike


class TaskFormat:
    """One task format; subclasses fill in what differs (see the module docstring).

    Class attributes:

    - ``name``: the format's name in task specs and run records;
    - ``canonical_columns``: the columns `xlt_lib.tasks.load_split` returns;
    - ``strided``: one example may become several features (strided windows), so
      evaluation keeps the windows for decoding, and ``doc_stride`` matters;
    - ``first_position_only``: the head reads the last layer at position 0 only,
      so `xlt_lib.training.cls_only` may compute that layer for [CLS] alone;
    - ``label_names``: the batch keys holding gold answers;
    - ``selection_metric`` / ``selection_scale``: the dev metric that selects a
      checkpoint, and what it is divided by to lie in 0-1 (multi-task selection
      averages these over tasks);
    - ``summary_metrics``: the scores of a transfer evaluation, averaged over
      languages; the first is the one logged.
    """

    name: FormatName
    canonical_columns: tuple[str, ...]
    strided: bool = False
    first_position_only: bool = False
    label_names: tuple[str, ...] = ("labels",)
    selection_metric: str = "accuracy"
    selection_scale: float = 1.0
    summary_metrics: tuple[str, ...] = ("accuracy",)

    def min_max_length(self, doc_stride: int | None) -> int:
        """The smallest ``max_length`` this format can encode with (1: any; QA windows need more).

        ``doc_stride`` is the setting (``None``: a third of ``max_length``). Checked when an
        experiment is validated, so an impossible setting is refused before a run starts.
        """
        return 1

    def min_max_length_reason(self) -> str:
        """Why `min_max_length` is what it is, for the error message."""
        return ""

    def __repr__(self) -> str:
        return f"<task format {self.name}>"

    # -- canonical data --------------------------------------------------------------

    def columns(self, task: FormatTask) -> tuple[str, ...]:
        """The canonical columns of ``task`` (a format may drop optional ones)."""
        return self.canonical_columns

    def features(self, task: FormatTask, labels: tuple[str, ...]) -> Any:
        """The ``datasets.Features`` of ``task``'s canonical columns under label set ``labels``."""
        raise NotImplementedError

    def canonical_fields(
        self, task: FormatTask, fields: dict[str, Any], labels: tuple[str, ...], where: str
    ) -> dict[str, Any]:
        """A loaded row's fields, checked and with labels as indices; ``where`` names the row in errors."""
        return fields

    # -- model inputs ----------------------------------------------------------------

    def encode(
        self,
        batch: Batch,
        task: FormatTask,
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        *,
        train: bool,
        doc_stride: int,
    ) -> Batch:
        """Tokenise a batch of canonical rows (no padding); ``id`` and ``language`` pass through."""
        raise NotImplementedError

    def pick_feature(self, rows: list[dict[str, Any]], tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
        """The one feature a single example trains on, where a dataset item must be one feature."""
        if len(rows) != 1:
            raise DataError(f"a {self.name} example gave {len(rows)} features, expected one")
        return rows[0]

    def example_lengths(
        self, raw: Any, tokenizer: PreTrainedTokenizerBase, max_length: int
    ) -> list[int] | None:
        """Tokens per example where features are not one per example; ``None``: the features' lengths."""
        return None

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Collator:
        """The transformers collator that pads a batch of this format to its longest sequence."""
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    # -- the model ---------------------------------------------------------------------

    def head_class(self) -> Any:
        """The ``AutoModelFor*`` class whose head this format trains."""
        raise NotImplementedError

    def head_config(self, labels: Sequence[str] | None) -> dict[str, Any]:
        """Config overrides for the head (label count and names where the head has one output per label)."""
        return {}

    # -- scores ------------------------------------------------------------------------

    def primary_score(self, scores: dict[str, float]) -> float:
        """The selection metric on a 0-1 scale."""
        return scores[self.selection_metric] / self.selection_scale

    def dev_metrics(self, examples: Any, windows: Any) -> MetricFn:
        """The Trainer's ``compute_metrics`` on a dev set (``windows``: its features, for decoding)."""
        raise NotImplementedError

    def score(self, outputs: Any, examples: Any, windows: Any, task: FormatTask) -> Scored:
        """Decode model ``outputs`` (in feature order) into per-example predictions, and score them."""
        raise NotImplementedError


class LabelledFormat(TaskFormat):
    """A format whose canonical ``label`` is one index into the task's labels per example."""

    summary_metrics = ("accuracy", "macro_f1")

    def canonical_fields(
        self, task: FormatTask, fields: dict[str, Any], labels: tuple[str, ...], where: str
    ) -> dict[str, Any]:
        if "label" in fields:
            fields["label"] = label_index(task, labels, fields["label"], where)
        return fields

    def score(self, outputs: Any, examples: Any, windows: Any, task: FormatTask) -> Scored:
        import numpy as np

        predicted = np.asarray(first_output(outputs)).argmax(axis=-1).astype("int64")
        gold = np.asarray(examples["label"]).astype("int64")
        scores = classification_metrics(predicted, gold, len(task.labels))
        return Scored({**scores, "n": len(gold)}, gold, predicted)

    def dev_metrics(self, examples: Any, windows: Any) -> MetricFn:
        def label_metrics(prediction: EvalPrediction) -> dict[str, float]:
            logits = first_output(prediction.predictions)
            return classification_metrics(logits.argmax(axis=-1), prediction.label_ids, logits.shape[-1])

        return label_metrics


def label_maps(labels: Sequence[str] | None) -> dict[str, Any]:
    """``num_labels`` and the id/label maps of a head with one output per label (none without labels)."""
    if labels is None:
        return {}
    return {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }


def first_output(outputs: Any) -> Any:
    """The logits among a model's outputs (the first, where the Trainer returns a tuple)."""
    return outputs[0] if isinstance(outputs, tuple) else outputs


def label_index(task: FormatTask, labels: tuple[str, ...], raw: Any, where: str) -> int:
    """Map a label as written (a name, or an index as int or digit string) to its index."""
    if isinstance(raw, str) and raw in labels:
        return labels.index(raw)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is not None and not isinstance(raw, bool) and 0 <= value < len(labels):
        return value
    raise DataError(
        f"task {task.name!r}: {where}: unknown label {raw!r} (expected one of {', '.join(labels)})"
    )
