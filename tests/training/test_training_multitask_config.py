"""The multi-task syntax of experiment files: validation, grid expansion, notebook parameters, cost.

intermediate_tasks: [mnli, {multitask: {tasks: all | [...], sampler: temperature, temperature: 2.0}}]
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import expand, load_experiment
from xlt_lib.experiment.cost import estimate
from xlt_lib.experiment.notebook import _data_checksums, intermediate_inputs
from xlt_lib.experiment.runner import notebook_parameters
from xlt_lib.training.multitask_spec import (
    MultiTaskSpec,
    available_intermediate_tasks,
)

REPO = Path(__file__).resolve().parents[2]
OFFLINE_SIX = ("mnli", "qqp", "sst2", "hellaswag", "cosmosqa", "tydiqa_en")

TEMPLATE = """\
name: mt
model: offline-default
intermediate_tasks:
  - mnli
  - multitask: {MULTITASK}
conditions:
  base: {kind: none}
  mono: {kind: monolingual}
  cs: {kind: codeswitched, codeswitch: {languages: [de, fr]}}
targets: [xnli]
seeds: [1]
settings: {profile: cpu, max_train_examples: 50, max_dev_examples: 20, max_eval_examples: 10}
"""
TEMPERATURE = "{tasks: all, sampler: temperature, temperature: 2.0}"


def _load(tmp_path: Path, multitask: str = TEMPERATURE, extra: str = "") -> object:
    path = tmp_path / "mt.yaml"
    path.write_text(textwrap.dedent(TEMPLATE.replace("{MULTITASK}", multitask)) + extra, encoding="utf-8")
    return load_experiment(path)


def _error(tmp_path: Path, multitask: str, extra: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, multitask, extra)
    return str(info.value)


def test_all_means_the_study_tasks_the_offline_mirror_has(data_dir: Path) -> None:
    # conftest sets HF_HUB_OFFLINE=1: hub-only tasks (ANLI, CommonsenseQA, SQuAD, CCG) are out,
    # English TyDiQA stands in for SQuAD.
    assert available_intermediate_tasks(data_dir) == OFFLINE_SIX


def test_the_multitask_entry_expands_into_runs_labelled_by_its_name(tmp_path: Path) -> None:
    experiment = _load(tmp_path)
    entry = experiment.intermediate_tasks[1]
    assert isinstance(entry, MultiTaskSpec)
    assert entry == MultiTaskSpec(tasks=OFFLINE_SIX, sampler="temperature", temperature=2.0)
    grid = expand(experiment)
    phase2 = [r for r in grid if r.phase == "intermediate" and r.intermediate == "multitask"]
    assert [r.condition_kind for r in phase2] == ["monolingual", "codeswitched"]
    assert phase2[0].identity["task"] == {
        "tasks": list(OFFLINE_SIX),
        "sampler": "temperature",
        "temperature": 2.0,
    }
    assert phase2[0].config()["multitask"]["tasks"] == list(OFFLINE_SIX)
    children = [r for r in grid if r.phase == "transfer" and r.parent in {p.run_id for p in phase2}]
    assert len(children) == 2 and {r.intermediate for r in children} == {"multitask"}
    assert all(r.config()["multitask"] == phase2[0].multitask for r in children)
    # the single-task run keeps its plain identity
    mnli = next(r for r in grid if r.phase == "intermediate" and r.intermediate == "mnli")
    assert mnli.identity["task"] == "mnli" and mnli.multitask is None


def test_the_name_is_a_label_but_tasks_and_sampler_change_the_run(tmp_path: Path) -> None:
    def ids(multitask: str) -> set[str]:
        return {
            r.run_id for r in expand(_load(tmp_path, multitask)) if r.intermediate not in ("mnli", "none")
        }

    base = ids("{tasks: [mnli, qqp], sampler: uniform}")
    assert ids("{tasks: [mnli, qqp], sampler: uniform, name: mt-uniform}") - base == set()
    assert not ids("{tasks: [mnli, qqp], sampler: proportional}") & base
    assert not ids("{tasks: [mnli, sst2], sampler: uniform}") & base
    assert not ids("{tasks: [mnli, qqp], sampler: temperature, temperature: 3}") & ids(
        "{tasks: [mnli, qqp], sampler: temperature, temperature: 2}"
    )


@pytest.mark.parametrize(
    ("multitask", "expected"),
    [
        (
            "{tasks: [mnli, qqq]}",
            "intermediate_tasks[1].multitask.tasks[1]: unknown task 'qqq' (did you mean 'qqp'?)",
        ),
        ("{tasks: [mnli, xnli]}", "intermediate_tasks[1].multitask.tasks: 'xnli' is a cross-lingual target"),
        (
            "{tasks: [mnli]}",
            "intermediate_tasks[1].multitask.tasks: a multi-task run needs at least two tasks",
        ),
        ("{tasks: [mnli, mnli]}", "intermediate_tasks[1].multitask.tasks[1]: 'mnli' is listed twice"),
        (
            "{tasks: al}",
            "intermediate_tasks[1].multitask.tasks: expected 'all' or a list of intermediate tasks",
        ),
        ("{sampler: uniform}", "intermediate_tasks[1].multitask: missing required key 'tasks'"),
        ("{tasks: all, sampeler: uniform}", "multitask.sampeler: unknown key (did you mean 'sampler'?)"),
        (
            "{tasks: all, sampler: round_robin}",
            "intermediate_tasks[1].multitask.sampler: unknown value 'round_robin'",
        ),
        (
            "{tasks: all, sampler: temperature}",
            "intermediate_tasks[1].multitask.temperature: sampler 'temperature' needs a temperature",
        ),
        (
            "{tasks: all, sampler: temperature, temperature: 0}",
            "intermediate_tasks[1].multitask.temperature: expected a positive finite number",
        ),
        (
            "{tasks: all, sampler: temperature, temperature: -2.0}",
            "intermediate_tasks[1].multitask.temperature: expected a positive finite number",
        ),
        (
            "{tasks: all, sampler: temperature, temperature: .inf}",
            "multitask.temperature: expected a finite number",
        ),
        ("{tasks: all, sampler: temperature, temperature: hot}", "multitask.temperature: expected a number"),
        (
            "{tasks: all, sampler: uniform, temperature: 2.0}",
            "multitask.temperature: only sampler 'temperature' takes one, this is 'uniform'",
        ),
        ("{tasks: all, name: mnli}", "intermediate_tasks[1].multitask.name: 'mnli' is a task's name"),
        ("{tasks: all, name: none}", "multitask.name: 'none' marks runs without intermediate training"),
        ("{tasks: all, name: 'a b'}", "multitask.name: expected letters, digits"),
    ],
)
def test_bad_multitask_entries_name_the_key(tmp_path: Path, multitask: str, expected: str) -> None:
    message = _error(tmp_path, multitask)
    assert message.startswith(str(tmp_path / "mt.yaml"))
    assert expected in message


def test_two_multitask_entries_need_their_own_names(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    text = TEMPLATE.replace("{MULTITASK}", "{tasks: all, sampler: uniform}")
    text = text.replace("conditions:", "  - multitask: {tasks: all, sampler: proportional}\nconditions:")
    path.write_text(text)
    with pytest.raises(
        ConfigError, match=r"intermediate_tasks\[2\]: 'multitask' is listed twice \(give each"
    ):
        load_experiment(path)
    path.write_text(text.replace("sampler: proportional}", "sampler: proportional, name: mt-prop}"))
    assert [getattr(t, "name", t) for t in load_experiment(path).intermediate_tasks] == [
        "mnli",
        "multitask",
        "mt-prop",
    ]


def test_all_without_training_data_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    path = tmp_path / "mt.yaml"
    text = TEMPLATE.replace("{MULTITASK}", "{tasks: all}").replace("  cs: {kind: codeswitched", "  # cs:")
    path.write_text(text + f"data_dir: {empty}\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    message = str(info.value)
    assert "intermediate_tasks[1].multitask.tasks: 'all' found training data for only no tasks" in message


def test_library_and_notebook_forms_validate_like_the_file() -> None:
    spec = MultiTaskSpec.from_dict({"tasks": ["mnli", "qqp"], "sampler": "temperature", "temperature": "2e0"})
    assert spec.temperature == 2.0 and MultiTaskSpec.from_parameter(spec.as_parameter()) == spec
    assert MultiTaskSpec.from_parameter("mnli") is None
    with pytest.raises(ConfigError, match=r"^task\.multitask\.sampler: expected one of uniform"):
        MultiTaskSpec.from_parameter({"multitask": {"tasks": ["mnli", "qqp"], "sampler": "random"}})
    with pytest.raises(ConfigError, match=r"^temperature: expected a number, got 'warm'"):
        MultiTaskSpec.from_dict({"tasks": ["mnli", "qqp"], "sampler": "temperature", "temperature": "warm"})
    with pytest.raises(ConfigError, match=r"^tasks: missing"):
        MultiTaskSpec.from_dict({"sampler": "uniform"})


def test_runner_passes_the_entry_to_the_notebook_which_validates_it(tmp_path: Path, data_dir: Path) -> None:
    grid = expand(_load(tmp_path))
    run = next(r for r in grid if r.phase == "intermediate" and r.intermediate == "multitask")
    parameters = notebook_parameters(run, tmp_path / run.run_id, None)
    assert parameters["task"] == {"multitask": run.multitask}
    inputs = intermediate_inputs(
        run_dir=tmp_path / "r",
        model="offline-default",
        task=parameters["task"],
        codeswitch=None,
        settings={"profile": "cpu"},
        seed=1,
        data_dir=str(data_dir),
    )
    assert inputs.task == MultiTaskSpec(tasks=OFFLINE_SIX, sampler="temperature", temperature=2.0)
    files = {Path(name).name for name in _data_checksums(inputs)}
    assert {"train.json", "valid.csv", "validation.jsonl", "tydiqa-goldp-en-train.json", "train.tsv"} <= files
    with pytest.raises(ConfigError, match=r"notebook parameter: task\.multitask\.tasks: a multi-task run"):
        intermediate_inputs(
            run_dir=tmp_path / "r",
            model="offline-default",
            task={"multitask": {"tasks": ["mnli"]}},
            codeswitch=None,
            settings={},
            seed=1,
        )


def test_cost_of_a_multitask_run_is_the_sum_over_its_tasks(tmp_path: Path) -> None:
    grid = expand(_load(tmp_path))
    multitask = next(r for r in grid if r.phase == "intermediate" and r.intermediate == "multitask")
    mnli = next(r for r in grid if r.phase == "intermediate" and r.intermediate == "mnli")
    assert estimate(mnli).train_examples == 50
    assert estimate(multitask).train_examples == 50 * len(OFFLINE_SIX)
    assert estimate(multitask).disk_bytes == estimate(mnli).disk_bytes


def test_params_multitask_yaml_validates_and_plans() -> None:
    experiment = load_experiment(REPO / "params" / "multitask.yaml")
    (entry,) = experiment.intermediate_tasks
    assert isinstance(entry, MultiTaskSpec) and entry.tasks == OFFLINE_SIX
    grid = expand(experiment)
    assert sum(r.phase == "intermediate" for r in grid) == 2 * len(experiment.seeds)
