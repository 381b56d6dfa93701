"""The SLURM executor against a real single-node cluster (shared/tools/slurm-localhost).

A session fixture brings the cluster up (root and apt needed, else the tests skip
with the reason). The grid runs trivial notebooks as submitit job arrays; one run
fails inside its notebook and one is cancelled from outside with ``scancel``; both
are recorded, the failed run's dependant is blocked, and a rerun completes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from experiment_fakes import FAKE_EXPERIMENT, fake_experiment, write_fake_notebooks

from xlt_lib.experiment import execute, plan, records

pytestmark = pytest.mark.slurm

TOOLS = Path(__file__).resolve().parents[3] / "shared" / "tools" / "slurm-localhost"


def _cluster_is_up() -> bool:
    if "SLURM_CONF" not in os.environ or shutil.which("sinfo") is None:
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    return done.returncode == 0 and "idle" in done.stdout


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[str]:
    """``SLURM_CONF`` of a running cluster; one this fixture starts (WITH_DBD=1, for sacct) it stops again."""
    default_conf = "/tmp/slurm-localhost/etc/slurm.conf"
    if "SLURM_CONF" not in os.environ and Path(default_conf).is_file():
        os.environ["SLURM_CONF"] = default_conf
    if _cluster_is_up():
        yield os.environ["SLURM_CONF"]
        return
    if os.geteuid() != 0:
        pytest.skip("SLURM tests need root to start the local cluster (shared/tools/slurm-localhost/up.sh)")
    if shutil.which("apt-get") is None:
        pytest.skip("SLURM tests need apt-get to install slurm and munge")
    if not (TOOLS / "up.sh").is_file():
        pytest.skip(f"no cluster script at {TOOLS / 'up.sh'}")
    done = subprocess.run(
        ["bash", str(TOOLS / "up.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "WITH_DBD": "1"},
    )
    if done.returncode != 0:
        pytest.skip(f"could not start the local SLURM cluster: {done.stdout[-800:]} {done.stderr[-800:]}")
    for line in done.stdout.splitlines():
        if "export SLURM_CONF=" in line:
            os.environ["SLURM_CONF"] = line.split("export SLURM_CONF=", 1)[1].strip()
    if not _cluster_is_up():
        pytest.skip("the local SLURM cluster did not become idle")
    yield os.environ["SLURM_CONF"]
    subprocess.run(["bash", str(TOOLS / "down.sh")], capture_output=True, timeout=120)


def _cancel_when_started(run_dir: Path, stop: threading.Event, cancelled: list[str]) -> None:
    """Wait for the run's notebook to start, then scancel its array task from outside."""
    marker = run_dir / "started"
    while not stop.is_set():
        if marker.is_file() and marker.read_text().strip():
            job = marker.read_text().strip()
            subprocess.run(["scancel", job], check=True, timeout=30)
            cancelled.append(job)
            return
        time.sleep(0.5)


def test_slurm_records_failed_and_cancelled_jobs_and_rerun_completes(
    slurm_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    experiment, markers = fake_experiment(
        tmp_path,
        monkeypatch,
        FAKE_EXPERIMENT.replace("seeds: [1]", "seeds: [1, 2]")
        + "executor: {slurm: {timeout_min: 15, cpus_per_task: 1, array_parallelism: 4}}\n",
    )
    first = plan(experiment)
    runs = {(r.spec.phase, r.spec.condition, r.spec.seed): r for r in first.runs}
    failing = runs[("intermediate", "mono", 1)]
    blocked = runs[("transfer", "mono", 1)]
    cancelled_run = runs[("transfer", "base", 2)]
    (markers / f"fail-{failing.spec.run_id}").touch()
    (markers / f"sleep-{cancelled_run.spec.run_id}").touch()

    stop, cancelled = threading.Event(), []
    watcher = threading.Thread(
        target=_cancel_when_started, args=(cancelled_run.run_dir, stop, cancelled), daemon=True
    )
    watcher.start()
    lines: list[str] = []
    try:
        summary = execute(first, notebooks_dir=notebooks, log=lines.append)
    finally:
        stop.set()
    assert cancelled, "the sleeping job never started: " + "; ".join(
        f"{o.run_id} {o.status} {o.message}" for o in summary.outcomes
    )
    status = {o.run_id: o.status for o in summary.outcomes}
    assert status[failing.spec.run_id] == "failed"
    assert status[blocked.spec.run_id] == "blocked"
    assert status[cancelled_run.spec.run_id] == "failed"
    assert sum(1 for s in status.values() if s == "complete") == 3
    assert "planned failure" in records.read_error(failing.run_dir)["evalue"]
    error = records.read_error(cancelled_run.run_dir)
    assert error["ename"] == "SlurmCancelled" and "CANCELLED" in error["evalue"]
    assert any("SLURM job" in line for line in lines)

    # the plan shows both failures; after removing the markers a rerun completes them
    for marker in markers.iterdir():
        marker.unlink()
    second = plan(experiment)
    assert {r.spec.run_id for r in second.to_execute} == {
        failing.spec.run_id,
        blocked.spec.run_id,
        cancelled_run.spec.run_id,
    }
    summary = execute(second, notebooks_dir=notebooks, log=lines.append)
    assert summary.ok and summary.count("complete") == 3 and summary.count("skipped") == 3
    assert all(r.state == "complete" for r in plan(experiment).runs)
    env_job = (cancelled_run.run_dir / "started").read_text().strip()
    assert env_job and env_job != cancelled[0]  # it ran again, as a new job
