"""Extractive question answering in SQuAD v1.1 form (SQuAD, TyDiQA-GoldP, ...).

Canonical rows: ``question``, ``context`` and ``answers`` (``text`` and
``answer_start`` lists). Encoded as strided question/context windows, as in
Hugging Face's ``run_qa.py``, so one example may give several features; the head
is ``AutoModelForQuestionAnswering`` (start and end logits at every position);
predictions are the best span per example (`best_spans`), scored by SQuAD exact
match and F1 (in percent; F1 selects the checkpoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlt_lib.errors import ConfigError
from xlt_lib.tasks.formats.base import Batch, FormatTask, MetricFn, Scored, TaskFormat
from xlt_lib.tasks.formats.metrics import best_spans, squad_metrics

if TYPE_CHECKING:
    from transformers import EvalPrediction, PreTrainedTokenizerBase


#: Tokens a question may take in a window (besides the 3 special tokens of a pair, `PAIR_SPECIAL_TOKENS`).
#: Questions are not truncated (as in ``run_qa.py``). The longest English questions of the offline
#: mirror, in the offline tokenizer: XQuAD 37, MLQA 35, TyDiQA-GoldP 33 tokens. A window's context
#: part (``max_length`` minus the question) must be longer than the stride, or the fast tokenizer
#: panics ("stride must be less than max_len") after the run has started.
QUESTION_TOKENS = 39
PAIR_SPECIAL_TOKENS = 3


class ExtractiveQA(TaskFormat):
    name = "extractive_qa"
    canonical_columns = ("id", "language", "question", "context", "answers")
    strided = True
    label_names = ("start_positions", "end_positions")
    selection_metric = "f1"
    selection_scale = 100.0
    summary_metrics = ("f1", "exact_match")

    def min_max_length(self, doc_stride: int | None) -> int:
        """Smallest ``max_length`` whose context part (after a long question) exceeds the stride."""
        reserved = QUESTION_TOKENS + PAIR_SPECIAL_TOKENS
        if doc_stride is not None:
            return reserved + doc_stride + 1
        length = reserved + 1  # stride = max_length // 3
        while length - reserved <= length // 3:
            length += 1
        return length

    def min_max_length_reason(self) -> str:
        return (
            f"a question/context window reserves {QUESTION_TOKENS} question tokens and "
            f"{PAIR_SPECIAL_TOKENS} special tokens, and its context part must be longer than doc_stride "
            "(a third of max_length unless set)"
        )

    def features(self, task: FormatTask, labels: tuple[str, ...]) -> Any:
        from datasets import Features, List, Value

        string = Value("string")
        answers = {"text": List(string), "answer_start": List(Value("int32"))}
        return Features(
            {"id": string, "language": string, "question": string, "context": string, "answers": answers}
        )

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
        """Question/context windows with a stride, as in Hugging Face's ``run_qa.py``.

        Training features carry ``start_positions``/``end_positions`` (the CLS index when
        the answer is not inside the window, or the question has none). Evaluation
        features carry ``example_id`` and ``offset_mapping`` with ``None`` outside the
        context, for post-processing predictions back to text spans.
        """
        if doc_stride >= max_length:
            raise ConfigError(f"doc_stride={doc_stride} must be smaller than max_length={max_length}")
        pad_on_right = tokenizer.padding_side == "right"
        questions = [q.lstrip() for q in batch["question"]]
        contexts = batch["context"]
        encoded = tokenizer(
            questions if pad_on_right else contexts,
            contexts if pad_on_right else questions,
            truncation="only_second" if pad_on_right else "only_first",
            max_length=max_length,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        sample_map = encoded.pop("overflow_to_sample_mapping")
        offsets = encoded.pop("offset_mapping")
        context_index = 1 if pad_on_right else 0
        encoded["example_id"] = [batch["id"][s] for s in sample_map]
        if not train:
            encoded["offset_mapping"] = [
                [
                    o if seq == context_index else None
                    for o, seq in zip(offs, encoded.sequence_ids(i), strict=True)
                ]
                for i, offs in enumerate(offsets)
            ]
            return dict(encoded)
        starts: list[int] = []
        ends: list[int] = []
        for i, offs in enumerate(offsets):
            input_ids = encoded["input_ids"][i]
            cls_index = input_ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in input_ids else 0
            answers = batch["answers"][sample_map[i]]
            if not answers["answer_start"]:
                starts.append(cls_index)
                ends.append(cls_index)
                continue
            start_char = answers["answer_start"][0]
            end_char = start_char + len(answers["text"][0])
            sequence_ids = encoded.sequence_ids(i)
            first = sequence_ids.index(context_index)
            last = len(sequence_ids) - 1 - sequence_ids[::-1].index(context_index)
            if offs[first][0] > start_char or offs[last][1] < end_char:
                starts.append(cls_index)
                ends.append(cls_index)
                continue
            token_start = first
            while token_start <= last and offs[token_start][0] <= start_char:
                token_start += 1
            token_end = last
            while token_end >= first and offs[token_end][1] >= end_char:
                token_end -= 1
            starts.append(token_start - 1)
            ends.append(token_end + 1)
        encoded["start_positions"] = starts
        encoded["end_positions"] = ends
        return dict(encoded)

    def pick_feature(self, rows: list[dict[str, Any]], tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
        """The window holding the answer (a context longer than ``max_length`` gives several)."""
        cls = tokenizer.cls_token_id
        answered = [r for r in rows if r.get("start_positions", 0) != r["input_ids"].index(cls)]
        return (answered or rows)[0]

    def example_lengths(self, raw: Any, tokenizer: PreTrainedTokenizerBase, max_length: int) -> list[int]:
        """One item per example (`pick_feature`), so lengths of the question/context pair, capped."""
        return [
            min(max_length, len(tokenizer(q, c)["input_ids"]))
            for q, c in zip(raw["question"], raw["context"], strict=True)
        ]

    def head_class(self) -> Any:
        from transformers import AutoModelForQuestionAnswering

        return AutoModelForQuestionAnswering

    def dev_metrics(self, examples: Any, windows: Any) -> MetricFn:
        def qa_metrics(prediction: EvalPrediction) -> dict[str, float]:
            start_logits, end_logits = tuple(prediction.predictions)[:2]
            texts = best_spans(start_logits, end_logits, windows, examples)
            return squad_metrics(texts, [a["text"] for a in examples["answers"]])

        return qa_metrics

    def score(self, outputs: Any, examples: Any, windows: Any, task: FormatTask) -> Scored:
        """Best span per example against every gold answer; ``gold`` holds the gold answer texts."""
        start_logits, end_logits = outputs[:2]
        texts = best_spans(start_logits, end_logits, windows, examples)
        gold = [list(a["text"]) for a in examples["answers"]]
        return Scored({**squad_metrics(texts, gold), "n": len(gold)}, gold, texts)


EXTRACTIVE_QA = ExtractiveQA()
