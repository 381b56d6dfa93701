"""Multiple choice (HellaSwag, CommonsenseQA, Cosmos QA).

Canonical rows: ``context``, ``question``, ``choices`` and the ``label`` index of
the right choice. Each choice is encoded as the pair ``(context + question,
choice)``, nested per example; transformers' `DataCollatorForMultipleChoice` pads
every choice of a batch to one length. The head is ``AutoModelForMultipleChoice``
(one score per choice, read at position 0); scored by accuracy (and macro-F1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlt_lib.errors import DataError
from xlt_lib.tasks.formats.base import Batch, Collator, FormatTask, LabelledFormat

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def _first_segment(context: str, question: str) -> str:
    return " ".join(part for part in (context.strip(), question.strip()) if part)


class MultipleChoice(LabelledFormat):
    name = "multiple_choice"
    canonical_columns = ("id", "language", "context", "question", "choices", "label")
    first_position_only = True

    def features(self, task: FormatTask, labels: tuple[str, ...]) -> Any:
        from datasets import ClassLabel, Features, List, Value

        string = Value("string")
        return Features(
            {
                "id": string,
                "language": string,
                "context": string,
                "question": string,
                "choices": List(string),
                "label": ClassLabel(names=list(labels)),
            }
        )

    def canonical_fields(
        self, task: FormatTask, fields: dict[str, Any], labels: tuple[str, ...], where: str
    ) -> dict[str, Any]:
        fields = super().canonical_fields(task, fields, labels, where)
        if task.num_choices and len(fields["choices"]) != task.num_choices:
            raise DataError(
                f"task {task.name!r}: {where}: expected {task.num_choices} choices, "
                f"found {len(fields['choices'])}"
            )
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
        firsts: list[str] = []
        seconds: list[str] = []
        sizes: list[int] = []
        for context, question, choices in zip(
            batch["context"], batch["question"], batch["choices"], strict=True
        ):
            first = _first_segment(context, question)
            firsts.extend([first] * len(choices))
            seconds.extend(choices)
            sizes.append(len(choices))
        flat = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
        nested: dict[str, list] = {key: [] for key in flat}
        offset = 0
        for size in sizes:
            for key, values in flat.items():
                nested[key].append(values[offset : offset + size])
            offset += size
        return {"id": batch["id"], "language": batch["language"], **nested, "labels": list(batch["label"])}

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Collator:
        from transformers import DataCollatorForMultipleChoice

        return DataCollatorForMultipleChoice(tokenizer)

    def head_class(self) -> Any:
        from transformers import AutoModelForMultipleChoice

        return AutoModelForMultipleChoice


MULTIPLE_CHOICE = MultipleChoice()
