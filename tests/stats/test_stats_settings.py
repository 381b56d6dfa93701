"""Issue 14, point 5: the significance settings are checked by one torch-free function the config layer calls."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xlt_lib.stats import StatsError
from xlt_lib.stats.settings import (
    MIN_RESAMPLES,
    SIGNIFICANCE_CONSTRAINTS,
    SIGNIFICANCE_DEFAULTS,
    check_significance_settings,
)


def test_the_issue_examples_are_refused() -> None:
    with pytest.raises(StatsError, match=r"n_resamples: expected an integer >= 99, got 50"):
        check_significance_settings(n_resamples=50)
    with pytest.raises(StatsError, match=r"correction: expected one of holm, bonferroni"):
        check_significance_settings(correction="hollm")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("alpha", 0),
        ("alpha", 0.7),
        ("alpha", "x"),
        ("alpha", True),
        ("test", "ttest"),
        ("seed", -1),
        ("per_seed", "yes"),
    ],
)
def test_every_key_is_range_checked(key: str, value: object) -> None:
    with pytest.raises(StatsError, match=key):
        check_significance_settings(**{key: value})


def test_defaults_and_constraints_cover_the_same_keys() -> None:
    assert set(SIGNIFICANCE_DEFAULTS) == set(SIGNIFICANCE_CONSTRAINTS)
    values = check_significance_settings(alpha="1e-3", n_resamples=MIN_RESAMPLES)
    assert values.alpha == 0.001 and values.n_resamples == MIN_RESAMPLES and values.correction == "holm"
    with pytest.raises(StatsError, match="unknown significance setting"):
        check_significance_settings(resamples=1000)


def test_settings_module_loads_no_torch() -> None:
    code = "import sys, xlt_lib.stats.settings; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
