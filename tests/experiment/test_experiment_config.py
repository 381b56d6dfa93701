"""Validation of experiment files: every error names the file and key, and says what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import load_experiment
from xlt_lib.experiment.yamlio import parse_yaml

REPO = Path(__file__).resolve().parents[2]

VALID = """\
name: t
model: offline-default
intermediate_tasks: [mnli]
conditions:
  base: {kind: none}
  mono: {kind: monolingual}
  cs: {kind: codeswitched, codeswitch: {languages: [de, fr], token_ratio: 0.4}}
targets: [xnli, {task: pawsx, epochs: 2}]
seeds: [1, 2]
settings:
  profile: cpu
  max_train_examples: 100
  intermediate: {learning_rate: 3e-5}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_experiment(write(tmp_path, text))
    return str(info.value)


def test_valid_file_resolves_settings_per_phase(tmp_path: Path) -> None:
    experiment = load_experiment(write(tmp_path, VALID))
    assert experiment.models == ("offline-default",)
    assert [c.kind for c in experiment.conditions] == ["none", "monolingual", "codeswitched"]
    # YAML 1.2 numbers: 3e-5 is a float, not the string PyYAML would make of it
    assert experiment.intermediate_settings["learning_rate"] == pytest.approx(3e-5)
    assert experiment.transfer_settings["learning_rate"] == pytest.approx(5e-5)  # the cpu profile's
    assert experiment.intermediate_settings["max_train_examples"] == 100
    pawsx = experiment.targets[1]
    assert pawsx.eval_split == "dev" and experiment.targets[0].eval_split == "test"
    assert experiment.transfer_settings_for(pawsx)["epochs_by_task"]["pawsx"] == 2
    cs = experiment.conditions[2].codeswitch
    assert cs is not None and cs["languages"] == ["de", "fr"] and "seed" not in cs


def test_target_name_as_language_expands_to_its_non_english_languages(tmp_path: Path) -> None:
    text = VALID.replace("languages: [de, fr]", "languages: [xnli]")
    cs = load_experiment(write(tmp_path, text)).conditions[2].codeswitch
    assert cs is not None and len(cs["languages"]) == 14 and "en" not in cs["languages"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("seeds: [1, 2]", "sedes: [1, 2]"), "x.yaml: sedes: unknown key (did you mean 'seeds'?)"),
        (
            ("kind: monolingual", "kind: monolingal"),
            "conditions.mono.kind: unknown value 'monolingal' (did you mean 'monolingual'?)",
        ),
        (
            ("intermediate_tasks: [mnli]", "intermediate_tasks: [mnly]"),
            "intermediate_tasks[0]: unknown task 'mnly' (did you mean 'mnli'?)",
        ),
        (("targets: [xnli,", "targets: [mnli,"), "targets[0]: 'mnli' is not a cross-lingual target"),
        (("seeds: [1, 2]", "seeds: [1, 1]"), "seeds[1]: seed 1 is listed twice"),
        (("seeds: [1, 2]", "seeds: [1, two]"), "seeds[1]: expected an integer, got string 'two'"),
        (("seeds: [1, 2]", "seeds: []"), "seeds: expected a non-empty list"),
        (
            ("max_train_examples: 100", "max_train_examples: many"),
            "settings.max_train_examples: expected an integer",
        ),
        (
            ("max_train_examples: 100", "max_trian_examples: 100"),
            "settings.max_trian_examples: unknown key (did you mean 'max_train_examples'?)",
        ),
        (
            ("learning_rate: 3e-5", "learning_rate: -1.0"),
            "settings.intermediate.learning_rate: expected a positive number",
        ),
        (("profile: cpu", "profile: tpu"), "settings.profile: training profile 'tpu': unknown"),
        (
            ("{task: pawsx, epochs: 2}", "{task: pawsx, eval_split: validation}"),
            "targets[1].eval_split: unknown value 'validation'",
        ),
        (
            ("token_ratio: 0.4", "token_ratio: 1.4"),
            "conditions.cs.codeswitch.token_ratio: expected a number in [0.0, 1.0], got 1.4",
        ),
        (
            ("languages: [de, fr]", "languages: [de, xx]"),
            "conditions.cs.codeswitch.languages: no dictionary for language 'xx'",
        ),
        (
            ("languages: [de, fr]", "languages: [de, en]"),
            "conditions.cs.codeswitch.languages[1]: code-switching replaces English words",
        ),
        (
            ("mono: {kind: monolingual}", "mono: {kind: monolingual, codeswitch: {languages: [de]}}"),
            "conditions.mono.codeswitch: only kind codeswitched",
        ),
        (("name: t", "name: a/b"), "name: expected letters, digits"),
        (
            ("model: offline-default", "model: ./no/such/folder"),
            "model: model folder './no/such/folder' does not exist",
        ),
        (
            ("intermediate_tasks: [mnli]", "intermediate_tasks: []"),
            "conditions mono, cs need at least one intermediate task",
        ),
        (
            ("seeds: [1, 2]", "seeds: [1, 2]\nexecutor: {workers: 0}"),
            "executor.workers: expected an integer >= 1, got 0",
        ),
        (("seeds: [1, 2]", "seeds: [1, 2]\nexecutor: cluster"), "executor: unknown value 'cluster'"),
        (
            ("seeds: [1, 2]", "seeds: [1, 2]\nexecutor: {slurm: {partiton: gpu}}"),
            "executor.slurm.partiton: unknown key (did you mean 'partition'?)",
        ),
        (("seeds: [1, 2]", "seeds: [1, 2]\nseeds: [3]"), "seeds: duplicate key"),
    ],
)
def test_each_error_names_file_and_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in VALID
    message = error_for(tmp_path, VALID.replace(old, new, 1))
    assert str(tmp_path / "x.yaml") in message
    assert expected in message


def test_yaml_boolean_trap_is_explained(tmp_path: Path) -> None:
    message = error_for(tmp_path, VALID.replace("languages: [de, fr]", "languages: [de, fr, zh, no]"))
    assert message.startswith(f"{tmp_path / 'x.yaml'}: conditions.cs.codeswitch.languages[3]: ")
    assert "got boolean false — YAML reads no as false; quote it: 'no'" in message
    assert "(line 7)" in message


def test_quoted_number_is_explained(tmp_path: Path) -> None:
    message = error_for(tmp_path, VALID.replace("token_ratio: 0.4", "token_ratio: '0.4'"))
    assert "token_ratio: expected a number" in message and "quoted" in message


def test_yaml_12_numbers() -> None:
    doc = parse_yaml("a: 1e-5\nb: 042\nc: 0o17\nd: 1_000\ne: .5\nf: on\ng: '1e-5'\n", Path("p.yaml"))
    assert doc.data == {"a": 1e-5, "b": 42, "c": 15, "d": "1_000", "e": 0.5, "f": True, "g": "1e-5"}
    assert doc.source(("f",)) == "on" and doc.line(("g",)) == 7


def test_duplicate_conditions_are_an_error(tmp_path: Path) -> None:
    from xlt_lib.experiment import expand

    text = VALID.replace(
        "  mono: {kind: monolingual}\n", "  mono: {kind: monolingual}\n  mono2: {kind: monolingual}\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"conditions\.mono2 .* and conditions\.mono .* describe the same run|conditions\.mono .* describe the same run",
    ):
        expand(load_experiment(write(tmp_path, text)))


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, VALID + "description: !!python/object/apply:os.system ['true']\n")
    assert "not valid YAML" in message


@pytest.mark.parametrize("name", ["demo", "smoke", "phang2020"])
def test_shipped_experiments_validate_and_plan(name: str) -> None:
    from xlt_lib.experiment import expand

    experiment = load_experiment(REPO / "params" / f"{name}.yaml")
    runs = expand(experiment)
    assert runs and len({r.run_id for r in runs}) == len(runs)
