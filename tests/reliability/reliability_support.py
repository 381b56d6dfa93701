"""Shared helpers of the reliability suites: a tiny real grid, the ``xlt`` command, process trees, records.

The grid (`tiny_experiment`) is the smallest that still exercises every phase and
dependency with the real notebooks: one phase-2 run (MNLI, monolingual) and two
phase-3 runs (PAWS-X from the pretrained tiny encoder and from the phase-2 one),
32 training pairs, 8 evaluation pairs per language, one layer. Torch uses one
thread in every process so that local and worker executors compute identical
floats (a reduction split over two threads adds in another order).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import yaml

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("xlt")
#: The real console script when installed (as `make setup` does), else the same entry point via -m.
XLT = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "xlt_lib.cli"]
TRACEBACK = "Traceback (most recent call last)"
#: Fields of metrics.json that measure time or name a folder, not what was computed.
VOLATILE_KEYS = frozenset({"train_seconds", "examples_per_s", "seconds", "resumed_from", "source", "timings"})
TAG_VARIABLE = "XLT_RELIABILITY_TAG"


def tiny_experiment(
    folder: Path, model: Path, name: str = "faults", *, codeswitch: bool = False, **settings: Any
) -> Path:
    """Write the tiny experiment file into ``folder`` and return its path."""
    conditions: dict[str, Any] = {"baseline": {"kind": "none"}, "mono": {"kind": "monolingual"}}
    if codeswitch:
        conditions["cs"] = {
            "kind": "codeswitched",
            "codeswitch": {"languages": ["de", "fr"], "sentence_ratio": 1.0, "token_ratio": 0.5},
        }
    document = {
        "name": name,
        "model": str(model),
        "intermediate_tasks": ["mnli"],
        "conditions": conditions,
        "targets": ["pawsx"],
        "seeds": [0],
        "settings": {
            "profile": "cpu",
            "num_layers": 1,
            "max_length": 32,
            "batch_size": 8,
            "max_train_examples": 32,
            "max_dev_examples": 8,
            "max_eval_examples": 8,
            "selection": "last",
            **settings,
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def xlt_environment(runs: Path, tag: str | None = None, **extra: str) -> dict[str, str]:
    """Environment of an ``xlt`` subprocess: offline, one torch thread, its own runs and reports."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "XLT_RUNS_DIR": str(runs),
        "XLT_REPORTS_DIR": str(runs.parent / "reports"),
        "XLT_CACHE_DIR": os.environ.get("XLT_CACHE_DIR", str(REPO / ".xlt-cache")),
        **extra,
    }
    if tag is not None:
        env[TAG_VARIABLE] = tag
    return env


def run_xlt(args: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XLT, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )


def new_tag() -> str:
    return uuid.uuid4().hex


# -- processes ---------------------------------------------------------------------------
def tagged_processes(tag: str) -> list[psutil.Process]:
    """Every live process whose environment carries ``tag`` (runner, workers, kernels, trackers).

    Reading environments finds descendants even after they were re-parented to init,
    which is exactly what an orphan is.
    """
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(TAG_VARIABLE) == tag and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:160]}"
    except psutil.Error:
        return str(process.pid)


def wait_until_gone(tag: str, grace: float) -> list[str]:
    """Wait up to ``grace`` seconds for the tagged processes to end; describe those left."""
    deadline = time.monotonic() + grace
    while True:
        left = tagged_processes(tag)
        if not left or time.monotonic() > deadline:
            return [describe(p) for p in left]
        time.sleep(0.25)


def find_role(tag: str, role: str) -> list[psutil.Process]:
    """Tagged processes of a role: ``kernel`` (ipykernel) or ``worker`` (a spawned pool worker)."""
    needle = {"kernel": "ipykernel_launcher", "worker": "spawn_main"}[role]
    out = []
    for process in tagged_processes(tag):
        try:
            if needle in " ".join(process.cmdline()):
                out.append(process)
        except psutil.Error:
            continue
    return out


# -- records -----------------------------------------------------------------------------
def stable(value: Any) -> Any:
    """``value`` without the fields that measure time or name folders."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


@dataclass
class RunResult:
    """What a complete run computed, for bit-for-bit comparison."""

    metrics: dict[str, Any]
    predictions: pd.DataFrame | None
    encoder_sha256: str | None


def complete_runs(experiment_dir: Path) -> Iterator[Path]:
    if experiment_dir.is_dir():
        for run_dir in sorted(experiment_dir.iterdir()):
            if run_dir.is_dir() and (run_dir / "metrics.json").is_file():
                yield run_dir


def read_result(run_dir: Path) -> RunResult:
    """Read a complete run, asserting that its record is whole and self-consistent."""
    from safetensors import safe_open

    from xlt_lib.checksums import file_sha256
    from xlt_lib.experiment import records
    from xlt_lib.model.referenced import CHANGED_WEIGHTS

    metrics = json.loads((run_dir / records.METRICS).read_text(encoding="utf-8"))
    config = records.read_config(run_dir)
    assert config is not None and config["run_id"] == run_dir.name, (
        f"{run_dir}: config.yaml missing or foreign"
    )
    env = json.loads((run_dir / records.ENV).read_text(encoding="utf-8"))
    assert env["end_time"] is not None, f"{run_dir}: env.json never finished"
    assert (run_dir / records.EXECUTED).is_file(), f"{run_dir}: no executed notebook"
    assert not (run_dir / records.ERROR).exists(), f"{run_dir}: complete yet has error.json"
    assert not list(run_dir.glob(".*.tmp")), f"{run_dir}: leftover temporary files"
    predictions, encoder = None, None
    if config["phase"] == "transfer":
        predictions = pd.read_parquet(run_dir / records.PREDICTIONS)
        assert len(predictions) == sum(s["n"] for s in metrics["per_language"].values()), run_dir
        assert set(predictions["language"]) == set(metrics["per_language"]), run_dir
    else:
        weights = run_dir / records.ENCODER / "model.safetensors"
        if not weights.is_file():  # an encoder that stores only what training changed
            weights = run_dir / records.ENCODER / CHANGED_WEIGHTS
        with safe_open(str(weights), framework="np") as handle:
            assert handle.keys(), f"{weights}: empty"
        assert (run_dir / records.ENCODER / "xlt_encoder.json").is_file(), run_dir
        encoder = file_sha256(weights)
    return RunResult(stable(metrics), predictions, encoder)


def read_results(experiment_dir: Path) -> dict[str, RunResult]:
    return {run_dir.name: read_result(run_dir) for run_dir in complete_runs(experiment_dir)}


def assert_same_result(run_id: str, got: RunResult, expected: RunResult) -> None:
    assert got.metrics == expected.metrics, f"{run_id}: metrics differ from the uninterrupted run"
    if expected.predictions is not None:
        assert got.predictions is not None
        pd.testing.assert_frame_equal(got.predictions, expected.predictions, check_exact=True)
    assert got.encoder_sha256 == expected.encoder_sha256, f"{run_id}: encoder weights differ"


def fingerprints(experiment_dir: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, mtime_ns, size) of every complete run's metrics.json and encoder weights."""
    from xlt_lib.model.referenced import CHANGED_WEIGHTS

    out = {}
    for run_dir in complete_runs(experiment_dir):
        encoder = run_dir / "encoder"
        for path in (run_dir / "metrics.json", encoder / "model.safetensors", encoder / CHANGED_WEIGHTS):
            if path.is_file():
                stat = path.stat()
                out[str(path)] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return out


# -- fake phase notebooks (records only, no training) -------------------------------------
#: Writes a run's records through the same calls as the real notebooks (`start`/`finish`), so
#: disk faults hit the real code paths; ``vanish-<run_id>`` in $XLT_TEST_MARKERS deletes the run
#: folder mid-run.
FAKE_BODY = """\
import os, shutil, types
from pathlib import Path
import pandas as pd
from xlt_lib.experiment import notebook, records

run = Path(run_dir)
markers = Path(os.environ.get("XLT_TEST_MARKERS", "/nonexistent"))
environment = records.start_environment(model_identity=None)
records.write_environment(run, environment)
if (markers / f"vanish-{run.name}").exists():
    shutil.rmtree(run)
inputs = types.SimpleNamespace(run_dir=run, settings=types.SimpleNamespace(full_determinism=False, seed=seed))
if target is None:
    (run / "encoder").mkdir(parents=True, exist_ok=True)
    notebook.finish_run(inputs, environment, {"phase": "intermediate", "task": task})
else:
    rows = [{"id": f"{target}-dev-{i:05d}", "language": "en", "gold": i % 2, "prediction": (i + seed) % 2}
            for i in range(4)]
    metrics = {"phase": "transfer", "target": target, "eval_split": eval_split,
               "per_language": {"en": {"accuracy": 0.5, "macro_f1": 0.5, "n": 4}},
               "average": {"accuracy": 0.5, "macro_f1": 0.5}}
    notebook.finish_run(inputs, environment, metrics, predictions=pd.DataFrame(rows))
"""


def write_fake_notebooks(folder: Path) -> Path:
    """The fake phase notebooks with this module's body (records through the real calls)."""
    import fake_notebooks

    return fake_notebooks.write_fake_notebooks(folder, FAKE_BODY)
