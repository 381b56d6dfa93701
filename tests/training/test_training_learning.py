"""The degenerate-run check: constant or chance-level runs are flagged, runs that learn are not."""

from __future__ import annotations

import math
import random

import pytest

from xlt_lib.training.learning import (
    ALPHA,
    LOSS_MARGIN,
    check_dev,
    check_multitask,
    check_transfer,
    final_loss,
    majority_rate,
)

LANGUAGES = ("en", "de", "sw")


def _gold(n_per_language: int, seed: int = 0) -> tuple[list[int], list[str]]:
    rng = random.Random(seed)
    gold, language = [], []
    for lang in LANGUAGES:
        gold += [rng.randrange(3) for _ in range(n_per_language)]
        language += [lang] * n_per_language
    return gold, language


def test_constant_predictions_are_flagged_with_every_sign() -> None:
    gold, language = _gold(200)
    majority = max(set(gold), key=gold.count)
    check = check_transfer(gold, [majority] * len(gold), language, num_classes=3, train_loss=1.0980)
    assert not check.learned
    assert any("predicts one class" in reason for reason in check.reasons)
    assert any("within noise of its majority-class rate" in reason for reason in check.reasons)
    assert any("never left ln(3)" in reason for reason in check.reasons)
    record = check.to_dict()
    assert record["learned"] is False and record["judged_on"] == "en" and record["predicted_classes"] == 1


def test_a_run_that_learns_is_not_flagged() -> None:
    gold, language = _gold(200)
    rng = random.Random(1)
    prediction = [label if rng.random() < 0.7 else (label + 1) % 3 for label in gold]
    check = check_transfer(gold, prediction, language, num_classes=3, train_loss=0.75)
    assert check.learned and check.reasons == ()
    assert check.to_dict()["p_above_majority"] < ALPHA


def test_varied_but_chance_level_predictions_are_flagged() -> None:
    """Several classes predicted, but English no better than guessing: still not learned."""
    gold, language = _gold(150)
    rng = random.Random(2)
    prediction = [rng.randrange(3) for _ in gold]
    check = check_transfer(gold, prediction, language, num_classes=3, train_loss=1.05)
    assert not check.learned
    assert len(check.reasons) == 1 and "within noise" in check.reasons[0]


def test_only_english_is_judged_for_accuracy() -> None:
    """Zero-shot languages may legitimately sit near chance; the fine-tuning language may not."""
    gold, language = _gold(200)
    rng = random.Random(3)
    prediction = [
        label if (lang == "en" and rng.random() < 0.8) else rng.randrange(3)
        for label, lang in zip(gold, language, strict=True)
    ]
    assert check_transfer(gold, prediction, language, num_classes=3, train_loss=0.6).learned


def test_without_english_all_languages_are_judged() -> None:
    gold, language = _gold(100)
    keep = [i for i, lang in enumerate(language) if lang != "en"]
    gold = [gold[i] for i in keep]
    language = [language[i] for i in keep]
    check = check_transfer(gold, list(gold), language, num_classes=3, train_loss=None)
    assert check.learned and check.to_dict()["judged_on"] == "all languages"


@pytest.mark.parametrize(
    ("loss", "flagged"),
    [(math.log(2), True), (math.log(2) - LOSS_MARGIN / 2, True), (0.55, False), (None, False)],
)
def test_loss_at_chance(loss: float | None, flagged: bool) -> None:
    gold = [0, 1] * 100
    language = ["en"] * 200
    check = check_transfer(gold, list(gold), language, num_classes=2, train_loss=loss)
    assert any("never left ln(2)" in reason for reason in check.reasons) is flagged


def test_final_loss_reads_the_last_quarter_of_logged_steps() -> None:
    history = [
        {"loss": 1.1},
        {"loss": 1.1},
        {"eval_loss": 9.0},
        {"loss": 1.1},
        {"loss": 0.5},
        {"train_runtime": 3},
    ]
    assert final_loss(history) == pytest.approx(0.5)
    assert final_loss([{"loss": 0.9}]) == pytest.approx(0.9)
    assert final_loss([{"train_runtime": 1.0}]) is None


def test_majority_rate() -> None:
    assert majority_rate([0, 0, 1, 2]) == 0.5
    assert majority_rate([]) == 0.0


def test_phase2_dev_at_chance_is_flagged() -> None:
    at_chance = check_dev(0.58, 300, 0.57, train_loss=0.684, num_classes=2)
    assert not at_chance.learned
    assert any("dev accuracy 0.580" in reason for reason in at_chance.reasons)
    assert check_dev(0.80, 300, 0.57, train_loss=0.45, num_classes=2).learned


def test_multitask_runs_are_judged_task_by_task_on_accuracy_alone() -> None:
    dev = {
        "mnli": {"accuracy": 0.34, "n": 200, "majority_rate": 0.35},
        "cosmosqa": {"accuracy": 0.62, "n": 200, "majority_rate": 0.26},
        "squad": {"f1": 0.4, "n": 50},
        "average": 0.45,
    }
    formats = {"mnli": "classification", "cosmosqa": "multiple_choice", "squad": "extractive_qa"}
    check = check_multitask(dev, formats)
    assert check is not None and not check.learned
    assert len(check.reasons) == 1 and check.reasons[0].startswith("mnli: dev accuracy 0.340")
    assert set(check.evidence["tasks"]) == {"mnli", "cosmosqa"}
    dev["mnli"]["accuracy"] = 0.6
    learned = check_multitask(dev, formats)
    assert learned is not None and learned.learned
    assert check_multitask({"squad": dev["squad"]}, formats) is None
