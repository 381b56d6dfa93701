"""Run timings in the record: metrics.json's ``timings``, the runner's ``timings.json``, the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import fake_notebooks
import pytest
from experiment_fakes import FAKE_EXPERIMENT

from xlt_lib.experiment import execute, load_experiment, manifest, plan, records
from xlt_lib.experiment.grid import expand
from xlt_lib.training.timings import RunTimings, read_timings

#: A phase notebook that times itself as the real ones do (first cell, imports, saving).
BODY = """\
kernel_ready = time.time()
from pathlib import Path
import pandas as pd
from xlt_lib.experiment import records
from xlt_lib.training.timings import RunTimings

timings = RunTimings.in_notebook(kernel_ready)
run = Path(run_dir)
with timings.part("training"):
    time.sleep(0.3)
if target is None:
    (run / "encoder").mkdir()
    records.finish_run(run, {"phase": "intermediate", "task": task}, timings=timings)
else:
    rows = [{"id": f"{target}-test-0", "language": "en", "gold": 0, "prediction": 0}]
    metrics = {
        "phase": "transfer", "target": target, "eval_split": eval_split,
        "per_language": {"en": {"accuracy": 1.0, "macro_f1": 1.0, "n": 1}},
        "average": {"accuracy": 1.0, "macro_f1": 1.0},
    }
    records.finish_run(run, metrics, predictions=pd.DataFrame(rows), timings=timings)
"""


def test_finish_run_records_the_timings_and_the_manifest_still_verifies(tmp_path: Path) -> None:
    timings = RunTimings()
    timings.add("training", 0.25)
    records.finish_run(tmp_path, {"phase": "transfer"}, environment={"start_time": "x"}, timings=timings)
    metrics = json.loads((tmp_path / records.METRICS).read_text())
    assert metrics["timings"]["parts"]["training"] == 0.25 and "saving" in metrics["timings"]["parts"]
    assert manifest.verify(tmp_path, full=True) == []
    assert json.loads((tmp_path / records.ENV).read_text())["end_time"]

    records.write_timings(tmp_path, started=timings.started - 1.0, ended=timings.started + 60.0)
    whole = json.loads((tmp_path / records.TIMINGS).read_text())
    assert whole["total"] == pytest.approx(61.0) and whole["parts"]["notebook_close"] > 0
    assert records.TIMINGS in manifest.read(tmp_path)["files"]
    assert manifest.verify(tmp_path, full=True) == []
    (tmp_path / records.TIMINGS).write_text("{}")  # listed, so a change is damage like any other
    assert any("timings.json" in problem for problem in manifest.verify(tmp_path))


def test_a_record_without_timings_gets_no_timings_file(tmp_path: Path) -> None:
    records.finish_run(tmp_path, {"phase": "transfer"})
    assert records.write_timings(tmp_path, 0.0, 1.0) is None
    assert not (tmp_path / records.TIMINGS).exists()


def test_runner_records_each_runs_whole_wall_time_and_ids_do_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks = fake_notebooks.write_fake_notebooks(tmp_path / "notebooks", "import time\n" + BODY)
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    path = tmp_path / "fake.yaml"
    path.write_text(FAKE_EXPERIMENT)
    experiment = load_experiment(path)
    ids = [spec.run_id for spec in expand(experiment)]
    outcomes = execute(plan(experiment), notebooks_dir=notebooks, log=lambda line: None).outcomes
    assert [o.status for o in outcomes] == ["complete"] * 3
    assert [spec.run_id for spec in expand(experiment)] == ids
    for outcome in outcomes:
        run_dir = tmp_path / "runs" / "fake" / outcome.run_id
        record = read_timings(run_dir)
        assert record == json.loads((run_dir / records.TIMINGS).read_text())
        parts = record["parts"]
        assert parts["kernel_start"] > 0 and parts["notebook_close"] > 0 and parts["training"] >= 0.3
        assert sum(parts.values()) == pytest.approx(record["total"], abs=1e-3)
        assert record["total"] == pytest.approx(outcome.seconds, abs=0.5)
        assert manifest.verify(run_dir, full=True) == []
    assert all(not run.execute for run in plan(experiment).runs)  # complete, whole, reused
