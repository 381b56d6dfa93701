"""What a multi-task intermediate run trains on: its tasks, its task sampler, its name.

Phang et al. (2020) also train one encoder on all nine intermediate tasks at once
(jiant's multi-task runs), with batches drawn from one task at a time by a
sampler: ``uniform``, ``proportional`` to dataset size, or ``temperature``
(p_i ∝ n_i^(1/T): T = 1 is proportional, T → ∞ uniform). This module holds that
choice as plain, validated data, importable without torch, so that an experiment
file is checked in milliseconds; `xlt_lib.training.multitask` does the training.

``tasks: all`` means the study's nine intermediate tasks as far as the current
source has their English training data (`available_intermediate_tasks`); it is
resolved when the experiment is read, so a run's identity (and hash) records the
actual task list, not the word ``all``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xlt_lib.errors import ConfigError, XltError
from xlt_lib.tasks import data_files, get_task, resolve_source, task_names

SAMPLERS: tuple[str, ...] = ("uniform", "proportional", "temperature")
DEFAULT_NAME = "multitask"
KEYS: tuple[str, ...] = ("name", "tasks", "sampler", "temperature")

#: The nine English intermediate tasks of Phang et al. (2020), in the paper's order.
STUDY_TASKS: tuple[str, ...] = (
    "anli",
    "mnli",
    "qqp",
    "sst2",
    "hellaswag",
    "commonsenseqa",
    "cosmosqa",
    "squad",
    "ccg",
)
#: Where a study task has no data under the current source, the registered task that
#: stands in for it: English TyDiQA-GoldP is the SQuAD-format extractive QA that the
#: offline mirror carries (SQuAD itself is not there; see the data README).
STAND_INS: dict[str, str] = {"squad": "tydiqa_en"}


@dataclass(frozen=True)
class MultiTaskSpec:
    """Several intermediate tasks trained at once on one shared encoder.

    ``name`` labels the condition in run records and result tables (the
    ``intermediate`` column), like a task name; it is a label only and not part of
    what a run computes. ``temperature`` is set exactly when ``sampler`` is
    ``temperature``.
    """

    tasks: tuple[str, ...]
    sampler: str = "proportional"
    temperature: float | None = None
    name: str = DEFAULT_NAME

    def __post_init__(self) -> None:
        if not self.name or not all(ch.isalnum() or ch in "-_" for ch in self.name):
            raise ConfigError(f"name: expected letters, digits, '-' or '_', got {self.name!r}")
        if self.name == "none":
            raise ConfigError("name: 'none' marks runs without intermediate training; choose another")
        if self.name in task_names():
            raise ConfigError(f"name: {self.name!r} is a task's name; a multi-task run needs its own")
        if len(self.tasks) < 2:
            raise ConfigError(f"tasks: a multi-task run needs at least two tasks, got {list(self.tasks)}")
        for task in self.tasks:
            try:
                spec = get_task(task)
            except XltError as exc:
                raise ConfigError(f"tasks: {exc}") from None
            if spec.is_target:
                raise ConfigError(f"tasks: {task!r} is a cross-lingual target, not an intermediate task")
        duplicates = sorted({t for t in self.tasks if self.tasks.count(t) > 1})
        if duplicates:
            raise ConfigError(f"tasks: {', '.join(duplicates)} listed more than once")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.sampler == "temperature":
            t = self.temperature
            if t is None:
                raise ConfigError("temperature: sampler 'temperature' needs a temperature (e.g. 2.0)")
            if isinstance(t, bool) or not isinstance(t, int | float) or not (t > 0 and math.isfinite(t)):
                raise ConfigError(
                    f"temperature: expected a positive finite number (1 = proportional; "
                    f"use sampler 'uniform' for T -> infinity), got {t!r}"
                )
        elif self.temperature is not None:
            raise ConfigError(f"temperature: only sampler 'temperature' takes one, this is {self.sampler!r}")

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls, values: Mapping[str, Any], data_dir: str | os.PathLike[str] | None = None
    ) -> MultiTaskSpec:
        """A validated spec from ``{tasks: all | [...], sampler: ..., temperature: ..., name: ...}``.

        ``tasks: all`` resolves to `available_intermediate_tasks` (``data_dir``: as
        for loading). An error names the key (``sampler: ...``).
        """
        if not isinstance(values, Mapping):
            raise ConfigError(f"expected a mapping with keys {', '.join(KEYS)}, got {type(values).__name__}")
        unknown = [k for k in values if k not in KEYS]
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown key (known: {', '.join(KEYS)})")
        if "tasks" not in values:
            raise ConfigError("tasks: missing (a list of intermediate tasks, or 'all')")
        tasks = values["tasks"]
        if tasks == "all":
            tasks = available_intermediate_tasks(data_dir)
        elif isinstance(tasks, str) or not isinstance(tasks, Sequence):
            raise ConfigError(f"tasks: expected 'all' or a list of task names, got {tasks!r}")
        elif not all(isinstance(t, str) for t in tasks):
            raise ConfigError(f"tasks: expected task names (strings), got {list(tasks)!r}")
        sampler = values.get("sampler", "proportional")
        if not isinstance(sampler, str):
            raise ConfigError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {sampler!r}")
        temperature = values.get("temperature")
        if isinstance(temperature, str):  # YAML 1.1 reads 2e0 as a string
            try:
                temperature = float(temperature)
            except ValueError:
                raise ConfigError(f"temperature: expected a number, got {temperature!r}") from None
        name = values.get("name", DEFAULT_NAME)
        if not isinstance(name, str):
            raise ConfigError(f"name: expected a string, got {name!r}")
        return cls(
            tasks=tuple(tasks),
            sampler=sampler,
            temperature=None if temperature is None else float(temperature),
            name=name,
        )

    @classmethod
    def from_parameter(cls, value: Any) -> MultiTaskSpec | None:
        """The spec in a notebook's ``task`` parameter ``{"multitask": {...}}``, else ``None``."""
        if isinstance(value, MultiTaskSpec):
            return value
        if isinstance(value, Mapping) and set(value) == {"multitask"}:
            try:
                return cls.from_dict(value["multitask"])
            except ConfigError as exc:
                raise ConfigError(f"task.multitask.{exc}") from None
        return None

    # -- use ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for config.yaml, ``xlt_encoder.json`` and notebook parameters)."""
        return {
            "name": self.name,
            "tasks": list(self.tasks),
            "sampler": self.sampler,
            "temperature": self.temperature,
        }

    def identity(self) -> dict[str, Any]:
        """What changes a multi-task run's result: everything but the name (a label)."""
        return {key: value for key, value in self.to_dict().items() if key != "name"}

    def as_parameter(self) -> dict[str, Any]:
        """The notebook ``task`` parameter that stands for this spec (the YAML syntax)."""
        return {"multitask": self.to_dict()}

    def __str__(self) -> str:
        how = f"{self.sampler}, T={self.temperature:g}" if self.temperature is not None else self.sampler
        return f"{self.name} ({'+'.join(self.tasks)}; {how})"


def has_training_data(task: str, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether the English training split of ``task`` can be read under the current source.

    Local files count when they exist; the hub counts unless ``HF_HUB_OFFLINE`` or
    ``HF_DATASETS_OFFLINE`` says it is off (whether it is reachable is not probed:
    validating a file must not wait on the network).
    """
    spec = get_task(task)
    try:
        kind, _ = resolve_source(spec, "train", "en", "auto", data_dir)
        if kind == "local":
            return all(path.is_file() for path in data_files(spec, "train", "en", data_dir))
    except XltError:
        return False
    return not any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def available_intermediate_tasks(data_dir: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The study's intermediate tasks (`STUDY_TASKS`) that have training data here, stand-ins included.

    Offline with the shared mirror: mnli, qqp, sst2, hellaswag, cosmosqa and tydiqa_en
    (for squad). Raises `ConfigError` when fewer than two are available.
    """
    out: list[str] = []
    for task in STUDY_TASKS:
        for candidate in (task, STAND_INS.get(task)):
            if candidate is not None and has_training_data(candidate, data_dir):
                if candidate not in out:
                    out.append(candidate)
                break
    if len(out) < 2:
        raise ConfigError(
            f"tasks: 'all' found training data for only {out or 'no tasks'} of {', '.join(STUDY_TASKS)} "
            "(set a data directory or allow the Hugging Face hub)"
        )
    return tuple(out)
