"""The same experiment run twice from scratch gives identical results, and its record says it should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reliability_support import assert_same_result, read_results, run_xlt, xlt_environment

from xlt_lib.experiment.notebook import determinism
from xlt_lib.training import TrainingSettings


@pytest.mark.slow
def test_two_runs_from_scratch_are_identical(fault_grid: Path, reference_run: dict, tmp_path: Path) -> None:
    """A second from-scratch run (another folder, another process) equals the reference bit for bit."""
    runs = tmp_path / "runs"
    done = run_xlt(["run", str(fault_grid), "--local", "--no-report"], xlt_environment(runs))
    assert done.returncode == 0, done.stdout + done.stderr
    again = read_results(runs / "faults")
    assert set(again) == set(reference_run)
    for run_id, result in again.items():
        assert_same_result(run_id, result, reference_run[run_id])
        env = json.loads((runs / "faults" / run_id / "env.json").read_text())
        record = env["determinism"]
        assert record["device"] == "cpu" and record["bitwise_reproducible"] is True
        assert record["full_determinism"] is False and record["torch_threads"] == 1


def test_determinism_record_follows_the_settings() -> None:
    import torch

    settings = TrainingSettings(full_determinism=True, seed=3)
    was = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True)  # what the Trainer does for full_determinism
        record = determinism(settings)
    finally:
        torch.use_deterministic_algorithms(was)
    assert record["full_determinism"] is True and record["deterministic_algorithms"] is True
    assert record["seed"] == 3 and record["bitwise_reproducible"] is True
    assert determinism(TrainingSettings())["full_determinism"] is False
