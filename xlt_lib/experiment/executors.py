"""Executing a plan: in this process, in N local worker processes, or on SLURM.

`execute` dispatches the plan's runs to the executor the experiment names and
prints one line per run start and end. It holds the experiment's lock file while
it does, so a second ``xlt run`` of the same experiment (another shell, a
duplicated job) stops at once instead of training into the same run directories.

All three executors call `xlt_lib.experiment.runner.execute_run` for each run and respect
dependencies: a phase-3 run starts only after its phase-2 parent completed, and
is marked blocked when that parent failed.

* ``local``: sequential, in plan order (each parent precedes its children).
* ``workers``: a `concurrent.futures.ProcessPoolExecutor` (``spawn``: no forked
  threads), at most N runs at a time, each child submitted when its parent is done.
  The machine's CPU threads are shared out among the workers' kernels. Workers die
  with the runner (Linux ``PR_SET_PDEATHSIG``), and a worker that dies breaks only
  the runs it and its siblings were executing: the rest go on in a fresh pool.
* ``slurm``: submitit job arrays, one run per array task: the phase-2 array first,
  then the phase-3 array of the runs whose parents completed. A job that dies
  outside the notebook (cancelled, timed out, node failure) is recorded from the
  scheduler's state, which submitit reads through ``sacct``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from xlt_lib.errors import RunRecordError
from xlt_lib.experiment import records
from xlt_lib.experiment.config import ExecutorSpec, SlurmSettings
from xlt_lib.experiment.runner import (
    Log,
    Plan,
    PlannedRun,
    ProgressLog,
    RunOutcome,
    block,
    default_notebooks_dir,
    execute_run,
)

#: In the experiment directory: held (an OS file lock, released when the process ends,
#: however it ends) by the `execute` call working on that experiment.
LOCK_NAME = ".xlt-run.lock"
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Summary:
    outcomes: list[RunOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def ok(self) -> bool:
        return not any(outcome.status in ("failed", "blocked") for outcome in self.outcomes)


def execute(
    the_plan: Plan,
    *,
    executor: ExecutorSpec | None = None,
    notebooks_dir: Path | None = None,
    log: Log = print,
) -> Summary:
    """Execute the runs the plan marks, respecting dependencies; returns every run's outcome.

    Runs whose parent fails are marked ``blocked`` (and recorded as such in their
    ``error.json``), never executed.
    """
    executor = executor or the_plan.experiment.executor
    notebooks_dir = Path(notebooks_dir or default_notebooks_dir())
    summary = Summary([RunOutcome(run.spec.run_id, "skipped") for run in the_plan.runs if not run.execute])
    pending = the_plan.to_execute
    if not pending:
        return summary
    progress = ProgressLog(len(pending), log)
    with experiment_lock(the_plan.directory):
        for run in pending:
            if run.state == "damaged" and run.run_dir.exists():
                log(f"set aside damaged record {run.spec.run_id} -> {records.set_aside(run.run_dir)}")
        outcomes = dispatch(executor, the_plan, pending, notebooks_dir, progress)
    summary.outcomes.extend(outcomes)
    return summary


@contextlib.contextmanager
def experiment_lock(directory: Path) -> Iterator[None]:
    """Hold ``directory``'s lock file, or raise `RunRecordError` at once if another process holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(directory / LOCK_NAME)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunRecordError(
            f"{directory}: another `xlt run` is executing this experiment (it holds {lock.lock_file}); "
            "wait for it to finish: a rerun afterwards resumes where it stopped"
        ) from None
    try:
        yield
    finally:
        lock.release()


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


def _worker_init(threads: int, runner_pid: int) -> None:
    """Tie the worker's life to the runner's; give its kernels an equal share of the CPU threads.

    A worker whose runner is killed (SIGKILL, OOM killer, a closed SSH session)
    would otherwise finish its run unsupervised and write into a run directory
    that the next ``xlt run`` resets and reruns; the kernel it started dies with
    it (ipykernel polls its parent).
    """
    _die_with_parent(runner_pid)
    for name in _THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``).

    Neither `multiprocessing` nor `concurrent.futures` offers this; elsewhere than
    Linux it is a no-op and orphaned workers end after their current run.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return
    if os.getppid() != parent_pid:  # the runner died before the request took effect
        os._exit(1)


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
    while waiting or running:
        # A worker that dies (killed, out of memory) breaks the whole pool: its runs and those
        # of the other workers are recorded as failed (the next `xlt run` retries them) and
        # the remaining runs go on in a fresh pool.
        with _worker_pool(workers, threads) as pool:
            _fill_pool(
                the_plan,
                pool,
                waiting,
                running,
                pending_ids,
                done,
                outcomes,
                notebooks_dir,
                progress,
                workers,
            )
    return outcomes


def _worker_pool(workers: int, threads: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(threads, os.getpid()),
    )


def _fill_pool(
    the_plan: Plan,
    pool: cf.ProcessPoolExecutor,
    waiting: list[PlannedRun],
    running: dict[cf.Future[RunOutcome], PlannedRun],
    pending_ids: set[str],
    done: dict[str, RunOutcome],
    outcomes: list[RunOutcome],
    notebooks_dir: Path,
    progress: ProgressLog,
    workers: int,
) -> None:
    """Submit runs whose parents are done and collect outcomes until all are done or the pool breaks."""
    broken = False
    while (waiting and not broken) or running:
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
            try:
                future = pool.submit(
                    execute_run, run.spec, run.run_dir, notebooks_dir, _parent_dir(the_plan, run)
                )
            except cf.BrokenExecutor:
                waiting.insert(0, run)
                broken = True
                break
            progress.start(run.spec)
            running[future] = run
        if not running:
            continue
        finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        for future in finished:
            run = running.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process itself died
                broken = broken or isinstance(exc, cf.BrokenExecutor)
                message = f"{type(exc).__name__}: {exc}".rstrip(": ")
                if isinstance(exc, cf.BrokenExecutor):
                    message = f"a worker process died while this run executed ({message})"
                records.write_error_quietly(run.run_dir, ename=type(exc).__name__, evalue=message)
                outcome = RunOutcome(run.spec.run_id, "failed", 0.0, message)
            progress.end(run.spec, outcome)
            done[run.spec.run_id] = outcome
            outcomes.append(outcome)


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
