"""Diagnostics tables on a small real sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlt_lib.codeswitch import (
    BilingualDictionary,
    CodeSwitchConfig,
    CodeSwitcher,
    diagnostics,
    load_dictionaries,
)


@pytest.fixture(scope="module")
def corpus(data_dir: Path):
    raw = json.loads((data_dir / "glue/mnli/train.json").read_text(encoding="utf-8"))
    rows = [
        {"id": f"m-{k}", "text_a": v["text_a"], "text_b": v["text_b"]} for k, v in list(raw.items())[:400]
    ]
    dicts = load_dictionaries(["de", "sw"], data_dir)
    sw = CodeSwitcher(dicts, CodeSwitchConfig(languages=("de", "sw")))
    return sw.analyse(rows, ["text_a", "text_b"])


def test_coverage_table(corpus) -> None:
    cov = diagnostics.coverage(corpus).set_index("language")
    assert list(cov.index) == ["de", "sw", "union", "mean"]
    assert cov.loc["union", "token_coverage"] >= cov.loc[["de", "sw"], "token_coverage"].max()
    assert cov.loc["mean", "token_coverage"] == pytest.approx(cov.loc[["de", "sw"], "token_coverage"].mean())
    assert 0.6 < cov.loc["de", "token_coverage"] < 0.85
    assert (cov["tokens"] == corpus.n_words).all()


def test_switch_rates_and_unswitched_words(corpus) -> None:
    decisions = corpus.decide(0)
    rates = diagnostics.switch_rates(corpus, decisions).set_index("language")
    assert rates.loc["all", "words_switched"] == rates.loc[["de", "sw"], "words_switched"].sum()
    replaced = rates.loc["all", "words_switched"] + rates.loc["all", "words_same"]  # same word: not switched
    assert replaced == int(corpus.switched_mask(decisions).sum())
    top = diagnostics.unswitched_words(corpus, decisions, top=10)
    assert len(top) == 10 and top["count"].is_monotonic_decreasing
    # MUSE leaves out some function words ("of"): they top the list, untranslatable.
    assert top.set_index("word").loc["of", "translatable_into"] == 0


def test_side_by_side_marks_switched_words(corpus) -> None:
    decisions = corpus.decide(0)
    table = diagnostics.side_by_side(corpus, decisions, n=3)
    assert list(table["field"]) == ["text_a", "text_b"] * 3
    assert (table["original"] != table["switched"]).any()
    page = diagnostics.side_by_side_html(corpus, decisions, n=3)
    assert page.count("<tr>") == 7 and '<mark title="de">' in page


def test_html_escapes_text() -> None:
    sw = CodeSwitcher(
        {"de": BilingualDictionary.from_pairs("de", [("cat", "katze")])},
        CodeSwitchConfig(languages=("de",), token_ratio=1.0),
    )
    c = sw.analyse([{"id": "1", "text_a": "<b>cat</b> & cat"}], ["text_a"])
    page = diagnostics.side_by_side_html(c, c.decide(0))
    assert "&lt;b&gt;" in page and '<mark title="de">katze</mark>' in page and "<b>" not in page


def test_written_coverage_is_lower_than_handled(corpus, data_dir: Path) -> None:
    dicts = load_dictionaries(["de", "sw"], data_dir)
    written = diagnostics.written_token_coverage(corpus.slot_text, dicts)
    handled = diagnostics.coverage(corpus).set_index("language").loc["union", "token_coverage"]
    assert written["as_written"] <= written["lowercased"] < handled
