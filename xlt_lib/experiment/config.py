"""The experiment file: its schema, and validation of everything before anything runs.

An experiment file (``params/<name>.yaml``) names a model (or several), the English
intermediate tasks, the conditions (``none``, ``monolingual``, ``codeswitched``),
the targets, the seeds, the training settings per phase and where to execute::

    name: demo
    model: offline-default            # or a hub id, a local folder, or a list of them
    data_dir: null                    # optional; default: XLT_DATA_DIR, ../shared/data, the hub
    intermediate_tasks: [mnli]        # or also {multitask: {tasks: all, sampler: temperature, temperature: 2.0}}
    conditions:
      baseline: {kind: none}
      mono: {kind: monolingual}
      cs: {kind: codeswitched, codeswitch: {languages: [xnli], sentence_ratio: 1.0, token_ratio: 0.4}}
    targets: [xnli, {task: pawsx, epochs: 2}]
    seeds: [1, 2, 3]
    settings:
      profile: cpu                    # a TrainingSettings profile; other keys override it
      max_train_examples: 600
      intermediate: {learning_rate: 3.0e-5}   # phase 2 only
      transfer: {max_eval_examples: 300}      # phase 3 only
    executor: local                   # or {workers: 2} or {slurm: {partition: gpu, gpus_per_node: 1, ...}}
    significance: {alpha: 0.05, correction: holm, n_resamples: 1000, seed: 0}

`load_experiment` checks every key and type and raises one `ConfigError` naming
the file and the dotted key; `xlt_lib.experiment.grid` expands the result into runs.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlt_lib.errors import ConfigError, XltError
from xlt_lib.experiment.checks import Checker, plain, suggest
from xlt_lib.experiment.yamlio import KeyPath, load_yaml
from xlt_lib.training.multitask_spec import MultiTaskSpec

ConditionKind = Literal["none", "monolingual", "codeswitched"]
CONDITION_KINDS: tuple[str, ...] = ("none", "monolingual", "codeswitched")

TOP_LEVEL_KEYS = (
    "name",
    "description",
    "model",
    "data_dir",
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
TARGET_KEYS = ("task", "eval_split")
SLURM_KEYS = (
    "partition",
    "gpus_per_node",
    "cpus_per_task",
    "mem_gb",
    "timeout_min",
    "array_parallelism",
    "account",
    "qos",
    "constraint",
    "additional",
)
SIGNIFICANCE_KEYS = ("alpha", "correction", "n_resamples", "seed")


@dataclass(frozen=True)
class Condition:
    """One experimental condition; ``codeswitch`` is a resolved `CodeSwitchConfig` dict."""

    name: str
    kind: ConditionKind
    codeswitch: dict[str, Any] | None = None


@dataclass(frozen=True)
class Target:
    """A target task, its evaluation split and its phase-3 setting overrides."""

    task: str
    eval_split: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SlurmSettings:
    """What submitit passes to ``sbatch`` (names follow submitit's AutoExecutor)."""

    partition: str | None = None
    gpus_per_node: int = 0
    cpus_per_task: int = 2
    mem_gb: float | None = None
    timeout_min: int = 60
    array_parallelism: int = 64
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    additional: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutorSpec:
    """How runs execute: ``local`` (in-process, sequential), ``workers`` or ``slurm``."""

    kind: Literal["local", "workers", "slurm"] = "local"
    workers: int = 1
    slurm: SlurmSettings | None = None


@dataclass(frozen=True)
class SignificanceSettings:
    """Parameters of ``notebooks/significance.ipynb``."""

    alpha: float = 0.05
    correction: str = "holm"
    n_resamples: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file. Settings are full `TrainingSettings` dicts (without seed)."""

    path: Path
    name: str
    description: str
    models: tuple[str, ...]
    data_dir: str | None
    intermediate_tasks: tuple[str | MultiTaskSpec, ...]
    conditions: tuple[Condition, ...]
    targets: tuple[Target, ...]
    seeds: tuple[int, ...]
    intermediate_settings: dict[str, Any]
    transfer_settings: dict[str, Any]
    executor: ExecutorSpec
    significance: SignificanceSettings

    def transfer_settings_for(self, target: Target) -> dict[str, Any]:
        """Phase-3 settings for ``target``: the phase's settings plus the target's overrides."""
        from xlt_lib.training import TrainingSettings

        return TrainingSettings.from_dict({**self.transfer_settings, **target.overrides}).to_dict()


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read and fully validate an experiment file (nothing runs on a file that fails here)."""
    doc = load_yaml(path)
    return _Parser(Checker(str(path), doc), Path(path)).parse(doc.data)


class _Parser:
    def __init__(self, check: Checker, path: Path) -> None:
        self.check = check
        self.path = path
        self.data_dir: str | None = None

    def parse(self, data: Any) -> Experiment:
        c = self.check
        top = c.mapping(
            data, (), TOP_LEVEL_KEYS, required=("name", "model", "conditions", "targets", "seeds")
        )
        name = c.string(top["name"], ("name",))
        if not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
            raise c.error(
                ("name",), f"expected letters, digits, '-', '_' or '.' (it names a folder), got {name!r}"
            )
        description = c.string(top["description"], ("description",)) if "description" in top else ""
        models = tuple(self._models(top["model"]))
        data_dir = self.data_dir = self._data_dir(top.get("data_dir"))
        conditions = self._conditions(top["conditions"])
        needs_intermediate = [cond.name for cond in conditions if cond.kind != "none"]
        tasks = self._intermediate_tasks(top.get("intermediate_tasks"), needs_intermediate)
        targets = self._targets(top["targets"])
        seeds = self._seeds(top["seeds"])
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
        return Experiment(
            path=self.path,
            name=name,
            description=description,
            models=models,
            data_dir=data_dir,
            intermediate_tasks=tuple(tasks),
            conditions=tuple(conditions),
            targets=tuple(targets),
            seeds=tuple(seeds),
            intermediate_settings=intermediate_settings,
            transfer_settings=transfer_settings,
            executor=self._executor(top.get("executor", "local")),
            significance=self._significance(top.get("significance", {})),
        )

    # -- models and data ------------------------------------------------------------------
    def _models(self, value: Any) -> list[str]:
        models = self.check.string_list(value, ("model",))
        for i, model in enumerate(models):
            key: KeyPath = ("model",) if isinstance(value, str) else ("model", i)
            if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().is_dir():
                raise self.check.error(key, f"model folder {model!r} does not exist")
        return models

    def _data_dir(self, value: Any) -> str | None:
        text = self.check.optional_string(value, ("data_dir",))
        if text is None:
            return None
        path = Path(text).expanduser().resolve()
        if not path.is_dir():
            raise self.check.error(("data_dir",), f"no such directory: {text!r} (resolved to {path})")
        return str(path)

    # -- tasks ---------------------------------------------------------------------------
    def _task(self, value: Any, key: KeyPath, *, target: bool) -> str:
        from xlt_lib.tasks import get_task, task_names

        name = self.check.string(value, key)
        if name not in task_names():
            raise self.check.error(
                key, f"unknown task {name!r}{suggest(name, task_names())}; known: {', '.join(task_names())}"
            )
        spec = get_task(name)
        if target and not spec.is_target:
            targets = [t for t in task_names() if get_task(t).is_target]
            raise self.check.error(
                key, f"{name!r} is not a cross-lingual target; targets: {', '.join(targets)}"
            )
        return name

    def _intermediate_tasks(self, value: Any, needs: list[str]) -> list[str | MultiTaskSpec]:
        if value is None or value == []:
            if needs:
                raise self.check.error(
                    ("intermediate_tasks",),
                    f"conditions {', '.join(needs)} need at least one intermediate task",
                )
            return []
        key: KeyPath = ("intermediate_tasks",)
        items = [value] if isinstance(value, str) else self.check.sequence(value, key)
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
                raise self.check.error(item_key, f"{name!r} is listed twice{hint}")
            out.append(entry)
        return out

    def _multitask(self, value: Any, key: KeyPath) -> MultiTaskSpec:
        """``{multitask: {tasks: all | [...], sampler: ..., temperature: ..., name: ...}}``."""
        from xlt_lib.training.multitask_spec import KEYS, SAMPLERS, available_intermediate_tasks

        c = self.check
        outer = c.mapping(value, key, ("multitask",), required=("multitask",))
        mkey: KeyPath = (*key, "multitask")
        spec = c.mapping(outer["multitask"], mkey, KEYS, required=("tasks",))
        tkey: KeyPath = (*mkey, "tasks")
        values: dict[str, Any] = {}
        if spec["tasks"] == "all":
            try:
                values["tasks"] = available_intermediate_tasks(self.data_dir)
            except XltError as exc:
                raise c.error(tkey, str(exc).removeprefix("tasks: ")) from None
        elif isinstance(spec["tasks"], str):
            raise c.error(tkey, f"expected 'all' or a list of intermediate tasks, got {spec['tasks']!r}")
        else:
            names: list[str] = []
            for j, item in enumerate(c.sequence(spec["tasks"], tkey)):
                name = self._task(item, (*tkey, j), target=False)
                if name in names:
                    raise c.error((*tkey, j), f"{name!r} is listed twice")
                names.append(name)
            values["tasks"] = tuple(names)
        if "sampler" in spec:
            values["sampler"] = c.string(spec["sampler"], (*mkey, "sampler"), choices=SAMPLERS)
        if "temperature" in spec:
            values["temperature"] = c.number(spec["temperature"], (*mkey, "temperature"))
        if "name" in spec:
            values["name"] = c.string(spec["name"], (*mkey, "name"))
        try:
            return MultiTaskSpec(**values)
        except ConfigError as exc:
            field, _, message = str(exc).partition(": ")
            raise c.error((*mkey, field) if field in KEYS else mkey, message) from None

    def _targets(self, value: Any) -> list[Target]:
        from xlt_lib.tasks import get_task
        from xlt_lib.training import TrainingSettings

        c = self.check
        setting_names = [f.name for f in dataclasses.fields(TrainingSettings) if f.name != "seed"]
        out: list[Target] = []
        for i, item in enumerate(c.sequence(value, ("targets",))):
            key: KeyPath = ("targets", i)
            if isinstance(item, str):
                item = {"task": item}
                entry: dict[str, Any] = item
            else:
                entry = c.mapping(item, key, (*TARGET_KEYS, *setting_names), required=("task",))
            task = self._task(
                entry["task"], (*key, "task") if isinstance(value[i], dict) else key, target=True
            )
            spec = get_task(task)
            eval_split = spec.eval_split
            if "eval_split" in entry:
                eval_split = c.string(entry["eval_split"], (*key, "eval_split"), choices=spec.splits)
            if any(t.task == task for t in out):
                raise c.error(key, f"target {task!r} is listed twice")
            overrides = {k: v for k, v in entry.items() if k not in TARGET_KEYS}
            self._check_values(overrides, key)
            out.append(Target(task=task, eval_split=eval_split, overrides=plain(overrides)))
        return out

    # -- conditions ----------------------------------------------------------------------
    def _conditions(self, value: Any) -> list[Condition]:
        c = self.check
        if not isinstance(value, dict):
            raise c.error(
                ("conditions",), "expected a mapping of condition name -> {kind: ..., codeswitch: ...}"
            )
        if not value:
            raise c.error(("conditions",), "expected at least one condition")
        out = []
        for name, spec in value.items():
            key: KeyPath = ("conditions", name)
            if not all(ch.isalnum() or ch in "-_" for ch in name):
                raise c.error(key, f"condition names are letters, digits, '-' or '_', got {name!r}")
            spec = c.mapping(spec, key, ("kind", "codeswitch"), required=("kind",))
            kind = c.string(spec["kind"], (*key, "kind"), choices=CONDITION_KINDS)
            codeswitch = None
            if kind == "codeswitched":
                if "codeswitch" not in spec:
                    raise c.error(
                        key, "kind codeswitched needs a 'codeswitch' mapping (at least its languages)"
                    )
                codeswitch = self._codeswitch(spec["codeswitch"], (*key, "codeswitch"))
            elif "codeswitch" in spec:
                raise c.error(
                    (*key, "codeswitch"),
                    f"only kind codeswitched takes code-switching settings, this is {kind}",
                )
            out.append(Condition(name=name, kind=kind, codeswitch=codeswitch))  # type: ignore[arg-type]
        return out

    def _codeswitch(self, value: Any, key: KeyPath) -> dict[str, Any]:
        from xlt_lib.codeswitch import CodeSwitchConfig

        c = self.check
        known = [f.name for f in dataclasses.fields(CodeSwitchConfig)]
        spec = c.mapping(value, key, known, required=("languages",))
        languages = self._languages(spec["languages"], (*key, "languages"))
        for name in ("sentence_ratio", "token_ratio"):
            if name in spec:
                c.number(spec[name], (*key, name), minimum=0.0, maximum=1.0)
        if "seed" in spec:
            c.integer(spec["seed"], (*key, "seed"), minimum=0)
        for name in ("mode", "schedule"):
            if name in spec:
                c.string(spec[name], (*key, name))
        if "fields" in spec:
            c.string_list(spec["fields"], (*key, "fields"))
        self._check_dictionaries(languages, spec.get("dictionaries"), key)
        resolved = {**plain(spec), "languages": languages}
        try:
            config = CodeSwitchConfig.from_dict(resolved)
        except XltError as exc:
            raise c.error(key, str(exc)) from None
        except (TypeError, ValueError) as exc:
            raise c.error(key, f"invalid code-switching settings: {exc}") from None
        out = plain(config.to_dict())
        if "seed" not in spec:
            out.pop("seed", None)  # filled in per run from the run's seed
        return out

    def _check_dictionaries(self, languages: list[str], paths: Any, key: KeyPath) -> None:
        """Every switch language needs a dictionary: named in the file, or the data directory's default."""
        from xlt_lib.codeswitch.dictionary import default_dictionary_path

        paths = paths if isinstance(paths, dict) else {}
        for lang, path in paths.items():
            if isinstance(path, str) and not Path(path).expanduser().is_file():
                raise self.check.error((*key, "dictionaries", lang), f"no such dictionary file {path!r}")
        for lang in languages:
            if lang in paths:
                continue
            try:
                default_dictionary_path(lang, self.data_dir)
            except XltError as exc:
                raise self.check.error((*key, "languages"), str(exc)) from None

    def _languages(self, value: Any, key: KeyPath) -> list[str]:
        """Language codes; a target name (``xnli``) stands for its non-English languages."""
        from xlt_lib.tasks import get_task, task_names

        c = self.check
        items = c.sequence([value] if isinstance(value, str) else value, key)
        out: list[str] = []
        for i, item in enumerate(items):
            item_key = key if isinstance(value, str) else (*key, i)
            text = c.string(item, item_key)
            if text in task_names():
                expanded = [lang for lang in get_task(text).languages if lang != "en"]
                if not expanded:
                    raise c.error(item_key, f"task {text!r} has no non-English languages to switch into")
            else:
                if not (2 <= len(text) <= 3 and text.isalpha() and text.islower()):
                    raise c.error(
                        item_key, f"expected a language code (e.g. 'de') or a target task name, got {text!r}"
                    )
                if text == "en":
                    raise c.error(
                        item_key, "code-switching replaces English words: 'en' is not a switch language"
                    )
                if text in out:
                    raise c.error(item_key, f"language {text!r} is listed twice")
                expanded = [text]
            out.extend(lang for lang in expanded if lang not in out)
        return out

    # -- seeds and settings --------------------------------------------------------------
    def _seeds(self, value: Any) -> list[int]:
        c = self.check
        items = c.sequence(value, ("seeds",))
        seeds: list[int] = []
        for i, item in enumerate(items):
            seed = c.integer(item, ("seeds", i), minimum=0)
            if seed in seeds:
                raise c.error(("seeds", i), f"seed {seed} is listed twice")
            seeds.append(seed)
        return seeds

    def _settings(self, value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        from xlt_lib.training import TrainingSettings

        c = self.check
        names = [f.name for f in dataclasses.fields(TrainingSettings)]
        allowed = ["profile", *PHASES, *names]
        top = c.mapping(value, ("settings",), allowed)
        if "seed" in top:
            raise c.error(
                ("settings", "seed"), "seeds come from the top-level 'seeds' list, not from settings"
            )
        common = {k: v for k, v in top.items() if k not in ("profile", *PHASES)}
        self._check_values(common, ("settings",))
        profile = c.string(top["profile"], ("settings", "profile")) if "profile" in top else None
        resolved = []
        for phase in PHASES:
            key: KeyPath = ("settings", phase)
            section = c.mapping(top.get(phase, {}), key, ["profile", *names])
            if "seed" in section:
                raise c.error((*key, "seed"), "seeds come from the top-level 'seeds' list, not from settings")
            phase_profile = (
                c.string(section["profile"], (*key, "profile")) if "profile" in section else profile
            )
            own = {k: v for k, v in section.items() if k != "profile"}
            self._check_values(own, key)
            profile_key = (*key, "profile") if "profile" in section else ("settings", "profile")
            resolved.append(
                self._training_settings(
                    {**common, **own}, profile_key if phase_profile else key, phase_profile
                )
            )
        return resolved[0], resolved[1]

    def _check_values(self, values: dict[str, Any], key: KeyPath) -> None:
        """Check each setting on its own, so that an error names the key where it was written."""
        from xlt_lib.training import TrainingSettings

        hints = typing.get_type_hints(TrainingSettings)
        for name, value in values.items():
            if isinstance(value, bool) and hints.get(name) in (str, str | None):
                self.check.string(value, (*key, name))  # raises, explaining the YAML boolean trap
            try:
                TrainingSettings.from_dict({name: plain(value)}, where="")
            except XltError as exc:
                message = str(exc).lstrip(".")
                message = message[len(name) + 2 :] if message.startswith(f"{name}: ") else message
                raise self.check.error((*key, name), message) from None

    def _training_settings(
        self, overrides: dict[str, Any], key: KeyPath, profile: str | None = None
    ) -> dict[str, Any]:
        """Full settings from a profile (or the defaults) plus overrides, without the seed."""
        from xlt_lib.training import TrainingSettings

        try:
            if profile is None:
                settings = TrainingSettings.from_dict(plain(overrides), where="")
            else:
                settings = TrainingSettings.profile(profile, **plain(overrides))
        except XltError as exc:
            raise self.check.error(key, str(exc).lstrip(".")) from None
        out = settings.to_dict()
        out.pop("seed", None)
        return out

    # -- executor and significance -------------------------------------------------------
    def _executor(self, value: Any) -> ExecutorSpec:
        c = self.check
        key: KeyPath = ("executor",)
        if isinstance(value, str):
            c.string(value, key, choices=("local",))
            return ExecutorSpec()
        spec = c.mapping(value, key, ("local", "workers", "slurm"))
        if len(spec) != 1:
            raise c.error(key, "expected exactly one of: local, {workers: N}, {slurm: {...}}")
        (kind,) = spec
        if kind == "local":
            return ExecutorSpec()
        if kind == "workers":
            return ExecutorSpec(
                kind="workers", workers=c.integer(spec["workers"], (*key, "workers"), minimum=1)
            )
        skey: KeyPath = (*key, "slurm")
        raw = c.mapping(spec["slurm"] if spec["slurm"] is not None else {}, skey, SLURM_KEYS)
        values: dict[str, Any] = {}
        for name in ("partition", "account", "qos", "constraint"):
            if name in raw:
                values[name] = c.string(raw[name], (*skey, name))
        for name, minimum in (
            ("gpus_per_node", 0),
            ("cpus_per_task", 1),
            ("timeout_min", 1),
            ("array_parallelism", 1),
        ):
            if name in raw:
                values[name] = c.integer(raw[name], (*skey, name), minimum=minimum)
        if "mem_gb" in raw:
            values["mem_gb"] = c.number(raw["mem_gb"], (*skey, "mem_gb"), minimum=0.001)
        if "additional" in raw:
            values["additional"] = plain(
                c.mapping(raw["additional"], (*skey, "additional"), raw["additional"] or {})
            )
        return ExecutorSpec(kind="slurm", slurm=SlurmSettings(**values))

    def _significance(self, value: Any) -> SignificanceSettings:
        c = self.check
        key: KeyPath = ("significance",)
        spec = c.mapping(value, key, SIGNIFICANCE_KEYS)
        values: dict[str, Any] = {}
        if "alpha" in spec:
            values["alpha"] = c.number(spec["alpha"], (*key, "alpha"), minimum=1e-9, maximum=0.5)
        if "correction" in spec:
            values["correction"] = c.string(spec["correction"], (*key, "correction"))
        if "n_resamples" in spec:
            values["n_resamples"] = c.integer(spec["n_resamples"], (*key, "n_resamples"), minimum=1)
        if "seed" in spec:
            values["seed"] = c.integer(spec["seed"], (*key, "seed"), minimum=0)
        return SignificanceSettings(**values)
