"""Loading a benchmark script in the test process leaves the environment as it was."""

from __future__ import annotations

import os

import pytest
from bench_loader import BENCHMARKS, load_benchmark


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCHMARKS.glob("*.py")))
def test_loading_a_benchmark_does_not_change_the_environment(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("XLT_PROGRESS", "OMP_NUM_THREADS", "HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM"):
        monkeypatch.delenv(variable, raising=False)
    before = dict(os.environ)
    load_benchmark(name)
    assert dict(os.environ) == before
