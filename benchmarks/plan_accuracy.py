"""Predicted vs actual wall time of a completed experiment (issue 15: within +-25 %?).

    python benchmarks/plan_accuracy.py params/smoke.yaml [--calibrate]

Predicted: the estimate ``xlt run --dry-run`` would print for all of the experiment's
runs on its executor, from the calibration cache and completed runs of OTHER
experiments only (never this experiment's own records); ``--calibrate`` probes the
workloads that have no cache entry first. Actual: from the run records, each run's
wall time from its timing record (``timings.json``, the runner's clock around the
notebook; for older records papermill's ``executed.ipynb``, then ``env.json``), and
the experiment's wall time from the first run's start to the last run's end (the
runner's planning before the first run and report rendering are not included).

Prints a table per phase and the totals; writes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path

from xlt_lib.experiment import load_experiment, plan
from xlt_lib.experiment.calibration import plan_time, run_probe
from xlt_lib.experiment.throughput import notebook_wall_seconds
from xlt_lib.experiment.timing import human_duration
from xlt_lib.training.timings import read_timings


def _span(run_dir: Path) -> tuple[dt.datetime, dt.datetime] | None:
    """When the run started and ended: its timing record, else papermill's or env.json's (older records)."""
    timings = read_timings(run_dir)
    if timings is not None and timings.get("started") and timings.get("ended"):
        return dt.datetime.fromisoformat(timings["started"]), dt.datetime.fromisoformat(timings["ended"])
    try:
        meta = json.loads((run_dir / "executed.ipynb").read_text(encoding="utf-8"))["metadata"]["papermill"]
        return dt.datetime.fromisoformat(meta["start_time"]), dt.datetime.fromisoformat(meta["end_time"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        env = json.loads((run_dir / "env.json").read_text(encoding="utf-8"))
        return dt.datetime.fromisoformat(env["start_time"]), dt.datetime.fromisoformat(env["end_time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="the experiment file of a completed experiment")
    parser.add_argument(
        "--calibrate", action="store_true", help="probe workloads that have no calibration yet"
    )
    args = parser.parse_args(argv)
    experiment = load_experiment(args.experiment)
    the_plan = plan(experiment, force=True)  # every run, done or not: the experiment as a whole
    specs = [run.spec for run in the_plan.runs]
    timing = plan_time(
        specs,
        experiment.executor,
        runs_root=the_plan.directory.parent,
        exclude=[experiment.name],
        probe=run_probe if args.calibrate else None,
        log=lambda line: print(line, file=sys.stderr),
    )
    predicted = {run.run_id: run.seconds for run in timing.runs}
    print(f"experiment {experiment.name}: {len(specs)} runs, executor {experiment.executor.kind}")
    for source in timing.sources:
        print(f"  prediction from: {source}")
    spans = {}
    print(f"\n{'phase':<13} {'runs':>4} {'predicted/run':>14} {'actual/run':>11} {'ratio':>6}")
    for phase in ("intermediate", "transfer"):
        pairs = []
        for run in the_plan.runs:
            if run.spec.phase != phase:
                continue
            actual = notebook_wall_seconds(run.run_dir)
            span = _span(run.run_dir)
            if span is not None:
                spans[run.spec.run_id] = span
            if actual is not None and predicted.get(run.spec.run_id) is not None:
                pairs.append((predicted[run.spec.run_id], actual))
        if pairs:
            p = statistics.mean(x for x, _ in pairs)
            a = statistics.mean(y for _, y in pairs)
            print(
                f"{phase:<13} {len(pairs):>4} {human_duration(p):>14} {human_duration(a):>11} {p / a:>6.2f}"
            )
    wall = timing.wall_seconds
    if not spans or wall is None:
        print("\nno comparison: " + ("no run records with times" if not spans else "; ".join(timing.unknown)))
        return 1
    actual_wall = (
        max(end for _, end in spans.values()) - min(start for start, _ in spans.values())
    ).total_seconds()
    ratio = wall / actual_wall
    print(
        f"\nexperiment wall time: predicted {human_duration(wall)}, actual {human_duration(actual_wall)} "
        f"(first run start to last run end, {len(spans)} of {len(specs)} runs recorded): ratio {ratio:.2f} "
        f"({'within' if 0.75 <= ratio <= 1.25 else 'outside'} +-25 %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
