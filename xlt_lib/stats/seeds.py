"""Tests over training seeds: is condition A better than condition B as a *training procedure*?

The unit of analysis is the run (one seed): each condition is a small sample of
scores from the distribution that re-training with a fresh seed would produce.
Seeds of two conditions are treated as independent samples (a seed number does
not make two differently-trained models a matched pair), so the tests here are
two-sample tests. All report ``mean(a) - mean(b)``; ``alternative`` follows
scipy (``"greater"``: H1 says A is better).

With few seeds, exact permutation tests have a floor: 3 vs 3 seeds allow only
C(6, 3) = 20 relabelings, so no two-sided p-value can be below 2/20 = 0.1 and
the test can never be significant at 0.05. `min_attainable_p` computes that
floor so that a result can say "cannot be significant with these seeds" rather
than "not significant".
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.examples import ALTERNATIVES, Alternative

Design = Literal["independent", "paired"]


def seed_scores(scores: ArrayLike, name: str, minimum: int = 2) -> np.ndarray:
    """The scores of one condition as a finite 1-D float array with at least ``minimum`` seeds."""
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1:
        raise StatsError(f"scores of {name} must be 1-D (one score per seed), got shape {values.shape}")
    if values.size < minimum:
        raise StatsError(
            f"{name} has {values.size} seed(s); this test needs at least {minimum} per condition"
        )
    if not np.isfinite(values).all():
        raise StatsError(f"scores of {name} contain NaN or infinite values: {values.tolist()}")
    return values


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise StatsError(f"alternative={alternative!r}: expected one of {', '.join(ALTERNATIVES)}")


def number_of_relabelings(n_a: int, n_b: int | None = None, *, design: Design = "independent") -> int:
    """Distinct relabelings an exact permutation test enumerates.

    ``independent``: C(n_a + n_b, n_a) ways to split the pooled scores;
    ``paired``: 2**n_a sign flips of n_a paired differences (n_b is ignored).
    """
    if design == "independent":
        if n_b is None:
            raise StatsError("an independent-samples design needs n_b")
        return math.comb(n_a + n_b, n_a)
    if design == "paired":
        return 2**n_a
    raise StatsError(f"design={design!r}: expected 'independent' or 'paired'")


def min_attainable_p(
    n_a: int,
    n_b: int | None = None,
    *,
    design: Design = "independent",
    alternative: Alternative = "two-sided",
    n_resamples: int | None = None,
) -> float:
    """The smallest p-value a permutation test can return with this many seeds.

    The observed labeling is one of the relabelings, so an exact one-sided
    p-value is at least 1 / (number of relabelings), and a two-sided one (twice
    the smaller tail, as scipy computes it) at least twice that:

    - 3 vs 3 independent seeds: 2 / 20 = 0.1; 5 vs 5: 2 / 252 = 0.0079;
    - 5 paired seeds (sign flips, or an exact Wilcoxon signed-rank test):
      2 / 32 = 0.0625, the figure often quoted for "5 seeds".

    When ``n_resamples`` is given and smaller than the number of relabelings, the
    test is Monte Carlo and its floor is 1 / (n_resamples + 1) per tail instead.
    """
    _check_alternative(alternative)
    relabelings = number_of_relabelings(n_a, n_b, design=design)
    if n_resamples is not None and n_resamples < relabelings:
        floor = 1 / (n_resamples + 1)
    else:
        floor = 1 / relabelings
    return float(min(1.0, 2 * floor if alternative == "two-sided" else floor))


@dataclass(frozen=True)
class SeedTestResult:
    """One two-sample test over seeds. ``min_attainable_p`` is 0 for tests without a floor."""

    test: str
    difference: float
    statistic: float
    p_value: float
    alternative: str
    n_a: int
    n_b: int
    exact: bool
    min_attainable_p: float


def welch_test(a: ArrayLike, b: ArrayLike, *, alternative: Alternative = "two-sided") -> SeedTestResult:
    """Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

    Null hypothesis: the mean scores of the two conditions are equal
    (``"greater"``: mean(A) <= mean(B)). Assumes roughly normal seed scores; it
    has no p-value floor, but with 2-3 seeds per condition its degrees of
    freedom are tiny and the normality assumption carries the result.
    If both conditions have zero variance the statistic is undefined and the
    p-value is NaN.
    """
    _check_alternative(alternative)
    x = seed_scores(a, "condition A")
    y = seed_scores(b, "condition B")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero variance: scipy returns NaN, reported as such
        result = stats.ttest_ind(x, y, equal_var=False, alternative=alternative)
    return SeedTestResult(
        test="welch",
        difference=float(x.mean() - y.mean()),
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        alternative=alternative,
        n_a=int(x.size),
        n_b=int(y.size),
        exact=False,
        min_attainable_p=0.0,
    )


def permutation_test(
    a: ArrayLike,
    b: ArrayLike,
    *,
    n_resamples: int = 10_000,
    alternative: Alternative = "two-sided",
    seed: int = 0,
) -> SeedTestResult:
    """Two-sample permutation test of the mean difference (``scipy.stats.permutation_test``).

    Null hypothesis: the seed scores of both conditions come from the same
    distribution (the condition labels are exchangeable). Exact, enumerating all
    C(n_a + n_b, n_a) relabelings, when that number is at most ``n_resamples``;
    Monte Carlo otherwise. Two-sided p-value: twice the smaller one-sided one.
    The result carries the test's `min_attainable_p`.
    """
    _check_alternative(alternative)
    x = seed_scores(a, "condition A")
    y = seed_scores(b, "condition B")
    relabelings = number_of_relabelings(x.size, y.size)
    result = stats.permutation_test(
        (x, y),
        _mean_difference,
        permutation_type="independent",
        vectorized=True,
        n_resamples=n_resamples,
        alternative=alternative,
        rng=np.random.default_rng(seed),
    )
    return SeedTestResult(
        test="permutation",
        difference=float(x.mean() - y.mean()),
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        alternative=alternative,
        n_a=int(x.size),
        n_b=int(y.size),
        exact=relabelings <= n_resamples,
        min_attainable_p=min_attainable_p(x.size, y.size, alternative=alternative, n_resamples=n_resamples),
    )


def bootstrap_mean_difference(
    a: ArrayLike,
    b: ArrayLike,
    *,
    n_resamples: int = 10_000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``mean(a) - mean(b)``, resampling each condition's seeds independently.

    Uses ``scipy.stats.bootstrap(paired=False, method="percentile")``; BCa is
    avoided because its acceleration estimate is undefined for the constant
    resamples that tiny seed samples produce. With 2-5 seeds a bootstrap CI is
    too narrow (the plug-in variance is biased by (n-1)/n and the resampling
    distribution is coarse): read it as descriptive, and the tests as the tests.
    """
    x = seed_scores(a, "condition A")
    y = seed_scores(b, "condition B")
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # scipy warns on degenerate (constant) resamples; the CI is then a point
        result = stats.bootstrap(
            (x, y),
            _mean_difference,
            paired=False,
            vectorized=True,
            n_resamples=n_resamples,
            confidence_level=confidence_level,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)
