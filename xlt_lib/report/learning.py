"""Runs that did not learn, said in words: one line per target and condition.

`xlt_lib.training.learning` judges each run and records the verdict in its
``metrics.json``; `xlt_lib.report.results.learning_runs` collects the verdicts.
This module turns them into the warnings that ``xlt run`` prints and that the
index page and the significance report show at their top, so that a comparison
over runs that never left chance is never read as a finding. A target on which
no run learned gets one line that says so and what to change; otherwise each
condition with degenerate runs gets a line naming their seeds and the first reason.
Where the training size at which the model learns the task has been measured
(`MEASURED_THRESHOLDS`), the line names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xlt_lib.conditions import KIND_LABELS

if TYPE_CHECKING:
    import pandas as pd


#: (model, task) -> English training pairs from which runs learned the task, measured from the
#: base encoder (benchmarks/results/demo_design.md, train_throughput.md): below it, outcomes are
#: mixtures of runs that learned and runs that did not.
MEASURED_THRESHOLDS: dict[tuple[str, str], int] = {
    ("offline-default", "mnli"): 3_000,
    ("offline-default", "xnli"): 3_000,  # trains on MNLI
    ("offline-default", "pawsx"): 4_000,
}


def _advice(group: pd.DataFrame, target: str, seen: str) -> str:
    models = {str(m) for m in group["model"].dropna()} if "model" in group else set()
    thresholds = {MEASURED_THRESHOLDS.get((model, target)) for model in models}
    if len(models) == 1 and None not in thresholds:
        (n,) = thresholds
        return (
            f"train on at least {n:,} pairs{seen}, where the {next(iter(models))} model was measured to "
            "learn it, before comparing conditions"
        )
    return f"train on more examples or for longer{seen} before comparing conditions"


def _what(row_phase: str, target: str) -> str:
    return f"{target} (intermediate training)" if row_phase == "intermediate" else target


def learning_warnings(runs: pd.DataFrame) -> list[str]:
    """Warning lines for the runs of `learning_runs` that did not learn (none when every run learned)."""
    if runs.empty or runs["learned"].all():
        return []
    lines: list[str] = []
    for (phase, target), group in runs.groupby(["phase", "target"], sort=True):
        failed = group[~group["learned"]]
        if failed.empty:
            continue
        what = _what(str(phase), str(target))
        examples = sorted({int(n) for n in group["train_examples"].dropna()})
        seen = f" (the runs trained on {', '.join(map(str, examples))} examples)" if examples else ""
        if len(failed) == len(group):
            one_class = all(any("predicts one class" in r for r in reasons) for reasons in failed["reasons"])
            how = "all predict a single class" if one_class else "none is above chance"
            lines.append(
                f"{what}: no run learned ({how}, {len(group)} runs); {_advice(group, str(target), seen)}"
            )
            continue
        for (condition, kind), runs_here in group.groupby(["condition", "condition_kind"], sort=True):
            bad = runs_here[~runs_here["learned"]]
            if bad.empty:
                continue
            seeds = ", ".join(str(seed) for seed in sorted(bad["seed"]))
            label = KIND_LABELS.get(str(kind), str(kind))
            lines.append(
                f"{what}, {label} ({condition}): {len(bad)} of {len(runs_here)} runs did not learn "
                f"(seed {seeds}): {bad['reasons'].iloc[0][0]}"
            )
    return lines
