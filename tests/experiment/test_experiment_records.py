"""Run records: atomic writes, completion, foreign directories."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from xlt_lib.errors import RunRecordError
from xlt_lib.experiment import records


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "metrics.json"
    records.atomic_write_json(target, {"v": 1})

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        records.atomic_write_json(target, {"v": 2})
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary left behind


def test_a_crash_while_writing_never_creates_metrics(tmp_path: Path) -> None:
    def half_written(tmp: Path) -> None:
        tmp.write_text('{"accuracy": 0.')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        records.atomic_write(tmp_path / records.METRICS, half_written)
    assert list(tmp_path.iterdir()) == []
    assert records.run_state(tmp_path, {}) == "missing"


def test_finish_run_writes_metrics_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(
        os, "replace", lambda src, dst: (order.append(Path(dst).name), real_replace(src, dst))
    )
    frame = pd.DataFrame({"id": ["a"], "language": ["en"], "gold": [1], "prediction": [0]})
    records.finish_run(
        tmp_path, {"phase": "transfer"}, environment={"start_time": "t0", "end_time": None}, predictions=frame
    )
    # manifest.json (issue 19) comes just before metrics.json, which stays last
    assert order == [records.PREDICTIONS, records.ENV, records.MANIFEST, records.METRICS]
    assert json.loads((tmp_path / records.ENV).read_text())["end_time"] is not None
    assert pd.read_parquet(tmp_path / records.PREDICTIONS).equals(frame)


def test_run_state(tmp_path: Path) -> None:
    identity = {"phase": "transfer", "x": 1}
    run = tmp_path / "transfer-abc"
    assert records.run_state(run, identity) == "missing"
    run.mkdir()
    records.write_config(run, {"run_id": "transfer-abc", "identity": identity})
    assert records.run_state(run, identity) == "incomplete"
    records.write_error(run, ename="RuntimeError", evalue="boom", cell=3)
    assert records.run_state(run, identity) == "failed"
    assert records.read_error(run)["cell"] == 3
    records.finish_run(run, {"ok": True})
    assert records.run_state(run, identity) == "complete"
    with pytest.raises(RunRecordError, match="records a different run"):
        records.run_state(run, {"phase": "transfer", "x": 2})


def test_reset_removes_previous_attempt(tmp_path: Path) -> None:
    run = tmp_path / "r"
    (run / "encoder").mkdir(parents=True)
    (run / records.METRICS).write_text("{}")
    records.reset_run_dir(run)
    assert run.is_dir() and not any(run.iterdir())


def test_environment_records_provenance() -> None:
    env = records.start_environment(model_identity={"name": "m"})
    assert env["packages"]["torch"] and env["packages"]["papermill"]
    assert set(env["git"]) == {"commit", "dirty"}
    assert env["device"]["device"] in ("cpu", "cuda") and env["hostname"]


def test_a_complete_run_never_also_records_an_error(tmp_path: Path) -> None:
    """A failure reported after metrics.json (a kernel killed after its last write) is not recorded,
    and a run that finishes after being reported failed drops the stale error."""
    late = tmp_path / "late-failure"
    late.mkdir()
    records.finish_run(late, {"phase": "transfer"})
    assert records.write_error(late, ename="DeadKernelError", evalue="kernel died") is None
    assert not (late / records.ERROR).exists()

    finished_anyway = tmp_path / "finished-anyway"
    finished_anyway.mkdir()
    records.write_error(finished_anyway, ename="WorkerDied", evalue="worker killed")
    records.finish_run(finished_anyway, {"phase": "transfer"})
    assert (finished_anyway / records.METRICS).is_file()
    assert not (finished_anyway / records.ERROR).exists()


def test_records_get_the_mode_open_would_give(tmp_path: Path) -> None:
    """Not mkstemp's 0600: reports and records are read by others (a web server, a colleague)."""
    mask = os.umask(0o022)
    os.umask(mask)
    path = records.atomic_write_text(tmp_path / "index.html", "<p>report</p>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
