"""Planning a grid and executing one run: one papermill notebook per run, recorded, resumable.

* `plan` looks at every run's directory: complete runs (``metrics.json`` present,
  identity matching) are skipped, everything else (missing, failed, interrupted)
  is (re)run, and ``--force`` reruns all. A phase-3 run whose parent is rerun is
  rerun too, since its encoder changes.
* `execute_run` executes one run's notebook and records the outcome; it never
  raises for a failing notebook (the executed notebook keeps the error, ``error.json``
  names it), so one failure never stops the grid. It is a plain picklable function,
  so local worker processes and SLURM jobs (via submitit) call the very same code.
* `ProgressLog` and `block` are the bookkeeping every executor shares.

Executing a whole plan (`execute`, in this process, local workers or SLURM) is
`xlt_lib.experiment.executors`, which builds on this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlt_lib.errors import KernelStartError, RunRecordError
from xlt_lib.experiment import records
from xlt_lib.experiment.config import Experiment
from xlt_lib.experiment.grid import PHASE_NOTEBOOKS, RunSpec, expand
from xlt_lib.experiment.integrity import RecordCheck, check_record
from xlt_lib.experiment.notebook_files import atomic_output
from xlt_lib.experiment.preflight import Preflight
from xlt_lib.experiment.preflight import check as check_inputs
from xlt_lib.experiment.provenance import ProvenanceCache
from xlt_lib.paths import repo_root, runs_dir
from xlt_lib.training.timings import STARTED_VARIABLE

#: Environment for batch kernels: no progress bars (tqdm under papermill prints a line per update).
BATCH_ENVIRONMENT = {
    "XLT_PROGRESS": "0",
    "TQDM_DISABLE": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
KERNEL_NAME = "xlt"
#: A kernel that never answers fails a run before its first cell, through no fault of the run:
#: a port another process took between jupyter_client choosing it and the kernel binding it
#: (parallel kernels race for ports: papermill#511, jupyter_client#154), or a start slower than
#: papermill's timeout on an overloaded node. Nothing of the run has happened yet, so it is
#: started again, this many times in all, the pause growing by this many seconds each time.
KERNEL_START_ATTEMPTS = 3
KERNEL_RETRY_PAUSE_S = 2.0
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

Log = Callable[[str], None]


def default_notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def experiment_dir(experiment: Experiment, runs_root: Path | None = None) -> Path:
    return (runs_root or runs_dir()) / experiment.name


@dataclass
class PlannedRun:
    """A run, its directory, what its records say, and whether this invocation executes it."""

    spec: RunSpec
    run_dir: Path
    state: str  # complete | damaged | failed | incomplete | missing | foreign (--force only)
    execute: bool
    error: dict[str, Any] | None = None
    #: Why a complete run is rerun although its id matches (its inputs' bytes changed).
    stale: list[str] = field(default_factory=list)
    #: Provenance differences that do not force a rerun (another git commit).
    notes: list[str] = field(default_factory=list)
    #: Why a record with metrics.json is not whole (`xlt_lib.experiment.integrity`): redone, set aside.
    damaged: list[str] = field(default_factory=list)


@dataclass
class Plan:
    experiment: Experiment
    directory: Path
    runs: list[PlannedRun]
    #: What the runs to execute read, resolved before anything runs (`xlt_lib.experiment.preflight`).
    preflight: Preflight = field(default_factory=Preflight)

    def by_id(self) -> dict[str, PlannedRun]:
        return {run.spec.run_id: run for run in self.runs}

    @property
    def to_execute(self) -> list[PlannedRun]:
        return [run for run in self.runs if run.execute]


@dataclass
class RunOutcome:
    """What happened to one run in this invocation."""

    run_id: str
    status: str  # complete | failed | blocked | skipped
    seconds: float = 0.0
    message: str = ""


def plan(experiment: Experiment, *, force: bool = False, runs_root: Path | None = None) -> Plan:
    """Expand ``experiment`` and decide, run by run, what this invocation executes.

    A complete run is skipped unless ``force``, its parent reruns, its files differ
    from its manifest (state ``damaged``), or its recorded inputs (data source and
    bytes, model weights, xlt version) differ from the present ones
    (`xlt_lib.experiment.integrity`). A directory holding another run's records, or a
    ``config.yaml`` edited against its run id, raises `RunRecordError`, except with
    ``force``, which replaces it.
    ``Plan.preflight`` resolves every input of the runs to execute; `xlt run` stops
    on anything missing before the first run starts.
    """
    directory = experiment_dir(experiment, runs_root)
    planned: dict[str, PlannedRun] = {}
    cache = ProvenanceCache()
    for spec in expand(experiment):
        run_dir = directory / spec.run_id
        check = RecordCheck()
        try:
            state = records.run_state(run_dir, spec.identity)
            if state == "complete" and not force:
                check = check_record(spec, run_dir, cache)
        except RunRecordError:
            if not force:
                raise
            state, check = "foreign", RecordCheck()
        if check.damaged:
            state = "damaged"
        parent_reruns = spec.parent is not None and planned[spec.parent].execute
        execute = force or state != "complete" or parent_reruns or bool(check.stale)
        error = records.read_error(run_dir) if state == "failed" else None
        planned[spec.run_id] = PlannedRun(
            spec, run_dir, state, execute, error, stale=check.stale, notes=check.notes, damaged=check.damaged
        )
    runs = list(planned.values())
    return Plan(experiment, directory, runs, check_inputs(run.spec for run in runs if run.execute))


def notebook_parameters(spec: RunSpec, run_dir: Path, parent_dir: Path | None) -> dict[str, Any]:
    """The values papermill injects into the phase notebook's ``parameters`` cell."""
    common = {
        "run_dir": str(run_dir),
        "settings": spec.settings,
        "seed": spec.seed,
        "data_dir": spec.data_dir,
        **spec.extra_parameters(),
    }
    if spec.phase == "intermediate":
        return {**common, "model": spec.model, "task": spec.task_parameter, "codeswitch": spec.codeswitch}
    encoder = str(parent_dir / records.ENCODER) if parent_dir is not None else spec.model
    return {
        **common,
        "encoder": encoder,
        "target": spec.target,
        "eval_split": spec.eval_split,
        "codeswitch": None,
    }


@contextlib.contextmanager
def batch_environment() -> Iterator[None]:
    """Set `BATCH_ENVIRONMENT` (unless the user set a value) for the kernel papermill starts, then restore."""
    saved = {key: os.environ.get(key) for key in BATCH_ENVIRONMENT}
    for key, value in BATCH_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    try:
        yield
    finally:
        for key, previous in saved.items():
            if previous is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = previous


@contextlib.contextmanager
def run_started(started: float) -> Iterator[None]:
    """Tell the kernel papermill starts when the run started (`xlt_lib.training.timings`), then restore."""
    previous = os.environ.get(STARTED_VARIABLE)
    os.environ[STARTED_VARIABLE] = repr(started)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(STARTED_VARIABLE, None)
        else:
            os.environ[STARTED_VARIABLE] = previous


def _clean(text: str) -> str:
    return _ANSI.sub("", text)


def execute_run(
    spec: RunSpec, run_dir: Path, notebooks_dir: Path, parent_dir: Path | None = None
) -> RunOutcome:
    """Execute one run's notebook into ``run_dir`` and record the outcome.

    The directory is reset first (a previous attempt's files never mix with this
    one's), ``config.yaml`` is written before the notebook starts, and the notebook
    itself writes ``metrics.json`` last. Failures are recorded in ``error.json`` and
    returned, not raised; only an interrupt (Ctrl-C) propagates. A complete run gets
    ``timings.json``: where its wall time went, from here to papermill's return.
    A kernel that never answers is started again (`KERNEL_START_ATTEMPTS`); the
    outcome's message says so.
    """
    from papermill.exceptions import PapermillExecutionError

    logging.getLogger("papermill").setLevel(logging.WARNING)  # its per-notebook INFO lines are noise here
    run_dir = Path(run_dir)
    started = time.monotonic()
    started_at = time.time()  # the kernel's clock too: it counts its own start from here
    try:
        records.reset_run_dir(run_dir)
        records.write_config(run_dir, spec.config())
    except OSError as exc:  # a full disk, a read-only or vanished file system: this run cannot start
        message = f"cannot prepare the run directory: {_clean(str(exc))}"
        records.write_error_quietly(run_dir, ename=type(exc).__name__, evalue=message)
        return RunOutcome(
            spec.run_id, "failed", time.monotonic() - started, f"{type(exc).__name__}: {message}"
        )
    notebook = Path(notebooks_dir) / PHASE_NOTEBOOKS[spec.phase]
    kernel_failures: list[str] = []
    try:
        while True:
            kernel_ready: list[bool] = []
            try:
                _execute_notebook(
                    notebook, spec, run_dir, notebooks_dir, parent_dir, started_at, kernel_ready
                )
                break
            except (RuntimeError, TimeoutError) as exc:
                if kernel_ready:  # it answered, then died: the run's own failure, not retried
                    raise
                if len(kernel_failures) + 1 >= KERNEL_START_ATTEMPTS:
                    raise KernelStartError(
                        f"the kernel did not start in {KERNEL_START_ATTEMPTS} attempts: "
                        + "; ".join([*kernel_failures, _one_line(exc)])
                    ) from exc
                kernel_failures.append(_one_line(exc))
                time.sleep(KERNEL_RETRY_PAUSE_S * len(kernel_failures))
    except PapermillExecutionError as exc:
        evalue = _clean(exc.evalue)
        detail = _clean("\n".join(exc.traceback)) if exc.traceback else ""
        records.write_error_quietly(
            run_dir, ename=exc.ename, evalue=evalue, cell=exc.exec_count, detail=detail
        )
        return RunOutcome(
            spec.run_id,
            "failed",
            time.monotonic() - started,
            f"{exc.ename}: {evalue} (cell {exc.exec_count})",
        )
    except Exception as exc:  # the kernel died, could not start, or the notebook is missing
        records.write_error_quietly(run_dir, ename=type(exc).__name__, evalue=_clean(str(exc)))
        return RunOutcome(
            spec.run_id, "failed", time.monotonic() - started, f"{type(exc).__name__}: {_clean(str(exc))}"
        )
    if not (run_dir / records.METRICS).is_file():
        message = f"{notebook.name} finished without writing {records.METRICS}"
        records.write_error_quietly(run_dir, ename="IncompleteRun", evalue=message)
        return RunOutcome(spec.run_id, "failed", time.monotonic() - started, f"IncompleteRun: {message}")
    with contextlib.suppress(OSError):  # the notebook is a log: a manifest without it still verifies
        records.add_to_manifest(run_dir, records.EXECUTED)
    with contextlib.suppress(OSError, RunRecordError, KeyError, ValueError):  # a log too, like the notebook
        records.write_timings(run_dir, started_at, time.time())
    note = f"kernel started on attempt {len(kernel_failures) + 1} ({'; '.join(kernel_failures)})"
    return RunOutcome(spec.run_id, "complete", time.monotonic() - started, note if kernel_failures else "")


def _one_line(exc: BaseException) -> str:
    text = _clean(str(exc)).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _execute_notebook(
    notebook: Path,
    spec: RunSpec,
    run_dir: Path,
    notebooks_dir: Path,
    parent_dir: Path | None,
    started_at: float,
    kernel_ready: list[bool],
) -> None:
    """One papermill execution of the run's notebook; ``kernel_ready`` gets an entry once its kernel answers."""
    import papermill

    with batch_environment(), run_started(started_at):
        papermill.execute_notebook(
            str(notebook),
            atomic_output(run_dir / records.EXECUTED),  # each save whole (a full disk, a kill)
            parameters=notebook_parameters(spec, run_dir, parent_dir),
            kernel_name=KERNEL_NAME,
            cwd=str(notebooks_dir),
            progress_bar=False,
            log_output=False,
            # ipykernel warns on every start that a local TCP kernel is unencrypted (as every
            # kernel a Jupyter server starts is); once per run it drowns the progress lines.
            # Errors raised by cells are unaffected: they travel as outputs, not kernel logs.
            # CRITICAL, not ERROR: on Ctrl-C the runner closes the kernel's sockets while it is
            # replying, and its "Exception in message handler ... ZMQError" reached the terminal.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            # Once the last cell has run, every record is written (atomically) and nothing is
            # left for the kernel to do: a graceful shutdown only waits ~3 s per run for the
            # interpreter to tear torch down (benchmarks/results/run_overhead.md).
            shutdown_kernel="immediate",
            # nbclient's hook once the kernel has answered kernel_info, before the first cell:
            # what tells a kernel that never started (retried) from a notebook that failed.
            on_notebook_start=lambda notebook: kernel_ready.append(True),
        )


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class ProgressLog:
    """One line per run start and end, with elapsed time (quiet, readable batch output)."""

    def __init__(self, total: int, log: Log = print) -> None:
        self.total = total
        self.done = 0
        self.log = log
        self.started = time.monotonic()

    def _stamp(self) -> str:
        return f"[{time.strftime('%H:%M:%S')} +{format_duration(time.monotonic() - self.started)}]"

    def start(self, spec: RunSpec, note: str = "") -> None:
        self.log(f"{self._stamp()} start  {spec.label}" + (f" ({note})" if note else ""))

    def end(self, spec: RunSpec, outcome: RunOutcome) -> None:
        self.done += 1
        extra = f": {outcome.message}" if outcome.message else ""
        word = {"complete": "done  ", "failed": "FAILED", "blocked": "blocked"}.get(
            outcome.status, outcome.status
        )
        took = f" in {format_duration(outcome.seconds)}" if outcome.status in ("complete", "failed") else ""
        self.log(f"{self._stamp()} {word} {spec.label}{took} ({self.done}/{self.total}){extra}")


def block(run: PlannedRun, parent_id: str, progress: ProgressLog) -> RunOutcome:
    """Record that ``run`` cannot start because its parent failed."""
    message = f"parent run {parent_id} failed"
    with contextlib.suppress(OSError):  # a full disk must not stop the grid's bookkeeping
        run.run_dir.mkdir(parents=True, exist_ok=True)
        with_metrics = run.run_dir / records.METRICS
        if with_metrics.exists():  # --force with a failed parent: the old result no longer stands
            with_metrics.unlink()
        records.write_config(run.run_dir, run.spec.config())
        records.write_error(run.run_dir, ename="Blocked", evalue=message)
    outcome = RunOutcome(run.spec.run_id, "blocked", 0.0, message)
    progress.end(run.spec, outcome)
    return outcome
