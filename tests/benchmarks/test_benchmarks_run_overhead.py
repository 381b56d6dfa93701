"""``benchmarks/run_overhead.py``: medians per phase/target and the overhead share, from run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_loader import load_benchmark

from xlt_lib.experiment import records
from xlt_lib.training.timings import RunTimings, completed

run_overhead = load_benchmark("run_overhead")


def _run(root: Path, name: str, config: dict, parts: dict[str, float], total: float, *, runner: bool) -> None:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    records.write_config(run_dir, config)
    timings = RunTimings(started=1000.0)
    for part, seconds in parts.items():
        timings.add(part, seconds)
    kernel = timings.record(ended=1000.0 + total - (1.0 if runner else 0.0))
    records.atomic_write_json(run_dir / records.METRICS, {"phase": config["phase"], "timings": kernel})
    if runner:
        records.atomic_write_json(run_dir / records.TIMINGS, completed(kernel, 1000.0, 1000.0 + total))


def test_summary_per_phase_and_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    phase2 = {"phase": "intermediate", "intermediate": "mnli", "target": None}
    xnli = {"phase": "transfer", "intermediate": "mnli", "target": "xnli"}
    _run(tmp_path, "intermediate-a", phase2, {"imports": 8.0, "training": 30.0}, 40.0, runner=True)
    _run(
        tmp_path, "transfer-a", xnli, {"imports": 7.0, "training": 10.0, "evaluation": 2.0}, 20.0, runner=True
    )
    _run(
        tmp_path,
        "transfer-b",
        xnli,
        {"imports": 6.0, "training": 30.0, "evaluation": 4.0},
        40.0,
        runner=False,
    )
    (tmp_path / "transfer-old").mkdir()  # complete, but written before runs recorded timings
    records.write_config(tmp_path / "transfer-old", xnli)
    records.atomic_write_json(tmp_path / "transfer-old" / records.METRICS, {"phase": "transfer"})
    (tmp_path / "transfer-running").mkdir()  # not complete: not counted at all
    (tmp_path / "_damaged").mkdir()

    assert run_overhead.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["skipped"] == 1
    p2, p3 = summary["groups"]["intermediate/mnli"], summary["groups"]["transfer/xnli"]
    assert p2["runs"] == 1 and p2["total"] == 40.0 and p2["parts"]["notebook_close"] == 1.0
    assert p2["overhead_seconds"] == 10.0 and p2["overhead_percent"] == 25.0
    assert p3["runs"] == 2 and p3["parts"]["imports"] == 6.5 and p3["parts"]["training"] == 20.0
    assert p3["total"] == 30.0 and p3["overhead_percent"] == pytest.approx((50.0 + 25.0) / 2)
    assert "| transfer/xnli | 2 |" in out and "| intermediate/mnli | 1 |" in out


def test_refuses_a_missing_folder_and_an_empty_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_overhead.main([str(tmp_path / "nope")]) == 2
    assert run_overhead.main([str(tmp_path)]) == 1
    assert "no complete run with a timing record" in capsys.readouterr().err
