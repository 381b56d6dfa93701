"""TrainingSettings: validation of experiment-file values, profiles, hashing form."""

from __future__ import annotations

import json

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.training import TrainingSettings


def test_from_dict_accepts_yaml_1_1_strings_for_floats_only() -> None:
    settings = TrainingSettings.from_dict({"learning_rate": "1e-5", "batch_size": 8, "epochs": 3})
    assert settings.learning_rate == pytest.approx(1e-5)
    assert settings.epochs == 3.0 and isinstance(settings.epochs, float)
    with pytest.raises(ConfigError, match=r"training\.batch_size: expected an integer, got '8'"):
        TrainingSettings.from_dict({"batch_size": "8"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lr": 1e-5}, r"training\.lr: unknown setting"),
        ({"freeze_word_embeddings": "yes"}, r"training\.freeze_word_embeddings: expected true or false"),
        ({"batch_size": True}, r"training\.batch_size: expected an integer"),
        ({"learning_rate": "fast"}, r"training\.learning_rate: expected a number"),
        ({"precision": "fp8"}, r"training\.precision: expected one of fp32, bf16, fp16"),
        ({"selection": "best"}, r"training\.selection: expected one of best_en_dev, last"),
        ({"warmup_ratio": 1.5}, r"training\.warmup_ratio"),
        ({"num_layers": 0}, r"training\.num_layers: expected a positive integer"),
        ({"epochs_by_task": {"xnli": "two"}}, r"training\.epochs_by_task\.xnli: expected a number"),
        ({"doc_stride": 200, "max_length": 128}, r"training\.doc_stride"),
    ],
)
def test_from_dict_names_the_bad_key(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainingSettings.from_dict(values)


def test_profiles_follow_the_reference_and_take_overrides() -> None:
    gpu = TrainingSettings.profile("gpu")
    assert (gpu.learning_rate, gpu.effective_batch_size, gpu.max_length) == (1e-5, 32, 256)
    assert gpu.warmup_ratio == 0.1 and gpu.selection == "best_en_dev"
    assert (gpu.epochs_for("xnli"), gpu.epochs_for("pawsx")) == (2.0, 5.0)
    cpu = TrainingSettings.profile("cpu", seed=3, learning_rate="3e-5")
    assert cpu.freeze_word_embeddings and cpu.seed == 3 and cpu.learning_rate == 3e-5
    with pytest.raises(ConfigError, match="unknown"):
        TrainingSettings.profile("tpu")
    with pytest.raises(ConfigError, match=r"profile cpu\.bogus"):
        TrainingSettings.profile("cpu", bogus=1)


def test_to_dict_round_trips_and_is_json() -> None:
    settings = TrainingSettings.profile("gpu", seed=7)
    again = TrainingSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings
    assert settings.replace(seed=8).seed == 8 and settings.seed == 7


def test_qa_stride_defaults_to_a_third_of_max_length() -> None:
    assert TrainingSettings(max_length=384).qa_stride == 128
    assert TrainingSettings(max_length=384, doc_stride=100).qa_stride == 100
