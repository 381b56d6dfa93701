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

from xlt_lib.validation import Interval, Options, check_instance, constraint

#: Multiple-comparison corrections the statistics know (`xlt_lib.stats.multiple.CORRECTIONS`).
CORRECTIONS: tuple[str, ...] = ("holm", "bonferroni", "holm-sidak", "bh", "by", "none")

ALPHA = 0.05
CORRECTION = "holm"
N_RESAMPLES = 10_000
SEED = 0

#: The fewest resamples a permutation or bootstrap test may use (p can reach 1/(n+1) = 0.01).
MIN_RESAMPLES = 99


@dataclass(frozen=True)
class SignificanceSettings:
    """Parameters of ``notebooks/significance.ipynb``, each with its rule."""

    alpha: float = field(default=ALPHA, metadata=constraint(Interval(Real, 0.0, 1.0, closed="neither")))
    correction: str = field(default=CORRECTION, metadata=constraint(Options(*CORRECTIONS)))
    n_resamples: int = field(
        default=N_RESAMPLES, metadata=constraint(Interval(Integral, MIN_RESAMPLES, None, closed="left"))
    )
    seed: int = field(default=SEED, metadata=constraint(Interval(Integral, 0, None, closed="left")))

    def __post_init__(self) -> None:
        check_instance(self)
