"""The comparison table over test examples, from the prediction files: the test example as the unit.

`compare_examples` pairs the runs of every comparison of
`xlt_lib.stats.design.comparison_plan` example by example
(`xlt_lib.stats.pairing`), and tests the difference with the paired tests of
`xlt_lib.stats.examples`, pooled over seeds and (optionally) seed by seed.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from xlt_lib.errors import RunRecordError
from xlt_lib.report.results import load_predictions
from xlt_lib.stats.decidability import example_test_floor
from xlt_lib.stats.design import check_languages, comparison_plan, missing_runs, runs_of
from xlt_lib.stats.errors import MissingRunsError, PairingError, StatsError
from xlt_lib.stats.examples import approximate_randomization, mcnemar_exact, paired_bootstrap
from xlt_lib.stats.multiple import adjust_in_families, smallest_adjusted_p
from xlt_lib.stats.pairing import pair_predictions
from xlt_lib.stats.settings import (
    DEFAULT_ALPHA,
    DEFAULT_CORRECTION,
    DEFAULT_N_RESAMPLES,
    DEFAULT_SEED,
    check_correction,
)

#: How far a run's accuracy recomputed from its predictions may be from its metrics.json (rounding).
ACCURACY_TOLERANCE = 1e-3


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
    "family_size",
    "min_attainable_p_adjusted",
    "decidable",
)


def compare_examples(
    results: pd.DataFrame,
    *,
    alpha: float = DEFAULT_ALPHA,
    correction: str = DEFAULT_CORRECTION,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    per_seed: bool = True,
    require_baseline: bool = False,
    unpaired: Literal["raise", "skip"] = "raise",
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

    ``decidable`` says whether the randomisation test can reach ``alpha`` at all
    after its family's correction with ``n_resamples`` (its floor is
    1 / (n_resamples + 1); `xlt_lib.stats.decidability`).

    ``unpaired="skip"`` runs the per-seed tests on the seeds both conditions
    have and lists the rest in ``attrs["unpaired"]`` (an unfinished experiment);
    the default refuses. ``attrs["missing_runs"]`` lists the runs of the design
    that have not completed (`xlt_lib.stats.design.missing_runs`).

    Refuses (`MissingRunsError`, `PairingError`, `RunRecordError`) when a run has
    no predictions, when example ids are duplicated, unpaired or carry different
    gold labels, when seeds cannot be paired (``per_seed``), or when a run's
    predictions do not reproduce its metrics.json.
    """
    check_correction(correction)
    the_plan = comparison_plan(results, require_baseline=require_baseline)
    comparisons = the_plan.comparisons
    for target, target_rows in results.groupby("target"):
        check_languages(target_rows, f"target {target}")
    if unpaired not in ("raise", "skip"):
        raise StatsError(f"unpaired={unpaired!r}: expected 'raise' or 'skip'")
    cache = _Predictions()
    rows: list[dict[str, Any]] = []
    skipped_pairs: list[str] = []
    for c in comparisons:
        treatment_runs = runs_of(results, c.target, c.intermediate, c.treatment)
        reference_runs = runs_of(results, c.target, c.reference_intermediate, c.reference)
        if per_seed:
            only_t = sorted(set(treatment_runs["seed"]) - set(reference_runs["seed"]))
            only_r = sorted(set(reference_runs["seed"]) - set(treatment_runs["seed"]))
            if only_t or only_r:
                message = (
                    f"{c.label()}: cannot pair runs by seed: seeds {only_t} only in {c.treatment}, "
                    f"seeds {only_r} only in {c.reference}; missing runs: "
                    + ", ".join(
                        [f"{c.reference} seed {s}" for s in only_t]
                        + [f"{c.treatment} seed {s}" for s in only_r]
                    )
                )
                if unpaired == "raise":
                    raise PairingError(message + " (finish them, or pass per_seed=False or unpaired='skip')")
                skipped_pairs.append(message + "; the per-seed tests use the seeds both have")
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
                    matches = np.flatnonzero(r_runs["seed"].to_numpy() == run_seed)
                    if not matches.size:  # unpaired="skip": this seed has no reference run
                        continue
                    j = int(matches[0])
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
    table = adjust_in_families(table, ["comparison", "pairing", "seed_key"], alpha, correction)
    table["min_attainable_p_adjusted"] = [
        smallest_adjusted_p(example_test_floor(n_resamples), int(size), correction=correction)
        for size in table["family_size"]
    ]
    table["decidable"] = table["min_attainable_p_adjusted"] <= alpha
    for column in ("only_treatment_correct", "only_reference_correct"):
        table[column] = table[column].astype("Int64")
    table = table[list(EXAMPLE_COLUMNS)]
    table.attrs.update(
        alpha=alpha,
        correction=correction,
        n_resamples=n_resamples,
        seed=seed,
        skipped=the_plan.skipped,
        unpaired=skipped_pairs,
        missing_runs=missing_runs(results),
    )
    return table
