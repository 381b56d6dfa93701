"""How fast a run goes on this machine: measured throughput, cached, and refined from finished runs.

A run's wall time is modelled as ``overhead + train examples / train rate + eval
examples / eval rate`` (`xlt_lib.experiment.timing`). The three numbers depend on
the machine, the model, the settings that change the work per example (sequence
length, batch, layers, precision, frozen embeddings, ...), the phase and task, and
the CPU threads each run gets. They come from, in order of preference:

1. **completed runs** with the same workload on the same kind of machine and thread
   count (any experiment under the runs directory): their ``metrics.json`` records
   training and evaluation examples per second, and their executed notebook the
   wall time papermill measured (kernel start to last cell), so ``overhead`` is that
   wall time less training and evaluation (`recorded_samples`);
2. a **calibration probe** (`xlt_lib.experiment.calibration`) cached under
   ``<cache>/throughput/<key>.json``, the key a hash of the machine's fingerprint, the
   model's identity, the workload and the thread count (`cache_key`).

This module is light (no torch): ``xlt run --dry-run`` reads it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from xlt_lib.atomic import atomic_write_text
from xlt_lib.errors import XltError
from xlt_lib.experiment.config import ExecutorSpec
from xlt_lib.experiment.grid import RunSpec, canonical_json
from xlt_lib.model.identity import model_identity
from xlt_lib.paths import cache_dir
from xlt_lib.training.timings import read_timings

#: Settings that change the work per example (and so the speed), not only what is learned.
SPEED_SETTINGS = (
    "max_length",
    "batch_size",
    "gradient_accumulation",
    "eval_batch_size",
    "num_layers",
    "freeze_word_embeddings",
    "cls_only_last_layer",
    "fast_cpu_dropout",
    "precision",
    "doc_stride",
)
#: Speed settings added later, part of a workload only where set (so older records still match).
SPEED_SETTINGS_IF_SET = ("freeze_embedding_block",)
#: Packages whose version changes the speed.
SPEED_PACKAGES = ("torch", "transformers", "accelerate")
CACHE_FOLDER = "throughput"


@dataclass(frozen=True)
class Throughput:
    """Examples per second for training and evaluation, and the fixed seconds per run, with their origin."""

    train_examples_per_s: float
    eval_examples_per_s: float | None
    overhead_s: float
    #: Where the numbers come from, in words (shown with the estimate).
    source: str
    #: True for numbers measured (a probe or recorded runs), False for a recorded device profile.
    measured: bool = True

    def seconds(self, train_examples: int | None, eval_examples: int | None) -> float | None:
        """Wall seconds of a run doing this much work; None when the work is unknown."""
        if train_examples is None or eval_examples is None:
            return None
        evaluating = eval_examples / self.eval_examples_per_s if self.eval_examples_per_s else 0.0
        return self.overhead_s + train_examples / self.train_examples_per_s + evaluating


# -- what a run's speed depends on ---------------------------------------------------------


def workload(spec: RunSpec) -> dict[str, Any]:
    """The part of a run that decides its speed per example: phase, model, task, code-switching, settings."""
    return _workload(
        spec.phase,
        spec.model,
        spec.intermediate if spec.phase == "intermediate" else str(spec.target),
        spec.multitask,
        spec.codeswitch is not None,
        spec.settings,
    )


def _workload(
    phase: str,
    model: str,
    task: str,
    multitask: Mapping[str, Any] | None,
    codeswitched: bool,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "phase": phase,
        "model": model,
        "task": task,
        "multitask": sorted(multitask["tasks"]) if multitask else None,
        "codeswitched": codeswitched if phase == "intermediate" else False,
        "settings": {
            **{key: settings.get(key) for key in SPEED_SETTINGS},
            # Only where set: a workload recorded before the setting existed keeps its key.
            **{key: settings[key] for key in SPEED_SETTINGS_IF_SET if settings.get(key)},
        },
    }


def threads_per_run(executor: ExecutorSpec, cpus: int | None = None) -> int:
    """CPU threads each run's kernel gets under ``executor`` (as `xlt_lib.experiment.executors` shares them)."""
    cpus = cpus or os.cpu_count() or 1
    if executor.kind == "workers" and executor.workers > 1:
        return max(1, cpus // executor.workers)
    if executor.kind == "slurm" and executor.slurm is not None:
        return executor.slurm.cpus_per_task
    return cpus


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> int | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError, AttributeError):
        return None


@functools.lru_cache(maxsize=1)
def machine_fingerprint() -> dict[str, Any]:
    """What makes two machines equally fast for xlt: CPU model and count, memory, and the speed-relevant versions."""
    versions: dict[str, str | None] = {}
    for name in SPEED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "arch": platform.machine(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "packages": versions,
    }


@functools.lru_cache(maxsize=32)
def model_digest(model: str) -> str:
    """A short digest of the model's identity (`xlt_lib.model.identity.model_identity`); its name if unknown."""
    try:
        identity: Any = model_identity(model)
    except (XltError, OSError):
        identity = {"name": model}
    identity = {key: value for key, value in identity.items() if key not in ("path",)}
    return hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()[:16]


def cache_key(
    work: Mapping[str, Any],
    threads: int,
    *,
    machine: Mapping[str, Any] | None = None,
    model: str | None = None,
) -> str:
    """The calibration cache's key: machine fingerprint + model identity + workload + threads."""
    fields = {
        "machine": dict(machine if machine is not None else machine_fingerprint()),
        "model": model if model is not None else model_digest(str(work["model"])),
        "workload": dict(work),
        "threads": threads,
    }
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()[:20]


# -- the calibration cache -------------------------------------------------------------------


def cache_path(key: str, root: Path | None = None) -> Path:
    return (root or cache_dir()) / CACHE_FOLDER / f"{key}.json"


def read_cached(key: str, root: Path | None = None) -> Throughput | None:
    """The probe's throughput cached under ``key``, or None (absent or unreadable: probe again)."""
    path = cache_path(key, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Throughput(
            train_examples_per_s=float(data["train_examples_per_s"]),
            eval_examples_per_s=(
                float(data["eval_examples_per_s"]) if data.get("eval_examples_per_s") else None
            ),
            overhead_s=float(data["overhead_s"]),
            source=str(data.get("source", f"calibration probe ({path})")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cached(
    key: str, throughput: Throughput, details: Mapping[str, Any], root: Path | None = None
) -> Path:
    """Cache a probe's throughput (with what it measured, for whoever reads the file)."""
    path = cache_path(key, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, json.dumps({**asdict(throughput), **details}, indent=2, sort_keys=True))


# -- completed runs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedSample:
    """What one completed run recorded about its speed."""

    run_dir: Path
    key: str
    train_examples_per_s: float
    eval_examples_per_s: float | None
    overhead_s: float
    wall_s: float


def notebook_wall_seconds(run_dir: Path) -> float | None:
    """The run's wall time: its timing record's total (`xlt_lib.training.timings.read_timings`).

    Records written before runs timed themselves fall back to papermill's duration in
    ``executed.ipynb`` (kernel start to the last cell), then to ``env.json``'s start and
    end times (which miss the kernel start and imports); None when none is there.
    """
    timings = read_timings(run_dir)
    if timings is not None and timings.get("total") is not None:
        return float(timings["total"])
    try:
        notebook = json.loads((run_dir / "executed.ipynb").read_text(encoding="utf-8"))
        duration = notebook["metadata"]["papermill"]["duration"]
        if duration is not None:
            return float(duration)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        env = json.loads((run_dir / "env.json").read_text(encoding="utf-8"))
        start, end = dt.datetime.fromisoformat(env["start_time"]), dt.datetime.fromisoformat(env["end_time"])
        return (end - start).total_seconds()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _sample(run_dir: Path, machine: Mapping[str, Any]) -> RecordedSample | None:
    """A completed run's speed, keyed like a probe, if it ran on a machine like this one."""
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        env = json.loads((run_dir / "env.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    if not isinstance(metrics, dict) or not isinstance(config, dict) or not isinstance(env, dict):
        return None
    device = env.get("device") or {}
    if device.get("cpu_count") != machine.get("cpus") or device.get("device") not in (None, "cpu"):
        return None
    train = metrics.get("train") or {}
    evaluation = metrics.get("eval") or {}
    wall = notebook_wall_seconds(run_dir)
    if not train.get("examples_per_s") or not train.get("train_seconds") or wall is None:
        return None
    phase = str(config.get("phase"))
    task = config.get("intermediate") if phase == "intermediate" else config.get("target")
    work = _workload(
        phase,
        str(config.get("model")),
        str(task),
        config.get("multitask"),
        config.get("codeswitch") is not None,
        config.get("settings") or {},
    )
    threads = int(device.get("torch_threads") or 0)
    eval_seconds = float(evaluation.get("seconds") or 0.0)
    return RecordedSample(
        run_dir=run_dir,
        key=cache_key(work, threads, machine=machine),
        train_examples_per_s=float(train["examples_per_s"]),
        eval_examples_per_s=float(evaluation["examples_per_s"]) if evaluation.get("examples_per_s") else None,
        overhead_s=max(0.0, wall - float(train["train_seconds"]) - eval_seconds),
        wall_s=wall,
    )


def recorded_samples(
    runs_root: Path, *, exclude: Iterable[str] = (), machine: Mapping[str, Any] | None = None
) -> dict[str, list[RecordedSample]]:
    """Completed runs under ``runs_root`` (every experiment but those in ``exclude``), grouped by key."""
    machine = machine if machine is not None else machine_fingerprint()
    excluded = set(exclude)
    found: dict[str, list[RecordedSample]] = {}
    if not runs_root.is_dir():
        return found
    for experiment in sorted(runs_root.iterdir()):
        if not experiment.is_dir() or experiment.name.startswith(("_", ".")) or experiment.name in excluded:
            continue
        for run_dir in sorted(experiment.iterdir()):
            if run_dir.name.startswith(("_", ".")) or not (run_dir / "metrics.json").is_file():
                continue
            sample = _sample(run_dir, machine)
            if sample is not None:
                found.setdefault(sample.key, []).append(sample)
    return found


def refined(probe: Throughput | None, samples: list[RecordedSample]) -> Throughput | None:
    """The probe's numbers replaced by the medians of completed runs' (the probe's eval rate if they lack one)."""
    if not samples:
        return probe
    evals = [s.eval_examples_per_s for s in samples if s.eval_examples_per_s]
    eval_rate = statistics.median(evals) if evals else (probe.eval_examples_per_s if probe else None)
    return Throughput(
        train_examples_per_s=statistics.median(s.train_examples_per_s for s in samples),
        eval_examples_per_s=eval_rate,
        overhead_s=statistics.median(s.overhead_s for s in samples),
        source=f"refined from {len(samples)} completed run(s)"
        + (" and the calibration probe" if probe else ""),
    )
