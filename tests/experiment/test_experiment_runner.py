"""The runner on trivial notebooks: records, skip on rerun, failures, blocked dependants, workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from experiment_fakes import fake_experiment, write_fake_notebooks

from xlt_lib.experiment import ExecutorSpec, execute, plan, records
from xlt_lib.experiment.describe import describe_plan


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    experiment, markers = fake_experiment(tmp_path, monkeypatch)
    return experiment, write_fake_notebooks(tmp_path / "notebooks"), markers


def test_failure_blocks_dependants_and_rerun_completes(setup, capsys: pytest.CaptureFixture[str]) -> None:
    experiment, notebooks, markers = setup
    first = plan(experiment)
    assert [r.spec.phase for r in first.runs] == ["intermediate", "transfer", "transfer"]
    phase2 = first.runs[0]
    (markers / f"fail-{phase2.spec.run_id}").touch()

    lines: list[str] = []
    summary = execute(first, notebooks_dir=notebooks, log=lines.append)
    status = {o.run_id: o.status for o in summary.outcomes}
    baseline, child = first.runs[1].spec.run_id, first.runs[2].spec.run_id
    assert status == {phase2.spec.run_id: "failed", baseline: "complete", child: "blocked"}
    error = records.read_error(phase2.run_dir)
    assert error["ename"] == "RuntimeError" and "planned failure" in error["evalue"] and error["cell"] >= 1
    assert (phase2.run_dir / records.EXECUTED).is_file() and not (phase2.run_dir / records.METRICS).exists()
    assert any("FAILED" in line and "planned failure" in line for line in lines)
    assert any("blocked" in line for line in lines) and len(lines) == 5  # 2 starts + 2 ends + 1 blocked

    # the plan shows what is done and what failed, with the error
    second = plan(experiment)
    text = describe_plan(second)
    assert "failed, rerun" in text and "planned failure" in text and "done, skip" in text
    assert [r.execute for r in second.runs] == [True, False, True]

    (markers / f"fail-{phase2.spec.run_id}").unlink()
    summary = execute(second, notebooks_dir=notebooks, log=lines.append)
    assert {o.run_id: o.status for o in summary.outcomes} == {
        phase2.spec.run_id: "complete",
        baseline: "skipped",
        child: "complete",
    }
    assert summary.ok and not (phase2.run_dir / records.ERROR).exists()
    config = records.read_config(second.runs[2].run_dir)
    assert config["parent"] == phase2.spec.run_id and config["condition_kind"] == "monolingual"

    # everything complete: nothing to execute; --force redoes all
    assert not plan(experiment).to_execute
    assert len(plan(experiment, force=True).to_execute) == 3


@pytest.mark.slow
def test_workers_respect_dependencies(setup) -> None:
    experiment, notebooks, _ = setup
    summary = execute(
        plan(experiment), executor=ExecutorSpec(kind="workers", workers=2), notebooks_dir=notebooks, log=print
    )
    assert summary.ok and summary.count("complete") == 3
    for run in plan(experiment).runs:
        assert run.state == "complete"


def test_a_second_runner_of_the_same_experiment_stops_before_touching_a_run(setup) -> None:
    """Another process executing the experiment holds its lock: this one refuses, names it, writes nothing."""
    import subprocess
    import sys

    from xlt_lib.errors import RunRecordError
    from xlt_lib.experiment.executors import LOCK_NAME

    experiment, notebooks, _ = setup
    the_plan = plan(experiment)
    lock_path = the_plan.directory / LOCK_NAME
    the_plan.directory.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import filelock, sys; lock = filelock.FileLock({str(lock_path)!r}); lock.acquire(); "
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(
            RunRecordError, match=r"another `xlt run` is executing this experiment.*\.xlt-run\.lock"
        ):
            execute(the_plan, notebooks_dir=notebooks, log=print)
        assert not any(run.run_dir.exists() for run in the_plan.runs), "no run was started"
    finally:
        holder.communicate("")  # stdin closed: the holder exits, and the OS drops its lock
    summary = execute(the_plan, notebooks_dir=notebooks, log=print)
    assert summary.ok and summary.count("complete") == 3
