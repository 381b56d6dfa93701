"""Example-level tests: against scipy/statsmodels on fixed vectors, size under H0, power under H1, pairing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from xlt_lib.errors import XltError
from xlt_lib.stats import (
    PairingError,
    StatsError,
    approximate_randomization,
    mcnemar_exact,
    pair_predictions,
    paired_bootstrap,
)

# Fixed per-example correctness of two systems on 60 examples (A right on 42, B on 33).
A = np.array([1] * 30 + [1] * 12 + [0] * 3 + [0] * 15)
B = np.array([1] * 30 + [0] * 12 + [1] * 3 + [0] * 15)


def test_bootstrap_ci_matches_scipy_percentile_bootstrap() -> None:
    ours = paired_bootstrap(A, B, n_resamples=20_000, seed=1)
    ref = stats.bootstrap(
        (A - B,), np.mean, method="percentile", n_resamples=20_000, rng=np.random.default_rng(2)
    )
    assert ours.difference == pytest.approx((A - B).mean())
    # Monte Carlo error of a 2.5% quantile with 20k resamples is about 0.003 here.
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.012)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.012)


def test_bootstrap_p_value_is_the_shifted_null_count() -> None:
    """Berg-Kirkpatrick et al.: p counts resamples with delta* - delta at least as extreme as delta."""
    result = paired_bootstrap(A, B, n_resamples=5000, seed=3, alternative="greater")
    d = A - B
    rng = np.random.default_rng(3)
    values, counts = np.unique(d, return_counts=True)
    resampled = rng.multinomial(d.size, counts / d.size, size=5000) @ values / d.size
    expected = (1 + np.sum(resampled >= 2 * d.mean() - 1e-12)) / 5001
    assert result.p_value == pytest.approx(expected)
    assert 0 < result.p_value < 0.05  # 12 vs 3 discordant pairs: a clear difference


def test_randomization_matches_scipy_exact_paired_permutation_on_small_data() -> None:
    a = np.array([0.9, 0.4, 0.7, 0.2, 0.8, 0.65, 0.3, 0.55, 0.1, 0.95])
    b = np.array([0.5, 0.45, 0.3, 0.1, 0.6, 0.2, 0.35, 0.25, 0.15, 0.4])
    ref = stats.permutation_test(
        (a, b), lambda x, y: np.mean(x - y), permutation_type="samples", n_resamples=np.inf
    )  # exact: all 2**10 sign flips
    ours = approximate_randomization(a, b, n_resamples=50_000, seed=0)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=0.006)


def test_randomization_converges_to_exact_mcnemar_on_correctness() -> None:
    exact = mcnemar([[30, 12], [3, 15]], exact=True).pvalue
    ours = approximate_randomization(A, B, n_resamples=100_000, seed=0)
    assert ours.n_differing == 15
    assert ours.p_value == pytest.approx(exact, abs=0.003)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_mcnemar_matches_statsmodels_and_scipy(alternative: str) -> None:
    result = mcnemar_exact(A, B, alternative=alternative)
    assert (result.both_correct, result.only_a_correct, result.only_b_correct, result.both_wrong) == (
        30,
        12,
        3,
        15,
    )
    if alternative == "two-sided":
        expected = mcnemar([[30, 12], [3, 15]], exact=True).pvalue
    else:
        expected = stats.binomtest(12, 15, 0.5, alternative=alternative).pvalue
    assert result.p_value == pytest.approx(expected)
    assert result.n_examples == 60


def test_no_discordant_pairs_gives_p_one() -> None:
    assert mcnemar_exact(A, A).p_value == 1.0
    assert approximate_randomization(A, A, n_resamples=99).p_value == 1.0
    assert paired_bootstrap(A, A, n_resamples=99).p_value == 1.0


def _simulate(null: bool, reps: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Paired correctness: a shared example difficulty, and B 8 points worse than A under H1."""
    difficulty = rng.random((reps, n))
    a = (difficulty < 0.7).astype(float)
    # Independent noise per system so that there are discordant pairs.
    a = np.where(rng.random((reps, n)) < 0.3, rng.random((reps, n)) < 0.7, a)
    shift = 0.0 if null else 0.08
    b = (difficulty < 0.7 - shift).astype(float)
    b = np.where(rng.random((reps, n)) < 0.3, rng.random((reps, n)) < 0.7 - shift, b)
    return a, b


def test_type_one_error_rates_are_near_nominal() -> None:
    """Under H0 each test rejects at about alpha.

    300 repetitions: the rejection count is Binomial(300, 0.05) if the test is
    exact, with SE sqrt(0.05 * 0.95 / 300) = 0.0126; we accept 0.05 +- 3.5 SE
    ([0.006, 0.094]). Tests on discrete data are somewhat conservative, so the
    lower end matters less than the upper.
    """
    rng = np.random.default_rng(42)
    a, b = _simulate(null=True, reps=300, n=200, rng=rng)
    rejections = {"bootstrap": 0, "randomization": 0, "mcnemar": 0}
    for i in range(a.shape[0]):
        rejections["bootstrap"] += paired_bootstrap(a[i], b[i], n_resamples=399, seed=i).p_value <= 0.05
        rejections["randomization"] += (
            approximate_randomization(a[i], b[i], n_resamples=399, seed=i).p_value <= 0.05
        )
        rejections["mcnemar"] += mcnemar_exact(a[i], b[i]).p_value <= 0.05
    rates = {name: count / a.shape[0] for name, count in rejections.items()}
    for name, rate in rates.items():
        assert 0.006 <= rate <= 0.094, f"{name}: type-I error rate {rate:.3f} at alpha 0.05"


def test_power_on_a_planted_difference() -> None:
    rng = np.random.default_rng(7)
    a, b = _simulate(null=False, reps=60, n=800, rng=rng)
    powers = {
        "bootstrap": np.mean(
            [paired_bootstrap(a[i], b[i], n_resamples=399, seed=i).p_value <= 0.05 for i in range(60)]
        ),
        "randomization": np.mean(
            [
                approximate_randomization(a[i], b[i], n_resamples=399, seed=i).p_value <= 0.05
                for i in range(60)
            ]
        ),
        "mcnemar": np.mean([mcnemar_exact(a[i], b[i]).p_value <= 0.05 for i in range(60)]),
    }
    for name, power in powers.items():
        assert power >= 0.9, f"{name}: power {power:.2f} for an 8-point difference on 800 examples"


def test_results_are_deterministic_given_the_seed() -> None:
    assert paired_bootstrap(A, B, seed=5) == paired_bootstrap(A, B, seed=5)
    assert approximate_randomization(A, B, seed=5) == approximate_randomization(A, B, seed=5)


def test_bad_input_is_refused() -> None:
    with pytest.raises(StatsError, match="same length"):
        paired_bootstrap(A, B[:-1])
    with pytest.raises(StatsError, match="alternative"):
        approximate_randomization(A, B, alternative="bigger")
    with pytest.raises(StatsError, match="empty"):
        mcnemar_exact([], [])
    with pytest.raises(StatsError, match="0/1"):
        mcnemar_exact([0.5, 1], [1, 0])


def _predictions(
    ids: list[str], gold: list[int], prediction: list[int], language: str = "de"
) -> pd.DataFrame:
    return pd.DataFrame({"id": ids, "language": language, "gold": gold, "prediction": prediction})


def test_pairing_aligns_by_id_whatever_the_row_order() -> None:
    a = _predictions(["x1", "x2", "x3"], [0, 1, 2], [0, 1, 0])
    b = _predictions(["x3", "x1", "x2"], [2, 0, 1], [2, 1, 1])
    paired = pair_predictions(a, b)
    assert paired["id"].tolist() == ["x1", "x2", "x3"]
    assert paired["correct_a"].tolist() == [True, True, False]
    assert paired["correct_b"].tolist() == [False, True, True]


def test_pairing_refuses_unpaired_ids_with_counts_and_examples() -> None:
    a = _predictions([f"x{i}" for i in range(10)], [0] * 10, [0] * 10)
    b = _predictions([f"x{i}" for i in range(3, 12)], [0] * 9, [0] * 9)
    with pytest.raises(PairingError) as info:
        pair_predictions(a, b, name_a="cs seed 1", name_b="mono seed 1")
    message = str(info.value)
    assert "3 example(s) of cs seed 1 are missing from mono seed 1" in message
    assert "x0/de" in message and "2 example(s) of mono seed 1" in message
    assert isinstance(info.value, XltError)


def test_pairing_refuses_duplicates_and_gold_mismatch() -> None:
    a = _predictions(["x1", "x1", "x2"], [0, 0, 1], [0, 0, 1])
    b = _predictions(["x1", "x2"], [0, 1], [0, 1])
    with pytest.raises(
        PairingError, match=r"1 \(id, language\) key\(s\) more than once \(2 rows\), e.g. x1/de"
    ):
        pair_predictions(a, b)
    c = _predictions(["x1", "x2"], [0, 2], [0, 1])
    with pytest.raises(PairingError, match="disagree on the gold label of 1 example"):
        pair_predictions(b, c)


def test_pairing_keeps_languages_apart() -> None:
    a = pd.concat([_predictions(["x1"], [0], [0], "de"), _predictions(["x1"], [1], [1], "fr")])
    b = pd.concat([_predictions(["x1"], [1], [0], "fr"), _predictions(["x1"], [0], [1], "de")])
    paired = pair_predictions(a, b)
    assert paired["language"].tolist() == ["de", "fr"]
    assert paired["correct_b"].tolist() == [False, False]
