"""Fault injection: SIGKILL the runner, a worker or a notebook kernel at random points, rerun until done.

What must hold (checked at every kill point and at the end):

* the final metrics, predictions and encoder weights equal those of an
  uninterrupted run, bit for bit (CPU, one torch thread everywhere);
* no run directory ever looks complete while it is not: every folder with a
  ``metrics.json`` has a whole, consistent record, and the planner agrees;
* nothing that finished is redone: the inode and mtime of every finished
  ``metrics.json`` and encoder weight file never change;
* nothing is left behind: after the runner ends, no process carrying this
  attempt's tag (runner, pool workers, kernels) is alive.

The schedule is seeded (``XLT_FAULT_SEED``); ``XLT_FAULT_KILLS`` (default 10)
sets the number of kills, e.g. ``XLT_FAULT_KILLS=50`` for the long variant.
When the grid completes before enough kills were injected, a new round starts in
a fresh runs folder.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from reliability_support import (
    REPO,
    TRACEBACK,
    XLT,
    RunResult,
    assert_same_result,
    find_role,
    fingerprints,
    new_tag,
    read_results,
    wait_until_gone,
    xlt_environment,
)

KILLS = int(os.environ.get("XLT_FAULT_KILLS", "10"))
SEED = int(os.environ.get("XLT_FAULT_SEED", "20240611"))
#: Longest wait (seconds) between a target appearing and its kill: runs take 15-35 s here.
MAX_DELAY = {"runner": 35.0, "worker": 20.0, "kernel": 20.0}
ORPHAN_GRACE_S = 15.0  # ipykernel polls its parent once a second; workers die at once (PDEATHSIG)


class FaultInjector:
    """Runs ``xlt run`` attempts and kills processes in them on a seeded schedule."""

    def __init__(self, grid: Path, root: Path, reference: dict[str, RunResult]) -> None:
        self.grid = grid
        self.root = root
        self.reference = reference
        self.rng = random.Random(SEED)
        self.kills: collections.Counter[str] = collections.Counter()
        self.survived = 0
        self.rounds = 0
        self.attempts = 0
        self.runner: subprocess.Popen[bytes] | None = None
        self.executor = "local"
        self.tag = ""
        self.log: Path | None = None
        self.seen: dict[str, tuple[int, int, int]] = {}
        self._new_round()

    # -- rounds and attempts ---------------------------------------------------------------
    def _new_round(self) -> None:
        self.rounds += 1
        self.runs = self.root / f"round-{self.rounds}" / "runs"
        self.seen = {}

    @property
    def experiment_dir(self) -> Path:
        return self.runs / "faults"

    def start(self, executor: str) -> None:
        self.attempts += 1
        self.executor = executor
        self.tag = new_tag()
        where = ["--workers", "2"] if executor == "workers" else ["--local"]
        self.log = self.root / f"attempt-{self.attempts:03d}-{executor}.log"
        with self.log.open("wb") as log:
            self.runner = subprocess.Popen(
                [*XLT, "run", str(self.grid), "--no-report", *where],
                env=xlt_environment(self.runs, self.tag),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )

    def runner_alive(self) -> bool:
        return self.runner is not None and self.runner.poll() is None

    def finish_attempt(self, *, killed: bool = False) -> int:
        """Wait for the runner; check it ended cleanly (or was killed) and left no process behind."""
        assert self.runner is not None and self.log is not None
        code = self.runner.wait(timeout=900)
        output = self.log.read_text(encoding="utf-8", errors="replace")
        if killed:
            assert code == -signal.SIGKILL
        else:
            # 0: all done; 1: some runs failed (a killed kernel or worker) and are recorded as such
            assert code in (0, 1), f"runner exited {code}:\n{output[-3000:]}"
            assert TRACEBACK not in output, f"a traceback reached the command line:\n{output[-3000:]}"
        left = wait_until_gone(self.tag, ORPHAN_GRACE_S)
        assert not left, f"processes left behind by attempt {self.attempts}: {left}"
        self.runner = None
        return code

    def grid_complete(self) -> bool:
        return len(list(self.experiment_dir.glob("*/metrics.json"))) == len(self.reference)

    # -- kills -----------------------------------------------------------------------------
    def target(self, kind: str) -> psutil.Process | None:
        """The process to kill, waiting for one to appear; ``None`` when the runner ended first."""
        assert self.runner is not None
        if kind == "runner":
            return psutil.Process(self.runner.pid)
        while self.runner_alive():
            candidates = sorted(find_role(self.tag, kind), key=lambda p: p.pid)
            if candidates:
                return self.rng.choice(candidates)
            time.sleep(0.2)
        return None

    def inject(self, kind: str) -> bool:
        """One kill of ``kind``; False when the attempt ended before it could be injected."""
        if self.runner_alive() and kind == "worker" and self.executor != "workers":
            self.finish_attempt()
        if not self.runner_alive():
            if self.runner is not None:
                self.finish_attempt()
            if self.grid_complete():
                self.verify_round()
                self._new_round()
            self.start("workers" if kind == "worker" else self.rng.choice(["local", "workers"]))
        process = self.target(kind)
        delay = self.rng.uniform(0.0, MAX_DELAY[kind])
        deadline = time.monotonic() + delay
        while process is not None and time.monotonic() < deadline and self.runner_alive():
            time.sleep(0.1)
        if process is None or not self.runner_alive():
            return False
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            return False
        self.kills[kind] += 1
        if kind == "runner":
            self.finish_attempt(killed=True)
        else:
            time.sleep(0.5)
        self.check_records()
        self.survived += 1
        return True

    # -- what must hold --------------------------------------------------------------------
    def check_records(self) -> None:
        """Every folder with metrics.json is whole and equal to the reference; finished files untouched."""
        from xlt_lib.experiment import load_experiment, plan

        results = read_results(self.experiment_dir)
        for run_id, result in results.items():
            assert_same_result(run_id, result, self.reference[run_id])
        now = fingerprints(self.experiment_dir)
        for path, stamp in self.seen.items():
            assert now.get(path) == stamp, f"{path}: a finished run was redone or lost"
        self.seen.update(now)
        the_plan = plan(load_experiment(self.grid), runs_root=self.runs)
        complete = {run.spec.run_id for run in the_plan.runs if not run.execute}
        assert complete == set(results), "the planner and the records disagree on what is complete"

    def verify_round(self) -> None:
        results = read_results(self.experiment_dir)
        assert set(results) == set(self.reference)
        for run_id, result in results.items():
            assert_same_result(run_id, result, self.reference[run_id])

    def complete(self) -> None:
        """Let the current attempt end, then rerun without faults until the grid is done."""
        if self.runner is not None:
            self.finish_attempt()
        for _ in range(2):
            if self.grid_complete():
                break
            self.start("local")
            self.finish_attempt()
        assert self.grid_complete(), f"the grid did not complete; see {self.root}"
        self.check_records()
        self.verify_round()


@pytest.mark.slow
def test_kills_at_random_points_lose_nothing(
    fault_grid: Path, reference_run: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    injector = FaultInjector(fault_grid, tmp_path, reference_run)
    kinds: list[str] = []
    attempts = 0
    try:
        while sum(injector.kills.values()) < KILLS:
            if not kinds:  # every kind once per cycle, in a seeded order
                kinds = ["runner", "worker", "kernel"]
                injector.rng.shuffle(kinds)
            attempts += 1
            assert attempts < 10 * KILLS, "kills keep missing their targets"
            if injector.inject(kinds[0]):
                kinds.pop(0)
        injector.complete()
    finally:
        if injector.runner_alive():
            assert injector.runner is not None
            injector.runner.kill()
            wait_until_gone(injector.tag, ORPHAN_GRACE_S)
    total = sum(injector.kills.values())
    by_kind = ", ".join(f"{kind} {injector.kills[kind]}" for kind in ("runner", "worker", "kernel"))
    with capsys.disabled():
        print(
            f"\nfault injection (seed {SEED}): {total} SIGKILLs injected ({by_kind}) over "
            f"{injector.attempts} attempts and {injector.rounds} rounds; {injector.survived} survived "
            "(records whole at every kill point, nothing finished redone, no process left behind, "
            "final metrics/predictions/encoders identical to the uninterrupted run)"
        )
    assert total == KILLS and injector.survived == KILLS
    assert all(injector.kills[kind] for kind in ("runner", "worker", "kernel"))
