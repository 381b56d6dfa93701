"""The run stopwatch (`xlt_lib.training.timings`): parts add up, records read back, phases fill it in."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from xlt_lib.training import TrainingSettings, run_transfer
from xlt_lib.training.timings import (
    METRICS_KEY,
    PARTS,
    STARTED_VARIABLE,
    TIMINGS_FILE,
    RunTimings,
    completed,
    read_timings,
)


def test_parts_accumulate_and_other_makes_them_add_up() -> None:
    timings = RunTimings(started=1000.0)
    timings.add("data", 1.5)
    timings.add("data", 0.5)
    timings.add("training", 5.0)
    record = timings.record(ended=1010.0)
    assert record["total"] == 10.0
    assert record["parts"] == {"data": 2.0, "training": 5.0, "other": 3.0}
    assert record["started"].startswith("1970-01-01T00:16:40") and record["ended"].endswith("+00:00")
    with pytest.raises(ValueError, match="unknown run part 'loading'"):
        timings.add("loading", 1.0)
    with pytest.raises(ValueError, match="unknown run part 'other'"):
        timings.add("other", 1.0)  # computed, never recorded


def test_part_times_a_block_even_when_it_raises() -> None:
    timings = RunTimings()
    with pytest.raises(RuntimeError), timings.part("model"):
        time.sleep(0.02)
        raise RuntimeError("load failed")
    assert 0.015 < timings.seconds["model"] < 30.0  # the block, not a clock: loose above for a loaded CI


def test_in_notebook_counts_kernel_start_only_under_the_runner() -> None:
    under_runner = RunTimings.in_notebook(100.0, now=103.0, environ={STARTED_VARIABLE: "98.5"})
    assert under_runner.started == 98.5
    assert under_runner.seconds == {"kernel_start": 1.5, "imports": 3.0}
    by_hand = RunTimings.in_notebook(100.0, now=103.0, environ={})
    assert by_hand.started == 100.0 and by_hand.seconds == {"imports": 3.0}
    for bad in ("", "soon", "101.0"):  # unset, unreadable, or after the kernel started: not used
        assert (
            "kernel_start"
            not in RunTimings.in_notebook(100.0, now=103.0, environ={STARTED_VARIABLE: bad}).seconds
        )


def test_completed_adds_the_notebook_close_and_the_runners_wall_time() -> None:
    kernel = RunTimings(started=200.0)
    kernel.add("kernel_start", 2.0)
    kernel.add("training", 6.0)
    record = completed(kernel.record(ended=210.0), started=200.0, ended=211.5)
    assert record["total"] == 11.5
    assert record["parts"] == {"kernel_start": 2.0, "training": 6.0, "notebook_close": 1.5, "other": 2.0}
    assert sum(record["parts"].values()) == pytest.approx(record["total"])
    assert list(record["parts"]) == [p for p in PARTS if p in record["parts"]]


def test_read_timings_prefers_the_runners_file(tmp_path: Path) -> None:
    assert read_timings(tmp_path) is None
    kernel = RunTimings(started=0.0).record(ended=5.0)
    (tmp_path / "metrics.json").write_text(json.dumps({"phase": "transfer", METRICS_KEY: kernel}))
    assert read_timings(tmp_path) == kernel
    whole = completed(kernel, 0.0, 6.0)
    (tmp_path / TIMINGS_FILE).write_text(json.dumps(whole))
    assert read_timings(tmp_path) == whole
    (tmp_path / TIMINGS_FILE).write_text("{truncated")
    assert read_timings(tmp_path) == kernel


def test_transfer_fills_in_every_part_and_its_results_do_not_change(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    settings = TrainingSettings.from_dict(
        {
            "batch_size": 4,
            "max_length": 48,
            "max_train_examples": 8,
            "max_dev_examples": 4,
            "max_eval_examples": 4,
        }
    )

    def run(out: Path, timings: RunTimings | None):
        return run_transfer(
            str(tiny_model_dir), "pawsx", settings, output_dir=out, data_dir=data_dir, timings=timings
        )

    timings = RunTimings()
    timed, untimed = run(tmp_path / "a", timings), run(tmp_path / "b", None)
    assert {"model", "data", "training", "evaluation", "saving"} <= set(timings.seconds)
    assert all(seconds > 0 for seconds in timings.seconds.values())
    record = timings.record()
    assert sum(record["parts"].values()) == pytest.approx(record["total"], abs=1e-3)
    assert timed.metrics["per_language"] == untimed.metrics["per_language"]
    assert timed.metrics["train"]["loss"] == untimed.metrics["train"]["loss"]
    pd.testing.assert_frame_equal(timed.predictions, untimed.predictions)
