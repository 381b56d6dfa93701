"""Sentence and sentence-pair classification (MNLI, QQP, SST-2, XNLI, PAWS-X, ...).

Canonical rows: ``text_a``, ``text_b`` (pairs only) and a ``label`` index.
Encoded as ``(text_a[, text_b])``; the head is ``AutoModelForSequenceClassification``,
which reads the last layer at position 0 only; scored by accuracy and macro-F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xlt_lib.tasks.formats.base import Batch, FormatTask, LabelledFormat, label_maps

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def is_pair(task: FormatTask) -> bool:
    """Whether ``task`` classifies sentence pairs (has ``text_b``)."""
    return "text_b" in task.text_fields


class Classification(LabelledFormat):
    name = "classification"
    canonical_columns = ("id", "language", "text_a", "text_b", "label")
    first_position_only = True

    def columns(self, task: FormatTask) -> tuple[str, ...]:
        """Single-sentence tasks have no ``text_b``."""
        if is_pair(task):
            return self.canonical_columns
        return tuple(c for c in self.canonical_columns if c != "text_b")

    def features(self, task: FormatTask, labels: tuple[str, ...]) -> Any:
        from datasets import ClassLabel, Features, Value

        string = Value("string")
        text = {"text_a": string, "text_b": string} if is_pair(task) else {"text_a": string}
        return Features({"id": string, "language": string, **text, "label": ClassLabel(names=list(labels))})

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
        second = batch["text_b"] if is_pair(task) else None
        encoded = tokenizer(batch["text_a"], second, truncation=True, max_length=max_length)
        return {"id": batch["id"], "language": batch["language"], **encoded, "labels": list(batch["label"])}

    def head_class(self) -> Any:
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification

    def head_config(self, labels: Sequence[str] | None) -> dict[str, Any]:
        return label_maps(labels)


CLASSIFICATION = Classification()
