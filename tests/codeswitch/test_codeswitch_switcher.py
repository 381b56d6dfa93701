"""The switching procedure on synthetic dictionaries (exact behaviour) and real data (rates)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from xlt_lib.codeswitch import (
    BilingualDictionary,
    CodeSwitchConfig,
    CodeSwitcher,
    build_switcher,
    diagnostics,
    resolve_fields,
)
from xlt_lib.errors import ConfigError, DataError

TOY = {
    "de": [("the", "die"), ("cat", "katze"), ("sat", "saß"), ("on", "auf"), ("mat", "matte"), ("hello", "hallo"),
           ("world", "welt"), ("paternal", "väterlich"), ("uncle", "onkel")],
    "ru": [("the", "эта"), ("cat", "кошка"), ("sat", "сидела"), ("on", "на"), ("mat", "коврик")],
    "ar": [("cat", "قطة"), ("mat", "حصيرة")],
    "tr": [("island", "ada"), ("idea", "fikir"), ("cat", "kedi")],
    "sw": [("paternal uncle", "ami"), ("cat", "paka")],
}  # fmt: skip


def toy_switcher(languages: tuple[str, ...] = ("de",), **settings) -> CodeSwitcher:
    dicts = {lang: BilingualDictionary.from_pairs(lang, TOY[lang]) for lang in languages}
    return CodeSwitcher(dicts, CodeSwitchConfig(languages=languages, **settings))


def pair(i: int, a: str, b: str) -> dict:
    return {"id": f"toy-{i}", "language": "en", "text_a": a, "text_b": b, "label": 0}


@pytest.fixture(scope="module")
def mnli_examples(data_dir: Path) -> list[dict]:
    raw = json.loads((data_dir / "glue/mnli/train.json").read_text(encoding="utf-8"))
    return [pair(int(k), v["text_a"], v["text_b"]) for k, v in list(raw.items())[:3000]]


@pytest.fixture(scope="module")
def real_config() -> CodeSwitchConfig:
    return CodeSwitchConfig(languages=("de", "es", "sw"), token_ratio=0.5)


@pytest.fixture(scope="module")
def real_switcher(data_dir: Path, real_config: CodeSwitchConfig) -> CodeSwitcher:
    return build_switcher(real_config, data_dir)


def test_ratio_zero_changes_nothing() -> None:
    ex = pair(0, "The cat sat on the mat.", "Hello world!")
    for settings in ({"token_ratio": 0.0}, {"sentence_ratio": 0.0}):
        sw = toy_switcher(**settings)
        for epoch in range(5):
            assert sw.switch_example(ex, ["text_a", "text_b"], epoch) == ex


def test_ratio_one_switches_every_covered_word_keeping_punctuation_and_case() -> None:
    sw = toy_switcher(token_ratio=1.0)
    ex = pair(0, "The cat sat on the mat, my friend.", "«Hello»   WORLD!\n(cat)")
    out = sw.switch_example(ex, ["text_a", "text_b"])
    assert out["text_a"] == "Die katze saß auf die matte, my friend."
    assert out["text_b"] == "«Hallo»   WELT!\n(katze)"
    assert out["label"] == 0 and out["id"] == "toy-0"


def test_case_is_kept_where_the_script_has_case() -> None:
    rng = np.random.default_rng(0)
    assert toy_switcher(("ru",), token_ratio=1.0).switch_text("Cat. CAT cat", rng) == "Кошка. КОШКА кошка"
    assert toy_switcher(("ar",), token_ratio=1.0).switch_text("Cat, MAT", rng) == "قطة, حصيرة"
    # Turkish capital of i is İ.
    assert toy_switcher(("tr",), token_ratio=1.0).switch_text("Island IDEA", rng) == "Ada FİKİR"


def test_curly_apostrophes_and_contractions_stay_words() -> None:
    sw = toy_switcher(token_ratio=1.0)
    assert sw.switch_text("the cat’s mat", np.random.default_rng(0)) == "die cat’s matte"


def test_phrases_longest_match_and_fallback_to_words() -> None:
    text = "My paternal uncle sat."
    # Swahili has the phrase: one span replaced.
    assert toy_switcher(("sw",), token_ratio=1.0).switch_text(text, np.random.default_rng(0)) == "My ami sat."
    # German lacks the phrase: its words switch one by one.
    assert toy_switcher(("de",), token_ratio=1.0).switch_text(text, np.random.default_rng(0)) == (
        "My väterlich onkel saß."
    )
    # A phrase never crosses punctuation.
    assert toy_switcher(("sw",), token_ratio=1.0).switch_text(
        "paternal, uncle", np.random.default_rng(0)
    ) == ("paternal, uncle")


def test_same_seed_same_output_epochs_differ_when_dynamic(real_switcher: CodeSwitcher, mnli_examples) -> None:
    ex = mnli_examples[:200]
    fields = ["text_a", "text_b"]
    e0 = real_switcher.analyse(ex, fields).switch(0)
    again = build_switcher(real_switcher.config, None).analyse(ex, fields).switch(0)
    assert e0 == again
    e1 = real_switcher.analyse(ex, fields).switch(1)
    assert sum(a != b for a, b in zip(e0, e1, strict=True)) > 150
    other_seed = CodeSwitcher(
        real_switcher.dictionaries, CodeSwitchConfig(languages=("de", "es", "sw"), token_ratio=0.5, seed=7)
    )
    assert sum(a != b for a, b in zip(e0, other_seed.analyse(ex, fields).switch(0), strict=True)) > 150


def test_static_schedule_ignores_epoch(real_switcher: CodeSwitcher, mnli_examples) -> None:
    static = CodeSwitcher(
        real_switcher.dictionaries, CodeSwitchConfig(languages=("de", "es", "sw"), schedule="static")
    )
    corpus = static.analyse(mnli_examples[:100], ["text_a", "text_b"])
    assert corpus.switch(0) == corpus.switch(3) == corpus.switch(17)
    assert static.switch_example(mnli_examples[5], ["text_a"], 9) == static.switch_example(
        mnli_examples[5], ["text_a"], 0
    )


def test_an_example_switches_the_same_alone_in_any_batch_or_dataset(real_switcher, mnli_examples) -> None:
    fields = ["text_a", "text_b"]
    batch = real_switcher.analyse(mnli_examples[:50], fields).switch(3)
    reordered = real_switcher.analyse(mnli_examples[:50][::-1], fields).switch(3)[::-1]
    assert batch == reordered
    for i in (0, 17, 49):
        assert real_switcher.switch_example(mnli_examples[i], fields, epoch=3) == batch[i]
    ds = datasets.Dataset.from_list(mnli_examples[:50])
    switched = real_switcher.switch_dataset(ds, fields, epoch=3)
    assert switched.column_names == ds.column_names and switched.features == ds.features
    assert switched.to_list() == batch


def test_achieved_rate_matches_expectation(real_switcher: CodeSwitcher, mnli_examples) -> None:
    corpus = real_switcher.analyse(mnli_examples, ["text_a", "text_b"])
    cov = diagnostics.coverage(corpus).set_index("language")
    expected = (
        real_switcher.config.sentence_ratio
        * real_switcher.config.token_ratio
        * cov.loc["mean", "token_coverage"]
    )
    assert expected == pytest.approx(diagnostics.expected_switch_rate(corpus, count_same=True))
    for epoch in range(3):
        rates = diagnostics.switch_rates(corpus, corpus.decide(epoch)).set_index("language")
        assert abs(rates.loc["all", "replace_rate"] - expected) < 0.01  # same-word replacements included
        assert abs(rates.loc["all", "switch_rate"] - diagnostics.expected_switch_rate(corpus)) < 0.01
        for lang in ("de", "es", "sw"):
            assert abs(rates.loc[lang, "switch_rate"] - rates.loc[lang, "expected_rate"]) < 0.01


def test_sentence_ratio_chooses_examples(real_switcher: CodeSwitcher, mnli_examples) -> None:
    sw = CodeSwitcher(
        real_switcher.dictionaries, CodeSwitchConfig(languages=("de", "es", "sw"), sentence_ratio=0.3)
    )
    corpus = sw.analyse(mnli_examples, ["text_a", "text_b"])
    decisions = corpus.decide(0)
    assert abs(decisions.chosen.mean() - 0.3) < 0.03
    assert set(corpus.unit_example[decisions.units].tolist()) <= set(
        np.flatnonzero(decisions.chosen).tolist()
    )
    rate = diagnostics.switch_rates(corpus, decisions).set_index("language").loc["all", "switch_rate"]
    assert abs(rate - diagnostics.expected_switch_rate(corpus)) < 0.01


def test_per_sentence_mode_uses_one_language_per_example(real_switcher, mnli_examples) -> None:
    sw = CodeSwitcher(
        real_switcher.dictionaries, CodeSwitchConfig(languages=("de", "es", "sw"), mode="per_sentence")
    )
    corpus = sw.analyse(mnli_examples[:300], ["text_a", "text_b"])
    d = corpus.decide(0)
    per_example: dict[int, set[int]] = {}
    for ex, lang in zip(corpus.unit_example[d.units].tolist(), d.languages.tolist(), strict=True):
        per_example.setdefault(ex, set()).add(lang)
    assert all(len(langs) == 1 for langs in per_example.values())
    assert len({next(iter(v)) for v in per_example.values()}) == 3


def test_extractive_qa_answers_stay_aligned(real_switcher: CodeSwitcher, data_dir: Path) -> None:
    squad = json.loads((data_dir / "qa/tydiqa-goldp-en-train.json").read_text(encoding="utf-8"))
    examples = []
    for article in squad["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                examples.append(
                    {
                        "id": qa["id"],
                        "language": "en",
                        "question": qa["question"],
                        "context": para["context"],
                        "answers": {
                            "text": [a["text"] for a in qa["answers"]],
                            "answer_start": [a["answer_start"] for a in qa["answers"]],
                        },
                    }
                )
    examples = examples[:300]
    assert all(
        e["context"][e["answers"]["answer_start"][0] :].startswith(e["answers"]["text"][0]) for e in examples
    )
    sw = CodeSwitcher(
        real_switcher.dictionaries, CodeSwitchConfig(languages=("de", "es", "sw"), token_ratio=0.9)
    )
    out = sw.analyse(examples, ["question", "context"]).switch(0)
    changed = 0
    for before, after in zip(examples, out, strict=True):
        changed += before["context"] != after["context"]
        assert after["answers"]["text"] == before["answers"]["text"]
        for start, text in zip(after["answers"]["answer_start"], after["answers"]["text"], strict=True):
            assert after["context"][start : start + len(text)] == text, after["id"]
    assert changed > 250
    # The single-example path realigns the same way.
    assert sw.switch_example(examples[3], ["question", "context"]) == out[3]


def test_multiple_choice_switches_each_choice() -> None:
    sw = toy_switcher(token_ratio=1.0)
    ex = {
        "id": "mc-1",
        "language": "en",
        "context": "The cat.",
        "question": "",
        "choices": ["the mat", "a dog", "cat"],
        "label": 2,
    }
    out = sw.switch_example(ex, ["context", "question", "choices"])
    assert out["choices"] == ["die matte", "a dog", "katze"]
    assert out["question"] == "" and out["context"] == "Die katze." and out["label"] == 2
    assert ex["choices"] == ["the mat", "a dog", "cat"]  # the input is not modified


def test_tagging_switches_token_by_token_keeping_alignment() -> None:
    sw = toy_switcher(("de", "sw"), token_ratio=1.0)
    ex = {
        "id": "ccg-1",
        "language": "en",
        "tokens": ["My", "paternal", "uncle", "sat", "."],
        "tags": [3, 1, 4, 1, 0],
    }
    for epoch in range(10):
        out = sw.switch_example(ex, ["tokens"], epoch)
        assert len(out["tokens"]) == 5 and out["tags"] == ex["tags"]
        assert out["tokens"][0] == "My" and out["tokens"][4] == "."
        assert out["tokens"][1] in ("väterlich", "paternal")  # no phrase across tokens
        assert out["tokens"][2] in ("onkel", "uncle")


def test_switch_text_uses_the_given_generator() -> None:
    sw = toy_switcher(("de", "ru"), token_ratio=0.5)
    text = "The cat sat on the mat. " * 5
    a = sw.switch_text(text, np.random.default_rng(1))
    assert a == sw.switch_text(text, np.random.default_rng(1))
    assert a != text
    assert {sw.switch_text(text, np.random.default_rng(s)) for s in range(5)} != {a}


def test_bad_input_is_named() -> None:
    sw = toy_switcher()
    with pytest.raises(DataError, match="'id'"):
        sw.switch_example({"text_a": "cat"}, ["text_a"])
    with pytest.raises(DataError, match="'text_b'"):
        sw.switch_example({"id": "x", "text_a": "cat"}, ["text_a", "text_b"])
    with pytest.raises(DataError, match="example 'x': field 'label'"):
        sw.switch_example({"id": "x", "label": 3}, ["label"])
    with pytest.raises(ConfigError, match="no dictionary loaded for fr"):
        CodeSwitcher(
            {"de": BilingualDictionary.from_pairs("de", TOY["de"])}, CodeSwitchConfig(languages=("de", "fr"))
        )


def test_resolve_fields() -> None:
    cfg = CodeSwitchConfig(languages=("de",))
    assert resolve_fields(cfg, ("text_a", "text_b")) == ("text_a", "text_b")
    cfg = CodeSwitchConfig(languages=("de",), fields=("text_b",))
    assert resolve_fields(cfg, ("text_a", "text_b")) == ("text_b",)
    with pytest.raises(ConfigError, match=r"codeswitch\.fields: context"):
        resolve_fields(CodeSwitchConfig(languages=("de",), fields=("context",)), ("text_a", "text_b"))
