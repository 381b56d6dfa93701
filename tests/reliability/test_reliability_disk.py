"""A full disk or a vanished run folder fails that run with a clear message and leaves the grid intact.

The notebooks here only write records (through the same library calls as the real
ones), so each run costs one kernel start. A real full disk is a tiny tmpfs where
the test may mount one (root); the portable variant injects ``ENOSPC`` into the
record writer of the notebook kernel through ``XLT_FAULT_ENOSPC``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from reliability_support import fingerprints, write_fake_notebooks

from xlt_lib.experiment import execute, load_experiment, plan, records

EXPERIMENT = {
    "name": "disk",
    "model": "offline-default",
    "conditions": {"baseline": {"kind": "none"}},
    "targets": ["pawsx"],
    "seeds": [1],
    "settings": {"profile": "cpu", "max_train_examples": 8},
}


def _experiment(folder: Path, seeds: list[int]) -> Path:
    path = folder / f"disk-{len(seeds)}.yaml"
    path.write_text(yaml.safe_dump({**EXPERIMENT, "seeds": seeds}), encoding="utf-8")
    return path


def _run(folder: Path, runs: Path, seeds: list[int], notebooks: Path) -> dict[str, object]:
    the_plan = plan(load_experiment(_experiment(folder, seeds)), runs_root=runs)
    summary = execute(the_plan, notebooks_dir=notebooks, log=lambda line: None)
    return {o.run_id: o for o in summary.outcomes}


@contextlib.contextmanager
def _tmpfs(mount_point: Path, size: str) -> Iterator[bool]:
    mount_point.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    try:
        yield done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def _fill(folder: Path) -> Path:
    """Write until the file system is full; returns the filler file."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _first_complete(runs: Path, folder: Path, notebooks: Path) -> tuple[str, dict]:
    outcomes = _run(folder, runs, [1], notebooks)
    (run_id,) = outcomes
    assert outcomes[run_id].status == "complete"
    return run_id, fingerprints(runs / "disk")


def _assert_intact(runs: Path, folder: Path, done_id: str, stamps: dict) -> None:
    assert fingerprints(runs / "disk") == stamps, "a complete run was touched"
    again = plan(load_experiment(_experiment(folder, [1, 2])), runs_root=runs)
    state = {run.spec.run_id: run for run in again.runs}
    assert not state[done_id].execute
    assert all(not list(run.run_dir.glob(".*.tmp")) for run in again.runs if run.run_dir.exists())


def test_full_disk_tmpfs(tmp_path: Path) -> None:
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    with _tmpfs(tmp_path / "disk", "2m") as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (needs root); test_full_disk_injected covers it")
        runs = tmp_path / "disk" / "runs"
        done_id, stamps = _first_complete(runs, tmp_path, notebooks)
        filler = _fill(tmp_path / "disk")
        outcomes = _run(tmp_path, runs, [1, 2], notebooks)
        (new_id,) = [run_id for run_id in outcomes if run_id != done_id]
        assert outcomes[done_id].status == "skipped"
        assert outcomes[new_id].status == "failed"
        assert "No space left on device" in outcomes[new_id].message
        assert not (runs / "disk" / new_id / records.METRICS).exists()
        _assert_intact(runs, tmp_path, done_id, stamps)
        filler.unlink()  # space freed: the rerun completes the grid
        outcomes = _run(tmp_path, runs, [1, 2], notebooks)
        assert outcomes[new_id].status == "complete" and outcomes[done_id].status == "skipped"


def test_full_disk_injected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    runs = tmp_path / "runs"
    done_id, stamps = _first_complete(runs, tmp_path, notebooks)
    monkeypatch.setenv(records.FAULT_ENOSPC_VARIABLE, records.METRICS)  # inherited by the kernel
    outcomes = _run(tmp_path, runs, [1, 2], notebooks)
    (new_id,) = [run_id for run_id in outcomes if run_id != done_id]
    assert outcomes[new_id].status == "failed"
    assert "No space left on device" in outcomes[new_id].message
    assert "metrics.json" in outcomes[new_id].message
    error = records.read_error(runs / "disk" / new_id)
    assert error["ename"] == "OSError" and "No space left on device" in error["evalue"]
    assert not (runs / "disk" / new_id / records.METRICS).exists()
    _assert_intact(runs, tmp_path, done_id, stamps)
    monkeypatch.delenv(records.FAULT_ENOSPC_VARIABLE)
    outcomes = _run(tmp_path, runs, [1, 2], notebooks)
    assert outcomes[new_id].status == "complete"


def test_runner_survives_a_full_disk_before_the_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the runner itself writes config.yaml: the run fails, the runner goes on."""
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    runs = tmp_path / "runs"
    monkeypatch.setenv(records.FAULT_ENOSPC_VARIABLE, records.CONFIG)
    outcomes = _run(tmp_path, runs, [1, 2], notebooks)
    assert {o.status for o in outcomes.values()} == {"failed"}
    for outcome in outcomes.values():
        assert "cannot prepare the run directory" in outcome.message and "config.yaml" in outcome.message


def test_run_folder_vanishing_mid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    runs = tmp_path / "runs"
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("XLT_TEST_MARKERS", str(markers))
    the_plan = plan(load_experiment(_experiment(tmp_path, [1, 2])), runs_root=runs)
    doomed, other = (run.spec.run_id for run in the_plan.runs)
    (markers / f"vanish-{doomed}").touch()
    summary = execute(the_plan, notebooks_dir=notebooks, log=lambda line: None)
    outcomes = {o.run_id: o for o in summary.outcomes}
    assert outcomes[other].status == "complete", "the rest of the grid goes on"
    assert outcomes[doomed].status == "failed"
    message = outcomes[doomed].message  # papermill or the notebook's finish_run notices first
    assert doomed in message and ("doesn't exist" in message or "lost its env.json" in message), message
    assert not (runs / "disk" / doomed / records.METRICS).exists(), "a vanished run must never look complete"
    again = plan(load_experiment(_experiment(tmp_path, [1, 2])), runs_root=runs)  # no foreign-record error
    assert [run.spec.run_id for run in again.to_execute] == [doomed]
    assert json.loads((runs / "disk" / other / records.METRICS).read_text())["phase"] == "transfer"
