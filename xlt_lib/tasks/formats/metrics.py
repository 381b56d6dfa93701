"""Evaluation metrics: accuracy and macro-F1, token accuracy, SQuAD EM/F1.

Written here rather than imported: scikit-learn and `evaluate` are not
dependencies, and each metric is a few lines of numpy. The SQuAD answer
normalisation and token F1 follow the official SQuAD v1.1 evaluation script
exactly (lower-case, strip punctuation and English articles, collapse spaces; max
over gold answers), and the span post-processing is the standard one of the
Hugging Face question-answering examples (best start/end pair among the top-n
logits, inside the context, at most ``max_answer_length`` tokens).

The format modules (`xlt_lib.tasks.formats`) choose which of these scores a
format; they are imported with the task registry, which validating an experiment
file reads, so numpy is imported where it is used rather than with this module.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike


def classification_metrics(predictions: ArrayLike, gold: ArrayLike, num_labels: int) -> dict[str, float]:
    """Accuracy and macro-F1 (the unweighted mean of per-class F1).

    A class absent from both gold and predictions (possible in a small subsample)
    is left out of the mean rather than counted as F1 0.
    """
    import numpy as np

    predictions = np.asarray(predictions, dtype=np.int64)
    gold = np.asarray(gold, dtype=np.int64)
    if len(gold) == 0:
        return {"accuracy": float("nan"), "macro_f1": float("nan")}
    confusion = np.bincount(gold * num_labels + predictions, minlength=num_labels * num_labels).reshape(
        num_labels, num_labels
    )
    true_pos = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    present = (support + predicted) > 0
    f1 = np.divide(2 * true_pos, support + predicted, out=np.zeros(num_labels), where=present)
    return {"accuracy": float((predictions == gold).mean()), "macro_f1": float(f1[present].mean())}


def token_accuracy(predictions: ArrayLike, gold: ArrayLike) -> dict[str, float]:
    """Accuracy over tagged tokens (gold ``-100`` marks sub-word continuations and specials)."""
    import numpy as np

    predictions, gold = np.asarray(predictions), np.asarray(gold)
    mask = gold != -100
    return {"accuracy": float((predictions[mask] == gold[mask]).mean()) if mask.any() else float("nan")}


# -- SQuAD -------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """The official SQuAD v1.1 normalisation."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(prediction: str, gold: str) -> float:
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:  # SQuAD 2.0 convention for empty answers
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred_tokens), overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_metrics(predictions: Sequence[str], gold_answers: Sequence[Sequence[str]]) -> dict[str, float]:
    """Exact match and token F1 in percent, max over each question's gold answers."""
    exact, f1 = [], []
    for prediction, golds in zip(predictions, gold_answers, strict=True):
        golds = list(golds) or [""]
        exact.append(max(float(normalize_answer(prediction) == normalize_answer(g)) for g in golds))
        f1.append(max(_f1(prediction, g) for g in golds))
    n = max(len(exact), 1)
    return {"exact_match": 100.0 * sum(exact) / n, "f1": 100.0 * sum(f1) / n}


def best_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    features: Any,
    examples: Any,
    *,
    n_best: int = 20,
    max_answer_length: int = 30,
) -> list[str]:
    """The best answer text per example from per-feature start/end logits.

    ``features`` need ``example_index`` (or ``example_id``) and ``offset_mapping``
    where non-context tokens have offset ``None`` (the Hugging Face QA example
    convention); ``examples`` need ``id`` and ``context``. An example with no valid
    span gets ``""``.
    """
    import numpy as np

    by_example: dict[str, list[int]] = collections.defaultdict(list)
    feature_ids = features["example_id"]
    for i, example_id in enumerate(feature_ids):
        by_example[example_id].append(i)
    offsets_all = features["offset_mapping"]
    answers: list[str] = []
    for example in examples:
        context = example["context"]
        best_score, best_text = -np.inf, ""
        for i in by_example.get(example["id"], []):
            offsets = offsets_all[i]
            starts = np.argsort(start_logits[i])[-1 : -n_best - 1 : -1]
            ends = np.argsort(end_logits[i])[-1 : -n_best - 1 : -1]
            for s in starts:
                for e in ends:
                    if s >= len(offsets) or e >= len(offsets) or offsets[s] is None or offsets[e] is None:
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    score = start_logits[i][s] + end_logits[i][e]
                    if score > best_score:
                        best_score, best_text = score, context[offsets[s][0] : offsets[e][1]]
        answers.append(best_text)
    return answers
