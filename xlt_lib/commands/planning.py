"""``xlt plan`` and ``xlt calibrate``: what a study needs before it runs, and what that costs.

``xlt plan EXPERIMENT --mde POINTS [--pilot OTHER]`` reads the seed and example
variance of finished runs (`xlt_lib.stats.planning`), finds the seeds per condition
(and evaluation examples per language, where more of them save seeds) with which
the default significance procedure detects an average difference of POINTS with
80 % power, and times that design on this machine and on the experiment's executor
(`xlt_lib.experiment.calibration`). Its last output line is one JSON object.

``xlt calibrate EXPERIMENT`` measures the throughput of the experiment's runs on this
machine (a probe per workload, in subprocesses) and caches it; ``xlt run --dry-run``
does the same automatically when nothing is cached.

Light at import (``xlt --help`` imports it): pandas and the statistics load when
``xlt plan`` runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from typing import Any

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import Experiment, load_experiment, plan
from xlt_lib.experiment.calibration import auto_calibration_allowed, plan_time, run_probe
from xlt_lib.experiment.config import ExecutorSpec
from xlt_lib.experiment.cost import split_rows
from xlt_lib.experiment.runner import experiment_dir
from xlt_lib.experiment.throughput import cache_key, cache_path, threads_per_run, workload
from xlt_lib.experiment.timing import PlanTime, executor_words, human_duration
from xlt_lib.report.results import RESULT_COLUMNS, load_results
from xlt_lib.tasks import get_task


def register(subparsers: Any) -> None:
    planner = subparsers.add_parser(
        "plan",
        help="seeds (and evaluation examples) a study needs to detect an effect, and what it costs",
        description="From finished pilot runs (the experiment's own, or --pilot's), the seeds per condition and "
        "evaluation examples per language with which the default significance procedure detects an average "
        "difference of --mde points at 80%% power, and the estimated wall time (and GPU-hours) of that design. "
        "The last line is one JSON object.",
    )
    planner.add_argument("experiment", help="the experiment file, e.g. params/demo.yaml")
    planner.add_argument(
        "--mde", type=float, required=True, metavar="POINTS", help="the average difference to detect"
    )
    planner.add_argument(
        "--pilot", metavar="EXPERIMENT", help="read the variance from this experiment's runs"
    )
    planner.add_argument("--power", type=float, default=0.8, help="the power to reach (default 0.8)")
    planner.set_defaults(handler=_plan)

    calibrate = subparsers.add_parser(
        "calibrate",
        help="measure this machine's throughput for an experiment's runs (cached; --dry-run uses it)",
        description="Run a short probe of each distinct workload of the experiment (phase, task, model, "
        "speed settings) in subprocesses laid out as the executor runs them, and cache training and evaluation "
        "examples per second and the fixed seconds per run under the xlt cache dir.",
    )
    calibrate.add_argument("experiment", help="the experiment file, e.g. params/demo.yaml")
    calibrate.add_argument("--force", action="store_true", help="probe again even where a cache entry exists")
    calibrate.set_defaults(handler=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    experiment = load_experiment(args.experiment)
    specs = [run.spec for run in plan(experiment, force=True).runs]
    executor = experiment.executor
    if args.force:
        threads = threads_per_run(executor)
        for spec in specs:
            cache_path(cache_key(workload(spec), threads)).unlink(missing_ok=True)
    timing = plan_time(
        specs, executor, probe=run_probe, log=lambda line: print(line, flush=True), exclude=[experiment.name]
    )
    for line in timing.lines():
        print(line)
    return 0


# -- xlt plan ------------------------------------------------------------------------------


def _with_design(experiment: Experiment, seeds: int, eval_examples: int | None) -> Experiment:
    """``experiment`` with ``seeds`` seeds per condition (its own first) and that evaluation size.

    Each target's size is capped at the rows its languages offer (PAWS-X has 2,000 where
    XNLI has 5,010): the cost estimate takes a cap at its word, without reading the data.
    """
    chosen = list(experiment.seeds[:seeds])
    extra = max(experiment.seeds, default=0) + 1
    while len(chosen) < seeds:
        chosen.append(extra)
        extra += 1
    transfer = {**experiment.transfer_settings, "max_eval_examples": eval_examples}
    targets = []
    for target in experiment.targets:
        available = _available(experiment, target)
        size = eval_examples if eval_examples is None or available is None else min(eval_examples, available)
        if size != eval_examples or "max_eval_examples" in target.overrides:
            target = dataclasses.replace(target, overrides={**target.overrides, "max_eval_examples": size})
        targets.append(target)
    return dataclasses.replace(
        experiment, seeds=tuple(chosen), transfer_settings=transfer, targets=tuple(targets)
    )


def _available(experiment: Experiment, target: Any) -> int | None:
    """The fewest evaluation rows any of the target's languages offers (None: unknown, hub data)."""
    spec = get_task(target.task)
    rows = [
        split_rows(target.task, target.eval_split, language, experiment.data_dir)
        for language in (target.languages or spec.languages)
    ]
    return None if any(n is None for n in rows) else min(n for n in rows if n is not None)


def _family_size(experiment: Experiment) -> int:
    """The main comparison's average rows: one per target and intermediate task (`stats.seed_table`)."""
    return max(1, len(experiment.targets) * max(1, len(experiment.intermediate_tasks)))


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _plan(args: argparse.Namespace) -> int:
    # The statistics package loads pandas, scipy and statsmodels when imported (any of its modules):
    # `xlt --help` imports this module and must not pay for that (tests/test_startup_imports.py).
    from xlt_lib.stats.planning import design_for, estimate_variance, eval_sizes

    if not math.isfinite(args.mde) or args.mde <= 0:
        raise ConfigError(f"--mde: expected a positive number of points, got {args.mde}")
    if not 0 < args.power < 1:
        raise ConfigError(f"--power: expected a number in (0, 1), got {args.power}")
    experiment = load_experiment(args.experiment)
    pilot = load_experiment(args.pilot) if args.pilot else experiment
    pilot_dir = experiment_dir(pilot)
    if pilot_dir.is_dir():
        results = load_results(pilot_dir)
    else:
        import pandas as pd

        results = pd.DataFrame(columns=list(RESULT_COLUMNS))
    print(f"pilot: {pilot.name} ({pilot_dir}): {results['run_id'].nunique()} completed phase-3 run(s)")
    alpha = experiment.significance.alpha
    family = _family_size(experiment)
    variances = []
    currents = []
    for target in experiment.targets:
        languages = target.languages or get_task(target.task).languages
        variance = dataclasses.replace(
            estimate_variance(results, target.task, languages=languages),
            eval_available=_available(experiment, target),
        )
        variances.append(variance)
        currents.append(experiment.transfer_settings_for(target).get("max_eval_examples"))
        print(f"  {variance.source}")
    current = currents[0]
    available = max((v.eval_available for v in variances if v.eval_available), default=None)
    print(
        f"test: {experiment.significance.test} over seeds on each run's average over languages, "
        f"{experiment.significance.correction} over the {family} average test(s) of the main comparison "
        f"(planned at α/{family} = {alpha / family:.4g}); power {args.power:g} for {args.mde:g} points"
    )
    executor = experiment.executor
    probe = run_probe if auto_calibration_allowed() else None
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    rows = []
    for size in eval_sizes(current, available):
        design = design_for(
            variances, args.mde, eval_examples=size, alpha=alpha, power=args.power, family_size=family
        )
        planned = _with_design(experiment, design.seeds, size)
        specs = [run.spec for run in plan(planned).to_execute]
        timing = plan_time(specs, executor, probe=probe, log=log)
        here = timing if executor.kind != "slurm" else plan_time(specs, ExecutorSpec(), probe=None)
        rows.append((design, timing, here, len(specs)))
        probe = None if probe is None else run_probe  # probes are cached: later sizes reuse them
    best = min(rows, key=lambda row: (_order(row[1]), row[0].seeds))
    print(
        f"\n{'eval ex./language':>17}  {'seeds/condition':>15}  {'power':>5}  {'runs to do':>10}  wall time"
    )
    for design, timing, _here, count in rows:
        mark = " <- chosen" if (design, timing) == (best[0], best[1]) else ""
        wall = timing.wall_seconds
        shown = "unknown" if wall is None else human_duration(wall)
        shown_size = "all" if design.eval_examples is None else f"{design.eval_examples:,}"
        print(f"{shown_size:>17}  {design.seeds:>15}  {design.power:>5.2f}  {count:>10}  {shown}{mark}")
    design, timing, here, _count = best
    print()
    print(
        f"design: {design.seeds} seeds per condition, "
        f"{'every' if design.eval_examples is None else f'{design.eval_examples:,}'} evaluation examples per "
        f"language; {design.deciding_target} needs the most seeds (planned sd of a run's average: "
        + ", ".join(f"{t} {100 * sd:.2f}" for t, sd in design.sd.items())
        + " points)"
    )
    print(f"on the experiment's executor ({executor_words(executor)}):")
    for line in timing.lines():
        print(f"  {line}")
    if here is not timing:
        print("here (this machine, one run at a time):")
        for line in here.lines():
            print(f"  {line}")
    print(
        json.dumps(
            {
                "seeds_per_condition": design.seeds,
                "eval_examples_per_language": design.eval_examples,
                "wall_hours": _hours(timing.wall_seconds),
                "here_wall_hours": _hours(here.wall_seconds),
                "gpu_hours": None if timing.gpu_hours is None else round(timing.gpu_hours, 1),
                "mde_points": args.mde,
                "power": round(design.power, 3),
                "target_power": args.power,
                "alpha": alpha,
                "family_size": family,
                "variance_source": "prior" if any(v.from_prior for v in variances) else "pilot",
            }
        )
    )
    return 0


def _order(timing: PlanTime) -> float:
    """Designs compare by wall time; one whose time is unknown sorts last."""
    wall = timing.wall_seconds
    return math.inf if wall is None else wall
