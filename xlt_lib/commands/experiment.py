"""``xlt run`` and ``xlt report``: execute an experiment file, render its report.

Light at import (``xlt --help`` imports it): papermill, nbconvert and matplotlib are imported
by the functions that execute and render notebooks.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import execute, load_experiment, plan
from xlt_lib.experiment.config import ExecutorSpec
from xlt_lib.experiment.describe import describe_plan
from xlt_lib.report import build_report


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="validate an experiment file, execute its runs (resuming), and render its report",
        description="Expand params/<name>.yaml into runs and execute each run's notebook through papermill. "
        "Complete runs are skipped; failed or interrupted ones are rerun.",
    )
    run.add_argument("experiment", help="the experiment file, e.g. params/demo.yaml")
    run.add_argument(
        "--dry-run", action="store_true", help="print the plan (runs, dependencies, state, cost) and stop"
    )
    run.add_argument("--force", action="store_true", help="rerun complete runs too")
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--local", action="store_true", help="run in this process, one after another (overrides executor)"
    )
    where.add_argument(
        "--workers", type=int, metavar="N", help="run N local worker processes (overrides executor)"
    )
    run.add_argument("--no-report", action="store_true", help="do not render the report afterwards")
    run.set_defaults(handler=_run)

    report = subparsers.add_parser(
        "report",
        help="render an experiment's executed notebooks and its index page",
        description="Render every executed notebook to HTML (no code) and write reports/<name>/index.html "
        "with the results table, plots, significance report and failed runs.",
    )
    report.add_argument("experiment", help="the experiment file, e.g. params/demo.yaml")
    report.add_argument(
        "--no-significance", action="store_true", help="skip running notebooks/significance.ipynb"
    )
    report.set_defaults(handler=_report)


def _executor(args: argparse.Namespace, default: Any) -> Any:
    if args.local:
        return ExecutorSpec()
    if args.workers is not None:
        if args.workers < 1:
            raise ConfigError(f"--workers: expected a positive number, got {args.workers}")
        return ExecutorSpec(kind="workers", workers=args.workers)
    return default


def _run(args: argparse.Namespace) -> int:
    experiment = load_experiment(args.experiment)
    the_plan = plan(experiment, force=args.force)
    if args.dry_run:
        print(describe_plan(the_plan))
        return 0
    executor = _executor(args, experiment.executor)
    print(
        f"xlt run {experiment.name}: {len(the_plan.runs)} runs, {len(the_plan.to_execute)} to execute "
        f"({executor.kind}); records in {the_plan.directory}",
        flush=True,
    )
    for run in the_plan.runs:
        for why in run.damaged:
            print(f"  redo {run.spec.run_id}: damaged record: {why}", flush=True)
        for why in run.stale:
            print(f"  rerun {run.spec.run_id}: inputs changed: {why}", flush=True)
    noted = [run for run in the_plan.runs if run.notes and not run.execute]
    if noted:
        print(
            f"  note: {len(noted)} complete run(s) are reused although {noted[0].notes[0]} "
            "(--force reruns them)",
            flush=True,
        )
    summary = execute(the_plan, executor=executor, log=lambda line: print(line, flush=True))
    print(
        f"xlt run {experiment.name}: {summary.count('complete')} completed, {summary.count('skipped')} skipped, "
        f"{summary.count('failed')} failed, {summary.count('blocked')} blocked",
        flush=True,
    )
    for outcome in summary.outcomes:
        if outcome.status in ("failed", "blocked"):
            print(f"  {outcome.status}: {outcome.run_id}: {outcome.message}", file=sys.stderr)
    if not args.no_report:
        index = build_report(experiment, log=lambda line: print(line, flush=True))
        print(f"report: {index}")
    return 0 if summary.ok else 1


def _report(args: argparse.Namespace) -> int:
    experiment = load_experiment(args.experiment)
    index = build_report(experiment, significance=not args.no_significance, log=print)
    print(f"report: {index}")
    return 0
