"""CodeSwitchConfig: validation names the key, YAML round trip."""

from __future__ import annotations

import pytest
import yaml

from xlt_lib.codeswitch import XNLI_TARGET_LANGUAGES, CodeSwitchConfig
from xlt_lib.errors import ConfigError


def test_round_trip_through_yaml() -> None:
    cfg = CodeSwitchConfig(languages=("de", "fr"), token_ratio=0.6, mode="per_sentence", fields=("text_a",))
    again = CodeSwitchConfig.from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
    assert again == cfg
    assert again.languages == ("de", "fr") and again.fields == ("text_a",)


def test_defaults_follow_cosda_ml() -> None:
    cfg = CodeSwitchConfig.from_dict({"languages": list(XNLI_TARGET_LANGUAGES)})
    assert (cfg.sentence_ratio, cfg.token_ratio, cfg.mode, cfg.schedule, cfg.seed) == (
        1.0, 0.4, "per_word", "dynamic", 42,
    )  # fmt: skip
    assert len(cfg.languages) == 14 and "en" not in cfg.languages


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({"languages": ["de"], "token_ratio": 1.5}, "codeswitch.token_ratio"),
        ({"languages": ["de"], "sentence_ratio": True}, "codeswitch.sentence_ratio"),
        ({"languages": ["de"], "sentence_ratio": "lots"}, "codeswitch.sentence_ratio"),
        ({"languages": ["de", False]}, "quote it"),
        ({"languages": ["de", "de"]}, "listed twice"),
        ({"languages": []}, "codeswitch.languages"),
        ({"languages": "de"}, "codeswitch.languages"),
        ({"languages": ["de"], "mode": "per_token"}, "codeswitch.mode"),
        ({"languages": ["de"], "schedule": "sometimes"}, "codeswitch.schedule"),
        ({"languages": ["de"], "seed": -1}, "codeswitch.seed"),
        ({"languages": ["de"], "cross": 0.4}, "unknown key(s) cross"),
        ({"token_ratio": 0.4}, "codeswitch.languages: required"),
        ({"languages": ["de"], "dictionaries": {"fr": "x.txt"}}, "codeswitch.dictionaries.fr"),
    ],
)
def test_invalid_settings_name_the_key(settings: dict, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace("(", r"\(").replace(")", r"\)")):
        CodeSwitchConfig.from_dict(settings)


def test_yaml_string_numbers_are_read_as_numbers() -> None:
    # YAML 1.1 leaves 4e-1 a string.
    cfg = CodeSwitchConfig.from_dict(yaml.safe_load("languages: [de]\ntoken_ratio: 4e-1\n"))
    assert cfg.token_ratio == pytest.approx(0.4)
