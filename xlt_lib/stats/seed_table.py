"""The comparison table over seeds: one row per comparison and language, the training run as the unit.

`compare_conditions` tests every comparison of `xlt_lib.stats.design.comparison_plan`
per language and for the unweighted average over languages (``avg``, the XTREME
convention), with the tests of `xlt_lib.stats.seeds` (Welch, exact permutation,
bootstrap interval), Almost Stochastic Order and the power of `xlt_lib.stats.power`.

Multiple comparisons: the family of a correction is one comparison kind across
all targets, intermediate tasks and languages (e.g. every ``codeswitched vs
monolingual`` per-language test); the ``avg`` rows form a family of their own,
since they summarise the per-language rows rather than add new evidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xlt_lib.errors import RunRecordError
from xlt_lib.stats.aso import almost_stochastic_order, aso_null_rate
from xlt_lib.stats.decidability import seed_test_floor, seeds_to_decide
from xlt_lib.stats.design import (
    AVERAGE,
    Comparison,
    SkippedComparison,
    check_languages,
    comparison_plan,
    missing_runs,
    runs_of,
)
from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.multiple import adjust_in_families, smallest_adjusted_p
from xlt_lib.stats.power import minimum_detectable_effect, pooled_sd
from xlt_lib.stats.seeds import bootstrap_mean_difference, min_attainable_p, permutation_test, welch_test
from xlt_lib.stats.settings import (
    DEFAULT_ALPHA,
    DEFAULT_CORRECTION,
    DEFAULT_N_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_TEST,
    SEED_TESTS,
    check_correction,
)

METRICS: tuple[str, ...] = ("accuracy", "macro_f1")


def _with_average(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per-(run, language) scores plus one ``avg`` row per run (unweighted mean over languages)."""
    scores = runs[["run_id", "condition", "seed", "language", metric]]
    average = scores.groupby(["run_id", "condition", "seed"], as_index=False)[metric].mean()
    average["language"] = AVERAGE
    return pd.concat([scores, average[scores.columns]], ignore_index=True)


def _seed_row(
    treatment: np.ndarray,
    reference: np.ndarray,
    *,
    alpha: float,
    test: str,
    n_resamples: int,
    seed: int,
    aso_comparisons: int,
    seeds_differ: bool,
) -> dict[str, Any]:
    n_t, n_r = treatment.size, reference.size
    row: dict[str, Any] = {
        "n_treatment": n_t,
        "n_reference": n_r,
        "mean_treatment": float(treatment.mean()),
        "sd_treatment": float(treatment.std(ddof=1)) if n_t > 1 else np.nan,
        "mean_reference": float(reference.mean()),
        "sd_reference": float(reference.std(ddof=1)) if n_r > 1 else np.nan,
        "diff": float(treatment.mean() - reference.mean()),
    }
    notes = []
    if seeds_differ:
        notes.append("the two conditions have different seeds")
    if n_t < 2 or n_r < 2:
        notes.append(f"{n_t} vs {n_r} seeds: tests over seeds need at least 2 per condition")
        nan = np.nan
        row |= dict.fromkeys(
            ("ci_low", "ci_high", "p_welch", "p_permutation", "p_value", "p_greater", "p_less", "mde"), nan
        )
        # The floor an exact permutation test would have with these seeds (1 vs 1: p >= 1), for the words.
        row |= {"permutation_exact": False, "min_attainable_p": min_attainable_p(max(n_t, 1), max(n_r, 1))}
        # ASO compares two score distributions; one score per condition is none (its eps_min would read 0).
        aso, aso_null = None, np.nan
    else:
        row["ci_low"], row["ci_high"] = bootstrap_mean_difference(
            treatment, reference, n_resamples=n_resamples, confidence_level=1 - alpha, seed=seed
        )
        welch = {
            alt: welch_test(treatment, reference, alternative=alt) for alt in ("two-sided", "greater", "less")
        }
        perm = {
            alt: permutation_test(treatment, reference, n_resamples=n_resamples, alternative=alt, seed=seed)
            for alt in ("two-sided", "greater", "less")
        }
        primary = welch if test == "welch" else perm
        row |= {
            "p_welch": welch["two-sided"].p_value,
            "p_permutation": perm["two-sided"].p_value,
            "permutation_exact": perm["two-sided"].exact,
            "min_attainable_p": perm["two-sided"].min_attainable_p,
            "p_value": primary["two-sided"].p_value,
            "p_greater": primary["greater"].p_value,
            "p_less": primary["less"].p_value,
            "mde": minimum_detectable_effect(pooled_sd(treatment, reference), n_t, n_r, alpha=alpha),
        }
        if perm["two-sided"].min_attainable_p > alpha:
            notes.append(
                f"{n_t} vs {n_r} seeds: the exact permutation test cannot go below "
                f"p = {perm['two-sided'].min_attainable_p:.3g} > alpha = {alpha:g}"
            )
        aso_null = aso_null_rate(n_t, n_r, confidence_level=1 - (1 - 0.95) / aso_comparisons, seed=seed)
        if np.isnan(row["p_welch"]):
            notes.append("zero variance in both conditions: Welch's t-test is undefined")
        aso = almost_stochastic_order(treatment, reference, num_comparisons=aso_comparisons, seed=seed)
    row |= {
        "aso_eps_min": aso.eps_min if aso else np.nan,
        "aso_eps_min_reverse": aso.eps_min_reverse if aso else np.nan,
        "aso_confidence": aso.confidence_level if aso else np.nan,
        "aso_null_rate": aso_null,
        "note": "; ".join(notes),
    }
    return row


def _family_sizes(
    comparisons: list[Comparison], languages: dict[str, list[str]]
) -> dict[tuple[str, bool], int]:
    sizes: dict[tuple[str, bool], int] = {}
    for c in comparisons:
        sizes[(c.kind, False)] = sizes.get((c.kind, False), 0) + len(languages[c.target])
        sizes[(c.kind, True)] = sizes.get((c.kind, True), 0) + 1
    return sizes


COMPARISON_COLUMNS: tuple[str, ...] = (
    "target",
    "intermediate",
    "comparison",
    "treatment",
    "reference",
    "language",
    "metric",
    "compared",
    "n_treatment",
    "n_reference",
    "mean_treatment",
    "sd_treatment",
    "mean_reference",
    "sd_reference",
    "diff",
    "ci_low",
    "ci_high",
    "test",
    "p_value",
    "p_greater",
    "p_less",
    "p_adjusted",
    "correction",
    "family_size",
    "significant",
    "p_welch",
    "p_permutation",
    "permutation_exact",
    "min_attainable_p",
    "min_attainable_p_adjusted",
    "decidable",
    "seeds_to_decide",
    "aso_eps_min",
    "aso_eps_min_reverse",
    "aso_confidence",
    "aso_null_rate",
    "mde",
    "note",
)


def compare_conditions(
    results: pd.DataFrame,
    *,
    metric: str = "accuracy",
    alpha: float = DEFAULT_ALPHA,
    correction: str = DEFAULT_CORRECTION,
    test: str = DEFAULT_TEST,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    require_baseline: bool = False,
) -> pd.DataFrame:
    """Seed-level comparison table: one row per comparison (see `comparison_plan`) and language.

    A comparison of the design that the runs do not allow (a condition kind
    without completed runs) gets one row with ``compared`` False, empty
    ``language`` and numbers, and the reason in ``note``; every other row has
    ``compared`` True.

    For each row, over the seeds of each condition: mean and sd per condition;
    ``diff`` = mean(treatment) - mean(reference) with a percentile bootstrap CI
    at level ``1 - alpha``; two-sided p-values of Welch's t-test (H0: equal
    means) and of the two-sample permutation test (H0: exchangeable condition
    labels; exact when the relabelings fit in ``n_resamples``) with its
    ``min_attainable_p``; ASO eps_min of treatment over reference and the
    reverse (Bonferroni-adjusted confidence level over the row's family unless
    ``correction="none"``) and ``aso_null_rate``, how often eps_min falls below
    0.2 with these seeds when nothing differs (`xlt_lib.stats.aso.aso_null_rate`);
    the minimum detectable effect ``mde`` at power 0.8; ``decidable``, whether the
    primary test can reach ``alpha`` at all after its family's correction
    (``min_attainable_p_adjusted``, `xlt_lib.stats.decidability`), and
    ``seeds_to_decide``, the seeds per condition that would make it so.

    ``test`` picks the primary test: its two-sided p-value is ``p_value``, its
    one-sided ones ``p_greater`` (H1: treatment better) and ``p_less``;
    ``p_adjusted`` corrects ``p_value`` within the row's family (module
    docstring) with ``correction`` (`xlt_lib.stats.multiple.CORRECTIONS`), and
    ``significant`` is ``p_adjusted <= alpha``. ``note`` says when a test
    could not be run or could not reach ``alpha`` with these seeds.

    Raises `MissingRunsError` when no comparison at all is possible (or, with
    ``require_baseline``, a target has no baseline), `PairingError` when runs
    are duplicated or were evaluated on different languages.
    """
    if metric not in METRICS:
        raise StatsError(f"metric={metric!r}: expected one of {', '.join(METRICS)}")
    if test not in SEED_TESTS:
        raise StatsError(f"test={test!r}: expected one of {', '.join(SEED_TESTS)}")
    check_correction(correction)
    if not 0 < alpha < 1:
        raise StatsError(f"alpha={alpha!r}: expected a number in (0, 1)")
    the_plan = comparison_plan(results, require_baseline=require_baseline)
    comparisons = list(the_plan.comparisons)
    languages = {}
    for target, target_rows in results.groupby("target"):
        languages[target] = check_languages(target_rows, f"target {target}")
    sizes = _family_sizes(comparisons, languages)

    rows: list[dict[str, Any]] = []
    for c in comparisons:
        treatment_runs = runs_of(results, c.target, c.intermediate, c.treatment)
        reference_runs = runs_of(results, c.target, c.reference_intermediate, c.reference)
        scores = _with_average(pd.concat([treatment_runs, reference_runs]), metric)
        seeds_differ = set(treatment_runs["seed"]) != set(reference_runs["seed"])
        for language in [*languages[c.target], AVERAGE]:
            here = scores[scores["language"] == language].sort_values("seed")
            treatment = here.loc[here["condition"] == c.treatment, metric].to_numpy(dtype=float)
            reference = here.loc[here["condition"] == c.reference, metric].to_numpy(dtype=float)
            if np.isnan(treatment).any() or np.isnan(reference).any():
                raise RunRecordError(
                    f"{c.label()}, {language}: some runs did not record {metric} in metrics.json"
                )
            aso_comparisons = 1 if correction == "none" else sizes[(c.kind, language == AVERAGE)]
            rows.append(
                {
                    "target": c.target,
                    "intermediate": c.intermediate,
                    "comparison": c.kind,
                    "treatment": c.treatment,
                    "reference": c.reference,
                    "language": language,
                    "metric": metric,
                    "compared": True,
                    "test": test,
                    "correction": correction,
                    **_seed_row(
                        treatment,
                        reference,
                        alpha=alpha,
                        test=test,
                        n_resamples=n_resamples,
                        seed=seed,
                        aso_comparisons=aso_comparisons,
                        seeds_differ=seeds_differ,
                    ),
                }
            )
    rows += [_skipped_row(s, metric=metric, test=test, correction=correction) for s in the_plan.skipped]
    table = pd.DataFrame(rows)
    table["is_average"] = table["language"] == AVERAGE
    table = adjust_in_families(table, ["comparison", "is_average"], alpha, correction)
    table = _with_decidability(
        table, sizes, alpha=alpha, test=test, correction=correction, n_resamples=n_resamples
    )
    table = table[list(COMPARISON_COLUMNS)]
    table.attrs.update(
        alpha=alpha,
        correction=correction,
        test=test,
        n_resamples=n_resamples,
        seed=seed,
        missing_runs=missing_runs(results),
    )
    return table


def _with_decidability(
    table: pd.DataFrame,
    sizes: dict[tuple[str, bool], int],
    *,
    alpha: float,
    test: str,
    correction: str,
    n_resamples: int,
) -> pd.DataFrame:
    """Add whether each row's primary test can reach ``alpha`` after its family's correction, and if not, why.

    The family size is the design's (every planned row of the family), so that a
    row without a p-value (one seed) is judged by the family it would belong to.
    """
    floor_adjusted, decidable, needed = [], [], []
    notes = table["note"].fillna("").tolist()
    for i, row in enumerate(table.itertuples(index=False)):
        if not row.compared:
            floor_adjusted.append(np.nan)
            decidable.append(False)
            needed.append(pd.NA)
            continue
        size = sizes[(row.comparison, row.language == AVERAGE)]
        floor = seed_test_floor(test, int(row.n_treatment), int(row.n_reference), n_resamples=n_resamples)
        adjusted = smallest_adjusted_p(floor, size, correction=correction)
        seeds = seeds_to_decide(test, size, alpha=alpha, correction=correction, n_resamples=n_resamples)
        floor_adjusted.append(adjusted)
        decidable.append(adjusted <= alpha)
        needed.append(seeds)
        if adjusted > alpha and 0 < floor <= alpha:
            # The floor alone allows alpha; the correction over the family does not.
            notes[i] = "; ".join(
                filter(
                    None,
                    [
                        notes[i],
                        f"cannot decide with this design: after {correction} over {size} tests the smallest "
                        f"attainable p is {adjusted:.3g} > alpha = {alpha:g}; {seeds} seeds per condition "
                        "would make it decidable",
                    ],
                )
            )
        elif adjusted > alpha and floor > alpha and row.n_treatment >= 2 and row.n_reference >= 2:
            notes[i] = (
                f"{notes[i]}; cannot decide with this design: {seeds} seeds per condition would make it decidable"
            )
    return table.assign(
        min_attainable_p_adjusted=floor_adjusted,
        decidable=decidable,
        seeds_to_decide=pd.array(needed, dtype="Int64"),
        note=notes,
    )


def _skipped_row(skipped: SkippedComparison, **settings: str) -> dict[str, Any]:
    """The table row that says a comparison of the design could not be made, and why."""
    return {
        "target": skipped.target,
        "intermediate": skipped.intermediate,
        "comparison": skipped.kind,
        "treatment": skipped.treatment,
        "reference": skipped.reference,
        "language": "",
        "compared": False,
        "n_treatment": 0,
        "n_reference": 0,
        "permutation_exact": False,
        "note": f"not compared: {skipped.reason}",
        **settings,
    }
