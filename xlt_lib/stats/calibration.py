"""Calibration of the significance procedure on simulated experiments with a known truth.

`null_calibration` runs `xlt_lib.stats.seed_table.compare_conditions` (the
default procedure, or any other settings) on experiments of
`xlt_lib.stats.simulate` where nothing differs, and counts how often it flags
something anyway: the family-wise type-I error of the per-language family and of
the average, how often ASO reads "clearly better" (eps_min < 0.2), and how often
the seed bootstrap interval excludes 0. `power_calibration` plants an effect in
some languages and counts how often each is found. The fast test suite runs both
at reduced counts; ``benchmarks/significance_calibration.py`` runs them at full
counts and its numbers are recorded in ``benchmarks/results/significance_calibration.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from xlt_lib.stats.aso import ASO_THRESHOLD
from xlt_lib.stats.design import AVERAGE, MAIN_COMPARISON
from xlt_lib.stats.multiple import replicability_count
from xlt_lib.stats.seed_table import compare_conditions
from xlt_lib.stats.simulate import SimulatedDesign, planted_effects, simulate_results

#: The two conditions of the study's question: calibrating it needs no baseline runs.
MAIN_CONDITIONS = {"monolingual": ("monolingual", "mnli"), "codeswitched": ("codeswitched", "mnli")}


def monte_carlo_se(rate: float, n: int) -> float:
    """Standard error of a rate estimated from ``n`` independent datasets (at least that of rate 1/n)."""
    p = min(max(rate, 1.0 / n), 1 - 1.0 / n)
    return math.sqrt(p * (1 - p) / n)


@dataclass(frozen=True)
class NullCalibration:
    """Rates over ``n_datasets`` null experiments (nothing differs in any language)."""

    n_datasets: int
    alpha: float
    #: Share of datasets with at least one per-language row significant (family-wise error).
    familywise_error: float
    #: Share of datasets whose average row is significant (a family of one).
    average_error: float
    #: Share of all per-language tests that are significant.
    per_test_error: float
    #: Share of datasets where ASO reads "clearly better" in either direction in at least one language.
    aso_familywise_rate: float
    #: Share of per-language ASO readings "clearly better" in either direction.
    aso_per_test_rate: float
    #: Share of datasets whose average row ASO reads "clearly better" in either direction.
    aso_average_rate: float
    #: Share of per-language bootstrap intervals (over seeds) that exclude 0.
    bootstrap_excludes_zero: float

    def mc_se(self, rate: float) -> float:
        return monte_carlo_se(rate, self.n_datasets)


def _main_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["comparison"] == MAIN_COMPARISON) & table["compared"].astype(bool)]


def _aso_reads(rows: pd.DataFrame) -> pd.Series:
    return (rows["aso_eps_min"] < ASO_THRESHOLD) | (rows["aso_eps_min_reverse"] < ASO_THRESHOLD)


def _analysed(
    design: SimulatedDesign,
    effects: Mapping[str, Mapping[str, float]] | None,
    rng: np.random.Generator,
    alpha: float,
    correction: str,
    test: str,
    n_resamples: int,
) -> pd.DataFrame:
    """One simulated experiment through the default procedure: its main comparison's rows."""
    results = simulate_results(design, effects=effects, rng=rng)
    table = compare_conditions(
        results,
        alpha=alpha,
        correction=correction,
        test=test,
        n_resamples=n_resamples,
        seed=int(rng.integers(2**31)),
    )
    return _main_rows(table)


def null_calibration(
    n_datasets: int,
    *,
    design: SimulatedDesign | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    test: str = "welch",
    n_resamples: int = 999,
    seed: int = 0,
) -> NullCalibration:
    """Run the procedure on ``n_datasets`` simulated null experiments (code-switched vs monolingual)."""
    design = design or SimulatedDesign(conditions=MAIN_CONDITIONS)
    rng = np.random.default_rng(seed)
    family, average, per_test, aso_family, aso_tests, aso_avg, boot = [], [], [], [], [], [], []
    for _ in range(n_datasets):
        rows = _analysed(design, None, rng, alpha, correction, test, n_resamples)
        languages, avg = rows[rows["language"] != AVERAGE], rows[rows["language"] == AVERAGE]
        family.append(bool(languages["significant"].any()))
        average.append(bool(avg["significant"].any()))
        per_test.append(float(languages["significant"].mean()))
        reads = _aso_reads(languages)
        aso_family.append(bool(reads.any()))
        aso_tests.append(float(reads.mean()))
        aso_avg.append(bool(_aso_reads(avg).any()))
        boot.append(float(((languages["ci_low"] > 0) | (languages["ci_high"] < 0)).mean()))
    return NullCalibration(
        n_datasets=n_datasets,
        alpha=alpha,
        familywise_error=float(np.mean(family)),
        average_error=float(np.mean(average)),
        per_test_error=float(np.mean(per_test)),
        aso_familywise_rate=float(np.mean(aso_family)),
        aso_per_test_rate=float(np.mean(aso_tests)),
        aso_average_rate=float(np.mean(aso_avg)),
        bootstrap_excludes_zero=float(np.mean(boot)),
    )


@dataclass(frozen=True)
class PowerCalibration:
    """Rates over ``n_datasets`` experiments with ``points`` planted in ``n_planted`` languages."""

    n_datasets: int
    points: float
    n_planted: int
    #: Share of planted languages found significantly better.
    power_per_language: float
    #: Share of datasets whose average row is significantly better.
    power_average: float
    #: Share of datasets with at least one unplanted language flagged (family-wise error among the nulls).
    null_languages_flagged: float
    #: Mean replicability count (languages better, Bonferroni partial conjunctions) over datasets.
    mean_replicated_better: float


def power_calibration(
    n_datasets: int,
    points: float,
    *,
    n_planted: int = 5,
    design: SimulatedDesign | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    test: str = "welch",
    n_resamples: int = 999,
    seed: int = 0,
) -> PowerCalibration:
    """Plant ``points`` accuracy points for code-switched in the first ``n_planted`` languages and test."""
    from_design = design or SimulatedDesign(conditions=MAIN_CONDITIONS)
    planted = planted_effects(from_design.languages, points, n_planted)
    rng = np.random.default_rng(seed)
    found, average, flagged, replicated = [], [], [], []
    for _ in range(n_datasets):
        rows = _analysed(from_design, {"codeswitched": planted}, rng, alpha, correction, test, n_resamples)
        languages = rows[rows["language"] != AVERAGE]
        better = languages["significant"] & (languages["diff"] > 0)
        is_planted = languages["language"].isin(list(planted))
        found.append(float(better[is_planted].mean()))
        flagged.append(bool(languages.loc[~is_planted, "significant"].any()))
        avg = rows[rows["language"] == AVERAGE]
        average.append(bool((avg["significant"] & (avg["diff"] > 0)).any()))
        replicated.append(
            replicability_count(languages["p_greater"].to_numpy(dtype=float), alpha=alpha).count
        )
    return PowerCalibration(
        n_datasets=n_datasets,
        points=points,
        n_planted=n_planted,
        power_per_language=float(np.mean(found)),
        power_average=float(np.mean(average)),
        null_languages_flagged=float(np.mean(flagged)),
        mean_replicated_better=float(np.mean(replicated)),
    )


def reduced_design(n_languages: int, **changes: object) -> SimulatedDesign:
    """The default simulated design with fewer languages (for the fast test suite)."""
    base = SimulatedDesign(conditions=MAIN_CONDITIONS)
    return replace(base, languages=base.languages[:n_languages], **changes)  # type: ignore[arg-type]
