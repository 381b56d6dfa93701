"""Where runs execute: in this process, in N local worker processes, or on SLURM.

All three call `xlt_lib.experiment.runner.execute_run` for each run and respect
dependencies: a phase-3 run starts only after its phase-2 parent completed, and
is marked blocked when that parent failed.

* ``local``: sequential, in plan order (each parent precedes its children).
* ``workers``: a `concurrent.futures.ProcessPoolExecutor` (``spawn``: no forked
  threads), at most N runs at a time, each child submitted when its parent is done.
  The machine's CPU threads are shared out among the workers' kernels.
* ``slurm``: submitit job arrays, one run per array task: the phase-2 array first,
  then the phase-3 array of the runs whose parents completed. A job that dies
  outside the notebook (cancelled, timed out, node failure) is recorded from the
  scheduler's state, which submitit reads through ``sacct``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
from pathlib import Path

from xlt_lib.experiment import records
from xlt_lib.experiment.config import ExecutorSpec, SlurmSettings
from xlt_lib.experiment.runner import (
    Plan,
    PlannedRun,
    ProgressLog,
    RunOutcome,
    block,
    execute_run,
)

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def dispatch(
    executor: ExecutorSpec,
    the_plan: Plan,
    pending: list[PlannedRun],
    notebooks_dir: Path,
    progress: ProgressLog,
) -> list[RunOutcome]:
    if executor.kind == "workers" and executor.workers > 1:
        return run_workers(the_plan, pending, notebooks_dir, progress, executor.workers)
    if executor.kind == "slurm":
        assert executor.slurm is not None
        return run_slurm(the_plan, pending, notebooks_dir, progress, executor.slurm)
    return run_local(the_plan, pending, notebooks_dir, progress)


def _parent_dir(the_plan: Plan, run: PlannedRun) -> Path | None:
    if run.spec.parent is None:
        return None
    return the_plan.by_id()[run.spec.parent].run_dir


def run_local(
    the_plan: Plan, pending: list[PlannedRun], notebooks_dir: Path, progress: ProgressLog
) -> list[RunOutcome]:
    """Sequentially, in this process (the notebooks still run in their own kernels)."""
    failed: set[str] = set()
    outcomes: list[RunOutcome] = []
    for run in pending:
        if run.spec.parent in failed:
            failed.add(run.spec.run_id)
            outcomes.append(block(run, run.spec.parent, progress))
            continue
        progress.start(run.spec)
        outcome = execute_run(run.spec, run.run_dir, notebooks_dir, _parent_dir(the_plan, run))
        progress.end(run.spec, outcome)
        if outcome.status != "complete":
            failed.add(run.spec.run_id)
        outcomes.append(outcome)
    return outcomes


def _worker_init(threads: int) -> None:
    """Give each worker's kernels an equal share of the CPU threads (unless the user set them)."""
    for name in _THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


def run_workers(
    the_plan: Plan, pending: list[PlannedRun], notebooks_dir: Path, progress: ProgressLog, workers: int
) -> list[RunOutcome]:
    """At most ``workers`` runs at a time in separate processes, children after their parents."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    waiting = list(pending)
    pending_ids = {run.spec.run_id for run in pending}
    done: dict[str, RunOutcome] = {}
    outcomes: list[RunOutcome] = []
    running: dict[cf.Future[RunOutcome], PlannedRun] = {}
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(threads,)
    ) as pool:
        while waiting or running:
            for run in list(waiting):
                parent = run.spec.parent
                if parent is not None and parent in pending_ids and parent not in done:
                    continue  # parent still to run
                waiting.remove(run)
                if parent is not None and parent in done and done[parent].status != "complete":
                    outcome = block(run, parent, progress)
                    done[run.spec.run_id] = outcome
                    outcomes.append(outcome)
                    continue
                if len(running) >= workers:
                    waiting.insert(0, run)
                    break
                progress.start(run.spec)
                future = pool.submit(
                    execute_run, run.spec, run.run_dir, notebooks_dir, _parent_dir(the_plan, run)
                )
                running[future] = run
            if not running:
                continue
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                run = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker process itself died
                    records.write_error(run.run_dir, ename=type(exc).__name__, evalue=str(exc))
                    outcome = RunOutcome(run.spec.run_id, "failed", 0.0, f"{type(exc).__name__}: {exc}")
                progress.end(run.spec, outcome)
                done[run.spec.run_id] = outcome
                outcomes.append(outcome)
    return outcomes


# -- SLURM ---------------------------------------------------------------------------------
def slurm_executor(folder: Path, settings: SlurmSettings, name: str, cluster: str | None = None):  # type: ignore[no-untyped-def]
    """A submitit executor configured from the experiment's ``executor.slurm`` block."""
    import submitit

    executor = submitit.AutoExecutor(folder=str(folder / "%j"), cluster=cluster)
    parameters: dict[str, object] = {
        "name": name,
        "timeout_min": settings.timeout_min,
        "cpus_per_task": settings.cpus_per_task,
        "slurm_array_parallelism": settings.array_parallelism,
    }
    if settings.gpus_per_node:
        parameters["gpus_per_node"] = settings.gpus_per_node
    if settings.mem_gb is not None:
        parameters["mem_gb"] = settings.mem_gb
    for key in ("partition", "account", "qos", "constraint"):
        value = getattr(settings, key)
        if value is not None:
            parameters[f"slurm_{key}"] = value
    if settings.additional:
        parameters["slurm_additional_parameters"] = dict(settings.additional)
    executor.update_parameters(**parameters)
    return executor


def _job_outcome(job, run: PlannedRun, started: float) -> RunOutcome:  # type: ignore[no-untyped-def]
    """The run's outcome from its SLURM job, recording failures that happened outside the notebook."""
    from submitit.core.utils import FailedJobError, UncompletedJobError

    try:
        outcome: RunOutcome = job.result()
    except (FailedJobError, UncompletedJobError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _record_scheduler_failure(job, run, started, first_line, str(exc))
    if outcome.status == "failed" and _final_job_state(job).startswith(_SCHEDULER_ENDS):
        # scancel/timeout sends SIGTERM, which submitit's job process survives but the kernel does not:
        # the notebook failure (DeadKernelError) is a consequence; the scheduler's state is the cause.
        return _record_scheduler_failure(job, run, started, outcome.message, outcome.message)
    return outcome


_SCHEDULER_ENDS = ("CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "OUT_OF_MEMORY", "DEADLINE")


def _job_state(job) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(job.get_info().get("State") or job.state)
    except Exception:  # sacct unavailable: fall back to the cached state
        return str(job.state)


def _final_job_state(job, wait_s: float = 20.0) -> str:  # type: ignore[no-untyped-def]
    """The job's state once the scheduler has settled it (a job is briefly RUNNING/COMPLETING after its result)."""
    deadline = time.monotonic() + wait_s
    state = _job_state(job)
    while (
        state.split()[0:1] in (["RUNNING"], ["COMPLETING"], ["PENDING"], ["UNKNOWN"])
        and time.monotonic() < deadline
    ):
        time.sleep(1.0)
        state = _job_state(job)
    return state


def _record_scheduler_failure(job, run: PlannedRun, started: float, summary: str, detail: str) -> RunOutcome:  # type: ignore[no-untyped-def]
    state = _job_state(job)
    word = state.split()[0] if state.split() else "UNKNOWN"  # "CANCELLED by 0" -> CANCELLED
    message = f"SLURM job {job.job_id} ended {state}: {summary}"
    records.write_error(
        run.run_dir, ename=f"Slurm{word.title().replace('_', '')}", evalue=message, detail=detail
    )
    return RunOutcome(run.spec.run_id, "failed", time.monotonic() - started, message)


def run_slurm(
    the_plan: Plan,
    pending: list[PlannedRun],
    notebooks_dir: Path,
    progress: ProgressLog,
    settings: SlurmSettings,
    cluster: str | None = None,
) -> list[RunOutcome]:
    """One job array per phase (phase 2, then phase 3), one run per array task."""
    folder = the_plan.directory / ".submitit"
    pending_ids = {run.spec.run_id for run in pending}
    done: dict[str, RunOutcome] = {}
    outcomes: list[RunOutcome] = []
    for phase in ("intermediate", "transfer"):
        batch: list[PlannedRun] = []
        for run in (r for r in pending if r.spec.phase == phase):
            parent = run.spec.parent
            if parent is not None and parent in pending_ids and done[parent].status != "complete":
                outcome = block(run, parent, progress)
                done[run.spec.run_id] = outcome
                outcomes.append(outcome)
            else:
                batch.append(run)
        if not batch:
            continue
        for run in batch:  # the run directory exists before the job, for its config and logs
            records.reset_run_dir(run.run_dir)
            records.write_config(run.run_dir, run.spec.config())
        executor = slurm_executor(folder, settings, f"xlt-{the_plan.experiment.name}-{phase}", cluster)
        started = time.monotonic()
        jobs = executor.map_array(
            execute_run,
            [run.spec for run in batch],
            [run.run_dir for run in batch],
            [notebooks_dir] * len(batch),
            [_parent_dir(the_plan, run) for run in batch],
        )
        for run, job in zip(batch, jobs, strict=True):
            progress.start(run.spec, f"SLURM job {job.job_id}")
        for run, job in zip(batch, jobs, strict=True):
            outcome = _job_outcome(job, run, started)
            progress.end(run.spec, outcome)
            done[run.spec.run_id] = outcome
            outcomes.append(outcome)
    return outcomes
