"""The significance report's settings, their defaults and their rules, named once for every layer.

An experiment file's ``significance:`` block (`xlt_lib.experiment.config`), the
report that executes ``notebooks/significance.ipynb`` and the statistics behind it
(`xlt_lib.stats`) all read these defaults and rules from here, so that the report a
file asks for and the one a notebook run alone produces are computed the same way.

``n_resamples`` defaults to 10,000: what the significance notebook and the
`xlt_lib.stats` tests have always run with (Monte Carlo p-values resolve to
1/10,001). Fewer than 99 resamples cannot reach p < 0.01 at all, hence the floor.
This module sits at the bottom layer with `xlt_lib.conditions`: it imports no
statistics library, so validating an experiment file stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real

from xlt_lib.validation import Boolean, Interval, Options, check_instance, constraint

#: Multiple-comparison corrections the statistics know (`xlt_lib.stats.multiple.CORRECTIONS`).
CORRECTIONS: tuple[str, ...] = ("holm", "bonferroni", "holm-sidak", "bh", "by", "none")

#: Primary tests over seeds. Welch is the default: it has no p-value floor, so a design of 3 to 5
#: seeds per condition can decide even after correcting over 15 languages, which the exact
#: permutation test cannot (`xlt_lib.stats.decidability`); its type-I error is calibrated in
#: ``benchmarks/results/significance_calibration.md``.
SEED_TESTS: tuple[str, ...] = ("welch", "permutation")

ALPHA = 0.05
#: alpha lies in (0, ALPHA_MAX]: above 0.5 a "significant" result is a coin toss.
ALPHA_MAX = 0.5
CORRECTION = "holm"
TEST = "welch"
N_RESAMPLES = 10_000
SEED = 0
#: Example-level tests per seed (paired by seed) rather than over the seeds' predictions pooled.
PER_SEED = True

#: The fewest resamples a permutation or bootstrap test may use (p can reach 1/(n+1) = 0.01).
MIN_RESAMPLES = 99


@dataclass(frozen=True)
class SignificanceSettings:
    """Parameters of ``notebooks/significance.ipynb``, each with its rule."""

    alpha: float = field(default=ALPHA, metadata=constraint(Interval(Real, 0.0, ALPHA_MAX, closed="right")))
    correction: str = field(default=CORRECTION, metadata=constraint(Options(*CORRECTIONS)))
    test: str = field(default=TEST, metadata=constraint(Options(*SEED_TESTS)))
    n_resamples: int = field(
        default=N_RESAMPLES, metadata=constraint(Interval(Integral, MIN_RESAMPLES, None, closed="left"))
    )
    seed: int = field(default=SEED, metadata=constraint(Interval(Integral, 0, None, closed="left")))
    per_seed: bool = field(default=PER_SEED, metadata=constraint(Boolean()))

    def __post_init__(self) -> None:
        check_instance(self)
