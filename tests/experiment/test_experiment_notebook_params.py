"""What the notebooks call: parameter validation (papermill's YAML 1.1 included) and records."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import records
from xlt_lib.experiment.notebook import intermediate_inputs, provenance_table, transfer_inputs


def test_intermediate_inputs_apply_profile_and_seed(tmp_path: Path) -> None:
    inputs = intermediate_inputs(
        run_dir=tmp_path / "run",
        model="offline-default",
        task="mnli",
        codeswitch={"languages": ["de", "fr"], "token_ratio": "4e-1"},  # YAML 1.1 leaves 4e-1 a string
        settings={"profile": "cpu", "max_train_examples": 10},
        seed=7,
    )
    assert inputs.settings.seed == 7 and inputs.settings.max_train_examples == 10
    assert inputs.settings.freeze_word_embeddings  # from the cpu profile
    assert inputs.codeswitch.seed == 7 and inputs.codeswitch.token_ratio == pytest.approx(0.4)
    assert (tmp_path / "run").is_dir()


def test_papermill_yaml_boolean_is_explained(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"notebook parameter: codeswitch\.languages\[2\]: .*boolean false.*quote it"
    ):
        intermediate_inputs(
            run_dir=tmp_path,
            model="offline-default",
            task="mnli",
            codeswitch={"languages": ["de", "fr", False]},
            settings={},
            seed=0,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "mnli"}, "not a cross-lingual target"),
        ({"target": "xnlii"}, "did you mean 'xnli'"),
        ({"eval_split": "train"}, "eval_split: unknown value 'train'"),
        ({"settings": {"learning_rat": 1e-5}}, "settings.learning_rat: unknown key"),
        ({"settings": {"batch_size": "16"}}, "batch_size: expected an integer"),
        ({"seed": -1}, "seed: expected an integer >= 0"),
    ],
)
def test_transfer_inputs_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    arguments = {
        "run_dir": tmp_path,
        "encoder": "offline-default",
        "target": "xnli",
        "settings": {},
        "seed": 0,
    }
    with pytest.raises(ConfigError, match=message):
        transfer_inputs(**{**arguments, **kwargs})


def test_eval_split_override_travels_in_the_target_spec(tmp_path: Path) -> None:
    inputs = transfer_inputs(
        run_dir=tmp_path, encoder="x", target="xnli", eval_split="dev", settings={}, seed=0
    )
    assert inputs.target_spec().eval_split == "dev" and inputs.target_spec().name == "xnli"
    default = transfer_inputs(run_dir=tmp_path, encoder="x", target="pawsx", settings={}, seed=0)
    assert default.eval_split == "dev" and default.target_spec().eval_split == "dev"


def test_provenance_table_shows_what_start_run_recorded() -> None:
    """Both phase notebooks display this one summary of env.json (it used to be copied in each)."""
    environment = records.start_environment(model_identity={"name": "m"})
    environment["data"] = {"xnli/test-de.tsv": "ab12", "xnli/test-en.tsv": "cd34"}
    table = provenance_table(environment)
    assert list(table.columns) == ["environment"]
    assert table.loc["data files", "environment"] == 2
    assert table.loc["git commit", "environment"] == environment["git"]["commit"]
    assert table.loc["started", "environment"] == environment["start_time"]
