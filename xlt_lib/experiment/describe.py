"""The text of ``xlt run --dry-run``: every run, its dependencies, its state, the cost and the time."""

from __future__ import annotations

from xlt_lib.experiment.calibration import on_gpus, one_gpu_time, plan_time
from xlt_lib.experiment.config import ExecutorSpec
from xlt_lib.experiment.cost import estimate, human_bytes, human_count
from xlt_lib.experiment.runner import Plan
from xlt_lib.experiment.timing import PlanTime, executor_words, human_duration


def _state(run_state: str, execute: bool) -> str:
    if not execute:
        return "done, skip"
    return {
        "complete": "done, redo",
        "damaged": "damaged: redo",
        "failed": "failed, rerun",
        "incomplete": "interrupted, rerun",
        "foreign": "foreign, replace",
    }.get(run_state, "to run")


def describe_plan(plan: Plan, timing: PlanTime | None = None, executor: ExecutorSpec | None = None) -> str:
    """A readable plan: one line per run, then totals and the estimated time for what this invocation executes.

    ``timing``: the estimate (`xlt_lib.experiment.calibration.plan_time`); by default the
    one the calibration cache and completed runs give, without probing.
    """
    experiment = plan.experiment
    runs = plan.runs
    n_phase2 = sum(1 for r in runs if r.spec.phase == "intermediate")
    executor = executor or experiment.executor
    if timing is None:
        timing = plan_time([r.spec for r in plan.to_execute], executor, runs_root=plan.directory.parent)
    seconds = {estimate.run_id: estimate.seconds for estimate in timing.runs}
    where = executor_words(executor)
    lines = [
        f"experiment {experiment.name} ({experiment.path}): {len(runs)} runs "
        f"({n_phase2} intermediate, {len(runs) - n_phase2} transfer); "
        f"{sum(1 for r in runs if not r.execute)} done, {len(plan.to_execute)} to run; executor: {where}",
        f"run records: {plan.directory}",
        "",
    ]
    header = ("run", "what", "seed", "after", "state", "train ex.", "eval ex.", "disk", "est. time")
    rows = [header]
    totals = {"train": 0, "eval": 0, "disk": 0}
    unknown: set[str] = set()
    errors: dict[int, str] = {}
    for run in runs:
        spec = run.spec
        cost = estimate(spec)
        what = (
            f"{spec.intermediate} / {spec.condition}"
            if spec.phase == "intermediate"
            else f"{spec.target}:{spec.eval_split} <- {spec.intermediate} / {spec.condition}"
        )
        rows.append(
            (
                spec.run_id,
                what,
                str(spec.seed),
                spec.parent or "-",
                _state(run.state, run.execute),
                human_count(cost.train_examples),
                human_count(cost.eval_examples),
                human_bytes(cost.disk_bytes),
                _time(seconds, spec.run_id, run.execute),
            )
        )
        if run.execute:
            for key, value in (
                ("train", cost.train_examples),
                ("eval", cost.eval_examples),
                ("disk", cost.disk_bytes),
            ):
                if value is None:
                    unknown.add(key)
                else:
                    totals[key] += value
        if run.error is not None:
            errors[len(rows) - 1] = f"last error: {run.error.get('ename')}: {run.error.get('evalue')}"
        elif run.damaged or run.stale or run.notes:
            errors[len(rows) - 1] = "; ".join(
                [f"damaged: {why}" for why in run.damaged]
                + [f"inputs changed: {why}" for why in run.stale]
                + [f"note: {why}" for why in run.notes]
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if i in errors:
            lines.append(f"{'':{widths[0]}}  {errors[i]}")

    def total(key: str, text: str) -> str:
        return text + (" + unknown (hub data or sizes)" if key in unknown else "")

    sources = plan.preflight.sources()
    if sources:
        lines += ["", "data read by the runs to execute (source, expected path):", sources]
    report = plan.preflight.report()
    if report:
        lines += ["", report]
    lines += [
        "",
        f"to run: {len(plan.to_execute)} runs; "
        f"train {total('train', human_count(totals['train']))} examples seen (epochs included), "
        f"evaluate {total('eval', human_count(totals['eval']))} examples, "
        f"write {total('disk', human_bytes(totals['disk']))}",
        *timing.lines(),
        *_one_gpu_lines(plan, executor),
    ]
    return "\n".join(lines)


def _one_gpu_lines(plan: Plan, executor: ExecutorSpec) -> list[str]:
    """For a plan that runs on CPUs: what the same runs would take on one GPU (a recorded profile)."""
    if on_gpus(executor) or not plan.to_execute:
        return []
    gpu = one_gpu_time([r.spec for r in plan.to_execute])
    if gpu.wall_seconds is None:
        return []
    return [
        f"on one GPU instead: estimated {human_duration(gpu.wall_seconds)} "
        f"({gpu.run_seconds / 3600:,.1f} GPU-hours, runs one after another)",
        *(f"  throughput: {source}" for source in gpu.sources),
    ]


def _time(seconds: dict[str, float | None], run_id: str, execute: bool) -> str:
    if not execute:
        return "-"
    value = seconds.get(run_id)
    return "?" if value is None else human_duration(value)
