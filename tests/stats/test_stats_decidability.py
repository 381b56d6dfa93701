"""Issue 14, point 2: a test that cannot reach alpha after its family's correction says "cannot decide"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from xlt_lib.report.results import load_results
from xlt_lib.stats import (
    compare_conditions,
    compare_examples,
    comparison_state,
    describe_findings,
    format_examples,
)
from xlt_lib.stats.decidability import seed_test_floor, seeds_to_decide
from xlt_lib.stats.multiple import adjust_pvalues, smallest_adjusted_p
from xlt_lib.stats.settings import CORRECTIONS, DEFAULT_TEST
from xlt_lib.stats.simulate import XNLI_LANGUAGES, SimulatedDesign, planted_effects, simulate_results

MAIN = {"monolingual": ("monolingual", "mnli"), "codeswitched": ("codeswitched", "mnli")}


@pytest.mark.parametrize("correction", CORRECTIONS)
@pytest.mark.parametrize("size", [1, 3, 15])
def test_smallest_adjusted_p_is_the_correction_of_a_family_at_its_floor(correction: str, size: int) -> None:
    floor = 2 / 252
    expected = adjust_pvalues(np.full(size, floor), method=correction)["p_adjusted"].min()
    assert smallest_adjusted_p(floor, size, correction=correction) == pytest.approx(expected)


@pytest.fixture(scope="module")
def permutation_table() -> pd.DataFrame:
    """5 vs 5 seeds, 15 languages, +6 points in 5 of them, exact permutation test, Holm."""
    design = SimulatedDesign(conditions=MAIN, language_sd=0.003, run_sd=0.002)
    results = simulate_results(design, effects={"codeswitched": planted_effects(XNLI_LANGUAGES, 6, 5)}, rng=2)
    return compare_conditions(results, test="permutation", n_resamples=999)


def test_five_seeds_permutation_holm_over_fifteen_cannot_decide(permutation_table: pd.DataFrame) -> None:
    made = permutation_table[permutation_table["compared"]]
    languages = made[made["language"] != "avg"]
    # The floor 2/252 is below alpha, but not after Holm over 15: 15 x 0.0079 = 0.119.
    assert (languages["min_attainable_p"] < 0.05).all()
    np.testing.assert_allclose(languages["min_attainable_p_adjusted"], 15 * 2 / 252)
    assert not languages["decidable"].any() and (languages["seeds_to_decide"] == 6).all()
    assert not languages["significant"].any()  # even the real +6-point effects
    assert all(comparison_state(row, 0.05) == "cannot tell" for _, row in languages.iterrows())
    assert languages["note"].str.contains("cannot decide with this design").all()
    assert languages["note"].str.contains("6 seeds per condition would make it decidable").all()
    words = describe_findings(permutation_table)
    assert "15 language test(s) cannot decide with this design" in words
    assert "6 seeds per condition would make every language test decidable" in words
    assert "no significant difference, on average or in any language" not in words


def test_the_average_of_the_same_design_can_decide(permutation_table: pd.DataFrame) -> None:
    avg = permutation_table[permutation_table["language"] == "avg"].iloc[0]  # skipped rows have language ""
    assert avg["family_size"] == 1 and bool(avg["decidable"]) and avg["seeds_to_decide"] == 4


@pytest.mark.parametrize("seeds", [3, 5])
def test_the_default_test_decides_with_the_demo_design(seeds: int) -> None:
    """The demo: 3 seeds today, at least 5 soon; 15 XNLI + 7 PAWS-X languages in one family under Holm."""
    assert DEFAULT_TEST == "welch"
    assert seed_test_floor(DEFAULT_TEST, seeds, seeds) == 0.0
    assert seeds_to_decide(DEFAULT_TEST, 22, alpha=0.05, correction="holm") == 2
    assert seeds_to_decide("permutation", 22, alpha=0.05, correction="holm") > seeds


def test_holm_agrees_with_statsmodels() -> None:
    p = np.random.default_rng(0).uniform(0, 0.2, 40)
    p[:3] = [0.001, 0.001, 0.0004]  # ties and small values
    reject, corrected, _, _ = multipletests(p, alpha=0.05, method="holm")
    table = adjust_pvalues(p, method="holm")
    np.testing.assert_allclose(table["p_adjusted"], corrected)
    assert (table["reject"] == reject).all()


def test_example_tests_say_when_the_resamples_cannot_decide(planted_experiment: Path) -> None:
    results = load_results(planted_experiment)
    examples = compare_examples(results, n_resamples=99, per_seed=False)
    # Floor 1/100 after Holm over 6 tests (2 targets x 3 languages) is 0.06 > 0.05.
    assert not examples["decidable"].any() and not examples["significant"].any()
    shown = format_examples(examples)
    assert shown["note"].str.contains("cannot decide with this design").all()
    assert shown["note"].str.contains("n_resamples >= 999 would").all()
    assert compare_examples(results, n_resamples=999, per_seed=False)["decidable"].all()
