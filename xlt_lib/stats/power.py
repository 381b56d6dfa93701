"""Power over seeds: what the current number of seeds can detect, and how many a given effect needs.

Both answers use the two-sample t-test's power (statsmodels `TTestIndPower`,
which assumes equal variances; with equal seed counts per condition Welch's
test has nearly the same power) with the effect in score units divided by the
pooled seed standard deviation observed in the experiment. That standard
deviation is itself estimated from a few seeds, so the answers are rough
planning figures, not guarantees.

`seeds_to_reach` answers a prior question that needs no data: how many seeds an
exact permutation test needs before any result can be significant at all.

`seeds_needed` is the one answer to "how many seeds would detect this": the
significance report's advice (`xlt_lib.stats.summary.seeds_advice`) and ``xlt plan``
(`xlt_lib.stats.planning`) both call it. A test corrected within a family of ``m``
tests is planned at level alpha / m: Holm's first step is Bonferroni's, so the power
this promises is a lower bound for every test of the family (`power_of`).
Measured against simulated experiments (`tests/stats/test_stats_planning.py`): at 6
seeds per condition the formula's power matches Welch's test (0.50 vs 0.48 simulated);
at 3 it overstates it (0.35 vs 0.25), since Welch's degrees of freedom fall below the
pooled 2n - 2 with so few seeds; designs that reach 80 % power have more.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.power import TTestIndPower

from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.examples import Alternative
from xlt_lib.stats.seeds import min_attainable_p, seed_scores

_POWER = TTestIndPower()


def pooled_sd(a: ArrayLike, b: ArrayLike) -> float:
    """Pooled standard deviation of two conditions' seed scores (ddof = 1 within each)."""
    x = seed_scores(a, "condition A")
    y = seed_scores(b, "condition B")
    dof = x.size + y.size - 2
    return float(np.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / dof))


def _check(alpha: float, power: float) -> None:
    if not 0 < alpha < 1:
        raise StatsError(f"alpha={alpha!r}: expected a number in (0, 1)")
    if not 0 < power < 1:
        raise StatsError(f"power={power!r}: expected a number in (0, 1)")


def minimum_detectable_effect(
    sd: float,
    n_a: int,
    n_b: int | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: Alternative = "two-sided",
) -> float:
    """Smallest true mean difference (in score units) detected with probability ``power``.

    For a two-sample t-test at level ``alpha`` with ``n_a`` and ``n_b`` seeds
    (``n_b`` defaults to ``n_a``) and seed standard deviation ``sd``: the
    detectable Cohen's d times ``sd``. NaN when it cannot be computed (fewer than
    2 seeds per condition, or ``sd`` is 0 or NaN).
    """
    _check(alpha, power)
    n_b = n_a if n_b is None else n_b
    if n_a < 2 or n_b < 2 or not np.isfinite(sd) or sd <= 0:
        return float("nan")
    alt = "larger" if alternative == "greater" else "smaller" if alternative == "less" else "two-sided"
    d = _POWER.solve_power(
        effect_size=None, nobs1=n_a, alpha=alpha, power=power, ratio=n_b / n_a, alternative=alt
    )
    return float(abs(np.asarray(d).item()) * sd)


def _level(alpha: float, family_size: int) -> float:
    """The per-test level that guarantees power within a corrected family (Bonferroni, Holm's first step)."""
    if family_size < 1:
        raise StatsError(f"family_size={family_size!r}: expected a positive number of tests")
    return alpha / family_size


def power_of(
    effect: float,
    sd: float,
    n: int,
    *,
    alpha: float = 0.05,
    family_size: int = 1,
    alternative: Alternative = "two-sided",
) -> float:
    """Probability that ``n`` vs ``n`` seeds detect a true difference ``effect`` (score units).

    Two-sample t-test (Welch's with equal seed counts has nearly the same power)
    at level ``alpha / family_size``, seed standard deviation ``sd``; NaN with
    fewer than 2 seeds or no spread.
    """
    _check(alpha, 0.5)
    if n < 2 or not np.isfinite(sd) or sd <= 0:
        return float("nan")
    alt = "larger" if alternative in ("greater", "less") else "two-sided"
    value = _POWER.power(
        effect_size=abs(effect) / sd,
        nobs1=n,
        alpha=_level(alpha, family_size),
        ratio=1.0,
        alternative=alt,
    )
    return float(np.asarray(value).item())


def seeds_needed(
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: Alternative = "two-sided",
    family_size: int = 1,
) -> int:
    """Seeds per condition (equal numbers) to detect a true difference ``effect`` with probability ``power``.

    Two-sample t-test at level ``alpha / family_size`` (see the module's note) with
    seed standard deviation ``sd``, rounded up, at least 2. `power_of` at the
    returned number is at least ``power``.
    """
    _check(alpha, power)
    if not np.isfinite(sd) or sd <= 0:
        raise StatsError(f"sd={sd!r}: the seed standard deviation must be positive to plan a number of seeds")
    if not np.isfinite(effect) or effect == 0:
        raise StatsError(f"effect={effect!r}: expected a non-zero difference to detect")
    d = abs(effect) / sd
    alt = "larger" if alternative in ("greater", "less") else "two-sided"
    level = _level(alpha, family_size)
    n = _POWER.solve_power(effect_size=d, nobs1=None, alpha=level, power=power, ratio=1.0, alternative=alt)
    return max(2, math.ceil(float(np.asarray(n).item()) - 1e-9))


def seeds_to_reach(alpha: float = 0.05, *, alternative: Alternative = "two-sided", limit: int = 1000) -> int:
    """Fewest seeds per condition (equal numbers) with which an exact permutation test can reach ``alpha``.

    Below this number no outcome of the seeds, however large the difference,
    can make the distribution-free test significant (its `min_attainable_p`
    floor is above ``alpha``): 4 per condition for a two-sided test at 0.05
    (2 / C(8, 4) = 0.029; 3 give 0.1). A necessary number, not a sufficient
    one: detecting a given effect with some power needs `seeds_needed`.
    """
    _check(alpha, 0.5)
    for n in range(1, limit + 1):
        if min_attainable_p(n, n, alternative=alternative) <= alpha:
            return n
    raise StatsError(f"alpha={alpha!r}: no number of seeds up to {limit} reaches it")
