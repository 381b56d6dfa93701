"""Issue 15: time estimates in every plan (arithmetic per executor, calibration cache, refinement)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from xlt_lib.cli import main
from xlt_lib.experiment import ExecutorSpec, SlurmSettings, expand, load_experiment
from xlt_lib.experiment.calibration import (
    ProbeJob,
    compute_parameters,
    device_throughput,
    one_gpu_time,
    plan_time,
)
from xlt_lib.experiment.cost import estimate
from xlt_lib.experiment.throughput import (
    Throughput,
    cache_key,
    cache_path,
    read_cached,
    recorded_samples,
    threads_per_run,
    workload,
    write_cached,
)
from xlt_lib.experiment.timing import PlanTime, RunEstimate, human_duration, makespan, wall_seconds

REPO = Path(__file__).resolve().parents[2]


def _runs(*items: tuple[str, str, str | None, float]) -> list[RunEstimate]:
    return [RunEstimate(run_id, phase, parent, seconds) for run_id, phase, parent, seconds in items]


# Two phase-2 runs (100 s, 300 s), each with two children (50 s each).
GRID = _runs(
    ("a", "intermediate", None, 100.0),
    ("b", "intermediate", None, 300.0),
    ("a1", "transfer", "a", 50.0),
    ("a2", "transfer", "a", 50.0),
    ("b1", "transfer", "b", 50.0),
    ("b2", "transfer", "b", 50.0),
)


def test_local_executor_runs_one_after_another() -> None:
    assert wall_seconds(GRID, ExecutorSpec()) == 600.0


def test_workers_follow_the_pool_order_children_after_parents() -> None:
    # t=0: a, b; t=100: a1, (b busy) ; t=150: a2; t=200: idle until b ends at 300; then b1, b2 -> 350.
    assert wall_seconds(GRID, ExecutorSpec(kind="workers", workers=2)) == 350.0
    assert makespan(GRID, 6) == 350.0  # the longest chain
    assert makespan(GRID, 1) == 600.0


def test_slurm_runs_the_phase_arrays_one_after_the_other() -> None:
    slurm = ExecutorSpec(kind="slurm", slurm=SlurmSettings(gpus_per_node=2, array_parallelism=2))
    # phase 2: a and b at once (300 s); then phase 3, two at a time: 50 + 50 s.
    assert wall_seconds(GRID, slurm) == 400.0
    timing = PlanTime(GRID, slurm)
    assert timing.gpu_hours == pytest.approx(600.0 * 2 / 3600)
    assert "estimated 0.3 GPU-hours (2 GPU per run)" in "\n".join(timing.lines())


def test_the_estimate_reads_as_the_issue_phrases_it() -> None:
    timing = PlanTime(
        _runs(("a", "intermediate", None, 1110.0), ("b", "intermediate", None, 1110.0)),
        ExecutorSpec(kind="workers", workers=2),
    )
    assert timing.lines()[0].startswith("estimated wall time: 18 min (2 workers)")
    assert timing.gpu_hours is None
    unknown = PlanTime(_runs(("a", "intermediate", None, None)), ExecutorSpec())
    assert unknown.wall_seconds is None and "unknown for 1 of 1" in unknown.lines()[0]
    assert [human_duration(s) for s in (45, 600, 4 * 3600)] == ["45 s", "10 min", "4.0 h"]


def test_threads_per_run_share_the_cores_as_the_executor_does() -> None:
    assert threads_per_run(ExecutorSpec(kind="workers", workers=2), cpus=2) == 1
    assert threads_per_run(ExecutorSpec(kind="workers", workers=3), cpus=16) == 5
    assert threads_per_run(ExecutorSpec(), cpus=8) == 8
    assert threads_per_run(ExecutorSpec(kind="slurm", slurm=SlurmSettings(cpus_per_task=6)), cpus=2) == 6


# -- the calibration cache ------------------------------------------------------------------------


@pytest.fixture
def smoke_specs(tmp_path: Path):
    return expand(load_experiment(REPO / "params" / "smoke.yaml"))


class FakeProbe:
    """Stands in for the subprocess probe: records what it was asked, returns fixed rates."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], int, list[int]]] = []

    def __call__(self, jobs: Sequence[ProbeJob], parallel: int) -> dict[str, Throughput]:
        self.calls.append(([job.key for job in jobs], parallel, [job.threads for job in jobs]))
        return {job.key: Throughput(100.0, 400.0, 20.0, "fake probe") for job in jobs}


def test_calibration_is_cached_per_machine_and_model(smoke_specs, tmp_path: Path) -> None:
    cache, runs = tmp_path / "cache", tmp_path / "runs"
    probe = FakeProbe()
    workers = ExecutorSpec(kind="workers", workers=2)
    first = plan_time(smoke_specs, workers, runs_root=runs, probe=probe, cache_root=cache)
    keys, parallel, threads = probe.calls[0]
    # smoke: phase 2 monolingual and code-switched, phase 3 xnli and pawsx: four workloads.
    assert len(keys) == 4 and parallel == 2 and set(threads) == {threads_per_run(workers)}
    assert first.known
    cost = estimate(smoke_specs[0])
    assert first.runs[0].seconds == pytest.approx(
        20.0 + cost.train_examples / 100.0 + cost.eval_examples / 400.0
    )
    # A second plan reads the cache: no probe.
    second = plan_time(smoke_specs, workers, runs_root=runs, probe=probe, cache_root=cache)
    assert len(probe.calls) == 1 and second.wall_seconds == first.wall_seconds
    # Another machine, another model, another thread count: other keys.
    work = workload(smoke_specs[0])
    key = cache_key(work, 1)
    assert read_cached(key, cache) is not None
    assert cache_key(work, 1, machine={"cpu": "another"}) != key
    assert cache_key(work, 1, model="another-model-digest") != key
    assert cache_key(work, 2) != key
    assert read_cached(cache_key(work, 1, machine={"cpu": "another"}), cache) is None
    # Without a probe and without a cache, the estimate says it is unknown and how to measure it.
    unknown = plan_time(smoke_specs, workers, runs_root=runs, cache_root=tmp_path / "empty")
    assert not unknown.known and "xlt calibrate" in "\n".join(unknown.lines())


def test_cache_entries_round_trip(tmp_path: Path) -> None:
    throughput = Throughput(12.5, 80.0, 33.0, "probe of today")
    path = write_cached("k" * 20, throughput, {"workload": {"phase": "transfer"}}, tmp_path)
    assert path == cache_path("k" * 20, tmp_path)
    assert read_cached("k" * 20, tmp_path) == throughput
    path.write_text("{not json", encoding="utf-8")
    assert read_cached("k" * 20, tmp_path) is None  # unreadable: probe again


# -- refinement from completed runs ----------------------------------------------------------------


def _record(
    run_dir: Path, spec, *, wall: float, train_s: float, eval_s: float, threads: int, cpus: int
) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(spec.config()), encoding="utf-8")
    (run_dir / "env.json").write_text(
        json.dumps({"device": {"device": "cpu", "torch_threads": threads, "cpu_count": cpus}}),
        encoding="utf-8",
    )
    (run_dir / "metrics.json").write_text(
        json.dumps(
            {
                "train": {"train_seconds": train_s, "examples_per_s": 64 / train_s},
                "eval": {"seconds": eval_s, "examples_per_s": 160 / eval_s},
            }
        ),
        encoding="utf-8",
    )
    notebook = {
        "cells": [],
        "metadata": {"papermill": {"duration": wall}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (run_dir / "executed.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


def test_completed_runs_refine_the_probe(smoke_specs, tmp_path: Path) -> None:
    cache, runs = tmp_path / "cache", tmp_path / "runs"
    local = ExecutorSpec()
    threads = threads_per_run(local)
    spec = smoke_specs[0]
    key = cache_key(workload(spec), threads)
    write_cached(key, Throughput(10.0, 100.0, 5.0, "probe"), {}, cache)
    cpus = os.cpu_count()
    _record(
        runs / "other" / spec.run_id, spec, wall=60.0, train_s=8.0, eval_s=2.0, threads=threads, cpus=cpus
    )
    # A run on a machine with another core count does not count.
    _record(
        runs / "elsewhere" / spec.run_id,
        spec,
        wall=999.0,
        train_s=1.0,
        eval_s=1.0,
        threads=threads,
        cpus=cpus + 7,
    )
    samples = recorded_samples(runs)
    assert [s.run_dir.parent.name for s in samples[key]] == ["other"]
    timing = plan_time([spec], local, runs_root=runs, cache_root=cache)
    cost = estimate(spec)
    # refined: 64/8 = 8 train ex/s, 160/2 = 80 eval ex/s, overhead 60 - 8 - 2 = 50 s
    assert timing.runs[0].seconds == pytest.approx(
        50.0 + cost.train_examples / 8.0 + cost.eval_examples / 80.0
    )
    assert any("refined from 1 completed run(s)" in line for line in timing.sources)
    # ...unless that experiment is the one being checked against (benchmarks/plan_accuracy.py).
    excluded = plan_time([spec], local, runs_root=runs, cache_root=cache, exclude=["other"])
    assert excluded.runs[0].seconds == pytest.approx(
        5.0 + cost.train_examples / 10.0 + cost.eval_examples / 100.0
    )


def test_gpu_plans_use_the_labelled_device_profile() -> None:
    specs = expand(load_experiment(REPO / "params" / "phang2020.yaml"))
    experiment = load_experiment(REPO / "params" / "phang2020.yaml")
    throughput = device_throughput(specs[0], experiment.executor)
    assert throughput is not None and not throughput.measured
    assert "not measured" in throughput.source and "A100" in throughput.source
    h100 = ExecutorSpec(kind="slurm", slurm=SlurmSettings(gpus_per_node=1, constraint="h100"))
    faster = device_throughput(specs[0], h100)
    assert faster is not None and faster.train_examples_per_s > throughput.train_examples_per_s


def test_gpu_profiles_count_the_parameters_that_multiply() -> None:
    """A word-embedding row is looked up, not multiplied: FLOPs per token exclude the embedding matrix."""
    assert compute_parameters("xlm-roberta-large") == pytest.approx(304e6, rel=0.01)
    specs = expand(load_experiment(REPO / "params" / "demo.yaml"))
    # The offline default (if converted here): ~21M of its 117.5M parameters multiply.
    parameters = compute_parameters(specs[0].model)
    if parameters is not None:
        assert 15e6 < parameters < 30e6


def test_cpu_plans_also_say_what_one_gpu_would_take() -> None:
    specs = [
        spec
        for spec in expand(load_experiment(REPO / "params" / "demo.yaml"))
        if spec.phase == "intermediate"
    ]
    gpu = one_gpu_time(specs)
    if compute_parameters(specs[0].model) is None:
        pytest.skip("the offline default is not converted here")
    assert gpu.known and gpu.wall_seconds == pytest.approx(gpu.run_seconds)
    assert gpu.sources and all("H200" in source and "not measured" in source for source in gpu.sources)
    one = device_throughput(specs[0], ExecutorSpec(), device="h200")
    assert one is not None
    cost = estimate(specs[0])
    assert gpu.runs[0].seconds == pytest.approx(one.seconds(cost.train_examples, cost.eval_examples))


def test_dry_runs_state_the_estimated_wall_time(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    assert (
        main(["run", str(REPO / "params" / "phang2020.yaml"), "--dry-run"]) == 1
    )  # the hub model is missing here
    out = capsys.readouterr().out
    assert "estimated wall time: " in out and "(SLURM, 16 array tasks at a time)" in out
    assert "GPU-hours (1 GPU per run)" in out and "not measured" in out


def test_a_planned_evaluation_size_is_capped_at_each_targets_rows() -> None:
    """xlt plan's larger designs: PAWS-X offers 2,000 dev rows per language, XNLI 5,010 test rows."""
    from xlt_lib.commands.planning import _with_design

    experiment = load_experiment(REPO / "params" / "offline-study.yaml")
    design = _with_design(experiment, 3, 5010)
    assert design.seeds == (1, 2, 3)
    sizes = {
        target.task: design.transfer_settings_for(target)["max_eval_examples"] for target in design.targets
    }
    assert sizes == {"xnli": 5010, "pawsx": 2000}
    pawsx = [spec for spec in expand(design) if spec.target == "pawsx"]
    assert estimate(pawsx[0]).eval_examples == 7 * 2000


def test_a_runs_wall_time_comes_from_its_timing_record_first(tmp_path: Path) -> None:
    from xlt_lib.experiment.throughput import notebook_wall_seconds

    run = tmp_path / "run"
    run.mkdir()
    (run / "executed.ipynb").write_text(json.dumps({"metadata": {"papermill": {"duration": 50.0}}}))
    assert notebook_wall_seconds(run) == 50.0  # an older record: papermill's duration
    (run / "timings.json").write_text(json.dumps({"parts": {"training": 40.0}, "total": 55.5}))
    assert notebook_wall_seconds(run) == 55.5  # the runner's whole wall time
