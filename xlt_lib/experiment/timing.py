"""How long a plan takes on its executor: per-run seconds, then the schedule the executor follows.

Each run's seconds come from its work (`xlt_lib.experiment.cost.estimate`: training
examples seen, examples evaluated) and its workload's throughput
(`xlt_lib.experiment.throughput.Throughput.seconds`). The wall time then depends on
how `xlt_lib.experiment.executors` dispatches the runs:

* ``local``: one after another, the sum;
* ``workers: N``: at most N at a time, each child after its parent, in plan order
  (the same greedy order as the executor's pool; `makespan`);
* ``slurm``: the phase-2 array, then the phase-3 array, each at most
  ``array_parallelism`` tasks at a time; queueing time is not included.

GPU-hours (SLURM with ``gpus_per_node``) are the runs' seconds times their GPUs.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from xlt_lib.experiment.config import ExecutorSpec


@dataclass(frozen=True)
class RunEstimate:
    """One run's estimated wall seconds (None: unknown work or throughput) and the parent it waits for."""

    run_id: str
    phase: str
    parent: str | None
    seconds: float | None


@dataclass
class PlanTime:
    """Estimated wall time of the runs to execute on ``executor``, and where the numbers come from."""

    runs: list[RunEstimate]
    executor: ExecutorSpec
    #: One line per distinct origin of the throughput used (probe, recorded runs, device profile).
    sources: list[str] = field(default_factory=list)
    #: Why some runs have no estimate.
    unknown: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.runs) and all(run.seconds is not None for run in self.runs)

    @property
    def run_seconds(self) -> float:
        """Sum of the runs' seconds that are known (the busy time of all workers together)."""
        return sum(run.seconds for run in self.runs if run.seconds is not None)

    @property
    def wall_seconds(self) -> float | None:
        return wall_seconds(self.runs, self.executor) if self.known else None

    @property
    def gpu_hours(self) -> float | None:
        gpus = gpus_per_run(self.executor)
        if not gpus or not self.known:
            return None
        return self.run_seconds * gpus / 3600

    def lines(self) -> list[str]:
        """The estimate in words, for ``xlt run --dry-run`` and ``xlt plan``."""
        where = executor_words(self.executor)
        if not self.runs:
            return ["estimated wall time: 0 s (nothing to run)"]
        if not self.known:
            missing = sum(1 for run in self.runs if run.seconds is None)
            out = [f"estimated wall time: unknown for {missing} of {len(self.runs)} run(s) ({where})"]
            out += [f"  {why}" for why in self.unknown]
            if self.run_seconds:
                out.append(f"  the other runs: {human_duration(self.run_seconds)} of run time")
            return out
        wall = self.wall_seconds
        assert wall is not None
        out = [
            f"estimated wall time: {human_duration(wall)} ({where}); "
            f"{len(self.runs)} run(s), {human_duration(self.run_seconds)} of run time"
        ]
        if self.executor.kind == "slurm":
            out[0] += ", queueing not included"
        if self.gpu_hours is not None:
            out.append(
                f"estimated {self.gpu_hours:,.1f} GPU-hours ({gpus_per_run(self.executor)} GPU per run)"
            )
        out += [f"  throughput: {source}" for source in self.sources]
        return out


def gpus_per_run(executor: ExecutorSpec) -> int:
    if executor.kind == "slurm" and executor.slurm is not None:
        return executor.slurm.gpus_per_node
    return 0


def executor_words(executor: ExecutorSpec) -> str:
    if executor.kind == "workers" and executor.workers > 1:
        return f"{executor.workers} workers"
    if executor.kind == "slurm" and executor.slurm is not None:
        return f"SLURM, {executor.slurm.array_parallelism} array tasks at a time"
    return "local, one run at a time"


def makespan(runs: Sequence[RunEstimate], slots: int) -> float:
    """Seconds until the last run ends, ``slots`` at a time, each run after its parent, in list order.

    A greedy list schedule as `xlt_lib.experiment.executors.run_workers` follows: whenever a
    slot is free, the first waiting run whose parent is done (or not part of this list) starts.
    """
    ids = {run.run_id for run in runs}
    waiting = list(runs)
    running: list[tuple[float, str]] = []
    done: set[str] = set()
    now = 0.0
    while waiting or running:
        for run in list(waiting):
            if len(running) >= slots:
                break
            if run.parent is not None and run.parent in ids and run.parent not in done:
                continue
            waiting.remove(run)
            heapq.heappush(running, (now + (run.seconds or 0.0), run.run_id))
        if not running:  # only runs whose parent is not in the list remain: cannot happen for a plan
            break
        now, finished = heapq.heappop(running)
        done.add(finished)
    return now


def wall_seconds(runs: Sequence[RunEstimate], executor: ExecutorSpec) -> float:
    """The executor's wall time for ``runs`` (see the module's note)."""
    if executor.kind == "workers" and executor.workers > 1:
        return makespan(runs, executor.workers)
    if executor.kind == "slurm" and executor.slurm is not None:
        parallel = executor.slurm.array_parallelism
        return sum(
            makespan([r for r in runs if r.phase == phase], parallel)
            for phase in ("intermediate", "transfer")
        )
    return sum(run.seconds or 0.0 for run in runs)


def human_duration(seconds: float) -> str:
    """``45 s``, ``37 min``, ``5.2 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:,.1f} h"
