"""Is a complete-looking run record right? Identity, files, provenance, in one verdict.

The planner (every ``xlt run`` and ``xlt report``) and ``xlt check`` judge each
record that has a ``metrics.json`` here:

* **identity**: every field of ``config.yaml`` that says what the run computed
  (phase, model, task, condition kind, target, evaluation split, seed, parent,
  settings, code-switching, data directory, ...) must equal what the run id was
  computed from. The report reads those fields, so a hand edit (``target: xnli``
  to ``pawsx``) would file a result under another comparison: it is refused by
  name (`RunRecordError`) with the fix. Labels (experiment and condition names) are
  not identity: renaming a condition reuses its runs.
* **files** (`xlt_lib.experiment.manifest`): a record whose files differ from its
  manifest is **damaged**; it is redone, the old one set aside. A record without a
  manifest written by an xlt that writes them (``env.json["record_format"]``) is
  damaged too; one from an older xlt is *legacy*: its metrics must parse with the
  keys the report reads, its predictions must be readable parquet and a phase-2
  encoder must hold weights, and the plan notes "no manifest".
* **provenance** (`xlt_lib.experiment.provenance`): inputs whose bytes or source
  changed make the record **stale**.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlt_lib.errors import RunRecordError
from xlt_lib.experiment import manifest, records
from xlt_lib.experiment.config import Experiment
from xlt_lib.experiment.grid import RunSpec, expand
from xlt_lib.experiment.provenance import ProvenanceCache, check_run
from xlt_lib.model.referenced import BaseModelError, is_referencing, verify_base

#: ``config.yaml`` fields that are labels, not identity (renaming them must not redo runs).
LABEL_FIELDS = frozenset({"experiment", "condition"})
LEGACY_NOTE = "no manifest (written by an older xlt): files checked only for readability"


@dataclass
class RecordCheck:
    """The verdict on one complete-looking record."""

    damaged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def identity_mismatches(config: dict[str, Any], spec: RunSpec) -> list[str]:
    """``config.yaml`` fields whose value differs from the one the run id stands for."""
    expected = spec.config()
    out = []
    for key, value in expected.items():
        if key in LABEL_FIELDS or (key == "intermediate" and spec.multitask is not None):
            continue  # a multi-task entry's name is a label; its tasks are in `identity`
        if key in config and config[key] != value:  # absent: written by an older xlt, not an edit
            out.append(key)
    return out


def verify_identity(run_dir: Path, config: dict[str, Any] | None, spec: RunSpec) -> None:
    """Refuse a ``config.yaml`` edited by hand: name the field, its value, and the fix."""
    if config is None:
        return
    wrong = identity_mismatches(config, spec)
    if not wrong:
        return
    expected = spec.config()
    details = "; ".join(
        f"{key!r} is {config.get(key)!r}, the run id stands for {expected[key]!r}" for key in wrong
    )
    raise RunRecordError(
        f"{run_dir / records.CONFIG}: does not match its run id {spec.run_id}: {details} "
        "(edited by hand?); restore the field(s), or move the folder away (or rerun with --force) "
        "to recompute the run"
    )


def _legacy_metrics_problems(metrics: Any, phase: str) -> list[str]:
    if not isinstance(metrics, dict) or not metrics:
        return [f"{records.METRICS} is empty"]
    if phase != "transfer":
        return []
    average = metrics.get("average")
    if not isinstance(average, dict) or "accuracy" not in average:
        return [f"{records.METRICS} lacks 'average.accuracy'"]
    if not isinstance(metrics.get("per_language"), dict) or not metrics["per_language"]:
        return [f"{records.METRICS} lacks 'per_language'"]
    return []


def _parquet_problem(path: Path) -> str | None:
    import pyarrow.parquet as pq  # heavy third-party import, only for records without a manifest

    try:
        pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        return f"{path.name} cannot be read as parquet ({exc})"
    return None


def legacy_problems(run_dir: Path, phase: str) -> list[str]:
    """What can be verified without a manifest: metrics keys, readable predictions, encoder weights."""
    run_dir = Path(run_dir)
    try:
        metrics = json.loads((run_dir / records.METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{records.METRICS} unreadable ({exc})"]
    problems = _legacy_metrics_problems(metrics, phase)
    predictions = run_dir / records.PREDICTIONS
    if phase == "transfer" and predictions.is_file():
        problem = _parquet_problem(predictions)
        if problem:
            problems.append(problem)
    encoder = run_dir / records.ENCODER
    if phase == "intermediate" and encoder.is_dir() and not any(encoder.glob("*.safetensors")):
        problems.append(f"{records.ENCODER}/ holds no *.safetensors weights (deleted?)")
    return problems


def _record_format(run_dir: Path) -> int:
    try:
        env = json.loads((run_dir / records.ENV).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    value = env.get("record_format") if isinstance(env, dict) else None
    return value if isinstance(value, int) else 0


def file_problems(run_dir: Path, phase: str, *, full: bool = False) -> tuple[list[str], list[str]]:
    """(damage, notes) of a complete-looking record's files."""
    run_dir = Path(run_dir)
    if manifest.read(run_dir) is not None:
        return manifest.verify(run_dir, full=full), []
    if _record_format(run_dir) >= manifest.RECORD_FORMAT:
        return [f"{manifest.MANIFEST} is missing (deleted?)"], []
    return legacy_problems(run_dir, phase), [LEGACY_NOTE]


def check_record(spec: RunSpec, run_dir: Path, cache: ProvenanceCache, *, full: bool = False) -> RecordCheck:
    """The verdict on a record `records.run_state` found complete; raises for an edited identity."""
    verify_identity(run_dir, records.read_config(run_dir), spec)
    damaged, notes = file_problems(run_dir, spec.phase, full=full)
    if damaged:
        return RecordCheck(damaged=damaged, notes=notes)
    provenance = check_run(run_dir, spec.model if spec.parent is None else None, cache, spec.data_dir)
    return RecordCheck(stale=provenance.stale, notes=notes + provenance.notes)


# -- xlt check -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with one run's record, and what to do about it."""

    run_id: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.run_id}: {self.what}; fix: {self.fix}"


@dataclass
class CheckReport:
    """What `check_experiment` found: problems, and how many records are whole or not there yet."""

    problems: list[Problem] = field(default_factory=list)
    whole: int = 0
    missing: int = 0


def check_experiment(experiment: Experiment, directory: Path, command: str) -> CheckReport:
    """Verify every run record of ``experiment`` in full (every file's SHA-256, identity, provenance).

    ``command`` is how the user reruns the experiment (``xlt run params/x.yaml``), for the fixes.
    A phase-2 encoder that references its base model's frozen tensors
    (`xlt_lib.model.referenced`) is a problem when that base is missing or changed.
    A phase-3 run whose parent's encoder is missing or damaged is a problem too: its
    result no longer has the encoder it came from, and a rerun redoes both.
    """
    report = CheckReport()
    cache = ProvenanceCache()
    bad: set[str] = set()
    for spec in expand(experiment):
        run_dir = directory / spec.run_id
        try:
            state = records.run_state(run_dir, spec.identity)
            check = check_record(spec, run_dir, cache, full=True) if state == "complete" else RecordCheck()
        except RunRecordError as exc:
            report.problems.append(
                Problem(spec.run_id, str(exc), "restore it, or move it away and run " + command)
            )
            bad.add(spec.run_id)
            continue
        problems = [
            *(
                Problem(spec.run_id, f"damaged: {why}", f"{command} redoes it (the record is set aside)")
                for why in check.damaged
            ),
            *(Problem(spec.run_id, f"stale: {why}", f"{command} reruns it") for why in check.stale),
        ]
        encoder = run_dir / records.ENCODER
        if state == "complete" and not problems and is_referencing(encoder):
            try:  # an encoder that references its base model's frozen tensors needs that base intact
                verify_base(encoder)
            except BaseModelError as exc:
                problems.append(
                    Problem(
                        spec.run_id,
                        str(exc),
                        f"restore the base model, or move the record away and {command}",
                    )
                )
        if state == "failed":
            error = records.read_error(run_dir) or {}
            problems.append(
                Problem(
                    spec.run_id,
                    f"failed: {error.get('ename')}: {error.get('evalue')}",
                    f"{command} reruns it",
                )
            )
        elif state == "incomplete":
            problems.append(Problem(spec.run_id, "interrupted (no metrics.json)", f"{command} reruns it"))
        if spec.parent is not None and spec.parent in bad and state == "complete":
            problems.append(
                Problem(
                    spec.run_id,
                    f"its parent {spec.parent} (the encoder it was trained from) is missing or damaged",
                    f"{command} redoes the parent and then this run",
                )
            )
        report.problems += problems
        if problems or state != "complete":
            bad.add(spec.run_id)
        if state == "missing":
            report.missing += 1
        elif not problems:
            report.whole += 1
    return report
