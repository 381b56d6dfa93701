"""Can a test decide with this design? The smallest p-value it can reach after its family's correction.

A test with a p-value floor (an exact permutation test over seeds has one: 2/252 =
0.0079 with 5 vs 5 seeds; a Monte Carlo test over examples has 1/(n_resamples+1))
can never reject when that floor, corrected for the size of its family, is above
alpha: with 5 vs 5 seeds and Holm over 15 languages, 15 x 0.0079 = 0.12 > 0.05. Such
a result is not "not significant" (the data were never given a chance): it is
*cannot decide with this design*, and the report says how many seeds would make
it decidable. Welch's t-test has no floor; with at least 2 seeds per condition it
can always decide.
"""

from __future__ import annotations

import functools

from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.multiple import smallest_adjusted_p
from xlt_lib.stats.seeds import min_attainable_p
from xlt_lib.stats.settings import SEED_TESTS

#: Seeds per condition beyond which `seeds_to_decide` stops looking.
MAX_SEEDS = 100


def seed_test_floor(
    test: str, n_treatment: int, n_reference: int, *, n_resamples: int | None = None
) -> float:
    """The smallest two-sided p-value the seed-level ``test`` can return with these seed counts.

    1 (no test at all) with fewer than 2 seeds in a condition; 0 for Welch's
    t-test otherwise; the permutation test's `min_attainable_p` (exact, or Monte
    Carlo with ``n_resamples``).
    """
    if test not in SEED_TESTS:
        raise StatsError(f"test={test!r}: expected one of {', '.join(SEED_TESTS)}")
    if n_treatment < 2 or n_reference < 2:
        return 1.0
    if test == "welch":
        return 0.0
    return min_attainable_p(n_treatment, n_reference, n_resamples=n_resamples)


@functools.lru_cache(maxsize=1024)
def seeds_to_decide(
    test: str, family_size: int, *, alpha: float, correction: str, n_resamples: int | None = None
) -> int:
    """Fewest seeds per condition (equal numbers) with which ``test`` can reach ``alpha`` after correction.

    2 for Welch's t-test; for the permutation test the n whose floor, corrected
    over ``family_size`` tests, is at most ``alpha`` (Holm over 15 languages at
    0.05: 6 per condition, 2/C(12, 6) x 15 = 0.016; 5 give 0.12). A necessary
    number, not a sufficient one: detecting an effect of a given size also needs
    power (`xlt_lib.stats.power.seeds_needed`).
    """
    for n in range(2, MAX_SEEDS + 1):
        floor = seed_test_floor(test, n, n, n_resamples=n_resamples)
        if smallest_adjusted_p(floor, family_size, correction=correction) <= alpha:
            return n
    raise StatsError(
        f"{test} test: no number of seeds up to {MAX_SEEDS} reaches alpha={alpha:g} after {correction} "
        f"over {family_size} tests (n_resamples={n_resamples} may be too small)"
    )


def example_test_floor(n_resamples: int) -> float:
    """The smallest two-sided p-value of a Monte Carlo test over examples: 1 / (n_resamples + 1)."""
    return 1.0 / (int(n_resamples) + 1)


def resamples_to_decide(family_size: int, *, alpha: float, correction: str) -> int:
    """Fewest resamples with which a Monte Carlo test can reach ``alpha`` after correction over the family."""
    n = 99
    while smallest_adjusted_p(example_test_floor(n), family_size, correction=correction) > alpha:
        n = 10 * n + 9
    return n
