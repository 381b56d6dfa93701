"""The study's comparisons: code-switched vs monolingual intermediate training, and both vs none.

Input is the table of `xlt_lib.report.results.load_results` (one row per run and
language). For every target task and intermediate task:

- ``codeswitched vs monolingual``: each code-switched condition against each
  monolingual condition with the same intermediate task (the study's question);
- ``codeswitched vs none`` and ``monolingual vs none``: each against the
  no-intermediate baseline of the same target.

Differences are always *treatment minus reference* (first-named minus second).

A partial design is compared as far as it goes: every kind whose two condition
kinds have completed runs is compared, the others are listed with the reason
(`comparison_plan`; rows with ``compared`` False in `compare_conditions`), and
only an experiment where no kind can be compared is refused.

`compare_conditions` tests over seeds (the unit of analysis is the training
run), per language and for the unweighted average over languages (``avg``, the
XTREME convention). `compare_examples` tests over test examples (the unit is the
example), from the prediction files, per language.

Multiple comparisons: the family of a correction is one comparison kind across
all targets, intermediate tasks and languages (e.g. every ``codeswitched vs
monolingual`` per-language test); the ``avg`` rows form a family of their own,
since they summarise the per-language rows rather than add new evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from xlt_lib.errors import RunRecordError
from xlt_lib.report.results import RESULT_COLUMNS, load_predictions
from xlt_lib.significance import N_RESAMPLES
from xlt_lib.stats.aso import almost_stochastic_order
from xlt_lib.stats.errors import MissingRunsError, PairingError, StatsError
from xlt_lib.stats.examples import approximate_randomization, mcnemar_exact, paired_bootstrap
from xlt_lib.stats.multiple import CombiningMethod, adjust_pvalues, check_correction, replicability_count
from xlt_lib.stats.pairing import pair_predictions
from xlt_lib.stats.power import minimum_detectable_effect, pooled_sd
from xlt_lib.stats.seeds import bootstrap_mean_difference, min_attainable_p, permutation_test, welch_test

#: Comparison kinds, in report order: name -> (treatment kind, reference kind).
COMPARISON_KINDS: dict[str, tuple[str, str]] = {
    "codeswitched vs monolingual": ("codeswitched", "monolingual"),
    "codeswitched vs none": ("codeswitched", "none"),
    "monolingual vs none": ("monolingual", "none"),
}
MAIN_COMPARISON = "codeswitched vs monolingual"
#: Condition kinds in words, for messages.
KIND_NAMES = {"none": "no-intermediate (none)", "monolingual": "monolingual", "codeswitched": "code-switched"}
#: Pseudo-language of the unweighted mean over a run's languages.
AVERAGE = "avg"
SEED_TESTS: tuple[str, ...] = ("welch", "permutation")
METRICS: tuple[str, ...] = ("accuracy", "macro_f1")
#: How far a run's accuracy recomputed from its predictions may be from its metrics.json (rounding).
ACCURACY_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Comparison:
    """One treatment condition against one reference condition, for one target and intermediate task."""

    target: str
    intermediate: str
    kind: str
    treatment: str
    reference: str

    @property
    def reference_intermediate(self) -> str:
        """The reference runs' intermediate task (``none`` for the baseline)."""
        return "none" if COMPARISON_KINDS[self.kind][1] == "none" else self.intermediate

    def label(self) -> str:
        return f"{self.target} · {self.intermediate} · {self.treatment} vs {self.reference}"


def _check_table(results: pd.DataFrame) -> None:
    missing = [column for column in RESULT_COLUMNS if column not in results.columns]
    if missing:
        raise StatsError(
            f"results table lacks column(s) {', '.join(missing)}; expected those of load_results()"
        )
    if results.empty:
        raise MissingRunsError(
            "no completed phase-3 runs: there is nothing to compare (is the experiment finished?)"
        )
    key = ["target", "intermediate", "condition", "seed", "language"]
    duplicated = results.duplicated(key, keep=False)
    if duplicated.any():
        groups = results.loc[duplicated].groupby(key[:-1])["run_id"].unique()
        shown = "; ".join(
            f"target={t}, intermediate={i}, condition={c}, seed={s}: runs {', '.join(map(str, ids))}"
            for (t, i, c, s), ids in list(groups.items())[:5]
        )
        raise PairingError(
            f"{len(groups)} (target, intermediate, condition, seed) combination(s) have more than one run, "
            f"so results cannot be attributed to one run: {shown}. Several models in one experiment?"
        )
    kinds = results.groupby("condition")["condition_kind"].unique()
    mixed = kinds[kinds.map(len) > 1]
    if not mixed.empty:
        raise StatsError(
            "condition(s) recorded with several kinds: "
            + "; ".join(f"{name}: {', '.join(values)}" for name, values in mixed.items())
        )


def _seeds_text(frame: pd.DataFrame) -> str:
    return ", ".join(
        f"{condition} (seeds {', '.join(map(str, sorted(group['seed'].unique())))})"
        for condition, group in frame.groupby("condition")
    )


@dataclass(frozen=True)
class SkippedComparison:
    """A comparison of the study's design that the completed runs do not allow, and why."""

    target: str
    intermediate: str
    kind: str
    reason: str
    #: The conditions of the treatment and reference kinds that do have runs ("" where none has).
    treatment: str = ""
    reference: str = ""

    def label(self) -> str:
        return f"{self.target} · {self.intermediate} · {self.kind}"


@dataclass(frozen=True)
class ComparisonPlan:
    """The comparisons the completed runs allow, and those of the design they do not (with the reason)."""

    comparisons: tuple[Comparison, ...]
    skipped: tuple[SkippedComparison, ...]


#: ``intermediate`` of a skipped comparison when the experiment has no intermediate-trained runs at all.
NO_INTERMEDIATE = "—"


def _where(target: str, intermediate: str) -> str:
    if intermediate == NO_INTERMEDIATE:
        return f"target {target} (no intermediate-trained runs)"
    return f"target {target}, intermediate {intermediate}"


def _missing(kinds: dict[str, list[str]], needed: tuple[str, str]) -> list[str]:
    return [KIND_NAMES[kind] for kind in needed if not kinds[kind]]


def comparison_plan(results: pd.DataFrame, *, require_baseline: bool = False) -> ComparisonPlan:
    """Every comparison of condition kinds the completed runs allow, and the rest of the design, skipped.

    The design is, for every target and every intermediate task of the
    experiment, the three kinds of `COMPARISON_KINDS`. A kind is compared
    wherever both of its condition kinds have completed runs (each treatment
    condition against each reference condition), and skipped, with the kinds
    that lack runs and the runs that were found, where one is missing: a
    none-plus-monolingual study gets ``monolingual vs none`` and two skipped
    kinds. Raises `MissingRunsError` naming what is missing when nothing at all
    can be compared, or, with ``require_baseline``, when a target lacks its
    no-intermediate (``none``) baseline.
    """
    _check_table(results)
    comparisons: list[Comparison] = []
    skipped: list[SkippedComparison] = []
    no_baseline: list[str] = []
    all_intermediates = sorted(set(results["intermediate"]) - {"none"}) or [NO_INTERMEDIATE]
    for target, rows in results.groupby("target", sort=True):
        conditions = rows.drop_duplicates(["intermediate", "condition"])
        baselines = sorted(conditions.loc[conditions["condition_kind"] == "none", "condition"])
        if not baselines:
            no_baseline.append(
                f"target {target}: no completed runs without intermediate training "
                f"(condition kind 'none'; found {_seeds_text(rows)})"
            )
        for intermediate in all_intermediates:
            here = conditions[conditions["intermediate"] == intermediate]
            kinds = {
                "none": baselines,
                "monolingual": sorted(here.loc[here["condition_kind"] == "monolingual", "condition"]),
                "codeswitched": sorted(here.loc[here["condition_kind"] == "codeswitched", "condition"]),
            }
            relevant = rows[rows["intermediate"].isin([intermediate, "none"])]
            found = _seeds_text(relevant) if not relevant.empty else "no runs"
            for kind, (treatment_kind, reference_kind) in COMPARISON_KINDS.items():
                missing = _missing(kinds, (treatment_kind, reference_kind))
                if missing:
                    skipped.append(
                        SkippedComparison(
                            str(target),
                            str(intermediate),
                            kind,
                            f"no completed {' and no completed '.join(missing)} runs (found {found})",
                            treatment=", ".join(kinds[treatment_kind]),
                            reference=", ".join(kinds[reference_kind]),
                        )
                    )
                    continue
                comparisons += [
                    Comparison(str(target), str(intermediate), kind, treatment, reference)
                    for treatment in kinds[treatment_kind]
                    for reference in kinds[reference_kind]
                ]
    if require_baseline and no_baseline:
        raise MissingRunsError(
            "cannot compare conditions: "
            + "; ".join(no_baseline)
            + " (require_baseline=False compares the kinds that are there)"
        )
    if not comparisons:
        raise MissingRunsError(
            "cannot compare conditions: no pair of condition kinds has completed runs for the same target "
            "and intermediate task: "
            + "; ".join(f"{_where(s.target, s.intermediate)}, {s.kind}: {s.reason}" for s in skipped)
        )
    order = list(COMPARISON_KINDS)
    return ComparisonPlan(
        comparisons=tuple(
            sorted(
                comparisons,
                key=lambda c: (order.index(c.kind), c.target, c.intermediate, c.treatment, c.reference),
            )
        ),
        skipped=tuple(sorted(skipped, key=lambda s: (order.index(s.kind), s.target, s.intermediate))),
    )


def plan_comparisons(results: pd.DataFrame, *, require_baseline: bool = False) -> list[Comparison]:
    """The comparisons the results allow (see `comparison_plan`, which also says which it skips and why)."""
    return list(comparison_plan(results, require_baseline=require_baseline).comparisons)


def _runs(results: pd.DataFrame, target: str, intermediate: str, condition: str) -> pd.DataFrame:
    mask = (
        (results["target"] == target)
        & (results["intermediate"] == intermediate)
        & (results["condition"] == condition)
    )
    return results[mask]


def _check_languages(runs: pd.DataFrame, where: str) -> list[str]:
    """The languages every run of a target was evaluated on; refuse if they differ."""
    per_run = runs.groupby("run_id")["language"].agg(frozenset)
    languages = frozenset().union(*per_run)
    incomplete = {run: sorted(languages - have) for run, have in per_run.items() if have != languages}
    if incomplete:
        shown = "; ".join(
            f"run {run} lacks {', '.join(langs)}" for run, langs in list(incomplete.items())[:5]
        )
        raise PairingError(f"{where}: runs were evaluated on different languages: {shown}")
    return sorted(languages)


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
        aso = None
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
        if np.isnan(row["p_welch"]):
            notes.append("zero variance in both conditions: Welch's t-test is undefined")
        aso = almost_stochastic_order(treatment, reference, num_comparisons=aso_comparisons, seed=seed)
    row |= {
        "aso_eps_min": aso.eps_min if aso else np.nan,
        "aso_eps_min_reverse": aso.eps_min_reverse if aso else np.nan,
        "aso_confidence": aso.confidence_level if aso else np.nan,
        "note": "; ".join(notes),
    }
    return row


def _adjust_in_families(
    table: pd.DataFrame, family: Iterable[str], alpha: float, correction: str
) -> pd.DataFrame:
    """Add ``p_adjusted``, ``significant`` and ``family_size``, correcting ``p_value`` within each family."""
    p_values = table["p_value"].to_numpy(dtype=float)
    adjusted = np.full(len(table), np.nan)
    significant = np.zeros(len(table), dtype=bool)
    size = np.zeros(len(table), dtype=int)
    for positions in table.groupby(list(family), sort=False).indices.values():
        result = adjust_pvalues(p_values[positions], method=correction, alpha=alpha)
        adjusted[positions] = result["p_adjusted"].to_numpy()
        significant[positions] = result["reject"].to_numpy()
        size[positions] = int(result["p_raw"].notna().sum())
    return table.assign(p_adjusted=adjusted, significant=significant, family_size=size)


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
    "aso_eps_min",
    "aso_eps_min_reverse",
    "aso_confidence",
    "mde",
    "note",
)


def compare_conditions(
    results: pd.DataFrame,
    *,
    metric: str = "accuracy",
    alpha: float = 0.05,
    correction: str = "holm",
    test: Literal["welch", "permutation"] = "welch",
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
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
    ``correction="none"``); the minimum detectable effect ``mde`` at power 0.8.

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
    for target, rows in results.groupby("target"):
        languages[target] = _check_languages(rows, f"target {target}")
    sizes = _family_sizes(comparisons, languages)

    rows: list[dict[str, Any]] = []
    for c in comparisons:
        treatment_runs = _runs(results, c.target, c.intermediate, c.treatment)
        reference_runs = _runs(results, c.target, c.reference_intermediate, c.reference)
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
    table = _adjust_in_families(table, ["comparison", "is_average"], alpha, correction)
    table = table[list(COMPARISON_COLUMNS)]
    table.attrs.update(alpha=alpha, correction=correction, test=test, n_resamples=n_resamples, seed=seed)
    return table


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


class _Predictions:
    """Prediction files, read once each and split by language."""

    def __init__(self) -> None:
        self._by_path: dict[str, dict[str, pd.DataFrame]] = {}

    def get(self, run: pd.Series, language: str) -> pd.DataFrame:
        path = run["predictions_path"]
        if path is None or (isinstance(path, float) and np.isnan(path)):
            raise MissingRunsError(
                f"run {run['run_id']} (condition {run['condition']}, seed {run['seed']}) has no predictions.parquet; "
                "example-level tests need every run's predictions"
            )
        if path not in self._by_path:
            frame = load_predictions(path)
            self._by_path[path] = {lang: group for lang, group in frame.groupby("language", sort=False)}
        by_language = self._by_path[path]
        if language not in by_language:
            raise PairingError(
                f"{path}: no predictions for language {language!r} although metrics.json reports it"
            )
        predictions = by_language[language]
        _check_against_metrics(predictions, run, path)
        return predictions


def _check_against_metrics(predictions: pd.DataFrame, run: pd.Series, path: str) -> None:
    """A run's predictions must reproduce the accuracy and n its metrics.json reports."""
    n = len(predictions)
    accuracy = float((predictions["gold"] == predictions["prediction"]).mean())
    if n != run["n"] or abs(accuracy - run["accuracy"]) > ACCURACY_TOLERANCE:
        raise RunRecordError(
            f"{path}: {run['language']} has {n} predictions with accuracy {accuracy:.4f}, but metrics.json "
            f"reports n={run['n']}, accuracy={run['accuracy']:.4f}: the files do not belong together"
        )


def _example_tests(
    scores_t: np.ndarray, scores_r: np.ndarray, *, n_resamples: int, alpha: float, seed: int, binary: bool
) -> dict[str, Any]:
    boot = paired_bootstrap(
        scores_t, scores_r, n_resamples=n_resamples, confidence_level=1 - alpha, seed=seed
    )
    ar = approximate_randomization(scores_t, scores_r, n_resamples=n_resamples, seed=seed)
    row: dict[str, Any] = {
        "n_examples": boot.n_examples,
        "acc_treatment": float(scores_t.mean()),
        "acc_reference": float(scores_r.mean()),
        "diff": boot.difference,
        "ci_low": boot.ci_low,
        "ci_high": boot.ci_high,
        "p_bootstrap": boot.p_value,
        "p_randomization": ar.p_value,
    }
    if binary:
        mc = mcnemar_exact(scores_t.astype(bool), scores_r.astype(bool))
        row |= {
            "p_mcnemar": mc.p_value,
            "only_treatment_correct": mc.only_a_correct,
            "only_reference_correct": mc.only_b_correct,
        }
    else:
        row |= {"p_mcnemar": np.nan, "only_treatment_correct": pd.NA, "only_reference_correct": pd.NA}
    return row


def _aligned_correctness(
    runs: pd.DataFrame, language: str, cache: _Predictions, names: list[str]
) -> np.ndarray:
    """Correctness of each run (rows) on the same examples (columns), after pairing each with the first."""
    first = runs.iloc[0]
    anchor = cache.get(first, language)
    rows = []
    for (_, run), name in zip(runs.iterrows(), names, strict=True):
        paired = pair_predictions(anchor, cache.get(run, language), name_a=names[0], name_b=name)
        rows.append(paired["correct_b"].to_numpy())
    return np.vstack(rows).astype(float)


EXAMPLE_COLUMNS: tuple[str, ...] = (
    "target",
    "intermediate",
    "comparison",
    "treatment",
    "reference",
    "language",
    "pairing",
    "seed",
    "n_examples",
    "acc_treatment",
    "acc_reference",
    "diff",
    "ci_low",
    "ci_high",
    "p_bootstrap",
    "p_randomization",
    "p_mcnemar",
    "only_treatment_correct",
    "only_reference_correct",
    "p_adjusted",
    "correction",
    "significant",
)


def compare_examples(
    results: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: str = "holm",
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    per_seed: bool = True,
    require_baseline: bool = False,
) -> pd.DataFrame:
    """Example-level comparison table from the prediction files: one row per comparison, language and pairing.

    What is paired and how seeds are combined:

    - ``pairing="pooled"`` (one row per comparison and language): for each test
      example, the share of the treatment's seeds that got it right minus the
      share of the reference's seeds; the mean of that is exactly
      mean-over-seeds accuracy difference. Paired bootstrap (CI, p) and
      approximate randomisation over examples test it; McNemar does not apply
      (the per-example scores are not 0/1). Seeds need not match.
    - ``pairing="seed"`` (with ``per_seed``; one row per seed): the treatment and
      reference runs with the same seed number, paired example by example, with
      all three tests (bootstrap, randomisation, exact McNemar). The seed sets
      of the two conditions must then be equal.

    Predictions are not pooled across seeds as if they were more examples: the
    seeds share the test examples, so pooling would count each example several
    times and understate the variance.

    ``p_adjusted``/``significant`` correct the approximate-randomisation p-value
    within each (comparison kind, pairing, seed) family across targets,
    intermediate tasks and languages. There is no ``avg`` row: the languages'
    test sets are translations of the same items, so pooling them is not a
    sample of independent examples.

    Refuses (`MissingRunsError`, `PairingError`, `RunRecordError`) when a run has
    no predictions, when example ids are duplicated, unpaired or carry different
    gold labels, when seeds cannot be paired (``per_seed``), or when a run's
    predictions do not reproduce its metrics.json.
    """
    check_correction(correction)
    the_plan = comparison_plan(results, require_baseline=require_baseline)
    comparisons = the_plan.comparisons
    for target, target_rows in results.groupby("target"):
        _check_languages(target_rows, f"target {target}")
    cache = _Predictions()
    rows: list[dict[str, Any]] = []
    for c in comparisons:
        treatment_runs = _runs(results, c.target, c.intermediate, c.treatment)
        reference_runs = _runs(results, c.target, c.reference_intermediate, c.reference)
        if per_seed:
            only_t = sorted(set(treatment_runs["seed"]) - set(reference_runs["seed"]))
            only_r = sorted(set(reference_runs["seed"]) - set(treatment_runs["seed"]))
            if only_t or only_r:
                raise PairingError(
                    f"{c.label()}: cannot pair runs by seed: seeds {only_t} only in {c.treatment}, "
                    f"seeds {only_r} only in {c.reference}; missing runs: "
                    + ", ".join(
                        [f"{c.reference} seed {s}" for s in only_t]
                        + [f"{c.treatment} seed {s}" for s in only_r]
                    )
                    + " (finish them, or pass per_seed=False)"
                )
        base = {
            "target": c.target,
            "intermediate": c.intermediate,
            "comparison": c.kind,
            "treatment": c.treatment,
            "reference": c.reference,
        }
        for language in sorted(set(treatment_runs["language"])):
            t_runs = treatment_runs[treatment_runs["language"] == language].sort_values("seed")
            r_runs = reference_runs[reference_runs["language"] == language].sort_values("seed")
            runs = pd.concat([t_runs, r_runs])
            names = [f"run {r.run_id} ({r.condition}, seed {r.seed})" for r in runs.itertuples()]
            correct = _aligned_correctness(runs, language, cache, names)
            correct_t, correct_r = correct[: len(t_runs)], correct[len(t_runs) :]
            rows.append(
                base
                | {"language": language, "pairing": "pooled", "seed": pd.NA}
                | _example_tests(
                    correct_t.mean(axis=0),
                    correct_r.mean(axis=0),
                    n_resamples=n_resamples,
                    alpha=alpha,
                    seed=seed,
                    binary=False,
                )
            )
            if per_seed:
                for i, run_seed in enumerate(t_runs["seed"]):
                    j = int(np.flatnonzero(r_runs["seed"].to_numpy() == run_seed)[0])
                    rows.append(
                        base
                        | {"language": language, "pairing": "seed", "seed": int(run_seed)}
                        | _example_tests(
                            correct_t[i],
                            correct_r[j],
                            n_resamples=n_resamples,
                            alpha=alpha,
                            seed=seed,
                            binary=True,
                        )
                    )
    table = pd.DataFrame(rows)
    table["seed"] = table["seed"].astype("Int64")
    table["p_value"] = table["p_randomization"]
    table["seed_key"] = table["seed"].astype("string").fillna("pooled")
    table["correction"] = correction
    table = _adjust_in_families(table, ["comparison", "pairing", "seed_key"], alpha, correction)
    for column in ("only_treatment_correct", "only_reference_correct"):
        table[column] = table[column].astype("Int64")
    table = table[list(EXAMPLE_COLUMNS)]
    table.attrs.update(
        alpha=alpha, correction=correction, n_resamples=n_resamples, seed=seed, skipped=the_plan.skipped
    )
    return table


REPLICABILITY_COLUMNS: tuple[str, ...] = (
    "target",
    "intermediate",
    "comparison",
    "treatment",
    "reference",
    "n_languages",
    "significant_better",
    "significant_worse",
    "replicated_better",
    "replicated_worse",
    "method",
    "alpha",
)


def replicability_table(
    comparisons: pd.DataFrame, *, alpha: float | None = None, method: CombiningMethod = "bonferroni"
) -> pd.DataFrame:
    """In how many languages each effect holds, per comparison (Dror et al. 2017).

    From a `compare_conditions` table (its per-language rows; ``avg`` excluded):
    ``significant_better``/``significant_worse`` count languages whose adjusted
    p-value is significant with the difference in that direction;
    ``replicated_better`` is `replicability_count` of the primary test's one-sided
    p-values ``p_greater`` (H0: the treatment is not better), i.e. a lower bound,
    with family-wise error ``alpha``, on the number of languages in which the
    treatment is better; ``replicated_worse`` the same with ``p_less``. Bonferroni
    partial conjunctions by default, because the languages are not independent
    (`replicability_count`). Counts are missing (NA) where the tests could not
    be run.
    """
    alpha = float(comparisons.attrs.get("alpha", 0.05)) if alpha is None else alpha
    key = ["target", "intermediate", "comparison", "treatment", "reference"]
    rows = []
    made = comparisons[comparisons["compared"].astype(bool)] if "compared" in comparisons else comparisons
    per_language = made[made["language"] != AVERAGE]
    for values, group in per_language.groupby(key, sort=False):
        row: dict[str, Any] = dict(zip(key, values, strict=True))
        row |= {
            "n_languages": len(group),
            "significant_better": int((group["significant"] & (group["diff"] > 0)).sum()),
            "significant_worse": int((group["significant"] & (group["diff"] < 0)).sum()),
            "method": method,
            "alpha": alpha,
        }
        for direction, column in (("better", "p_greater"), ("worse", "p_less")):
            p = group[column].to_numpy(dtype=float)
            row[f"replicated_{direction}"] = (
                pd.NA if np.isnan(p).any() else replicability_count(p, alpha=alpha, method=method).count
            )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(REPLICABILITY_COLUMNS))
    for column in ("replicated_better", "replicated_worse"):
        table[column] = table[column].astype("Int64")
    return table
