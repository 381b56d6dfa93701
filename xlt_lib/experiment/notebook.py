"""What the phase notebooks call: parameter validation, the run directory, provenance.

The notebooks stay thin narrated drivers; this module turns their ``parameters``
cell (as written, or as papermill injected it, possibly from a YAML 1.1 ``-f`` file
where ``no`` is ``False``) into validated library objects, and writes the run's
provenance and completion records through `xlt_lib.experiment.records`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from xlt_lib.checksums import file_sha256
from xlt_lib.codeswitch.config import CodeSwitchConfig
from xlt_lib.codeswitch.sources import dictionary_sources
from xlt_lib.errors import ConfigError, RunRecordError, XltError
from xlt_lib.experiment import records
from xlt_lib.experiment.config import Target
from xlt_lib.experiment.provenance import data_source
from xlt_lib.experiment.task_files import register_task_files
from xlt_lib.experiment.yamlio import plain
from xlt_lib.model.identity import model_identity
from xlt_lib.paths import cache_dir
from xlt_lib.paths import data_dir as resolve_data_dir
from xlt_lib.tasks.loading import data_checksums, evaluation_languages
from xlt_lib.tasks.registry import get_task
from xlt_lib.tasks.spec import TaskSpec
from xlt_lib.training.multitask_spec import MultiTaskSpec
from xlt_lib.training.settings import TrainingSettings
from xlt_lib.training.timings import RunTimings
from xlt_lib.validation import (
    NOTEBOOK,
    ListOf,
    Nullable,
    Options,
    String,
    check_keys,
    field_constraints,
    validate,
)

_STRING = String()
#: A target's ``languages`` and ``source``: the experiment file's rules, declared on `Target`.
_TARGET_RULES = field_constraints(Target)


@dataclass(frozen=True)
class PhaseInputs:
    """Validated notebook parameters of one phase.

    ``source`` is the model (phase 2) or the encoder to fine-tune (phase 3);
    ``task`` the intermediate task (phase 2; a `MultiTaskSpec` for multi-task training)
    or the target (phase 3).
    """

    phase: str
    run_dir: Path
    source: str
    task: str | MultiTaskSpec
    settings: TrainingSettings
    codeswitch: CodeSwitchConfig | None
    seed: int
    data_dir: str | None
    eval_split: str | None = None
    #: Phase 3: the languages to evaluate (``None``: all the evaluation split offers).
    languages: tuple[str, ...] | None = None
    #: Phase 3: ``hub`` reads the target's own splits from the hub (the notebook's ``source``).
    data_source: str = "auto"

    def target_spec(self) -> TaskSpec:
        """The target for `run_transfer`: its `TaskSpec`, with this run's evaluation split.

        `run_transfer` scores ``TaskSpec.eval_split``; a per-target ``eval_split``
        override therefore travels in a copy of the spec (the task API accepts a
        spec wherever it takes a name).
        """
        assert isinstance(self.task, str), "only phase-3 inputs have a target"
        spec = get_task(self.task)
        if self.eval_split is not None and self.eval_split != spec.eval_split:
            spec = dataclasses.replace(spec, eval_split=self.eval_split)
        # `source: hub`: the target's splits come from the hub although a data directory exists.
        return dataclasses.replace(spec, local=None) if self.data_source == "hub" else spec

    def describe(self) -> dict[str, Any]:
        """A plain summary for the notebook to display."""
        return {
            "phase": self.phase,
            "run_dir": str(self.run_dir),
            "source": self.source,
            "task": self.task,
            "eval_split": self.eval_split,
            "languages": self.languages,
            "data_source": self.data_source,
            "seed": self.seed,
            "data_dir": self.data_dir,
            "codeswitch": None if self.codeswitch is None else self.codeswitch.to_dict(),
            "settings": self.settings.to_dict(),
        }


def _scratch_dir(phase: str) -> Path:
    """A fresh folder for interactive runs (``run_dir=None``), under the project cache."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = cache_dir() / "scratch" / f"{phase}-{stamp}"
    path.mkdir(parents=True)
    return path


def _settings(value: Any, seed: int) -> TrainingSettings:
    """`TrainingSettings` from a dict, optionally starting from ``profile``; ``seed`` wins."""
    key = ("settings",)
    values = check_keys(value, ["profile", *(f.name for f in fields(TrainingSettings))], key, NOTEBOOK)
    profile = values.pop("profile", None)
    if profile is not None:
        validate(profile, _STRING, (*key, "profile"), NOTEBOOK)
    values["seed"] = seed
    return TrainingSettings.from_profile(
        profile, plain(values), where=key, origin=NOTEBOOK, profile_key=(*key, "profile")
    )


def _codeswitch(value: Any, seed: int) -> CodeSwitchConfig | None:
    if value is None:
        return None
    key = ("codeswitch",)
    spec = check_keys(value, [f.name for f in fields(CodeSwitchConfig)], key, NOTEBOOK)
    spec.setdefault("seed", seed)
    return CodeSwitchConfig.from_dict(plain(spec), where=key, origin=NOTEBOOK)


def _common(phase: str, run_dir: Any, seed: Any, data_dir: Any) -> tuple[Path, int, str | None]:
    seed = validate(seed, field_constraints(TrainingSettings)["seed"], ("seed",), NOTEBOOK)
    directory = (
        _scratch_dir(phase)
        if run_dir is None
        else Path(validate(str(run_dir), _STRING, ("run_dir",), NOTEBOOK))
    )
    directory.mkdir(parents=True, exist_ok=True)
    data = validate(None if data_dir is None else str(data_dir), Nullable(_STRING), ("data_dir",), NOTEBOOK)
    if data is not None:
        try:
            data = str(resolve_data_dir(data))
        except XltError as exc:
            raise NOTEBOOK.error(("data_dir",), str(exc)) from None
    return directory, seed, data


def _task(name: Any, key: str, *, target: bool) -> str:
    text: str = validate(name, _STRING, (key,), NOTEBOOK)
    try:
        spec = get_task(text)
    except XltError as exc:
        raise NOTEBOOK.error((key,), str(exc)) from None
    if target and not spec.is_target:
        raise NOTEBOOK.error((key,), f"{text!r} is not a cross-lingual target task")
    return text


def _intermediate_task(value: Any) -> str | MultiTaskSpec:
    """A task name, or the `MultiTaskSpec` of a ``{"multitask": {...}}`` parameter."""
    if not isinstance(value, dict):
        return _task(value, "task", target=False)
    try:
        spec = MultiTaskSpec.from_parameter(value)
    except XltError as exc:
        raise ConfigError(f"{NOTEBOOK.name}: {exc}") from None  # the message names task.multitask.<key>
    if spec is None:
        raise NOTEBOOK.error(("task",), f"expected a task name or {{'multitask': {{...}}}}, got {value!r}")
    return spec


def intermediate_inputs(
    *,
    run_dir: str | os.PathLike[str] | None,
    model: str,
    task: str | dict[str, Any],
    codeswitch: dict[str, Any] | None,
    settings: dict[str, Any],
    seed: int,
    data_dir: str | None = None,
    task_files: list[str] | tuple[str, ...] = (),
) -> PhaseInputs:
    """Validate the parameters of ``intermediate.ipynb`` (phase 2)."""
    _register(task_files)
    directory, seed, data = _common("intermediate", run_dir, seed, data_dir)
    return PhaseInputs(
        phase="intermediate",
        run_dir=directory,
        source=validate(model, _STRING, ("model",), NOTEBOOK),
        task=_intermediate_task(task),
        settings=_settings(settings, seed),
        codeswitch=_codeswitch(codeswitch, seed),
        seed=seed,
        data_dir=data,
    )


def transfer_inputs(
    *,
    run_dir: str | os.PathLike[str] | None,
    encoder: str,
    target: str,
    settings: dict[str, Any],
    seed: int,
    eval_split: str | None = None,
    codeswitch: dict[str, Any] | None = None,
    data_dir: str | None = None,
    languages: list[str] | tuple[str, ...] | None = None,
    source: str = "auto",
    task_files: list[str] | tuple[str, ...] = (),
) -> PhaseInputs:
    """Validate the parameters of ``transfer.ipynb`` (phase 3)."""
    _register(task_files)
    directory, seed, data = _common("transfer", run_dir, seed, data_dir)
    target = _task(target, "target", target=True)
    spec = get_task(target)
    split = (
        spec.eval_split
        if eval_split is None
        else validate(eval_split, Options(*spec.splits), ("eval_split",), NOTEBOOK)
    )
    return PhaseInputs(
        phase="transfer",
        run_dir=directory,
        source=validate(str(encoder), _STRING, ("encoder",), NOTEBOOK),
        task=target,
        settings=_settings(settings, seed),
        codeswitch=_codeswitch(codeswitch, seed),
        seed=seed,
        data_dir=data,
        eval_split=split,
        languages=validate(languages, _TARGET_RULES["languages"], ("languages",), NOTEBOOK),
        data_source=validate(source, _TARGET_RULES["source"], ("source",), NOTEBOOK),
    )


def _register(task_files: Any) -> None:
    """Make the experiment's user-defined tasks known in this (kernel) process."""
    paths = validate(list(task_files or ()), ListOf(_STRING, non_empty=False), ("task_files",), NOTEBOOK)
    register_task_files(paths)


# -- provenance --------------------------------------------------------------------------
def _data_checksums(inputs: PhaseInputs) -> dict[str, str]:
    """SHA-256 of every local data file the phase reads (empty for hub data)."""
    reads: list[tuple[str, str, str]] = []
    if inputs.phase == "intermediate":
        names = inputs.task.tasks if isinstance(inputs.task, MultiTaskSpec) else (inputs.task,)
        for name in names:  # a MultiTaskSpec reads all its tasks
            spec = get_task(name)
            reads += [
                (spec.name, split, "en") for split in ("train", spec.selection_split) if split in spec.splits
            ]
    else:
        assert isinstance(inputs.task, str), "phase 3 evaluates one target"
        spec = get_task(inputs.task)
        train = get_task(spec.train_task or spec.name)
        reads += [(train.name, "train", "en")]
        if inputs.data_source != "hub":
            reads += [(spec.name, spec.selection_split, spec.selection_language)]
        split = inputs.eval_split or spec.eval_split
        if inputs.data_source != "hub":
            languages = evaluation_languages(spec, split, inputs.data_dir, inputs.languages)
            reads += [(spec.name, split, lang) for lang in languages]
    out: dict[str, str] = {}
    for task, split, language in dict.fromkeys(reads):
        try:
            out.update(data_checksums(task, split, language, inputs.data_dir))
        except XltError:
            continue  # a split/language this source does not offer: the phase does not read it either
    out.update(_dictionary_checksums(inputs))
    return out


def _dictionary_checksums(inputs: PhaseInputs) -> dict[str, str]:
    """SHA-256 of every bilingual dictionary the run's code-switching reads (a changed one reruns it).

    Files named in the config, the data directory's defaults and induced dictionaries in the
    cache alike (`xlt_lib.codeswitch.sources`); one that cannot be read stops the run here.
    """
    if inputs.codeswitch is None:
        return {}
    out: dict[str, str] = {}
    for source in dictionary_sources(inputs.codeswitch, inputs.data_dir).values():
        for path in source.required_files():
            path = path.expanduser()
            out[str(path.resolve())] = file_sha256(path)
    return out


def determinism(settings: Any) -> dict[str, Any]:
    """Whether this run's numbers should repeat bit for bit, and the switches that decide it.

    Read after training: the Trainer turns on deterministic algorithms when
    ``settings.full_determinism`` is set. On CPU the same machine and thread count
    reproduce a run exactly; on GPU only with ``full_determinism`` (slower kernels).
    """
    import torch

    cuda = torch.cuda.is_available()
    enforced = torch.are_deterministic_algorithms_enabled()
    return {
        "full_determinism": bool(settings.full_determinism),
        "deterministic_algorithms": enforced,
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "device": "cuda" if cuda else "cpu",
        "torch_threads": torch.get_num_threads(),
        "seed": settings.seed,
        "bitwise_reproducible": (not cuda) or enforced,
    }


def start_run(inputs: PhaseInputs, timings: RunTimings | None = None) -> dict[str, Any]:
    """Record provenance known before training (env.json, ``end_time`` null); returns it.

    ``timings``: the run's stopwatch (`xlt_lib.training.timings`); this counts as ``provenance``.
    """
    timings = timings if timings is not None else RunTimings()
    with timings.part("provenance"):
        environment = records.start_environment(model_identity=model_identity(inputs.source))
        environment["data"] = _data_checksums(inputs)
        environment["data_dir"] = inputs.data_dir
        environment["data_source"] = data_source(resolve_data_dir(inputs.data_dir))
        records.write_environment(inputs.run_dir, environment)
    return environment


def provenance_table(environment: dict[str, Any]) -> Any:
    """The few provenance facts a phase notebook shows before training, as a one-column table.

    Both phase notebooks display the same summary of what `start_run` recorded; it lives here
    so that they cannot drift apart. The full record is ``env.json``.
    """
    import pandas as pd  # heavy third-party import, kept off the configuration path

    return pd.Series(
        {
            "git commit": environment["git"]["commit"],
            "dirty": environment["git"]["dirty"],
            "device": environment["device"]["device"],
            "data files": len(environment["data"]),
            "started": environment["start_time"],
        },
        name="environment",
    ).to_frame()


def finish_run(
    inputs: PhaseInputs,
    environment: dict[str, Any],
    metrics: dict[str, Any],
    predictions: Any = None,
    timings: RunTimings | None = None,
) -> Path:
    """Write predictions and the finished env.json, then metrics.json last (the run is complete).

    ``timings``: the run's stopwatch; its record goes into ``metrics.json`` as ``timings``
    (`xlt_lib.training.timings`).

    `start_run` wrote env.json into the run directory; if it is gone, the folder was
    deleted or moved while the run executed, and the writes here would silently
    recreate it holding a metrics.json that no config or provenance explains.
    """
    if not (inputs.run_dir / records.ENV).is_file():
        raise RunRecordError(
            f"{inputs.run_dir}: the run directory lost its {records.ENV} while the run executed "
            "(deleted or moved?); the run is not marked complete"
        )
    environment = {**environment, "determinism": determinism(inputs.settings)}
    return records.finish_run(
        inputs.run_dir, metrics, environment=environment, predictions=predictions, timings=timings
    )
