"""Issue 19 on the runner: damaged records are redone by a plain run and set aside, never deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from experiment_fakes import FAKE_EXPERIMENT, write_fake_notebooks

from xlt_lib.experiment import execute, load_experiment, plan, records


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    monkeypatch.setenv("XLT_TEST_MARKERS", str(tmp_path / "markers"))
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    path = tmp_path / "fake.yaml"
    path.write_text(FAKE_EXPERIMENT)
    return load_experiment(path), notebooks


def test_a_damaged_record_is_set_aside_and_redone(setup) -> None:
    experiment, notebooks = setup
    assert execute(plan(experiment), notebooks_dir=notebooks, log=lambda _: None).ok
    first = plan(experiment)
    assert not first.to_execute
    baseline = first.runs[1]
    listed = json.loads((baseline.run_dir / records.MANIFEST).read_text())["files"]
    assert records.EXECUTED in listed, "the runner adds the executed notebook once papermill saved it"

    predictions = baseline.run_dir / records.PREDICTIONS
    damaged_bytes = predictions.read_bytes()[:50]
    predictions.write_bytes(damaged_bytes)
    second = plan(experiment)
    assert [run.state for run in second.runs] == ["complete", "damaged", "complete"]
    assert [run.execute for run in second.runs] == [False, True, False]

    lines: list[str] = []
    summary = execute(second, notebooks_dir=notebooks, log=lines.append)
    assert {o.run_id: o.status for o in summary.outcomes}[baseline.spec.run_id] == "complete"
    kept = list((second.directory / records.SET_ASIDE).glob(f"{baseline.spec.run_id}-*"))
    assert len(kept) == 1 and (kept[0] / records.PREDICTIONS).read_bytes() == damaged_bytes
    assert any("set aside damaged record" in line for line in lines)
    assert not plan(experiment).to_execute, "the redone record is whole; the set-aside one is not a run"
