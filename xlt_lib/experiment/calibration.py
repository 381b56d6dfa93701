"""Throughput for every run of a plan: recorded runs, the calibration cache, a probe, or a device profile.

`plan_time` gives each run its seconds and the plan its wall time on an executor
(`xlt_lib.experiment.timing`). The throughput of a run's workload comes from, in
order: completed runs with the same workload on this kind of machine and the same
thread count, refining the cached probe (`xlt_lib.experiment.throughput`); the
cached probe alone; a new probe when ``probe`` is given; for runs on SLURM GPUs (not
on this machine), the recorded device profile (`xlt_lib.experiment.device_profiles`),
labelled "not measured".

The probe (`run_probe`) executes the real phase functions at a few steps and a few
evaluation examples, in fresh interpreters (``python -m xlt_lib.experiment.probe``):
``xlt run --dry-run`` never imports torch. It respects the executor's layout: with
N local workers, N probe processes run at once with cpus/N threads each, as the
runs will.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlt_lib.errors import XltError
from xlt_lib.experiment.config import ExecutorSpec
from xlt_lib.experiment.cost import estimate, model_bytes, word_embedding_bytes
from xlt_lib.experiment.device_profiles import (
    FILL,
    KNOWN_PARAMETERS,
    OVERHEAD_S,
    OVERHEAD_S_PER_GB,
    gpu_profile,
)
from xlt_lib.experiment.grid import RunSpec
from xlt_lib.experiment.runner import BATCH_ENVIRONMENT
from xlt_lib.experiment.throughput import (
    Throughput,
    cache_key,
    read_cached,
    recorded_samples,
    refined,
    threads_per_run,
    workload,
    write_cached,
)
from xlt_lib.experiment.timing import PlanTime, RunEstimate, gpus_per_run
from xlt_lib.paths import runs_dir

#: Optimizer steps and evaluation examples (per language) a probe runs.
PROBE_STEPS = 8
PROBE_EVAL_EXAMPLES = 32
#: ``XLT_AUTO_CALIBRATE=0`` stops ``xlt run --dry-run`` from probing when nothing is cached.
AUTO_CALIBRATE_VARIABLE = "XLT_AUTO_CALIBRATE"
#: The device a CPU plan's "on one GPU" line assumes (the kind of machine lent for checks here).
ONE_GPU = "h200"


@dataclass(frozen=True)
class ProbeJob:
    """One workload to measure: the cache key it fills and the notebook parameters of a run of it."""

    key: str
    spec: RunSpec
    threads: int


#: Runs probe jobs and returns each key's throughput (tests pass a fake one).
Prober = Callable[[Sequence[ProbeJob], int], dict[str, Throughput]]


def auto_calibration_allowed() -> bool:
    return os.environ.get(AUTO_CALIBRATE_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def on_gpus(executor: ExecutorSpec) -> bool:
    return gpus_per_run(executor) > 0


def compute_parameters(model: str) -> int | None:
    """Parameters that multiply per token (all but the word embeddings), or None if the model's size is unknown."""
    if model in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[model]
    size = model_bytes(model)
    return None if size is None else (size - word_embedding_bytes(model)) // 4  # fp32 weights


#: Encoder depths of the hub models the plans name (their configs); others: `num_layers` or 12.
_KNOWN_LAYERS = {"large": 24}


def _layers(spec: RunSpec) -> int:
    """The encoder layers a run trains: ``num_layers`` if set, 24 for a *large* hub model, else 12."""
    configured = spec.settings.get("num_layers")
    if configured:
        return int(configured)
    return next((n for key, n in _KNOWN_LAYERS.items() if key in spec.model.lower()), 12)


def device_throughput(
    spec: RunSpec, executor: ExecutorSpec, *, device: str | None = None
) -> Throughput | None:
    """The recorded GPU profile's throughput for ``spec`` (not measured), or None if the model's size is unknown.

    The profile is the one ``device`` names, else the one the executor's SLURM constraint
    names, else `DEFAULT_GPU` (and the label says it was assumed).
    """
    named_by = device or (executor.slurm.constraint if executor.slurm else None)
    profile, named = gpu_profile(named_by)
    parameters = compute_parameters(spec.model)
    if parameters is None:
        return None
    settings = spec.settings
    tokens = float(settings.get("max_length") or 128) * FILL
    precision = str(settings.get("precision") or "fp32")
    batch = int(settings.get("batch_size") or 16)
    layers = _layers(spec)
    label = profile.label(precision) + ("" if named else " (assumed: executor.slurm.constraint names no GPU)")
    weights_gb = (model_bytes(spec.model) or 4 * parameters) / 1e9
    return Throughput(
        train_examples_per_s=profile.train_examples_per_s(
            parameters, tokens, precision, batch=batch, layers=layers
        ),
        eval_examples_per_s=profile.eval_examples_per_s(
            parameters,
            tokens,
            precision,
            batch=int(settings.get("eval_batch_size") or 2 * batch),
            layers=layers,
        ),
        overhead_s=OVERHEAD_S + OVERHEAD_S_PER_GB * weights_gb,
        source=label,
        measured=False,
    )


def plan_time(
    specs: Sequence[RunSpec],
    executor: ExecutorSpec,
    *,
    runs_root: Path | None = None,
    exclude: Iterable[str] = (),
    probe: Prober | None = None,
    log: Callable[[str], None] | None = None,
    cache_root: Path | None = None,
) -> PlanTime:
    """Each run's estimated seconds and the plan's wall time on ``executor``.

    ``exclude``: experiments whose completed runs must not refine the numbers (a
    prediction checked against those very runs). ``probe``: measure workloads that
    have neither a cache entry nor completed runs (None: leave them unknown).
    """
    threads = threads_per_run(executor)
    gpus = on_gpus(executor)
    samples = {} if gpus else recorded_samples(runs_root or runs_dir(), exclude=exclude)
    keys: dict[str, str] = {}
    rates: dict[str, Throughput | None] = {}
    to_probe: dict[str, ProbeJob] = {}
    for spec in specs:
        if gpus:
            key = f"gpu:{spec.run_id}"
            rates[key] = device_throughput(spec, executor)
        else:
            key = cache_key(workload(spec), threads)
            if key not in rates:
                rates[key] = refined(read_cached(key, cache_root), samples.get(key, []))
                if rates[key] is None:
                    to_probe[key] = ProbeJob(key, spec, threads)
        keys[spec.run_id] = key
    notes: list[str] = []
    if to_probe and probe is not None:
        if log is not None:
            log(
                f"calibrating: no throughput measured on this machine for {len(to_probe)} workload(s); "
                f"probing {PROBE_STEPS} training steps and {PROBE_EVAL_EXAMPLES} evaluation examples each "
                f"({executor_layout(executor, threads)}) ..."
            )
        started = time.monotonic()
        measured = probe(list(to_probe.values()), parallel_probes(executor))
        for key, throughput in measured.items():
            write_cached(key, throughput, {"workload": workload(to_probe[key].spec)}, cache_root)
            rates[key] = throughput
        if log is not None:
            log(f"calibrated in {time.monotonic() - started:.0f} s; cached under the xlt cache dir")
    runs: list[RunEstimate] = []
    sources: dict[str, None] = {}
    unknown: dict[str, None] = {}
    for spec in specs:
        rate = rates.get(keys[spec.run_id])
        cost = estimate(spec)
        seconds = rate.seconds(cost.train_examples, cost.eval_examples) if rate else None
        if rate is None:
            unknown[_why_unknown(spec, gpus)] = None
        elif seconds is None:
            unknown["training or evaluation examples unknown (hub data without a size)"] = None
        else:
            sources[f"{_what(spec)}: {rate.source}" if rate.measured else rate.source] = None
        runs.append(RunEstimate(spec.run_id, spec.phase, spec.parent, seconds))
    notes += list(unknown)
    return PlanTime(runs, executor, sources=list(sources), unknown=notes)


def one_gpu_time(specs: Sequence[RunSpec], device: str = ONE_GPU) -> PlanTime:
    """The same runs one after another on one GPU of the recorded ``device`` profile (not measured).

    What a CPU plan would cost on a GPU machine: the dry-run of an experiment that runs
    here states both.
    """
    local = ExecutorSpec()
    runs: list[RunEstimate] = []
    sources: dict[str, None] = {}
    unknown: dict[str, None] = {}
    for spec in specs:
        rate = device_throughput(spec, local, device=device)
        cost = estimate(spec)
        seconds = rate.seconds(cost.train_examples, cost.eval_examples) if rate else None
        if rate is None:
            unknown[_why_unknown(spec, True)] = None
        else:
            sources[rate.source] = None
        runs.append(RunEstimate(spec.run_id, spec.phase, spec.parent, seconds))
    return PlanTime(runs, local, sources=list(sources), unknown=list(unknown))


def _what(spec: RunSpec) -> str:
    return f"{spec.intermediate} (phase 2)" if spec.phase == "intermediate" else f"{spec.target} (phase 3)"


def _why_unknown(spec: RunSpec, gpus: bool) -> str:
    if gpus:
        return f"model {spec.model}: its size is unknown, so the GPU profile cannot time it"
    return (
        f"{_what(spec)}: no throughput measured on this machine; `xlt calibrate` measures it "
        f"(or unset {AUTO_CALIBRATE_VARIABLE}=0)"
    )


def parallel_probes(executor: ExecutorSpec) -> int:
    return executor.workers if executor.kind == "workers" and executor.workers > 1 else 1


def executor_layout(executor: ExecutorSpec, threads: int) -> str:
    probes = parallel_probes(executor)
    return f"{probes} process(es) at once, {threads} thread(s) each, as the executor will run them"


# -- the real probe: fresh interpreters running xlt_lib.experiment.probe --------------------------


def probe_job_parameters(job: ProbeJob) -> dict[str, Any]:
    """What the probe process runs for ``job``: the run's phase at probe size."""
    spec = job.spec
    settings = dict(spec.settings)
    batch = int(settings.get("batch_size") or 16) * int(settings.get("gradient_accumulation") or 1)
    settings.update(
        max_train_examples=batch * PROBE_STEPS,
        max_dev_examples=PROBE_EVAL_EXAMPLES,
        max_eval_examples=PROBE_EVAL_EXAMPLES,
        epochs=1.0,
        epochs_by_task={},
        max_steps=PROBE_STEPS if spec.multitask is not None else None,
        selection="last",
        eval_interval=None,
    )
    return {
        "key": job.key,
        "phase": spec.phase,
        "model": spec.model,
        "task": spec.task_parameter if spec.phase == "intermediate" else spec.target,
        "codeswitch": spec.codeswitch,
        "settings": settings,
        "data_dir": spec.data_dir,
        "languages": list(spec.languages) if spec.languages is not None else None,
        "task_files": list(spec.task_files),
        "threads": job.threads,
    }


def run_probe(jobs: Sequence[ProbeJob], parallel: int, *, timeout_s: float = 1800.0) -> dict[str, Throughput]:
    """Measure ``jobs`` in ``parallel`` fresh interpreters at once (jobs shared out round-robin).

    Each process pays interpreter start and imports once; that time is added to
    the fixed overhead of every job it ran, since each real run pays it too.
    """
    if not jobs:
        return {}
    groups = [list(jobs[i::parallel]) for i in range(min(parallel, len(jobs)))]
    processes = []
    for group in groups:
        threads = str(group[0].threads)
        env = {**os.environ, **BATCH_ENVIRONMENT, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        spawned = time.time()  # the child reports when it ended: processes are collected one by one
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xlt_lib.experiment.probe",
                json.dumps([probe_job_parameters(job) for job in group]),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        processes.append((process, spawned))
    results: dict[str, Throughput] = {}
    for process, spawned in processes:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        if process.returncode != 0:
            tail = " ".join((stderr or "").strip().splitlines()[-3:])
            raise XltError(f"calibration probe failed (exit {process.returncode}): {tail}")
        results.update(_read_probe_output(stdout, spawned))
    return results


def _read_probe_output(stdout: str, spawned: float) -> dict[str, Throughput]:
    """Each job's throughput; the process's start-up (interpreter, imports) joins every job's overhead."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise XltError("calibration probe printed no result")
    report = json.loads(lines[-1])
    measured: list[Mapping[str, Any]] = report["jobs"]
    total_s = float(report["ended_at"]) - spawned
    process_overhead = max(0.0, total_s - sum(float(job["wall_s"]) for job in measured))
    process_overhead += float(report.get("notebook_s") or 0.0)  # kernel, cell round trips, the figure
    out = {}
    for job in measured:
        fixed = float(job["wall_s"]) - float(job["train_s"]) - float(job["eval_s"])
        out[str(job["key"])] = Throughput(
            train_examples_per_s=float(job["train_examples_per_s"]),
            eval_examples_per_s=float(job["eval_examples_per_s"]) if job.get("eval_examples_per_s") else None,
            overhead_s=process_overhead + max(0.0, fixed),
            source=(
                f"calibration probe {time.strftime('%Y-%m-%d')}, {job['threads']} thread(s): "
                f"{float(job['train_examples_per_s']):.1f} train / "
                f"{float(job.get('eval_examples_per_s') or 0):.0f} eval examples/s, "
                f"{process_overhead + max(0.0, fixed):.0f} s fixed per run"
            ),
        )
    return out


def with_eval_examples(specs: Sequence[RunSpec], eval_examples: int | None) -> list[RunSpec]:
    """``specs`` with phase-3 runs evaluating ``eval_examples`` per language (for costing a design)."""
    return [
        replace(spec, settings={**spec.settings, "max_eval_examples": eval_examples})
        if spec.phase == "transfer"
        else spec
        for spec in specs
    ]
