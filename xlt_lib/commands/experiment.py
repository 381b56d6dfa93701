"""``xlt run`` and ``xlt report``: execute an experiment file, render its report.

Light at import (``xlt --help`` imports it): papermill, nbconvert and matplotlib are imported
by the functions that execute and render notebooks.
"""

from __future__ import annotations

import argparse
import errno
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlt_lib.errors import ConfigError, RunRecordError, StorageError
from xlt_lib.experiment import execute, load_experiment, plan
from xlt_lib.experiment.calibration import auto_calibration_allowed, plan_time, run_probe
from xlt_lib.experiment.config import ExecutorSpec
from xlt_lib.experiment.describe import describe_plan
from xlt_lib.experiment.grid import PHASE_NOTEBOOKS
from xlt_lib.experiment.integrity import check_experiment
from xlt_lib.experiment.notebook_files import check_notebooks
from xlt_lib.experiment.runner import default_notebooks_dir, experiment_dir
from xlt_lib.report import build_report
from xlt_lib.report.learning import learning_warnings
from xlt_lib.report.results import learning_runs

#: errno values that mean "this file system will not take the write": named, never a traceback.
_STORAGE_ERRNOS = {
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
}


def _named_storage_errors(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Turn a write refused by the file system into a `StorageError` naming the file and the way out."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except OSError as exc:
            if exc.errno not in _STORAGE_ERRNOS:
                raise
            where = exc.filename or "a run or report file"
            raise StorageError(
                f"cannot write {where}: {_STORAGE_ERRNOS[exc.errno]}; free space or make it writable, "
                "or point XLT_RUNS_DIR / XLT_REPORTS_DIR at a writable folder"
            ) from exc

    return wrapper


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
    run.set_defaults(handler=_named_storage_errors(_run))

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
    report.set_defaults(handler=_named_storage_errors(_report))

    check = subparsers.add_parser(
        "check",
        help="verify every run record of an experiment (files, identity, provenance, parent encoders)",
        description="Verify each run record in full: every file against its manifest (SHA-256), config.yaml "
        "against the run id, inputs against the recorded provenance, and each phase-3 run's parent encoder. "
        "Lists every problem with its fix; exits 1 when there is any.",
    )
    check.add_argument("experiment", help="the experiment file, e.g. params/demo.yaml")
    check.set_defaults(handler=_check)


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
    check_notebooks(
        default_notebooks_dir() / PHASE_NOTEBOOKS[phase]
        for phase in {run.spec.phase for run in the_plan.to_execute}
    )
    if args.dry_run:
        executor = _executor(args, experiment.executor)
        # No calibration cached for this machine and model: measure it now (a subprocess: this
        # process stays free of torch), unless XLT_AUTO_CALIBRATE=0.
        timing = plan_time(
            [run.spec for run in the_plan.to_execute],
            executor,
            runs_root=the_plan.directory.parent,
            probe=run_probe if auto_calibration_allowed() else None,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
        print(describe_plan(the_plan, timing, executor))
        missing = the_plan.preflight.missing
        if missing:
            print(
                f"xlt run: {len(missing)} input(s) missing (listed above): the runs could not start",
                file=sys.stderr,
            )
            return 1
        return 0
    the_plan.preflight.raise_for_missing()  # before any training: every input is there
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
    _warn_degenerate(the_plan.directory)
    failures = [
        f"{outcome.status} {outcome.run_id}"
        for outcome in summary.outcomes
        if outcome.status in ("failed", "blocked")
    ]
    if not args.no_report:
        problems: list[str] = []
        index = build_report(experiment, log=lambda line: print(line, flush=True), problems=problems)
        print(f"report: {index}")
        failures += problems
    return _exit_status(f"xlt run {experiment.name}", failures)


def _warn_degenerate(directory: Path) -> None:
    """One warning line per target and condition with runs that did not learn (`xlt_lib.training.learning`)."""
    if directory.is_dir():
        for line in learning_warnings(learning_runs(directory)):
            print(f"  warning: did not learn: {line}", file=sys.stderr, flush=True)


def _exit_status(command: str, failures: list[str]) -> int:
    """0 when nothing failed; else 1, after one line on stderr naming everything that failed."""
    if not failures:
        return 0
    print(f"{command}: FAILED: {'; '.join(failures)}", file=sys.stderr, flush=True)
    return 1


def _report(args: argparse.Namespace) -> int:
    experiment = load_experiment(args.experiment)
    damaged = [run for run in plan(experiment).runs if run.state == "damaged"]
    if damaged:
        names = "; ".join(f"{run.spec.run_id}: {run.damaged[0]}" for run in damaged)
        raise RunRecordError(
            f"{len(damaged)} run record(s) are damaged ({names}); `xlt run {args.experiment}` redoes them "
            f"(`xlt check {args.experiment}` lists every problem)"
        )
    _warn_degenerate(experiment_dir(experiment))
    problems: list[str] = []
    index = build_report(experiment, significance=not args.no_significance, log=print, problems=problems)
    print(f"report: {index}")
    return _exit_status(f"xlt report {experiment.name}", problems)


def _check(args: argparse.Namespace) -> int:
    experiment = load_experiment(args.experiment)
    directory = experiment_dir(experiment)
    report = check_experiment(experiment, directory, f"`xlt run {args.experiment}`")
    for problem in report.problems:
        print(f"  {problem}")
    total = report.whole + report.missing + len({problem.run_id for problem in report.problems})
    print(
        f"xlt check {experiment.name}: {report.whole} record(s) whole, {len(report.problems)} problem(s), "
        f"{report.missing} run(s) not recorded yet, of {total} ({directory})",
        file=sys.stderr if report.problems else sys.stdout,
    )
    return 1 if report.problems else 0
