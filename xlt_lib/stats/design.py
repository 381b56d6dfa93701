"""The study's comparisons, planned from the completed runs: what is compared with what, and what cannot be.

Input is the table of `xlt_lib.report.results.load_results` (one row per run and
language). For every target task and intermediate task:

- ``codeswitched vs monolingual``: each code-switched condition against each
  monolingual condition with the same intermediate task (the study's question);
- ``codeswitched vs none`` and ``monolingual vs none``: each against the
  no-intermediate baseline of the same target.

Differences are always *treatment minus reference* (first-named minus second).

A partial design is compared as far as it goes: every kind whose two condition
kinds have completed runs is compared, the others are listed with the reason
(`comparison_plan`), and only an experiment where no kind can be compared is
refused. The tests themselves are in `xlt_lib.stats.seed_table` (over seeds) and
`xlt_lib.stats.example_table` (over test examples).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from xlt_lib.conditions import KIND_LABELS
from xlt_lib.report.results import RESULT_COLUMNS
from xlt_lib.stats.errors import MissingRunsError, PairingError, StatsError

COMPARISON_KINDS: dict[str, tuple[str, str]] = {
    "codeswitched vs monolingual": ("codeswitched", "monolingual"),
    "codeswitched vs none": ("codeswitched", "none"),
    "monolingual vs none": ("monolingual", "none"),
}
MAIN_COMPARISON = "codeswitched vs monolingual"
#: Pseudo-language of the unweighted mean over a run's languages.
AVERAGE = "avg"


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


def check_results_table(results: pd.DataFrame) -> None:
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


def _missing(kinds: dict[str, list[str]], needed: tuple[str, str]) -> str:
    """``no completed code-switched and no completed monolingual runs``, in `KIND_LABELS` words."""
    labelled = [KIND_LABELS[kind] for kind in needed if not kinds[kind] and kind != "none"]
    words = [f"no completed {' and no completed '.join(labelled)} runs"] if labelled else []
    if not kinds["none"] and "none" in needed:
        words.append(f"no completed runs with {KIND_LABELS['none']}")
    return " and ".join(words)


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
    check_results_table(results)
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
                            f"{missing} (found {found})",
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


def runs_of(results: pd.DataFrame, target: str, intermediate: str, condition: str) -> pd.DataFrame:
    mask = (
        (results["target"] == target)
        & (results["intermediate"] == intermediate)
        & (results["condition"] == condition)
    )
    return results[mask]


def check_languages(runs: pd.DataFrame, where: str) -> list[str]:
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


def missing_runs(results: pd.DataFrame) -> list[str]:
    """Runs of the design that have not completed, as lines: ``xnli, mnli / cs: seeds 3, 4 missing``.

    The design is inferred from what did complete: every condition of a target
    should have every seed that any condition of that target has. (Runs of a
    condition of which no run completed are reported by `comparison_plan`.)
    """
    lines = []
    for target, rows in results.groupby("target", sort=True):
        all_seeds = set(rows["seed"])
        for (intermediate, condition), group in rows.groupby(["intermediate", "condition"], sort=True):
            absent = sorted(all_seeds - set(group["seed"]))
            if absent:
                where = condition if intermediate == "none" else f"{intermediate} / {condition}"
                lines.append(
                    f"{target}, {where}: seed(s) {', '.join(map(str, absent))} not completed "
                    f"(completed: {', '.join(map(str, sorted(set(group['seed']))))})"
                )
    return lines
