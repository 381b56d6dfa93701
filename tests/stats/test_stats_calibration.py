"""Issue 14, point 3: calibration on simulated run records (reduced counts of the benchmark's)."""

from __future__ import annotations

import numpy as np
import pytest

from xlt_lib.stats import compare_conditions, describe_findings
from xlt_lib.stats.aso import almost_stochastic_order, aso_null_rate
from xlt_lib.stats.calibration import (
    MAIN_CONDITIONS,
    monte_carlo_se,
    null_calibration,
    power_calibration,
    reduced_design,
)
from xlt_lib.stats.simulate import SimulatedDesign, simulate_results

ALPHA = 0.05


def test_simulated_null_languages_are_independent_draws() -> None:
    design = SimulatedDesign(conditions=MAIN_CONDITIONS, run_sd=0.0, seeds=tuple(range(1, 41)))
    results = simulate_results(design, rng=0)
    wide = results.pivot_table(index=["condition", "seed"], columns="language", values="accuracy")
    wide = wide - wide.groupby(level="condition").transform("mean")
    correlation = np.corrcoef(wide.to_numpy().T)
    off_diagonal = correlation[~np.eye(len(correlation), dtype=bool)]
    assert abs(off_diagonal.mean()) < 0.1  # no shared draw across languages once run_sd is 0


def test_default_procedure_controls_the_familywise_error() -> None:
    null = null_calibration(40, design=reduced_design(6), n_resamples=199, seed=1)
    assert null.familywise_error <= ALPHA + 2 * null.mc_se(ALPHA)
    assert null.average_error <= ALPHA + 2 * null.mc_se(ALPHA)


def test_power_grows_with_the_planted_effect() -> None:
    small = power_calibration(8, 1.0, n_planted=3, design=reduced_design(6), n_resamples=199, seed=2)
    large = power_calibration(8, 6.0, n_planted=3, design=reduced_design(6), n_resamples=199, seed=2)
    assert large.power_per_language > small.power_per_language
    assert large.power_per_language >= 0.5


def test_aso_null_rate_is_measured_and_printed_beside_every_aso_verdict() -> None:
    # The vectorised rate agrees with running almost_stochastic_order itself on null data.
    rng = np.random.default_rng(5)
    hits = [
        almost_stochastic_order(rng.normal(size=5), rng.normal(size=5), seed=i).eps_min < 0.2
        for i in range(150)
    ]
    measured = aso_null_rate(5, 5)
    assert abs(np.mean(hits) - measured) <= 3 * monte_carlo_se(measured, 150) + 3 * monte_carlo_se(
        measured, 200
    )
    table = compare_conditions(simulate_results(reduced_design(4), rng=3), n_resamples=199)
    made = table[table["compared"]]
    assert made["aso_null_rate"].between(0, 1).all()
    words = describe_findings(table)
    assert words.count("ASO on the averages") == words.count("(measured null rate)") == 1


@pytest.mark.parametrize("n", [3, 5])
def test_aso_threshold_is_not_a_test_level(n: int) -> None:
    """What issue 14 measured: eps_min < 0.2 fires more often than 1 - confidence under the null with few seeds."""
    assert aso_null_rate(n, n, confidence_level=0.95) > 0.0
