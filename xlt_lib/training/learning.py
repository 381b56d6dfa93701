"""Did a run learn? The check that keeps a degenerate run from passing as a result.

A fine-tuned classifier that never left the loss of a uniform guess, or that
predicts the majority class everywhere, still produces a full set of per-language
accuracies, and a comparison between conditions over such runs is a comparison of
label distributions. Near a data-size threshold (PAWS-X below ~4,000 pairs on the
offline default, XNLI at a few hundred) outcomes are bimodal: some seeds learn and
some do not, so a mean over them is a mixture, not a noisy estimate. Each run is
therefore judged on its own, and a run that did not learn says so in its record
(``metrics.json`` → ``learning``), in the runner's output and at the top of the
reports.

Three signs, each sufficient (`LearningCheck.reasons` names every sign present):

* **one class everywhere**: a single predicted label over every language;
* **no better than the majority class**: on the language it was fine-tuned in
  (English; all languages pooled where English is not evaluated), accuracy is not
  above the majority-class rate by more than chance allows (one-sided exact
  binomial test, p ≥ `ALPHA`);
* **loss at chance**: the training loss over the last quarter of logged steps is
  within `LOSS_MARGIN` nats of ln(k), the loss of a uniform guess over k classes
  (a model predicting the label prior sits at the prior's entropy, below ln k by at
  most a few hundredths for the study's near-balanced tasks).

Only formats whose predictions are label indices are judged (classification and
multiple choice); extractive QA and tagging records carry no ``learning`` entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: One-sided significance level of "above the majority-class rate". Strict on purpose: a run
#: counts as having learned only when chance is an implausible explanation of its accuracy.
ALPHA = 0.01
#: How close (in nats) the final training loss may come to ln(k) before it counts as at chance.
LOSS_MARGIN = 0.02
#: Formats whose ``prediction`` column holds label indices.
JUDGED_FORMATS: tuple[str, ...] = ("classification", "multiple_choice")
#: The language a phase-3 run is fine-tuned in.
TRAINING_LANGUAGE = "en"


@dataclass(frozen=True)
class LearningCheck:
    """The verdict on one run: ``learned`` is False when any reason is present."""

    reasons: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def learned(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        """The ``learning`` entry of ``metrics.json``."""
        return {"learned": self.learned, "reasons": list(self.reasons), **self.evidence}


def majority_rate(gold: Sequence[int]) -> float:
    """The accuracy of always predicting the most frequent gold label."""
    if not gold:
        return 0.0
    counts: dict[int, int] = {}
    for label in gold:
        counts[int(label)] = counts.get(int(label), 0) + 1
    return max(counts.values()) / len(gold)


def above_majority_p(correct: int, n: int, majority: float) -> float:
    """One-sided exact binomial p-value of ``correct``/``n`` under the majority-class rate."""
    from scipy.stats import binomtest  # heavy third-party import: only when a run is judged

    if n == 0:
        return 1.0
    return float(binomtest(correct, n, min(majority, 1.0), alternative="greater").pvalue)


def final_loss(log_history: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean training loss over the last quarter (at least one) of the logged steps, or None."""
    losses = [float(entry["loss"]) for entry in log_history if "loss" in entry]
    if not losses:
        return None
    tail = losses[-max(1, len(losses) // 4) :]
    return sum(tail) / len(tail)


def _loss_reason(loss: float | None, num_classes: int) -> str | None:
    if loss is None or num_classes < 2:
        return None
    chance = math.log(num_classes)
    if loss >= chance - LOSS_MARGIN:
        return f"its training loss never left ln({num_classes}) = {chance:.3f} (final {loss:.3f})"
    return None


def _judge(
    where: str, correct: int, n: int, majority: float, *, train_loss: float | None, num_classes: int
) -> tuple[list[str], dict[str, Any]]:
    """The accuracy and loss signs, and their evidence, for ``correct`` of ``n`` judged on ``where``."""
    reasons: list[str] = []
    accuracy = correct / n if n else 0.0
    p_value = above_majority_p(correct, n, majority)
    if p_value >= ALPHA:
        reasons.append(
            f"{where} accuracy {accuracy:.3f} is within noise of its majority-class rate {majority:.3f} "
            f"(one-sided binomial p = {p_value:.2g}, n = {n})"
        )
    loss_reason = _loss_reason(train_loss, num_classes)
    if loss_reason:
        reasons.append(loss_reason)
    evidence = {
        "judged_on": where,
        "accuracy": accuracy,
        "majority_rate": majority,
        "p_above_majority": p_value,
        "n": n,
        "final_train_loss": train_loss,
        "chance_loss": math.log(num_classes) if num_classes >= 2 else None,
    }
    return reasons, evidence


def check_transfer(
    gold: Sequence[int],
    prediction: Sequence[int],
    language: Sequence[str],
    *,
    num_classes: int,
    train_loss: float | None,
) -> LearningCheck:
    """Judge a phase-3 run from its per-example predictions and its final training loss.

    ``gold``, ``prediction`` and ``language`` are the columns of ``predictions.parquet``;
    ``num_classes`` is k for the loss criterion (labels, or choices for multiple choice).
    """
    predicted = sorted({int(p) for p in prediction})
    one_class = [f"it predicts one class ({predicted[0]}) in every language"] if len(predicted) == 1 else []
    rows = [i for i, lang in enumerate(language) if lang == TRAINING_LANGUAGE]
    where = TRAINING_LANGUAGE
    if not rows:  # English not evaluated (a target restricted to other languages): judge them all
        rows, where = list(range(len(gold))), "all languages"
    correct = sum(int(gold[i]) == int(prediction[i]) for i in rows)
    majority = majority_rate([int(gold[i]) for i in rows])
    reasons, evidence = _judge(
        where, correct, len(rows), majority, train_loss=train_loss, num_classes=num_classes
    )
    return LearningCheck(tuple(one_class + reasons), {**evidence, "predicted_classes": len(predicted)})


def check_dev(
    accuracy: float, n: int, majority: float, *, train_loss: float | None, num_classes: int
) -> LearningCheck:
    """Judge a phase-2 run from its English dev accuracy (``majority``: the dev set's majority-class rate)."""
    reasons, evidence = _judge(
        "dev", round(accuracy * n), n, majority, train_loss=train_loss, num_classes=num_classes
    )
    return LearningCheck(tuple(reasons), evidence)


def check_multitask(dev: Mapping[str, Any], formats: Mapping[str, str]) -> LearningCheck | None:
    """Judge a multi-task phase-2 run task by task, from each task's English dev accuracy.

    ``dev`` is the run's per-task dev record (task -> scores with ``accuracy``, ``n`` and
    ``majority_rate``), ``formats`` each task's format. Only the accuracy sign applies:
    the logged training loss mixes tasks with different numbers of classes, so it has
    no single chance level. A task that did not learn makes the run not learned, with
    the task named in the reason. None when no task is of a judged format.
    """
    reasons: list[str] = []
    evidence: dict[str, Any] = {}
    for task, scores in dev.items():
        if formats.get(task) not in JUDGED_FORMATS or not isinstance(scores, Mapping):
            continue
        if "accuracy" not in scores or "majority_rate" not in scores:
            continue
        n = int(scores["n"])
        found, task_evidence = _judge(
            "dev",
            round(float(scores["accuracy"]) * n),
            n,
            float(scores["majority_rate"]),
            train_loss=None,
            num_classes=0,
        )
        reasons += [f"{task}: {reason}" for reason in found]
        evidence[task] = task_evidence
    if not evidence:
        return None
    return LearningCheck(tuple(reasons), {"judged_on": "dev", "tasks": evidence})
