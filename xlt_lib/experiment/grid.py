"""Expanding an experiment into runs, each named by a hash of what determines its result.

Phase 2 (``intermediate``): model × intermediate task × non-``none`` condition × seed, where
an intermediate "task" may be a multi-task entry (`MultiTaskSpec`): its ``intermediate``
label is the entry's name, its identity the tasks and the sampler.
Phase 3 (``transfer``): target × (each ``none`` baseline per model, or each phase-2
run) × seed, where a phase-3 run's seed is its parent's seed. One phase-2 encoder
therefore serves every target and is trained once.

A run's id is ``<phase>-<first 12 hex of SHA-256>`` of the canonical JSON of its
*identity*: what changes the result (phase, model, task, condition kind,
code-switching, full training settings, evaluation split, data directory, and for
phase 3 the parent's hash). Labels (experiment and condition names) are not part of
it: renaming a condition does not redo its runs, and two conditions that would
compute the same thing are reported as duplicates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from xlt_lib.errors import ConfigError
from xlt_lib.experiment.config import Experiment, Target
from xlt_lib.experiment.task_files import task_identity
from xlt_lib.tasks.registry import get_task, is_user_task
from xlt_lib.training.multitask_spec import MultiTaskSpec

#: Bumped when the meaning of a run identity changes, so old records are not mistaken for new ones.
IDENTITY_VERSION = 1
PHASE_NOTEBOOKS = {"intermediate": "intermediate.ipynb", "transfer": "transfer.ipynb"}


@dataclass(frozen=True)
class RunSpec:
    """One notebook execution: what it computes (``identity``) and how it is labelled."""

    phase: str
    run_id: str
    experiment: str
    model: str
    intermediate: str
    condition: str
    condition_kind: str
    target: str | None
    seed: int
    parent: str | None
    settings: dict[str, Any]
    codeswitch: dict[str, Any] | None
    data_dir: str | None
    eval_split: str | None = None
    multitask: dict[str, Any] | None = None
    identity: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Phase 3: the languages evaluated as configured (``None``: all the split offers).
    languages: tuple[str, ...] | None = None
    #: Phase 3: where the target's own splits are read from (``auto`` or ``hub``).
    source: str = "auto"
    #: Task files of the experiment's user-defined tasks (the notebook registers them).
    task_files: tuple[str, ...] = ()

    def extra_parameters(self) -> dict[str, Any]:
        """Notebook parameters beyond the original ones, only where set (so old runs inject the same)."""
        out: dict[str, Any] = {}
        if self.task_files:
            out["task_files"] = list(self.task_files)
        if self.languages is not None:
            out["languages"] = list(self.languages)
        if self.source != "auto":
            out["source"] = self.source
        return out

    @property
    def hash(self) -> str:
        return self.run_id.split("-", 1)[1]

    @property
    def task_parameter(self) -> str | dict[str, Any]:
        """The phase-2 notebook's ``task``: the task name, or ``{"multitask": {...}}``."""
        return {"multitask": self.multitask} if self.multitask is not None else self.intermediate

    @property
    def label(self) -> str:
        """A short human-readable name for progress lines."""
        what = (
            f"{self.intermediate}/{self.condition}"
            if self.phase == "intermediate"
            else (f"{self.target} <- {self.intermediate}/{self.condition}")
        )
        return f"{self.run_id} {what} seed={self.seed}"

    def config(self) -> dict[str, Any]:
        """The resolved ``config.yaml`` content of this run."""
        return {
            "phase": self.phase,
            "experiment": self.experiment,
            "run_id": self.run_id,
            "model": self.model,
            "intermediate": self.intermediate,
            "condition": self.condition,
            "condition_kind": self.condition_kind,
            "target": self.target,
            "eval_split": self.eval_split,
            "seed": self.seed,
            "parent": self.parent,
            "settings": self.settings,
            "codeswitch": self.codeswitch,
            "data_dir": self.data_dir,
            "multitask": self.multitask,
            "identity": self.identity,
            **self.extra_parameters(),
        }


def canonical_json(value: Any) -> str:
    """Key-sorted, whitespace-free JSON: equal values give equal text, hence equal hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def run_hash(identity: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()[:12]


def _with_seed(settings: dict[str, Any], seed: int) -> dict[str, Any]:
    return {**settings, "seed": seed}


def _codeswitch_for(codeswitch: dict[str, Any] | None, seed: int) -> dict[str, Any] | None:
    """The condition's code-switching config with the run's seed unless the file fixed one."""
    if codeswitch is None:
        return None
    return {**codeswitch, "seed": codeswitch.get("seed", seed)}


def expand(experiment: Experiment) -> list[RunSpec]:
    """All runs of ``experiment``, phase 2 first, each parent before its children.

    Raises `ConfigError` for an empty grid or for two entries that compute the same run.
    """
    runs: list[RunSpec] = []
    seen: dict[str, str] = {}

    def add(run: RunSpec, where: str) -> None:
        if run.run_id in seen:
            raise ConfigError(
                f"{experiment.path}: {where} and {seen[run.run_id]} describe the same run ({run.run_id}): "
                "remove one of them"
            )
        seen[run.run_id] = where
        runs.append(run)

    parents: list[RunSpec] = []
    for model in experiment.models:
        for entry in experiment.intermediate_tasks:
            multitask = entry if isinstance(entry, MultiTaskSpec) else None
            task = entry.name if isinstance(entry, MultiTaskSpec) else entry
            for condition in experiment.conditions:
                if condition.kind == "none":
                    continue
                for seed in experiment.seeds:
                    settings = _with_seed(experiment.intermediate_settings, seed)
                    codeswitch = _codeswitch_for(condition.codeswitch, seed)
                    identity = {
                        "version": IDENTITY_VERSION,
                        "phase": "intermediate",
                        "model": model,
                        "task": multitask.identity() if multitask is not None else task_identity(task),
                        "condition_kind": condition.kind,
                        "codeswitch": codeswitch,
                        "settings": settings,
                        "data_dir": experiment.data_dir,
                    }
                    run = RunSpec(
                        phase="intermediate",
                        run_id=f"intermediate-{run_hash(identity)}",
                        experiment=experiment.name,
                        model=model,
                        intermediate=task,
                        condition=condition.name,
                        condition_kind=condition.kind,
                        target=None,
                        seed=seed,
                        parent=None,
                        settings=settings,
                        codeswitch=codeswitch,
                        data_dir=experiment.data_dir,
                        multitask=multitask.to_dict() if multitask is not None else None,
                        identity=identity,
                        task_files=experiment.task_files,
                    )
                    add(run, f"conditions.{condition.name} (model {model}, task {task}, seed {seed})")
                    parents.append(run)

    for target in experiment.targets:
        base = experiment.transfer_settings_for(target)
        for model in experiment.models:
            for condition in experiment.conditions:
                if condition.kind != "none":
                    continue
                for seed in experiment.seeds:
                    _add_transfer(
                        add,
                        experiment,
                        target,
                        base,
                        model,
                        None,
                        condition.name,
                        "none",
                        seed,
                    )
        for parent in parents:
            _add_transfer(
                add,
                experiment,
                target,
                base,
                parent.model,
                parent,
                parent.condition,
                parent.condition_kind,
                parent.seed,
            )
    if not runs:
        raise ConfigError(f"{experiment.path}: the experiment expands into no runs")
    return runs


def _add_transfer(
    add: Any,
    experiment: Experiment,
    target_entry: Target,
    base: dict[str, Any],
    model: str,
    parent: RunSpec | None,
    condition: str,
    kind: str,
    seed: int,
) -> None:
    settings = _with_seed(base, seed)
    target, eval_split = target_entry.task, target_entry.eval_split
    identity: dict[str, Any] = {
        "version": IDENTITY_VERSION,
        "phase": "transfer",
        "model": model,
        "parent": parent.hash if parent is not None else None,
        "target": task_identity(target),
        "eval_split": eval_split,
        "settings": settings,
        "data_dir": experiment.data_dir,
    }
    # Added only where set, so that every run configured without them keeps its id.
    if target_entry.languages is not None:
        identity["languages"] = list(target_entry.languages)
    if target_entry.source != "auto":
        identity["source"] = target_entry.source
    spec = get_task(target)
    if spec.train_task is not None and spec.train_task != target and is_user_task(spec.train_task):
        identity["train_task"] = task_identity(spec.train_task)
    run = RunSpec(
        phase="transfer",
        run_id=f"transfer-{run_hash(identity)}",
        experiment=experiment.name,
        model=model,
        intermediate=parent.intermediate if parent is not None else "none",
        condition=condition,
        condition_kind=kind,
        target=target,
        seed=seed,
        parent=parent.run_id if parent is not None else None,
        settings=settings,
        codeswitch=None,
        data_dir=experiment.data_dir,
        eval_split=eval_split,
        multitask=parent.multitask if parent is not None else None,
        identity=identity,
        languages=target_entry.languages,
        source=target_entry.source,
        task_files=experiment.task_files,
    )
    source = f"conditions.{condition}" if parent is None else f"{parent.run_id}"
    add(run, f"target {target} from {source} (model {model}, seed {seed})")
