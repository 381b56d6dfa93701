"""Where a run's wall time goes: one stopwatch per run, and the record it leaves.

A run's time is not all training. Starting a kernel, importing torch and
transformers, hashing inputs for provenance, loading and tokenising data, loading
the model, evaluating and saving are paid by every run whatever its size; at the
demo's and the smoke test's sizes they are a large share of the run. To cut them,
or to estimate how long a grid will take, they have to be measured, run by run,
and kept with the run. This module is the one place that does it:

* `RunTimings` accumulates seconds per part (`PARTS`) with ``with timings.part(name):``.
  The phases (`run_intermediate`, `run_transfer`, multi-task training) fill in data,
  model, training, evaluation and saving; the notebook helpers
  (`xlt_lib.experiment.notebook`) add kernel start, imports, provenance and the
  record's own saving, and write `RunTimings.record` into ``metrics.json`` as
  ``timings``.
* The runner (`xlt_lib.experiment.runner.execute_run`) tells the kernel when the run
  started through the environment (`STARTED_VARIABLE`), so the kernel can count its
  own start-up. After papermill has returned it writes `TIMINGS_FILE`
  (``timings.json``, listed in the record's manifest): the kernel's record completed
  with ``notebook_close`` (saving the executed notebook, shutting the kernel down), so
  its ``total`` is the run's whole wall time.
* `read_timings` gives a run directory's most complete record (``timings.json``, else
  ``metrics.json``'s ``timings``); ``benchmarks/run_overhead.py`` summarises an
  experiment's runs with it, and a time estimate can read recorded wall times the same way.

A record, all durations in seconds::

    {"started": "2026-11-29T02:10:00.123+00:00", "ended": "...", "total": 61.2,
     "parts": {"kernel_start": 2.1, "imports": 7.9, "provenance": 1.2, "data": 3.4,
               "model": 1.9, "training": 35.0, "evaluation": 6.3, "saving": 1.1,
               "notebook_close": 0.6, "other": 1.7}}

``other`` is what no part claims (the notebook's own cells: displaying tables, the
plot), so the parts always add up to ``total``. Training includes the dev scoring
the Trainer does during training (checkpoint selection); ``evaluation`` is the
scoring after it. Only stdlib is imported: the notebook's first cell may import this.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

#: The parts of a run, in the order they happen (``other``: what no part claims).
PARTS = (
    "kernel_start",
    "imports",
    "provenance",
    "data",
    "model",
    "training",
    "evaluation",
    "saving",
    "notebook_close",
    "other",
)
#: Every part except training: the fixed overhead a run pays whatever its size.
OVERHEAD_PARTS = tuple(part for part in PARTS if part != "training")
#: Set by the runner for the kernel it starts: the run's start, as seconds since the epoch.
STARTED_VARIABLE = "XLT_RUN_STARTED"
#: The complete record the runner writes beside ``metrics.json``.
TIMINGS_FILE = "timings.json"
#: The key of the kernel's record inside ``metrics.json``.
METRICS_KEY = "timings"


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds")


class RunTimings:
    """Seconds per part of one run, from ``started`` (seconds since the epoch) on.

    Parts add up: timing the same part twice (data loaded for training, then for
    evaluation) adds the second duration to the first. Parts must not nest.
    """

    def __init__(self, started: float | None = None) -> None:
        self.started = time.time() if started is None else float(started)
        self.seconds: dict[str, float] = {}

    @classmethod
    def in_notebook(
        cls, kernel_ready: float, *, now: float | None = None, environ: Mapping[str, str] | None = None
    ) -> RunTimings:
        """The stopwatch of a notebook whose first cell ran at ``kernel_ready`` (``time.time()``).

        Under the runner (`STARTED_VARIABLE` set) the run started before the kernel did:
        the gap is ``kernel_start``. Run by hand, the run starts with the kernel's first
        cell. ``imports`` is the time from that cell until now (the notebook calls this
        right after its imports).
        """
        environ = os.environ if environ is None else environ
        now = time.time() if now is None else now
        started = kernel_ready
        launched = environ.get(STARTED_VARIABLE)
        timings = cls()
        if launched:
            with contextlib.suppress(ValueError):
                runner = float(launched)
                if runner <= kernel_ready:
                    started = runner
                    timings.add("kernel_start", kernel_ready - runner)
        timings.started = started
        timings.add("imports", now - kernel_ready)
        return timings

    def add(self, part: str, seconds: float) -> None:
        if part not in PARTS or part == "other":
            raise ValueError(f"unknown run part {part!r} (known: {', '.join(PARTS[:-1])})")
        self.seconds[part] = self.seconds.get(part, 0.0) + max(0.0, float(seconds))

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Time the block as part ``name`` (counted also when the block raises)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def record(self, ended: float | None = None) -> dict[str, Any]:
        """The record up to ``ended`` (default: now); ``other`` makes the parts add up to ``total``."""
        ended = time.time() if ended is None else ended
        total = max(0.0, ended - self.started)
        parts = {name: round(self.seconds[name], 4) for name in PARTS if name in self.seconds}
        parts["other"] = round(max(0.0, total - sum(self.seconds.values())), 4)
        return {"started": _iso(self.started), "ended": _iso(ended), "total": round(total, 4), "parts": parts}


def completed(kernel_record: Mapping[str, Any], started: float, ended: float) -> dict[str, Any]:
    """The runner's record: the kernel's, with ``notebook_close`` and the run's whole wall time.

    ``started``/``ended``: the runner's clock (seconds since the epoch) around papermill.
    ``notebook_close`` is the time from the kernel's last timestamp to ``ended``.
    """
    kernel_ended = dt.datetime.fromisoformat(str(kernel_record["ended"])).timestamp()
    parts = {k: float(v) for k, v in dict(kernel_record.get("parts") or {}).items() if k != "other"}
    timings = RunTimings(started)
    for name, seconds in parts.items():
        timings.add(name, seconds)
    timings.add("notebook_close", ended - kernel_ended)
    return timings.record(ended)


def read_timings(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A run's most complete timing record: ``timings.json``, else ``metrics.json``'s; ``None`` if neither."""
    run_dir = Path(run_dir)
    for name, key in ((TIMINGS_FILE, None), ("metrics.json", METRICS_KEY)):
        try:
            value = json.loads((run_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if key is not None:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict) and isinstance(value.get("parts"), dict) and "total" in value:
            return value
    return None
