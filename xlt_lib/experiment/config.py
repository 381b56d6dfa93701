"""The experiment file: its schema, and validation of everything before anything runs.

An experiment file (``params/<name>.yaml``) names a model (or several), the English
intermediate tasks, the conditions (``none``, ``monolingual``, ``codeswitched``),
the targets, the seeds, the training settings per phase and where to execute::

    name: demo
    model: offline-default            # or a hub id, a local folder, or a list of them
    data_dir: null                    # optional; default: XLT_DATA_DIR, ../shared/data, the hub
    tasks: [tasks/xcopa.yaml]         # optional: task files of user-defined tasks (docs/extending.md)
    intermediate_tasks: [mnli]        # or also {multitask: {tasks: all, sampler: temperature, temperature: 2.0}}
    conditions:
      baseline: {kind: none}
      mono: {kind: monolingual}
      cs: {kind: codeswitched, codeswitch: {languages: [xnli], sentence_ratio: 1.0, token_ratio: 0.4}}
    targets: [xnli, {task: pawsx, epochs: 2, eval_split: test, languages: [en, de, zh]}]
    seeds: [1, 2, 3]
    settings:
      profile: cpu                    # a TrainingSettings profile; other keys override it
      max_train_examples: 600
      intermediate: {learning_rate: 3.0e-5}   # phase 2 only
      transfer: {max_eval_examples: 300}      # phase 3 only
    executor: local                   # or {workers: 2} or {slurm: {partition: gpu, gpus_per_node: 1, ...}}
    significance: {alpha: 0.05, correction: holm, n_resamples: 10000, seed: 0}   # the defaults

`load_experiment` checks every key and value and raises one `ConfigError` naming
the file, the dotted key and the line; `xlt_lib.experiment.grid` expands the result
into runs. A value's rule is declared once, beside its field (here, on
`TrainingSettings`, `CodeSwitchConfig` and `SignificanceSettings`), and checked by
`xlt_lib.validation`; this module adds only what relates keys to each other or to
the world (task names, dictionaries, folders, duplicates).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Literal

from xlt_lib.codeswitch.config import CodeSwitchConfig
from xlt_lib.codeswitch.methods import method_factory
from xlt_lib.codeswitch.sources import dictionary_source
from xlt_lib.conditions import CONDITION_KINDS, ConditionKind
from xlt_lib.errors import ConfigError, XltError
from xlt_lib.experiment.task_files import register_task_files
from xlt_lib.experiment.yamlio import load_yaml, plain
from xlt_lib.significance import SignificanceSettings
from xlt_lib.tasks.formats import get_format
from xlt_lib.tasks.registry import get_task, task_names
from xlt_lib.training.multitask_spec import KEYS, SAMPLERS, MultiTaskSpec, available_intermediate_tasks
from xlt_lib.training.settings import TrainingSettings
from xlt_lib.validation import (
    Anything,
    Constraint,
    Interval,
    KeyPath,
    LanguageCode,
    ListOf,
    MappingOf,
    Nullable,
    Options,
    Origin,
    String,
    build,
    check_instance,
    check_keys,
    field_constraints,
    file_origin,
    suggest,
    validate,
    validate_fields,
)
from xlt_lib.validation import constraint as declare  # SlurmSettings has a field named `constraint`

TOP_LEVEL_KEYS = (
    "name",
    "description",
    "model",
    "data_dir",
    "tasks",
    "intermediate_tasks",
    "conditions",
    "targets",
    "seeds",
    "settings",
    "executor",
    "significance",
)
PHASES = ("intermediate", "transfer")
#: Keys of a target entry that are not training-setting overrides.
TARGET_KEYS = ("task", "eval_split", "languages", "source")
#: Where a target's own data (selection dev, evaluation) is read from: the data directory, or the hub.
TARGET_SOURCES = ("auto", "hub")
EXECUTOR_KINDS = ("local", "workers", "slurm")
_STRING = String()
_OPTIONAL_STRING = Nullable(_STRING)
_COUNT = Interval(Integral, 1, None, closed="left")


@dataclass(frozen=True)
class Condition:
    """One experimental condition; ``codeswitch`` is a resolved `CodeSwitchConfig` dict."""

    name: str
    kind: ConditionKind = field(metadata=declare(Options(*CONDITION_KINDS)))
    codeswitch: dict[str, Any] | None = None


@dataclass(frozen=True)
class Target:
    """A target task, its evaluation split, languages, source and its phase-3 setting overrides.

    ``languages``: the languages evaluated (``None``: every language the split offers,
    for local data the files present). ``source``: ``hub`` reads the target's own
    splits from the Hugging Face hub even where a data directory exists.
    """

    task: str
    eval_split: str
    overrides: dict[str, Any] = field(default_factory=dict)
    languages: tuple[str, ...] | None = field(
        default=None, metadata=declare(Nullable(ListOf(LanguageCode(), noun="language", container=tuple)))
    )
    source: str = field(default="auto", metadata=declare(Options(*TARGET_SOURCES)))


@dataclass(frozen=True)
class SlurmSettings:
    """What submitit passes to ``sbatch`` (names follow submitit's AutoExecutor)."""

    partition: str | None = field(default=None, metadata=declare(_OPTIONAL_STRING))
    gpus_per_node: int = field(default=0, metadata=declare(Interval(Integral, 0, None, closed="left")))
    cpus_per_task: int = field(default=2, metadata=declare(_COUNT))
    mem_gb: float | None = field(
        default=None, metadata=declare(Nullable(Interval(Real, 0, None, closed="neither")))
    )
    timeout_min: int = field(default=60, metadata=declare(_COUNT))
    array_parallelism: int = field(default=64, metadata=declare(_COUNT))
    account: str | None = field(default=None, metadata=declare(_OPTIONAL_STRING))
    qos: str | None = field(default=None, metadata=declare(_OPTIONAL_STRING))
    constraint: str | None = field(default=None, metadata=declare(_OPTIONAL_STRING))
    additional: dict[str, Any] = field(default_factory=dict, metadata=declare(MappingOf(_STRING, Anything())))

    def __post_init__(self) -> None:
        check_instance(self)


#: The keys of ``executor: {slurm: {...}}``.
SLURM_KEYS = tuple(f.name for f in fields(SlurmSettings))


@dataclass(frozen=True)
class ExecutorSpec:
    """How runs execute: ``local`` (in-process, sequential), ``workers`` or ``slurm``."""

    kind: Literal["local", "workers", "slurm"] = field(
        default="local", metadata=declare(Options(*EXECUTOR_KINDS))
    )
    workers: int = field(default=1, metadata=declare(_COUNT))
    slurm: SlurmSettings | None = None

    def __post_init__(self) -> None:
        check_instance(self)


#: The keys of ``significance: {...}`` (the parameters of ``notebooks/significance.ipynb``).
SIGNIFICANCE_KEYS = tuple(f.name for f in fields(SignificanceSettings))


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file. Settings are full `TrainingSettings` dicts (without seed)."""

    path: Path
    name: str = field(metadata=declare(_STRING))
    description: str = field(metadata=declare(_STRING))
    models: tuple[str, ...] = field(metadata=declare(ListOf(_STRING, single=True, container=tuple)))
    data_dir: str | None = field(metadata=declare(_OPTIONAL_STRING))
    intermediate_tasks: tuple[str | MultiTaskSpec, ...]
    conditions: tuple[Condition, ...]
    targets: tuple[Target, ...]
    seeds: tuple[int, ...] = field(
        metadata=declare(ListOf(Interval(Integral, 0, None, closed="left"), noun="seed", container=tuple))
    )
    intermediate_settings: dict[str, Any]
    transfer_settings: dict[str, Any]
    executor: ExecutorSpec
    significance: SignificanceSettings
    #: Task files (absolute paths) whose user-defined tasks the experiment uses.
    task_files: tuple[str, ...] = ()

    def transfer_settings_for(self, target: Target) -> dict[str, Any]:
        """Phase-3 settings for ``target``: the phase's settings plus the target's overrides."""
        return TrainingSettings.from_dict({**self.transfer_settings, **target.overrides}).to_dict()


def _rule(cls: type, name: str) -> Constraint:
    """The constraint declared on field ``name`` of ``cls``."""
    return field_constraints(cls)[name]


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read and fully validate an experiment file (nothing runs on a file that fails here)."""
    doc = load_yaml(path)
    return _Parser(file_origin(path, doc), Path(path)).parse(doc.data)


class _Parser:
    """Walks one experiment file; every value goes through `xlt_lib.validation` with the file's origin."""

    def __init__(self, origin: Origin, path: Path) -> None:
        self.origin = origin
        self.path = path
        self.data_dir: str | None = None

    # -- the one checker, bound to this file ------------------------------------------------
    def error(self, key: KeyPath, message: str) -> ConfigError:
        return self.origin.error(key, message)

    def check(self, value: Any, rule: Constraint, key: KeyPath) -> Any:
        return validate(value, rule, key, self.origin)

    def keys(self, value: Any, key: KeyPath, allowed: Any, required: tuple[str, ...] = ()) -> dict[str, Any]:
        return check_keys(value, allowed, key, self.origin, required=required)

    def parse(self, data: Any) -> Experiment:
        top = self.keys(
            data, (), TOP_LEVEL_KEYS, required=("name", "model", "conditions", "targets", "seeds")
        )
        name = self.check(top["name"], _rule(Experiment, "name"), ("name",))
        if not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
            raise self.error(
                ("name",), f"expected letters, digits, '-', '_' or '.' (it names a folder), got {name!r}"
            )
        description = (
            self.check(top["description"], _rule(Experiment, "description"), ("description",))
            if "description" in top
            else ""
        )
        models = self._models(top["model"])
        data_dir = self.data_dir = self._data_dir(top.get("data_dir"))
        task_files = self._task_files(top.get("tasks"))
        conditions = self._conditions(top["conditions"])
        needs_intermediate = [cond.name for cond in conditions if cond.kind != "none"]
        tasks = self._intermediate_tasks(top.get("intermediate_tasks"), needs_intermediate)
        targets = self._targets(top["targets"])
        seeds = self.check(top["seeds"], _rule(Experiment, "seeds"), ("seeds",))
        intermediate_settings, transfer_settings = self._settings(top.get("settings", {}))
        for i, target in enumerate(targets):
            if "epochs" in target.overrides:
                # A target's own `epochs` must win over a profile's epochs_by_task entry for it.
                by_task = {
                    **transfer_settings["epochs_by_task"],
                    **target.overrides.get("epochs_by_task", {}),
                }
                target.overrides["epochs_by_task"] = {**by_task, target.task: target.overrides["epochs"]}
            self._training_settings({**transfer_settings, **target.overrides}, ("targets", i))
            target_settings = TrainingSettings.from_dict({**transfer_settings, **target.overrides}).to_dict()
            self._check_max_length([target.task], target_settings, ("targets", i, "max_length"), "target")
        phase2 = [
            name for entry in tasks for name in (entry.tasks if isinstance(entry, MultiTaskSpec) else [entry])
        ]
        if needs_intermediate:
            self._check_max_length(
                phase2, intermediate_settings, ("settings", "max_length"), "intermediate task"
            )
        return Experiment(
            path=self.path,
            name=name,
            description=description,
            models=models,
            data_dir=data_dir,
            intermediate_tasks=tuple(tasks),
            conditions=tuple(conditions),
            targets=tuple(targets),
            seeds=seeds,
            intermediate_settings=intermediate_settings,
            transfer_settings=transfer_settings,
            executor=self._executor(top.get("executor", "local")),
            significance=build(
                SignificanceSettings, top.get("significance", {}), ("significance",), self.origin
            ),
            task_files=task_files,
        )

    # -- models and data ------------------------------------------------------------------
    def _models(self, value: Any) -> tuple[str, ...]:
        models: tuple[str, ...] = self.check(value, _rule(Experiment, "models"), ("model",))
        for i, model in enumerate(models):
            key: KeyPath = ("model",) if isinstance(value, str) else ("model", i)
            if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().is_dir():
                raise self.error(key, f"model folder {model!r} does not exist")
        return models

    def _data_dir(self, value: Any) -> str | None:
        text = self.check(value, _rule(Experiment, "data_dir"), ("data_dir",))
        if text is None:
            return None
        path = Path(text).expanduser().resolve()
        if not path.is_dir():
            raise self.error(("data_dir",), f"no such directory: {text!r} (resolved to {path})")
        return str(path)

    # -- tasks ---------------------------------------------------------------------------
    def _task_files(self, value: Any) -> tuple[str, ...]:
        """Register the user-defined tasks of ``tasks: [file, ...]`` (paths relative to this file)."""
        if value is None:
            return ()
        key: KeyPath = ("tasks",)
        items = self.check([value] if isinstance(value, str) else value, ListOf(_STRING), key)
        out: list[str] = []
        for i, item in enumerate(items):
            item_key = key if isinstance(value, str) else (*key, i)
            path = (self.path.parent / Path(item).expanduser()).resolve()
            if not path.is_file():
                raise self.error(item_key, f"no such task file: {item!r} (resolved to {path})")
            try:
                register_task_files([path])
            except ConfigError as exc:
                raise self.error(item_key, str(exc)) from None
            out.append(str(path))
        return tuple(out)

    def _task(self, value: Any, key: KeyPath, *, target: bool) -> str:
        name: str = self.check(value, _STRING, key)
        if name not in task_names():
            raise self.error(
                key, f"unknown task {name!r}{suggest(name, task_names())}; known: {', '.join(task_names())}"
            )
        spec = get_task(name)
        if target and not spec.is_target:
            targets = [t for t in task_names() if get_task(t).is_target]
            raise self.error(key, f"{name!r} is not a cross-lingual target; targets: {', '.join(targets)}")
        return name

    def _intermediate_tasks(self, value: Any, needs: list[str]) -> list[str | MultiTaskSpec]:
        if value is None or value == []:
            if needs:
                raise self.error(
                    ("intermediate_tasks",),
                    f"conditions {', '.join(needs)} need at least one intermediate task",
                )
            return []
        key: KeyPath = ("intermediate_tasks",)
        items = [value] if isinstance(value, str) else self.check(value, _ITEMS, key)
        out: list[str | MultiTaskSpec] = []
        for i, item in enumerate(items):
            item_key = key if isinstance(value, str) else (*key, i)
            if isinstance(item, dict):
                entry: str | MultiTaskSpec = self._multitask(item, item_key)
            else:
                entry = self._task(item, item_key, target=False)
            name = entry if isinstance(entry, str) else entry.name
            if name in [e if isinstance(e, str) else e.name for e in out]:
                hint = " (give each multitask entry its own name)" if isinstance(entry, MultiTaskSpec) else ""
                raise self.error(item_key, f"{name!r} is listed twice{hint}")
            out.append(entry)
        return out

    def _multitask(self, value: Any, key: KeyPath) -> MultiTaskSpec:
        """``{multitask: {tasks: all | [...], sampler: ..., temperature: ..., name: ...}}``."""
        outer = self.keys(value, key, ("multitask",), required=("multitask",))
        mkey: KeyPath = (*key, "multitask")
        spec = self.keys(outer["multitask"], mkey, KEYS, required=("tasks",))
        tkey: KeyPath = (*mkey, "tasks")
        values: dict[str, Any] = {}
        if spec["tasks"] == "all":
            try:
                values["tasks"] = available_intermediate_tasks(self.data_dir)
            except XltError as exc:
                raise self.error(tkey, str(exc).removeprefix("tasks: ")) from None
        elif isinstance(spec["tasks"], str):
            raise self.error(tkey, f"expected 'all' or a list of intermediate tasks, got {spec['tasks']!r}")
        else:
            names: list[str] = []
            for j, item in enumerate(self.check(spec["tasks"], _ITEMS, tkey)):
                name = self._task(item, (*tkey, j), target=False)
                if name in names:
                    raise self.error((*tkey, j), f"{name!r} is listed twice")
                names.append(name)
            values["tasks"] = tuple(names)
        if "sampler" in spec:
            values["sampler"] = self.check(spec["sampler"], Options(*SAMPLERS), (*mkey, "sampler"))
        if "temperature" in spec:
            values["temperature"] = self.check(
                spec["temperature"], Interval(Real, None, None), (*mkey, "temperature")
            )
        if "name" in spec:
            values["name"] = self.check(spec["name"], _STRING, (*mkey, "name"))
        try:
            return MultiTaskSpec(**values)
        except ConfigError as exc:
            field, _, message = str(exc).partition(": ")
            raise self.error((*mkey, field) if field in KEYS else mkey, message) from None

    def _targets(self, value: Any) -> list[Target]:
        setting_names = [f.name for f in fields(TrainingSettings) if f.name != "seed"]
        out: list[Target] = []
        for i, item in enumerate(self.check(value, _ITEMS, ("targets",))):
            key: KeyPath = ("targets", i)
            if isinstance(item, str):
                item = {"task": item}
                entry: dict[str, Any] = item
            else:
                entry = self.keys(item, key, (*TARGET_KEYS, *setting_names), required=("task",))
            task = self._task(
                entry["task"], (*key, "task") if isinstance(value[i], dict) else key, target=True
            )
            spec = get_task(task)
            eval_split = spec.eval_split
            if "eval_split" in entry:
                eval_split = self.check(entry["eval_split"], Options(*spec.splits), (*key, "eval_split"))
            if any(t.task == task for t in out):
                raise self.error(key, f"target {task!r} is listed twice")
            source = self.check(entry.get("source", "auto"), _rule(Target, "source"), (*key, "source"))
            languages = None
            if "languages" in entry:
                languages = self.check(entry["languages"], _rule(Target, "languages"), (*key, "languages"))
                if source == "hub":
                    unknown = [lang for lang in languages if lang not in spec.languages]
                    if unknown:
                        raise self.error(
                            (*key, "languages"),
                            f"{task} on the hub has no language(s) {', '.join(unknown)}; "
                            f"it has {', '.join(spec.languages)}",
                        )
            if source == "hub" and (spec.hub is None or eval_split not in spec.hub.splits):
                raise self.error(
                    (*key, "source"), f"{task} split {eval_split!r} is not on the Hugging Face hub"
                )
            overrides = {k: v for k, v in entry.items() if k not in TARGET_KEYS}
            self._check_values(overrides, key)
            out.append(
                Target(
                    task=task,
                    eval_split=eval_split,
                    overrides=plain(overrides),
                    languages=languages,
                    source=source,
                )
            )
        return out

    # -- conditions ----------------------------------------------------------------------
    def _conditions(self, value: Any) -> list[Condition]:
        if not isinstance(value, dict):
            raise self.error(
                ("conditions",), "expected a mapping of condition name -> {kind: ..., codeswitch: ...}"
            )
        if not value:
            raise self.error(("conditions",), "expected at least one condition")
        out = []
        for name, spec in value.items():
            key: KeyPath = ("conditions", name)
            if not all(ch.isalnum() or ch in "-_" for ch in name):
                raise self.error(key, f"condition names are letters, digits, '-' or '_', got {name!r}")
            spec = self.keys(spec, key, ("kind", "codeswitch"), required=("kind",))
            kind = self.check(spec["kind"], _rule(Condition, "kind"), (*key, "kind"))
            codeswitch = None
            if kind == "codeswitched":
                if "codeswitch" not in spec:
                    raise self.error(
                        key, "kind codeswitched needs a 'codeswitch' mapping (at least its languages)"
                    )
                codeswitch = self._codeswitch(spec["codeswitch"], (*key, "codeswitch"))
            elif "codeswitch" in spec:
                raise self.error(
                    (*key, "codeswitch"),
                    f"only kind codeswitched takes code-switching settings, this is {kind}",
                )
            out.append(Condition(name=name, kind=kind, codeswitch=codeswitch))
        return out

    def _codeswitch(self, value: Any, key: KeyPath) -> dict[str, Any]:
        spec = self.keys(value, key, [f.name for f in fields(CodeSwitchConfig)], required=("languages",))
        languages = self._languages(spec["languages"], (*key, "languages"))
        resolved = {**plain(spec), "languages": languages}
        config = CodeSwitchConfig.from_dict(resolved, where=key, origin=self.origin)
        try:
            method_factory(config.method)
        except ConfigError as exc:
            raise self.error((*key, "method"), str(exc)) from None
        self._check_dictionaries(config, key)
        out = plain(config.to_dict())
        if "seed" not in spec:
            out.pop("seed", None)  # filled in per run from the run's seed
        return out

    def _check_dictionaries(self, config: CodeSwitchConfig, key: KeyPath) -> None:
        """Every switch language needs a dictionary: a named file, the data directory's default, or
        an induced one (whether that is built yet, preflight says, with the command that builds it)."""
        for lang in config.languages:
            source = dictionary_source(lang, config.dictionary_choice(lang), self.data_dir)
            if source.problem is None or source.induced:
                continue
            if source.kind == "file":
                raise self.error((*key, "dictionaries", lang), source.problem)
            raise self.error((*key, "languages"), source.problem)

    def _languages(self, value: Any, key: KeyPath) -> list[str]:
        """Language codes; a target name (``xnli``) stands for its non-English languages."""
        items = self.check([value] if isinstance(value, str) else value, _ITEMS, key)
        out: list[str] = []
        for i, item in enumerate(items):
            item_key = key if isinstance(value, str) else (*key, i)
            text = self.check(item, _STRING, item_key)
            if text in task_names():
                expanded = [lang for lang in get_task(text).languages if lang != "en"]
                if not expanded:
                    raise self.error(item_key, f"task {text!r} has no non-English languages to switch into")
            else:
                if not (2 <= len(text) <= 3 and text.isalpha() and text.islower()):
                    raise self.error(
                        item_key, f"expected a language code (e.g. 'de') or a target task name, got {text!r}"
                    )
                if text == "en":
                    raise self.error(
                        item_key, "code-switching replaces English words: 'en' is not a switch language"
                    )
                if text in out:
                    raise self.error(item_key, f"language {text!r} is listed twice")
                expanded = [text]
            out.extend(lang for lang in expanded if lang not in out)
        return out

    # -- settings ------------------------------------------------------------------------
    def _settings(self, value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        names = [f.name for f in fields(TrainingSettings)]
        top = self.keys(value, ("settings",), ["profile", *PHASES, *names])
        if "seed" in top:
            raise self.error(
                ("settings", "seed"), "seeds come from the top-level 'seeds' list, not from settings"
            )
        common = {k: v for k, v in top.items() if k not in ("profile", *PHASES)}
        self._check_values(common, ("settings",))
        profile = self.check(top["profile"], _STRING, ("settings", "profile")) if "profile" in top else None
        resolved = []
        for phase in PHASES:
            key: KeyPath = ("settings", phase)
            section = self.keys(top.get(phase, {}), key, ["profile", *names])
            if "seed" in section:
                raise self.error(
                    (*key, "seed"), "seeds come from the top-level 'seeds' list, not from settings"
                )
            phase_profile = (
                self.check(section["profile"], _STRING, (*key, "profile"))
                if "profile" in section
                else profile
            )
            own = {k: v for k, v in section.items() if k != "profile"}
            self._check_values(own, key)
            profile_key = (*key, "profile") if "profile" in section else ("settings", "profile")
            resolved.append(self._training_settings({**common, **own}, key, phase_profile, profile_key))
        return resolved[0], resolved[1]

    def _check_max_length(self, tasks: list[str], settings: dict[str, Any], key: KeyPath, role: str) -> None:
        """Refuse a ``max_length`` a task's format cannot encode with (QA windows), naming the minimum."""
        for task in dict.fromkeys(tasks):
            task_format = get_format(get_task(task).format)
            minimum = task_format.min_max_length(settings["doc_stride"])
            if settings["max_length"] < minimum:
                raise self.error(
                    key,
                    f"max_length={settings['max_length']} cannot work for {role} {task!r} ({task_format.name}: "
                    f"{task_format.min_max_length_reason()}); the smallest value that works is {minimum}",
                )

    def _check_values(self, values: dict[str, Any], key: KeyPath) -> None:
        """Check each setting on its own, so that an error names the key where it was written."""
        validate_fields(TrainingSettings, values, key, self.origin)

    def _training_settings(
        self,
        overrides: dict[str, Any],
        key: KeyPath,
        profile: str | None = None,
        profile_key: KeyPath = ("settings", "profile"),
    ) -> dict[str, Any]:
        """Full settings from a profile (or the defaults) plus overrides, without the seed."""
        settings = TrainingSettings.from_profile(
            profile, plain(overrides), where=key, origin=self.origin, profile_key=profile_key
        )
        out = settings.to_dict()
        out.pop("seed", None)
        return out

    # -- executor ------------------------------------------------------------------------
    def _executor(self, value: Any) -> ExecutorSpec:
        key: KeyPath = ("executor",)
        if isinstance(value, str):
            self.check(value, Options("local"), key)
            return ExecutorSpec()
        spec = self.keys(value, key, EXECUTOR_KINDS)
        if len(spec) != 1:
            raise self.error(key, "expected exactly one of: local, {workers: N}, {slurm: {...}}")
        (kind,) = spec
        if kind == "local":
            return ExecutorSpec()
        if kind == "workers":
            workers = self.check(spec["workers"], _rule(ExecutorSpec, "workers"), (*key, "workers"))
            return ExecutorSpec(kind="workers", workers=workers)
        raw = spec["slurm"] if spec["slurm"] is not None else {}
        slurm = build(
            SlurmSettings, plain(raw) if isinstance(raw, dict) else raw, (*key, "slurm"), self.origin
        )
        return ExecutorSpec(kind="slurm", slurm=slurm)


#: A list of anything, each item checked by the caller (duplicates are the caller's to name).
_ITEMS = ListOf(Anything(), unique=False)
