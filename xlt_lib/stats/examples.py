"""Paired tests over test examples: is run A better than run B on *this* test set?

The unit of analysis is the test example; the randomness tested is that of the
test sample, not of training (for that, see `xlt_lib.stats.seeds`). All three
tests take per-example scores of two systems on the same, aligned examples
(1/0 correctness for accuracy; any per-example score for the first two; see
`xlt_lib.stats.pairing.pair_predictions`), and all report the difference as
``mean(scores_a) - mean(scores_b)``.

``alternative`` follows scipy: ``"two-sided"`` (H1: the difference is not 0),
``"greater"`` (H1: A is better), ``"less"`` (H1: A is worse).

Why the resampling is written here rather than taken from `scipy.stats.bootstrap`
or `scipy.stats.permutation_test`: both resample example indices, which costs
O(n_resamples x n_examples) per comparison (50 M draws for one XNLI language at
10,000 resamples), and a study has hundreds of comparisons. The mean of
resampled differences depends only on how often each distinct difference value
is drawn, so drawing those counts directly (a multinomial for the bootstrap, a
binomial per value for sign flips) gives the *same* resampling distribution at
O(n_resamples x distinct values). The tests check both against scipy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar

from xlt_lib.stats.errors import StatsError

Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")

# Resampled statistics are sums of a few distinct values; equal sums can differ in
# the last bits depending on summation order, so "at least as extreme" allows this.
_TIE_TOLERANCE = 1e-10


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise StatsError(f"alternative={alternative!r}: expected one of {', '.join(ALTERNATIVES)}")


def _check_resamples(n_resamples: int) -> None:
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise StatsError(f"n_resamples={n_resamples!r}: expected a positive integer")


def paired_differences(scores_a: ArrayLike, scores_b: ArrayLike) -> np.ndarray:
    """Per-example ``scores_a - scores_b`` as floats, after checking shapes and values."""
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.ndim != 1 or b.ndim != 1:
        raise StatsError(f"paired scores must be 1-D, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise StatsError(f"paired scores must have the same length, got {a.size} and {b.size} examples")
    if a.size == 0:
        raise StatsError("paired scores are empty: there are no examples to compare")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise StatsError("paired scores contain NaN or infinite values")
    return a - b


def _monte_carlo_p(null: np.ndarray, observed: float, alternative: str) -> float:
    """p = (1 + #{null at least as extreme as observed}) / (1 + n_resamples).

    The +1 counts the observed data as one of the resamples, which keeps a Monte
    Carlo p-value valid (never 0; Phipson & Smyth 2010, Davison & Hinkley 1997).
    """
    if alternative == "two-sided":
        extreme = np.abs(null) >= abs(observed) - _TIE_TOLERANCE
    elif alternative == "greater":
        extreme = null >= observed - _TIE_TOLERANCE
    else:
        extreme = null <= observed + _TIE_TOLERANCE
    return float((1 + np.count_nonzero(extreme)) / (1 + null.size))


@dataclass(frozen=True)
class PairedBootstrapResult:
    """Paired bootstrap of ``mean(a) - mean(b)``: a percentile CI and a shifted-null p-value."""

    difference: float
    ci_low: float
    ci_high: float
    confidence_level: float
    p_value: float
    alternative: str
    n_examples: int
    n_resamples: int


def paired_bootstrap(
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    *,
    n_resamples: int = 10_000,
    confidence_level: float = 0.95,
    alternative: Alternative = "two-sided",
    seed: int = 0,
) -> PairedBootstrapResult:
    """Paired bootstrap over examples (Koehn 2004; Berg-Kirkpatrick et al. 2012).

    Null hypothesis: the expected per-example difference ``E[a - b]`` is 0
    (``"greater"``: at most 0; ``"less"``: at least 0). Examples are resampled
    with replacement, keeping each example's pair of scores together.

    - CI: percentile interval of the resampled mean differences (two-sided, at
      ``confidence_level``), whatever ``alternative`` says.
    - p-value: Berg-Kirkpatrick et al.'s version, not Koehn's. Koehn reports the
      share of resamples in which A beats B, which is not a p-value under any
      null. Berg-Kirkpatrick et al. centre the bootstrap distribution on the null
      (``delta* - delta``) and count resamples at least as extreme as the observed
      ``delta``; their one-sided count ``delta* > 2 delta`` is ``"greater"`` here,
      and ``"two-sided"`` counts ``|delta* - delta| >= |delta|``. With the +1
      correction of `_monte_carlo_p`.
    """
    _check_alternative(alternative)
    _check_resamples(n_resamples)
    if not 0 < confidence_level < 1:
        raise StatsError(f"confidence_level={confidence_level!r}: expected a number in (0, 1)")
    d = paired_differences(scores_a, scores_b)
    n = d.size
    observed = float(d.mean())
    values, counts = np.unique(d, return_counts=True)
    rng = np.random.default_rng(seed)
    # How often each distinct difference is drawn in each resample (see module docstring).
    draws = rng.multinomial(n, counts / n, size=int(n_resamples))
    resampled = draws @ values / n
    tail = (1 - confidence_level) / 2
    low, high = np.percentile(resampled, [100 * tail, 100 * (1 - tail)])
    p_value = _monte_carlo_p(resampled - observed, observed, alternative)
    return PairedBootstrapResult(
        difference=observed,
        ci_low=float(low),
        ci_high=float(high),
        confidence_level=float(confidence_level),
        p_value=p_value,
        alternative=alternative,
        n_examples=int(n),
        n_resamples=int(n_resamples),
    )


@dataclass(frozen=True)
class RandomizationResult:
    """Paired approximate randomisation test of ``mean(a) - mean(b)``."""

    difference: float
    p_value: float
    alternative: str
    n_examples: int
    n_differing: int
    n_resamples: int


def approximate_randomization(
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    *,
    n_resamples: int = 10_000,
    alternative: Alternative = "two-sided",
    seed: int = 0,
) -> RandomizationResult:
    """Paired approximate randomisation (permutation) test (Noreen 1989; Riezler & Maxwell 2005).

    Null hypothesis: within each example, the two systems' scores are
    exchangeable (either system could have produced either score), so the
    mean difference is symmetric around 0. Each resample swaps the two scores of
    every example independently with probability 1/2 (a random sign flip of its
    difference); the statistic is the mean difference. Examples on which both
    systems score the same cannot change the statistic and only enter through n.
    Monte Carlo p-value with the +1 correction. On 0/1 correctness its exact
    version is the exact McNemar test, to which it converges as n_resamples grows.
    """
    _check_alternative(alternative)
    _check_resamples(n_resamples)
    d = paired_differences(scores_a, scores_b)
    n = d.size
    observed = float(d.mean())
    nonzero = d[d != 0]
    magnitudes, counts = np.unique(np.abs(nonzero), return_counts=True)
    rng = np.random.default_rng(seed)
    # Sign flips grouped by |difference|: of the c examples with magnitude v, a
    # Binomial(c, 1/2) number keep their sign, contributing v * (2 * kept - c).
    kept = rng.binomial(counts, 0.5, size=(int(n_resamples), counts.size))
    null = (2 * kept - counts) @ magnitudes / n
    return RandomizationResult(
        difference=observed,
        p_value=_monte_carlo_p(null, observed, alternative),
        alternative=alternative,
        n_examples=int(n),
        n_differing=int(nonzero.size),
        n_resamples=int(n_resamples),
    )


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test on the discordant pairs of two classifiers."""

    difference: float
    both_correct: int
    only_a_correct: int
    only_b_correct: int
    both_wrong: int
    p_value: float
    alternative: str

    @property
    def n_examples(self) -> int:
        return self.both_correct + self.only_a_correct + self.only_b_correct + self.both_wrong


def mcnemar_exact(
    correct_a: ArrayLike, correct_b: ArrayLike, *, alternative: Alternative = "two-sided"
) -> McNemarResult:
    """Exact McNemar test on paired correctness (McNemar 1947; Dietterich 1998).

    Null hypothesis: of the examples exactly one system gets right, each is
    equally likely to be A's or B's (the two accuracies are equal). Under it,
    ``only_a_correct ~ Binomial(discordant, 1/2)``. Two-sided: statsmodels
    ``mcnemar(exact=True)`` (twice the smaller tail, capped at 1); one-sided:
    ``scipy.stats.binomtest`` on the discordant pairs. No discordant pairs gives
    p = 1.
    """
    _check_alternative(alternative)
    a = np.asarray(correct_a)
    b = np.asarray(correct_b)
    for name, values in (("correct_a", a), ("correct_b", b)):
        if values.ndim != 1 or not np.isin(values, (0, 1)).all():
            raise StatsError(
                f"{name} must be a 1-D vector of booleans or 0/1, got {values.dtype} {values.shape}"
            )
    paired_differences(a, b)  # same length, not empty
    a = a.astype(bool)
    b = b.astype(bool)
    both = int(np.sum(a & b))
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    neither = int(np.sum(~a & ~b))
    discordant = only_a + only_b
    if discordant == 0:
        p_value = 1.0
    elif alternative == "two-sided":
        p_value = float(mcnemar([[both, only_a], [only_b, neither]], exact=True).pvalue)
    else:
        p_value = float(binomtest(only_a, discordant, 0.5, alternative=alternative).pvalue)
    return McNemarResult(
        difference=float(a.mean() - b.mean()),
        both_correct=both,
        only_a_correct=only_a,
        only_b_correct=only_b,
        both_wrong=neither,
        p_value=p_value,
        alternative=alternative,
    )
