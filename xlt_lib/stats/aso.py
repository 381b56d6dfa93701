"""Almost Stochastic Order (ASO) between two score distributions over seeds.

Dror, Shlomov & Reichart (2019), *Deep Dominance - How to Properly Compare Deep
Neural Models* (ACL), built on del Barrio, Cuesta-Albertos & Matrán (2018), *An
optimal transportation approach for assessing almost stochastic order*.

Definitions, with F the score distribution of A and G that of B (higher is better):

- violation set ``V = {t in (0, 1): F^-1(t) < G^-1(t)}`` (quantiles at which A is worse);
- violation ratio ``eps_W2 = int_V (F^-1 - G^-1)^2 dt / int_0^1 (F^-1 - G^-1)^2 dt``
  (the share of the squared Wasserstein-2 distance where A is below B):
  0 means A is stochastically larger everywhere, 1 means B is;
- A is *eps-almost stochastically larger* than B when ``eps_W2 <= eps``.

The test of H0: ``eps_W2 >= eps`` against H1: ``eps_W2 < eps`` rejects at level
``1 - confidence_level`` when ``eps > eps_min``, where
``eps_min = eps_hat + z_{confidence_level} * sigma_hat * sqrt((n_a + n_b) / (n_a n_b))``
is an upper confidence bound on ``eps_W2`` and ``sigma_hat`` is the bootstrap
estimate of the standard deviation of ``sqrt(n_a n_b / (n_a + n_b)) (eps_hat* - eps_hat)``.
ASO returns eps_min, not a p-value: A is called better when eps_min < 0.5, and
clearly better when eps_min < 0.2 (the threshold recommended by Ulmer et al.
2022, the authors of ``deepsig``).

This follows ``deepsig.aso`` 1.2.8 (the integration grid ``t = dt, 2dt, ...``,
the empirical quantile function ``x_(ceil(n t))``, bootstrap from the empirical
distribution, eps_hat = 0.5 when both empirical distributions are identical,
clipping to [0, 1]), with three deliberate differences:
the violation integral includes the first grid point, as the definition does
(deepsig drops it from the numerator only, so its ratios of A over B and B over
A do not add to 1); the bootstrap is vectorised (one call, not one process
per iteration), and the Bonferroni option divides the error level by the
number of comparisons (see `almost_stochastic_order`). `tests/stats`
cross-checks it against deepsig. The first difference matters with few seeds:
the extreme seeds can dominate the Wasserstein distance, and the first grid
point carries 1/(n dt) of the lowest seed's share (a tenth with 20 seeds).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.seeds import seed_scores

#: eps_min below this is read as "A is clearly better than B" (Ulmer et al. 2022).
ASO_THRESHOLD = 0.2


def _quantile_grid(dt: float) -> np.ndarray:
    if not 0 < dt < 0.5:
        raise StatsError(f"dt={dt!r}: expected a step in (0, 0.5)")
    return np.arange(dt, 1, dt)


def _empirical_quantiles(sorted_scores: np.ndarray, t: np.ndarray) -> np.ndarray:
    """F^-1(t) = x_(ceil(n t)) of sorted samples along the last axis, for every t."""
    n = sorted_scores.shape[-1]
    index = np.clip(np.ceil(n * t).astype(int) - 1, 0, n - 1)
    return sorted_scores[..., index]


def violation_ratio(scores_a: ArrayLike, scores_b: ArrayLike, *, dt: float = 0.005) -> np.ndarray | float:
    """eps_W2 of A over B; both arguments may carry leading batch axes (one sample per row)."""
    a = np.sort(np.asarray(scores_a, dtype=float), axis=-1)
    b = np.sort(np.asarray(scores_b, dtype=float), axis=-1)
    t = _quantile_grid(dt)
    diff = _empirical_quantiles(a, t) - _empirical_quantiles(b, t)
    squared = diff**2
    total = squared.sum(axis=-1) * dt
    violated = np.where(diff < 0, squared, 0.0).sum(axis=-1) * dt
    # Identical empirical distributions: no order either way; deepsig's convention is 0.5.
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, violated / np.where(total > 0, total, 1.0), 0.5)
    return float(ratio) if ratio.ndim == 0 else ratio


@dataclass(frozen=True)
class ASOResult:
    """eps_min of A over B (``eps_min``) and of B over A (``eps_min_reverse``), at one confidence level."""

    eps_min: float
    eps_min_reverse: float
    violation_ratio: float
    confidence_level: float
    n_a: int
    n_b: int
    n_bootstrap: int

    @property
    def a_better(self) -> bool:
        """A is almost stochastically larger than B at the `ASO_THRESHOLD`."""
        return self.eps_min < ASO_THRESHOLD

    @property
    def b_better(self) -> bool:
        return self.eps_min_reverse < ASO_THRESHOLD


def almost_stochastic_order(
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    *,
    confidence_level: float = 0.95,
    num_comparisons: int = 1,
    n_bootstrap: int = 1000,
    dt: float = 0.005,
    seed: int = 0,
) -> ASOResult:
    """eps_min of "A is almost stochastically larger than B" (see the module docstring).

    Null hypothesis: A is *not* eps-almost stochastically larger than B
    (``eps_W2 >= eps``); one-sided by construction. Small eps_min (< 0.2) says A
    is better; eps_min near 0.5 says the two distributions are not ordered.
    ``num_comparisons > 1`` raises the confidence level to
    ``1 - (1 - c) / num_comparisons`` (Bonferroni); the result records the level
    actually used. deepsig 1.2.8 uses ``c + (1 - c) / num_comparisons`` instead
    (0.955 rather than 0.995 for 10 comparisons at 0.95), which is not a
    Bonferroni correction. ``eps_min_reverse`` tests B over A with the
    same bootstrap: the violation ratio of B over A is ``1 - eps_hat``.
    """
    if not 0 < confidence_level < 1:
        raise StatsError(f"confidence_level={confidence_level!r}: expected a number in (0, 1)")
    if num_comparisons < 1:
        raise StatsError(f"num_comparisons={num_comparisons!r}: expected at least 1")
    if n_bootstrap < 2:
        raise StatsError(f"n_bootstrap={n_bootstrap!r}: expected at least 2")
    a = seed_scores(scores_a, "condition A", minimum=1)
    b = seed_scores(scores_b, "condition B", minimum=1)
    level = 1 - (1 - confidence_level) / num_comparisons

    observed = float(violation_ratio(a, b, dt=dt))
    rng = np.random.default_rng(seed)
    # Drawing from the empirical quantile function at uniform points (deepsig) is
    # sampling with replacement from the scores; done for all iterations at once.
    resampled_a = a[rng.integers(0, a.size, size=(n_bootstrap, a.size))]
    resampled_b = b[rng.integers(0, b.size, size=(n_bootstrap, b.size))]
    bootstrapped = violation_ratio(resampled_a, resampled_b, dt=dt)
    scale = np.sqrt(a.size * b.size / (a.size + b.size))
    sigma = float(np.std(scale * (bootstrapped - observed)))
    margin = sigma / scale * float(norm.ppf(level))
    return ASOResult(
        eps_min=float(np.clip(observed + margin, 0.0, 1.0)),
        eps_min_reverse=float(np.clip(1.0 - observed + margin, 0.0, 1.0)),
        violation_ratio=observed,
        confidence_level=float(level),
        n_a=int(a.size),
        n_b=int(b.size),
        n_bootstrap=int(n_bootstrap),
    )


@functools.lru_cache(maxsize=256)
def aso_null_rate(
    n_a: int,
    n_b: int,
    *,
    confidence_level: float = 0.95,
    threshold: float = ASO_THRESHOLD,
    n_datasets: int = 200,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> float:
    """How often ASO reads "A is clearly better" (eps_min < ``threshold``) when A and B do not differ.

    Measured, not assumed: ``n_datasets`` pairs of ``n_a`` and ``n_b`` scores drawn
    from one normal distribution, each put through the computation of
    `almost_stochastic_order` (vectorised over datasets) as the comparison tables run it. eps_W2 does not change when both samples are
    shifted or scaled together, so one normal distribution stands for any. The
    threshold is a rule of thumb, not a test level, and with 3 to 5 seeds the
    bootstrap's sigma is unstable: the rate can be far from ``1 - confidence_level``
    (`benchmarks/results/significance_calibration.md`), which is why every ASO
    verdict is printed beside this rate. Cached per design.
    """
    if n_a < 2 or n_b < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    z = float(norm.ppf(confidence_level))
    scale = np.sqrt(n_a * n_b / (n_a + n_b))
    hits = 0
    # The same computation as `almost_stochastic_order`, for a batch of datasets at a time.
    for start in range(0, n_datasets, _NULL_BATCH):
        size = min(_NULL_BATCH, n_datasets - start)
        a, b = rng.normal(size=(size, n_a)), rng.normal(size=(size, n_b))
        observed = np.asarray(violation_ratio(a, b))
        rows = np.arange(size)[:, None, None]
        resampled_a = a[rows, rng.integers(0, n_a, size=(size, n_bootstrap, n_a))]
        resampled_b = b[rows, rng.integers(0, n_b, size=(size, n_bootstrap, n_b))]
        bootstrapped = violation_ratio(resampled_a, resampled_b)
        sigma = np.std(scale * (bootstrapped - observed[:, None]), axis=1)
        eps_min = np.clip(observed + sigma / scale * z, 0.0, 1.0)
        hits += int(np.count_nonzero(eps_min < threshold))
    return hits / n_datasets


#: Datasets per batch in `aso_null_rate` (memory: batch x n_bootstrap x 199 grid points).
_NULL_BATCH = 20
