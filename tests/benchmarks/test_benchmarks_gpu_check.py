"""``benchmarks/gpu_check.py`` on CPU: the refusal, its arguments, and the verdict it assembles."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_loader import BENCHMARKS, load_benchmark

gpu_check = load_benchmark("gpu_check")


def _transfer_metrics(**changes) -> dict:
    metrics = {
        "phase": "transfer",
        "target": "xnli",
        "per_language": {"en": {"accuracy": 0.71, "macro_f1": 0.7, "n": 5010}, "de": {"accuracy": 0.6}},
        "average": {"accuracy": 0.655, "macro_f1": 0.65},
        "train": {"loss": 0.8, "steps": 562, "examples_per_s": 950.0},
        "eval": {"examples": 10020, "seconds": 5.0, "examples_per_s": 2004.0},
        "learning": {"learned": True, "reasons": []},
    }
    metrics.update(changes)
    return metrics


def test_without_cuda_it_refuses_in_one_line_with_exit_code_2(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: the refusal cannot be seen here")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "gpu_check.py"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(BENCHMARKS.parent)},
    )
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: cannot run: ")
    assert "CPU-only build" in lines[0] or "no CUDA device" in lines[0]
    assert not (tmp_path / "out").exists()  # nothing written


def test_arguments_default_to_out_and_refuse_non_positive_sizes(tmp_path: Path) -> None:
    assert gpu_check.parse_args([], environ={"OUT": str(tmp_path)}).out == tmp_path
    default = gpu_check.parse_args([], environ={})
    assert default.out == BENCHMARKS / "results" / "gpu_check" and default.max_minutes == 8.0
    assert not default.no_torchrun and default.train_examples is None
    args = gpu_check.parse_args(["--train-examples", "500", "--eval-batch-size", "256", "--no-torchrun"], {})
    settings = gpu_check.settings_for(args)
    assert settings.precision == "bf16" and settings.max_length == 256 and settings.learning_rate == 1e-5
    assert settings.max_train_examples == 500 and settings.eval_batch_size == 256 and args.no_torchrun
    with pytest.raises(SystemExit):
        gpu_check.parse_args(["--max-minutes", "0"], {})


def test_a_finite_run_that_learned_passes() -> None:
    step = gpu_check.step_summary(
        "transfer", _transfer_metrics(), 3 * 2**30, {"total": 90.0, "parts": {"training": 60.0}}
    )
    assert step["ok"] and step["problems"] == []
    assert step["scores"] == {"average_accuracy": 0.655, "en_accuracy": 0.71, "languages": 2}
    assert step["train_examples_per_s"] == 950.0 and step["eval_examples_per_s"] == 2004.0
    assert step["peak_memory_gib"] == 3.0 and step["timings"] == {"training": 60.0}
    result = gpu_check.verdict([step], [], {"gpus": 1, "gpu_name": "H200"})
    assert result["ok"] and result["failed"] == []
    page = gpu_check.markdown(result)
    assert "Verdict: **pass**" in page and "| transfer | yes |" in page


def test_non_finite_numbers_a_run_that_did_not_learn_and_skipped_steps_fail() -> None:
    nan = _transfer_metrics(train={"loss": math.nan, "steps": 3, "examples_per_s": 1.0})
    stuck = _transfer_metrics(learning={"learned": False, "reasons": ["one class everywhere"]})
    unjudged = _transfer_metrics(learning=None)
    steps = [
        gpu_check.step_summary(name, m, 0, {}) for name, m in (("a", nan), ("b", stuck), ("c", unjudged))
    ]
    assert steps[0]["problems"] == ["non-finite train.loss"]
    assert steps[1]["problems"] == ["did not learn: one class everywhere"]
    assert steps[2]["problems"] == ["no learning check in the metrics"]
    result = gpu_check.verdict(steps, ["transfer-ddp: --no-torchrun"], {})
    assert not result["ok"] and len(result["failed"]) == 3
    page = gpu_check.markdown(result)
    assert "Verdict: **FAIL**" in page and "skipped: transfer-ddp" in page
    assert json.loads(json.dumps(result, allow_nan=False)) == result  # strict JSON, round-trips
    assert result["steps"][0]["train_loss"] == "nan"
    assert not gpu_check.verdict([gpu_check.step_summary("x", _transfer_metrics(), 0, {})], ["y"], {})["ok"]


def test_the_verdict_on_a_real_tiny_model_run(tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    from xlt_lib.training import TrainingSettings, run_transfer
    from xlt_lib.training.timings import RunTimings

    settings = TrainingSettings.from_dict(
        {
            "batch_size": 4,
            "max_length": 48,
            "max_train_examples": 8,
            "max_dev_examples": 4,
            "max_eval_examples": 4,
        }
    )
    timings = RunTimings()
    result = run_transfer(
        str(tiny_model_dir), "xnli", settings, output_dir=tmp_path, data_dir=data_dir, timings=timings
    )
    step = gpu_check.step_summary("transfer", result.metrics, 0, timings.record())
    assert step["scores"]["languages"] == 15 and step["eval_examples"] == 60
    assert step["seconds"] > 0 and step["timings"]["training"] > 0
    assert not step["ok"] and step["problems"][0].startswith("did not learn: ")  # 8 pairs teach nothing
