"""Metrics: accuracy/macro-F1, SQuAD normalisation and scoring, best-span post-processing."""

from __future__ import annotations

import numpy as np
import pytest

from xlt_lib.tasks.formats.metrics import (
    best_spans,
    classification_metrics,
    normalize_answer,
    squad_metrics,
    token_accuracy,
)


def test_classification_metrics_match_a_hand_computation() -> None:
    gold = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    scores = classification_metrics(pred, gold, 3)
    # per class: P/R = 1/2,1/2 -> F1 0.5; 2/3,1 -> 0.8; 1,1/2 -> 2/3
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_macro_f1_ignores_classes_absent_from_gold_and_predictions() -> None:
    scores = classification_metrics(np.array([0, 1]), np.array([0, 1]), 3)
    assert scores == {"accuracy": 1.0, "macro_f1": 1.0}


def test_token_accuracy_skips_ignored_positions() -> None:
    gold = np.array([[-100, 1, 2, -100], [-100, 0, -100, -100]])
    pred = np.array([[5, 1, 0, 5], [5, 0, 5, 5]])
    assert token_accuracy(pred, gold)["accuracy"] == pytest.approx(2 / 3)


def test_squad_normalisation_and_scores() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    scores = squad_metrics(["the cat sat", "dog"], [["cat sat", "a cat"], ["a big dog", "wolf"]])
    assert scores["exact_match"] == pytest.approx(50.0)
    # second: pred "dog" vs "big dog" -> P 1, R 1/2 -> F1 2/3
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_best_spans_picks_the_highest_valid_span_across_windows() -> None:
    context = "Paris is the capital of France."
    # two windows of the same example; offsets None outside the context
    offsets = [
        [None, (0, 5), (6, 8), (9, 12), None],
        [None, (13, 20), (21, 23), (24, 30), None],
    ]
    features = {"example_id": ["q1", "q1"], "offset_mapping": offsets}
    start = np.array([[9.0, 5.0, 0, 0, 0], [0, 1.0, 0, 2.0, 0]])
    end = np.array([[9.0, 4.0, 0, 0, 0], [0, 0, 0, 3.0, 9.0]])
    # window 0: best valid span is token 1..1 ("Paris", score 9); CLS (index 0) is excluded
    answers = best_spans(start, end, features, [{"id": "q1", "context": context}])
    assert answers == ["Paris"]
    assert best_spans(
        start, end, {"example_id": [], "offset_mapping": []}, [{"id": "q2", "context": "x"}]
    ) == [""]
