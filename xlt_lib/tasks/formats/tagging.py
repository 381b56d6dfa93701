"""Token tagging (CCG supertagging).

Canonical rows: ``tokens`` (words) and ``tags`` (one label index per word). Only
the first sub-word of a word carries its tag; specials and continuations get
`IGNORE_INDEX`, which the loss and `token_accuracy` skip, and which the collator
pads labels with. The head is ``AutoModelForTokenClassification`` (every
position), scored by accuracy over tagged words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xlt_lib.errors import ConfigError, DataError
from xlt_lib.tasks.formats.base import (
    IGNORE_INDEX,
    Batch,
    Collator,
    FormatTask,
    MetricFn,
    Scored,
    TaskFormat,
    first_output,
    label_maps,
)
from xlt_lib.tasks.formats.metrics import token_accuracy

if TYPE_CHECKING:
    from transformers import EvalPrediction, PreTrainedTokenizerBase

#: The label added to a tag set learnt from training data, for tags seen only in dev/test.
UNKNOWN_TAG = "<unk>"


class Tagging(TaskFormat):
    name = "tagging"
    canonical_columns = ("id", "language", "tokens", "tags")

    def features(self, task: FormatTask, labels: tuple[str, ...]) -> Any:
        from datasets import ClassLabel, Features, List, Value

        string = Value("string")
        return Features(
            {
                "id": string,
                "language": string,
                "tokens": List(string),
                "tags": List(ClassLabel(names=list(labels))),
            }
        )

    def canonical_fields(
        self, task: FormatTask, fields: dict[str, Any], labels: tuple[str, ...], where: str
    ) -> dict[str, Any]:
        """Tags as indices; a tag outside the set is `UNKNOWN_TAG` where the set has it, else an error."""
        index = {tag: i for i, tag in enumerate(labels)}
        written = fields["tags"]
        fields["tags"] = [index.get(tag, index.get(UNKNOWN_TAG, -1)) for tag in written]
        if -1 in fields["tags"]:
            bad = written[fields["tags"].index(-1)]
            raise DataError(f"task {task.name!r}: {where}: unknown tag {bad!r}")
        return fields

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
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError("tagging needs a fast tokenizer (word_ids() maps sub-words to words)")
        encoded = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_length)
        labels: list[list[int]] = []
        for i, tags in enumerate(batch["tags"]):
            previous = None
            row: list[int] = []
            for word in encoded.word_ids(i):
                # Only the first sub-word of each word carries its tag; specials and continuations are ignored.
                row.append(IGNORE_INDEX if word is None or word == previous else tags[word])
                previous = word
            labels.append(row)
        return {"id": batch["id"], "language": batch["language"], **encoded, "labels": labels}

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Collator:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX)

    def head_class(self) -> Any:
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification

    def head_config(self, labels: Sequence[str] | None) -> dict[str, Any]:
        return label_maps(labels)

    def dev_metrics(self, examples: Any, windows: Any) -> MetricFn:
        def tag_metrics(prediction: EvalPrediction) -> dict[str, float]:
            logits = first_output(prediction.predictions)
            return token_accuracy(logits.argmax(axis=-1), prediction.label_ids)

        return tag_metrics

    def score(self, outputs: Any, examples: Any, windows: Any, task: FormatTask) -> Scored:
        """Per example, the gold and predicted tags of its tagged (first sub-word) positions."""
        import numpy as np

        predicted_ids = np.asarray(first_output(outputs)).argmax(axis=-1)
        gold: list[list[int]] = []
        predicted: list[list[int]] = []
        for row, labels in enumerate(windows["labels"]):
            labels = np.asarray(labels)
            tagged = labels != IGNORE_INDEX
            gold.append(labels[tagged].tolist())
            predicted.append(predicted_ids[row, : len(labels)][tagged].tolist())
        flat_gold = np.asarray([tag for tags in gold for tag in tags], dtype=np.int64)
        flat_predicted = np.asarray([tag for tags in predicted for tag in tags], dtype=np.int64)
        return Scored({**token_accuracy(flat_predicted, flat_gold), "n": len(gold)}, gold, predicted)


TAGGING = Tagging()
