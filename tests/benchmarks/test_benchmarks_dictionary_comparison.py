"""``benchmarks/dictionary_comparison.py``: per-condition scores and the contrasts between code-switched conditions."""

from __future__ import annotations

import pandas as pd
import pytest
from bench_loader import load_benchmark

comparison = load_benchmark("dictionary_comparison")

SEED_OFFSETS = (-0.02, -0.01, 0.0, 0.01, 0.02)


def _results(shift: dict[str, float]) -> pd.DataFrame:
    """Load-results-shaped rows: 5 seeds x {en, sw, ur}; ``shift`` moves one condition's sw accuracy."""
    rows = []
    for condition in ("muse-only", "muse-lists", "muse-induced", "muse-filled"):
        for seed, offset in zip(range(1, 6), SEED_OFFSETS, strict=True):
            for language, base in (("en", 0.55), ("sw", 0.45), ("ur", 0.44)):
                extra = shift.get(condition, 0.0) if language == "sw" else 0.0
                rows.append(
                    {
                        "condition": condition,
                        "seed": seed,
                        "language": language,
                        "accuracy": base + offset + extra,
                    }
                )
    return pd.DataFrame(rows)


def test_scores_are_percent_with_the_average_over_every_language() -> None:
    scores = comparison.seed_scores(_results({}), ["sw", "ur"])
    assert list(scores.columns) == ["sw", "ur", "avg"]
    assert scores.loc[("muse-only", 3), "sw"] == pytest.approx(45.0)
    assert scores.loc[("muse-only", 3), "avg"] == pytest.approx((55 + 45 + 44) / 3)
    table = comparison.accuracy_table(scores).set_index(["condition", "language"])
    assert table.loc[("muse-only", "sw"), "seeds"] == "43.0 44.0 45.0 46.0 47.0"
    assert table.loc[("muse-only", "sw"), "sd"] == pytest.approx(1.58, abs=0.01)


def test_a_real_difference_is_found_and_equal_conditions_are_not() -> None:
    scores = comparison.seed_scores(_results({"muse-induced": 0.10}), ["sw", "ur"])
    table = comparison.contrast_table(scores, 0.05).set_index(["contrast", "language"])
    assert len(table) == len(comparison.CONTRASTS) * 3, "every contrast x (sw, ur, avg) is one test"
    hit = table.loc[("muse-induced - muse-only", "sw")]
    assert hit["diff"] == pytest.approx(10.0) and hit["significant"]
    assert hit["p_holm"] >= hit["p_welch"], "Holm never lowers a p-value"
    assert not table.loc[("muse-filled - muse-lists", "sw"), "significant"]
    assert table.loc[("muse-filled - muse-lists", "sw"), "diff"] == pytest.approx(0.0)


def test_contrasts_whose_conditions_did_not_run_are_left_out() -> None:
    results = _results({})
    scores = comparison.seed_scores(results[results["condition"] != "muse-only"], ["sw"])
    contrasts = set(comparison.contrast_table(scores, 0.05)["contrast"])
    assert contrasts == {"muse-induced - muse-lists", "muse-filled - muse-lists"}
