"""The significance analysis's settings as the statistics read them: `xlt_lib.significance`, checked.

The settings, their defaults and their rules are declared once, beside the fields of
`xlt_lib.significance.SignificanceSettings`, which the experiment file's
``significance:`` block is also built from. This module gives the statistics their
view of it: the constants under the names the tests and tables use, and
`check_significance_settings`, which validates keyword values with the same
constraints and raises the statistics' own `StatsError` (the notebook's parameter
check goes through it). It imports only the standard library and the bottom layer
(no numpy, no torch), so that checking settings stays cheap.
"""

from __future__ import annotations

import dataclasses

from xlt_lib.errors import ConfigError
from xlt_lib.significance import (
    ALPHA,
    ALPHA_MAX,
    CORRECTION,
    CORRECTIONS,
    MIN_RESAMPLES,
    N_RESAMPLES,
    PER_SEED,
    SEED,
    SEED_TESTS,
    TEST,
    SignificanceSettings,
)
from xlt_lib.stats.errors import StatsError
from xlt_lib.validation import Options, build, field_constraints, validate

__all__ = [
    "ALPHA_MAX",
    "CORRECTIONS",
    "MIN_RESAMPLES",
    "SEED_TESTS",
    "SIGNIFICANCE_CONSTRAINTS",
    "SIGNIFICANCE_DEFAULTS",
    "SignificanceValues",
    "check_correction",
    "check_significance_settings",
]

DEFAULT_ALPHA = ALPHA
DEFAULT_CORRECTION = CORRECTION
DEFAULT_TEST = TEST
DEFAULT_N_RESAMPLES = N_RESAMPLES
DEFAULT_SEED = SEED
DEFAULT_PER_SEED = PER_SEED

#: Checked significance settings (alpha a float, n_resamples an int).
SignificanceValues = SignificanceSettings

#: Every setting and what it accepts, in words (for messages and documentation).
SIGNIFICANCE_CONSTRAINTS: dict[str, str] = {
    name: rule.describe() for name, rule in field_constraints(SignificanceSettings).items()
}
SIGNIFICANCE_DEFAULTS: dict[str, object] = {
    field.name: field.default for field in dataclasses.fields(SignificanceSettings)
}


def check_correction(correction: object) -> str:
    """The correction's name if xlt knows it, else a `StatsError` listing the known ones."""
    try:
        return str(validate(correction, Options(*CORRECTIONS), ("correction",)))
    except ConfigError as exc:
        raise StatsError(str(exc)) from None


def check_significance_settings(**settings: object) -> SignificanceSettings:
    """Check any subset of the significance settings; missing ones take their defaults.

    Keys and rules are `SignificanceSettings`' fields. Raises `StatsError` naming the
    first key that is unknown or out of range (``n_resamples: expected an integer >= 99,
    got 50``). A numeric string such as ``"1e-3"`` (YAML 1.1 reads it so) is read as a number.
    """
    try:
        return build(SignificanceSettings, settings, noun="significance setting")
    except ConfigError as exc:
        raise StatsError(str(exc)) from None
