"""Seed-level tests, ASO, corrections and power, each against its reference implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

from xlt_lib.stats import (
    StatsError,
    adjust_pvalues,
    almost_stochastic_order,
    bootstrap_mean_difference,
    min_attainable_p,
    minimum_detectable_effect,
    partial_conjunction_pvalues,
    permutation_test,
    pooled_sd,
    replicability_count,
    seeds_needed,
    welch_test,
)
from xlt_lib.stats.aso import violation_ratio

CS = np.array([0.712, 0.705, 0.721, 0.699, 0.716])
MONO = np.array([0.701, 0.694, 0.707, 0.69, 0.698])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_welch_matches_scipy(alternative: str) -> None:
    ours = welch_test(CS, MONO, alternative=alternative)
    ref = stats.ttest_ind(CS, MONO, equal_var=False, alternative=alternative)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.difference == pytest.approx(CS.mean() - MONO.mean())


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_permutation_matches_scipy_and_is_exact_for_five_seeds(alternative: str) -> None:
    ours = permutation_test(CS, MONO, alternative=alternative)
    ref = stats.permutation_test(
        (CS, MONO),
        lambda x, y: np.mean(x) - np.mean(y),
        permutation_type="independent",
        alternative=alternative,
    )
    assert ours.exact and ours.p_value == pytest.approx(ref.pvalue)


def test_minimal_attainable_p_for_three_and_five_seeds() -> None:
    assert min_attainable_p(3, 3) == pytest.approx(2 / 20)  # = 0.1: never significant at 0.05
    assert min_attainable_p(5, 5) == pytest.approx(2 / 252)
    assert min_attainable_p(3, 3, alternative="greater") == pytest.approx(1 / 20)
    assert min_attainable_p(5, design="paired") == pytest.approx(0.0625)  # the field notes' figure
    assert min_attainable_p(3, design="paired") == pytest.approx(0.25)
    assert min_attainable_p(10, 10, n_resamples=999) == pytest.approx(2 / 1000)


@pytest.mark.parametrize("n", [3, 5])
def test_perfect_separation_reaches_exactly_the_floor(n: int) -> None:
    better = np.linspace(0.8, 0.81, n)
    worse = np.linspace(0.7, 0.71, n)
    result = permutation_test(better, worse)
    assert result.p_value == pytest.approx(result.min_attainable_p)
    assert result.min_attainable_p == pytest.approx(2 / math.comb(2 * n, n))
    ref = stats.permutation_test(
        (better, worse), lambda x, y: np.mean(x) - np.mean(y), permutation_type="independent"
    )
    assert ref.pvalue == pytest.approx(result.p_value)


def test_bootstrap_ci_matches_scipy() -> None:
    low, high = bootstrap_mean_difference(CS, MONO, n_resamples=5000, seed=4)
    ref = stats.bootstrap(
        (CS, MONO),
        lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        method="percentile",
        n_resamples=5000,
        rng=np.random.default_rng(4),
    )
    assert (low, high) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high))
    assert low < CS.mean() - MONO.mean() < high


def test_seed_tests_refuse_too_few_seeds() -> None:
    with pytest.raises(StatsError, match="1 seed"):
        welch_test([0.7], MONO)
    with pytest.raises(StatsError, match="NaN"):
        permutation_test([0.7, np.nan], MONO)


# --- Almost Stochastic Order -------------------------------------------------------------


def test_aso_identical_distributions_are_unordered() -> None:
    """Same distribution: the violation ratio averages 0.5 and eps_min rarely claims an order.

    With 10 seeds the ratio of one draw varies widely (the extreme seeds
    dominate the Wasserstein distance), so the check is over 40 draws: the
    mean ratio within 0.5 +- 0.1 (its SE is about 0.05), and eps_min < 0.2 (a
    false "better") in at most 10% of the 80 directions tested.
    """
    rng = np.random.default_rng(0)
    ratios, false_claims = [], 0
    for i in range(40):
        a, b = rng.normal(0.7, 0.01, 10), rng.normal(0.7, 0.01, 10)
        result = almost_stochastic_order(a, b, n_bootstrap=500, seed=i)
        ratios.append(result.violation_ratio)
        false_claims += result.a_better + result.b_better
    assert abs(np.mean(ratios) - 0.5) <= 0.1
    assert false_claims <= 8
    same = almost_stochastic_order(CS, CS)
    assert same.violation_ratio == 0.5 and same.eps_min >= 0.5


def test_aso_clearly_better_is_near_zero() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.75, 0.01, 10), rng.normal(0.70, 0.01, 10)
    result = almost_stochastic_order(a, b, seed=1)
    assert result.eps_min < 0.05 and result.a_better
    assert result.eps_min_reverse > 0.95


def test_aso_violation_ratio_is_antisymmetric() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.7, 0.02, 7), rng.normal(0.69, 0.02, 5)
    assert violation_ratio(a, b) + violation_ratio(b, a) == pytest.approx(1.0)


def test_aso_bonferroni_raises_the_confidence_level() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.7, 0.02, 7), rng.normal(0.69, 0.02, 7)
    one = almost_stochastic_order(a, b, seed=0)
    many = almost_stochastic_order(a, b, seed=0, num_comparisons=10)
    assert many.confidence_level == pytest.approx(0.995)
    assert many.eps_min >= one.eps_min


@pytest.mark.slow  # deepsig runs its bootstrap through joblib and np.vectorize: ~10 s for 300 draws
def test_aso_agrees_with_deepsig() -> None:
    deepsig = pytest.importorskip("deepsig")
    from deepsig.aso import compute_violation_ratio

    rng = np.random.default_rng(11)
    a, b = rng.normal(0.71, 0.02, 12), rng.normal(0.70, 0.02, 12)
    ours = almost_stochastic_order(a, b, n_bootstrap=4000, seed=0)
    theirs_ratio = compute_violation_ratio(a, b, dt=0.005)
    theirs = deepsig.aso(a, b, num_bootstrap_iterations=300, seed=0, show_progress=False)  # ~20 ms each
    # deepsig leaves the first grid point (t = dt) out of the violation integral only; add it back.
    t = 0.005
    first = np.sort(a)[0] - np.sort(b)[0]
    grid = np.arange(t, 1, t)
    idx = np.clip(np.ceil(12 * grid).astype(int) - 1, 0, 11)
    total = np.sum((np.sort(a)[idx] - np.sort(b)[idx]) ** 2)
    first_share = first**2 / total if first < 0 else 0.0
    assert ours.violation_ratio == pytest.approx(theirs_ratio + first_share, abs=1e-9)
    # The confidence margins (eps_min - eps_hat) are bootstrap estimates of the same sigma:
    # equal up to Monte Carlo error: a standard deviation from 300 draws has a relative
    # SE of about 1/sqrt(600) = 4%, so 20% is 5 SE.
    our_margin = ours.eps_min - ours.violation_ratio
    their_margin = theirs - theirs_ratio
    assert 0.05 < ours.eps_min < 0.95 and 0.05 < theirs < 0.95  # clipping does not hide disagreement
    assert our_margin == pytest.approx(their_margin, rel=0.2)


# --- Multiple comparisons ----------------------------------------------------------------

P = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])


def test_holm_matches_statsmodels_holm_not_its_holm_sidak_default() -> None:
    ours = adjust_pvalues(P, method="holm")
    reject, corrected, _, _ = multipletests(P, method="holm")
    np.testing.assert_allclose(ours["p_adjusted"], corrected)
    np.testing.assert_array_equal(ours["reject"], reject)
    default = multipletests(P)[1]  # method="hs"
    assert not np.allclose(ours["p_adjusted"], default)


def test_bh_matches_statsmodels_and_scipy() -> None:
    ours = adjust_pvalues(P, method="bh")
    np.testing.assert_allclose(ours["p_adjusted"], multipletests(P, method="fdr_bh")[1])
    np.testing.assert_allclose(ours["p_adjusted"], stats.false_discovery_control(P, method="bh"))


def test_nan_p_values_stay_out_of_the_family() -> None:
    ours = adjust_pvalues([0.01, np.nan, 0.04], method="holm")
    assert np.isnan(ours["p_adjusted"][1]) and not ours["reject"][1]
    np.testing.assert_allclose(ours["p_adjusted"][[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


def test_unknown_correction_is_refused() -> None:
    with pytest.raises(StatsError, match="holm"):
        adjust_pvalues(P, method="sidak-holm")


def test_partial_conjunction_ends_match_bonferroni_and_fisher() -> None:
    bonferroni = partial_conjunction_pvalues(P, method="bonferroni")
    assert bonferroni[0] == pytest.approx(min(1, len(P) * P.min()))  # u = 1: the global null, Bonferroni
    raw = (len(P) - np.arange(len(P))) * np.sort(P)  # (N - u + 1) p_(u); u = N gives p_(N)
    assert raw[-1] == pytest.approx(P.max())
    np.testing.assert_allclose(bonferroni, np.minimum(1, np.maximum.accumulate(raw)))
    fisher = partial_conjunction_pvalues(P, method="fisher")
    assert fisher[0] == pytest.approx(stats.combine_pvalues(P, method="fisher").pvalue)
    assert np.all(np.diff(bonferroni) >= 0) and np.all(np.diff(fisher) >= 0)


def test_replicability_count() -> None:
    # Bonferroni: u*-th p-value times (N - u + 1): 0.001*10, 0.008*9 = 0.072 > 0.05 -> k = 1.
    assert replicability_count(P, alpha=0.05).count == 1
    strong = np.array([0.0001, 0.0002, 0.001, 0.004, 0.3, 0.6])
    # 0.0006, 0.001, 0.004, 0.012, 0.6, 0.6 -> effect in at least 4 of 6.
    assert replicability_count(strong).count == 4
    assert replicability_count(strong, method="fisher").count >= 4
    assert replicability_count([0.5, 0.9]).count == 0


# --- Power --------------------------------------------------------------------------------


def test_minimum_detectable_effect_matches_statsmodels() -> None:
    sd = pooled_sd(CS, MONO)
    d = TTestIndPower().solve_power(effect_size=None, nobs1=5, alpha=0.05, power=0.8, ratio=1.0)
    assert minimum_detectable_effect(sd, 5) == pytest.approx(d * sd)
    assert sd == pytest.approx(np.sqrt((CS.var(ddof=1) + MONO.var(ddof=1)) / 2))


def test_seeds_needed_inverts_the_detectable_effect() -> None:
    assert seeds_needed(0.8, 1.0) == 26  # Cohen's d = 0.8: the textbook 26 per group
    sd = 0.01
    mde = minimum_detectable_effect(sd, 7)
    assert seeds_needed(mde, sd) == 7
    assert seeds_needed(mde * 1.01, sd) <= 7
    assert np.isnan(minimum_detectable_effect(sd, 1))
    with pytest.raises(StatsError, match="positive"):
        seeds_needed(0.01, 0.0)
