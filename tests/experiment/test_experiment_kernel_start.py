"""A run whose kernel never answers is started again; a run that failed on its own is not.

The kernel is the real ipykernel behind a launcher that dies, before binding its ports,
on its first N launches (as a kernel does that lost the port race of parallel starts),
counting its launches in a file: the retry is tested deterministically, not by racing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fake_notebooks
import pytest
from experiment_fakes import fake_experiment, write_fake_notebooks

from xlt_lib.experiment import plan, records, runner

LAUNCHER = """\
import sys
from pathlib import Path

counter, deaths = Path(sys.argv[1]), int(sys.argv[2])
launches = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(launches + 1))
if launches < deaths:
    sys.exit(3)
sys.argv = [sys.argv[0], *sys.argv[3:]]
from ipykernel import kernelapp

kernelapp.launch_new_instance()
"""


def _install_dying_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int) -> Path:
    """Kernel ``xlt`` (found first, through JUPYTER_PATH) dies on its first ``deaths`` launches."""
    launcher, counter = tmp_path / "launcher.py", tmp_path / "launches"
    launcher.write_text(LAUNCHER)
    spec = tmp_path / "jupyter" / "kernels" / runner.KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, str(launcher), str(counter), str(deaths), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "dying", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setattr(runner, "KERNEL_RETRY_PAUSE_S", 0.0)
    return counter


@pytest.fixture
def transfer_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fake grid's phase-3 baseline run (no parent) and the marker folder."""
    experiment, markers = fake_experiment(tmp_path, monkeypatch)
    run = next(r for r in plan(experiment).runs if r.spec.parent is None and r.spec.target)
    return run, markers


def test_a_kernel_that_dies_before_answering_is_started_again(tmp_path, monkeypatch, transfer_run) -> None:
    run, _ = transfer_run
    launches = _install_dying_kernel(tmp_path, monkeypatch, deaths=1)
    outcome = runner.execute_run(run.spec, run.run_dir, write_fake_notebooks(tmp_path / "notebooks"))
    assert outcome.status == "complete", outcome.message
    assert launches.read_text() == "2"
    assert outcome.message.startswith("kernel started on attempt 2 (RuntimeError: ")
    assert (run.run_dir / records.METRICS).is_file() and not (run.run_dir / records.ERROR).exists()


def test_a_kernel_that_never_answers_fails_the_run_after_every_attempt(
    tmp_path, monkeypatch, transfer_run
) -> None:
    run, _ = transfer_run
    launches = _install_dying_kernel(tmp_path, monkeypatch, deaths=99)
    outcome = runner.execute_run(run.spec, run.run_dir, write_fake_notebooks(tmp_path / "notebooks"))
    assert outcome.status == "failed"
    assert launches.read_text() == str(runner.KERNEL_START_ATTEMPTS)
    error = records.read_error(run.run_dir)
    assert error["ename"] == "KernelStartError"
    assert f"did not start in {runner.KERNEL_START_ATTEMPTS} attempts" in error["evalue"]
    assert error["evalue"].count("RuntimeError") == runner.KERNEL_START_ATTEMPTS  # each attempt's reason
    assert not (run.run_dir / records.METRICS).exists()


def test_a_notebook_that_fails_is_not_run_again(tmp_path, monkeypatch, transfer_run) -> None:
    run, markers = transfer_run
    launches = _install_dying_kernel(tmp_path, monkeypatch, deaths=0)
    (markers / f"fail-{run.spec.run_id}").touch()
    outcome = runner.execute_run(run.spec, run.run_dir, write_fake_notebooks(tmp_path / "notebooks"))
    assert outcome.status == "failed" and "planned failure" in outcome.message
    assert launches.read_text() == "1"


def test_a_kernel_that_dies_after_answering_is_not_started_again(tmp_path, monkeypatch, transfer_run) -> None:
    """A kernel dying inside a cell (a crash, the OOM killer) is the run's failure: no second attempt."""
    run, _ = transfer_run
    launches = _install_dying_kernel(tmp_path, monkeypatch, deaths=0)
    notebooks = fake_notebooks.write_fake_notebooks(tmp_path / "notebooks", "import os\nos._exit(9)\n")
    outcome = runner.execute_run(run.spec, run.run_dir, notebooks)
    assert outcome.status == "failed" and outcome.message.startswith("DeadKernelError")
    assert launches.read_text() == "1"
    assert records.read_error(run.run_dir)["ename"] == "DeadKernelError"
