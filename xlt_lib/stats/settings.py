"""The significance analysis's settings and the values each may take, declared once.

The experiment file's ``significance:`` block, ``xlt run`` / ``--dry-run`` and the
significance notebook all accept exactly what `check_significance_settings`
accepts, so a misspelt correction or too few resamples is refused before any
training, not after it. This module imports only the standard library and
`xlt_lib.stats.errors` (no numpy, no torch), so that the configuration layer can
call it cheaply.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

from xlt_lib.stats.errors import StatsError

#: Multiple-comparison corrections by their xlt names (statsmodels' names in `xlt_lib.stats.multiple`).
CORRECTIONS: tuple[str, ...] = ("holm", "bonferroni", "holm-sidak", "bh", "by", "none")
#: Primary tests over seeds. Welch is the default: it has no p-value floor, so a design of 3 to 5 seeds
#: per condition can decide even after correcting over 15 languages, which the exact permutation test
#: cannot (`xlt_lib.stats.decidability`); its type-I error is calibrated in
#: ``benchmarks/results/significance_calibration.md``.
SEED_TESTS: tuple[str, ...] = ("welch", "permutation")
#: Fewest resamples accepted: below 99 a Monte Carlo p-value cannot go below 0.01.
MIN_RESAMPLES = 99
#: alpha lies in the open interval (0, ALPHA_MAX]; above 0.5 a "significant" result is a coin toss.
ALPHA_MAX = 0.5

DEFAULT_ALPHA = 0.05
DEFAULT_CORRECTION = "holm"
DEFAULT_TEST = "welch"
DEFAULT_N_RESAMPLES = 10_000
DEFAULT_SEED = 0
DEFAULT_PER_SEED = True

#: Every setting, its default and what it accepts, in words (for messages and documentation).
SIGNIFICANCE_CONSTRAINTS: dict[str, str] = {
    "alpha": f"a number in (0, {ALPHA_MAX:g}]",
    "correction": f"one of {', '.join(CORRECTIONS)}",
    "test": f"one of {', '.join(SEED_TESTS)}",
    "n_resamples": f"an integer >= {MIN_RESAMPLES}",
    "seed": "an integer >= 0",
    "per_seed": "true or false",
}
SIGNIFICANCE_DEFAULTS: dict[str, Any] = {
    "alpha": DEFAULT_ALPHA,
    "correction": DEFAULT_CORRECTION,
    "test": DEFAULT_TEST,
    "n_resamples": DEFAULT_N_RESAMPLES,
    "seed": DEFAULT_SEED,
    "per_seed": DEFAULT_PER_SEED,
}


def check_correction(correction: object) -> str:
    """The correction's name if xlt knows it, else a `StatsError` listing the known ones."""
    if not isinstance(correction, str) or correction not in CORRECTIONS:
        raise StatsError(f"correction={correction!r}: expected one of {', '.join(CORRECTIONS)}")
    return correction


@dataclass(frozen=True)
class SignificanceValues:
    """Checked significance settings (types normalised: alpha a float, n_resamples an int)."""

    alpha: float = DEFAULT_ALPHA
    correction: str = DEFAULT_CORRECTION
    test: str = DEFAULT_TEST
    n_resamples: int = DEFAULT_N_RESAMPLES
    seed: int = DEFAULT_SEED
    per_seed: bool = DEFAULT_PER_SEED


def _integer(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise StatsError(f"{name}={value!r}: expected an integer >= {minimum}")
    return value


def check_significance_settings(**settings: object) -> SignificanceValues:
    """Check any subset of the significance settings; missing ones take their defaults.

    Keys: ``alpha``, ``correction``, ``test``, ``n_resamples``, ``seed``,
    ``per_seed`` (`SIGNIFICANCE_CONSTRAINTS` says what each accepts). Raises
    `StatsError` naming the first key that is unknown or out of range, e.g.
    ``n_resamples=50: expected an integer >= 99`` or ``correction='hollm': expected
    one of holm, ...``. A string alpha such as ``"1e-3"`` (YAML 1.1 reads it so) is
    read as a number.
    """
    unknown = sorted(set(settings) - set(SIGNIFICANCE_CONSTRAINTS))
    if unknown:
        raise StatsError(
            f"unknown significance setting(s) {', '.join(unknown)}; expected {', '.join(SIGNIFICANCE_CONSTRAINTS)}"
        )
    values = SIGNIFICANCE_DEFAULTS | settings
    alpha = values["alpha"]
    if isinstance(alpha, str):
        with contextlib.suppress(ValueError):
            alpha = float(alpha)
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, int | float)
        or not math.isfinite(alpha)
        or not 0 < alpha <= ALPHA_MAX
    ):
        raise StatsError(f"alpha={values['alpha']!r}: expected {SIGNIFICANCE_CONSTRAINTS['alpha']}")
    correction = check_correction(values["correction"])
    if values["test"] not in SEED_TESTS:
        raise StatsError(f"test={values['test']!r}: expected {SIGNIFICANCE_CONSTRAINTS['test']}")
    if not isinstance(values["per_seed"], bool):
        raise StatsError(f"per_seed={values['per_seed']!r}: expected true or false")
    return SignificanceValues(
        alpha=float(alpha),
        correction=correction,
        test=str(values["test"]),
        n_resamples=_integer("n_resamples", values["n_resamples"], MIN_RESAMPLES),
        seed=_integer("seed", values["seed"], 0),
        per_seed=values["per_seed"],
    )
