"""Fixtures of the reliability suites: the tiny grid and its uninterrupted reference run."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_support import read_results, run_xlt, tiny_experiment, xlt_environment


@pytest.fixture(scope="session")
def fault_grid(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny experiment file (3 runs: one phase-2, two phase-3) on the tiny encoder."""
    return tiny_experiment(tmp_path_factory.mktemp("fault-grid"), tiny_model_dir)


@pytest.fixture(scope="session")
def reference_run(fault_grid: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The grid run once, uninterrupted, through ``xlt run``: what every other attempt must reproduce."""
    runs = tmp_path_factory.mktemp("reference") / "runs"
    done = run_xlt(["run", str(fault_grid), "--local", "--no-report"], xlt_environment(runs))
    assert done.returncode == 0, done.stdout + done.stderr
    results = read_results(runs / "faults")
    assert len(results) == 3, sorted(results)
    return results
