"""End to end: params/smoke.yaml through papermill with the real notebooks, records and report.

The smoke grid runs on the tiny test encoder and, as a second model, an empty
folder: every run of that model fails inside its notebook (no weights), is
recorded with the failing cell's message, blocks its dependants, and stops
nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from xlt_lib.experiment import execute, load_experiment, plan, records
from xlt_lib.report import build_report

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_grid_end_to_end(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XLT_REPORTS_DIR", str(tmp_path / "reports"))
    broken = tmp_path / "broken-model"
    broken.mkdir()
    smoke = yaml.safe_load((REPO / "params" / "smoke.yaml").read_text())
    smoke["model"] = [str(tiny_model_dir), str(broken)]
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(smoke))
    experiment = load_experiment(path)

    the_plan = plan(experiment)
    assert len(the_plan.runs) == 16
    lines: list[str] = []
    summary = execute(the_plan, log=lines.append)
    status = {o.run_id: o.status for o in summary.outcomes}
    by_model = {}
    for run in the_plan.runs:
        by_model.setdefault(run.spec.model, []).append(status[run.spec.run_id])
    assert by_model[str(tiny_model_dir)] == ["complete"] * 8
    assert sorted(by_model[str(broken)]) == ["blocked"] * 4 + ["failed"] * 4
    assert len(lines) == 8 * 2 + 4 * 2 + 4  # start+end per executed run, one line per blocked run
    # batch progress stays one line per run: no kernel start-up chatter on the terminal
    assert "IPKernelApp" not in capfd.readouterr().err

    for run in the_plan.runs:
        if run.spec.model != str(tiny_model_dir):
            continue
        files = {p.name for p in run.run_dir.iterdir()}
        assert {"config.yaml", "env.json", "executed.ipynb", "metrics.json"} <= files
        config = records.read_config(run.run_dir)
        assert config["run_id"] == run.spec.run_id and config["seed"] == 0
        env = json.loads((run.run_dir / "env.json").read_text())
        assert env["end_time"] and env["packages"]["transformers"] and env["model"]
        assert env["data"], "data checksums recorded"
        if run.spec.phase == "intermediate":
            assert (run.run_dir / "encoder" / "config.json").is_file()
        else:
            metrics = json.loads((run.run_dir / "metrics.json").read_text())
            assert set(metrics["per_language"]) >= {"en", "de"}
            predictions = pd.read_parquet(run.run_dir / "predictions.parquet")
            assert list(predictions.columns) == ["id", "language", "gold", "prediction"]

    failed = [r for r in the_plan.runs if status[r.spec.run_id] == "failed"]
    for run in failed:
        error = records.read_error(run.run_dir)
        assert error["ename"] == "ModelError" and error["cell"] is not None
        assert (run.run_dir / "executed.ipynb").is_file() and not (run.run_dir / "metrics.json").exists()

    # a rerun skips every complete run and retries only the failed and blocked ones
    again = plan(experiment)
    assert {r.spec.run_id for r in again.to_execute} == {
        r.spec.run_id for r in the_plan.runs if r.spec.model == str(broken)
    }

    index = build_report(experiment, log=lines.append)
    page = index.read_text()
    assert "<h3>xnli (test)</h3>" in page and "<h3>pawsx (dev)</h3>" in page
    assert "ModelError" in page and "data:image/png;base64," in page
    for link in re.findall(r'href="([^"#]+)"', page):
        assert (index.parent / link).is_file(), link
    assert "significance" in page.lower()
    done = next(
        r for r in the_plan.runs if r.spec.phase == "transfer" and status[r.spec.run_id] == "complete"
    )
    run_page = (index.parent / "runs" / f"{done.spec.run_id}.html").read_text()
    assert "Results per language" in run_page and "from xlt_lib" not in run_page  # no code cells

    # Rebuilding an unchanged experiment reuses the significance report; a changed run redoes it.
    significance = index.parent / "significance.ipynb"
    assert significance.is_file()
    before = significance.stat().st_mtime_ns
    build_report(experiment, log=lines.append)
    assert significance.stat().st_mtime_ns == before, "the significance notebook ran again for nothing"
    metrics = done.run_dir / "metrics.json"
    metrics.write_text(metrics.read_text())  # same content, newer record
    build_report(experiment, log=lines.append)
    assert significance.stat().st_mtime_ns > before
