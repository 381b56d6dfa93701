"""Words a dictionary translates as themselves ("yeah" → "yeah") are not switches: counted and shown apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from xlt_lib.codeswitch import (
    BilingualDictionary,
    CodeSwitchConfig,
    CodeSwitcher,
    diagnostics,
    load_dictionaries,
)
from xlt_lib.codeswitch.dictionary import normalise_key

TOY = [("yeah", "yeah"), ("cat", "katze"), ("not", "nicht"), ("not", "not")]


@pytest.fixture
def toy_corpus():
    switcher = CodeSwitcher(
        {"de": BilingualDictionary.from_pairs("de", TOY)},
        CodeSwitchConfig(languages=("de",), token_ratio=1.0),
    )
    return switcher.analyse([{"id": "1", "text_a": "Yeah cat dog"}], ["text_a"])


def test_same_word_is_not_counted_as_switched(toy_corpus) -> None:
    decisions = toy_corpus.decide(0)
    assert diagnostics.same_word_spans(toy_corpus, decisions).tolist() == [True, False]
    rates = diagnostics.switch_rates(toy_corpus, decisions).set_index("language")
    assert rates.loc["all", "words_switched"] == 1 and rates.loc["all", "words_same"] == 1
    assert rates.loc["all", "switch_rate"] == pytest.approx(1 / 3)
    assert rates.loc["all", "replace_rate"] == pytest.approx(2 / 3)
    stayed = diagnostics.unswitched_words(toy_corpus, decisions).set_index("word")
    assert stayed.loc["yeah", "count"] == 1 and stayed.loc["yeah", "same_word"] == 1
    assert stayed.loc["dog", "same_word"] == 0 and "cat" not in stayed.index


def test_expected_rate_discounts_same_word_translations() -> None:
    switcher = CodeSwitcher(
        {"de": BilingualDictionary.from_pairs("de", TOY)},
        CodeSwitchConfig(languages=("de",), token_ratio=1.0),
    )
    corpus = switcher.analyse([{"id": "1", "text_a": "yeah cat not dog"}], ["text_a"])
    # per word: yeah always itself (0), cat (1), not half the time (0.5), dog untranslatable (0)
    assert diagnostics.expected_switch_rate(corpus) == pytest.approx(1.5 / 4)
    assert diagnostics.expected_switch_rate(corpus, count_same=True) == pytest.approx(3 / 4)


def test_html_underlines_same_words_and_highlights_switches(toy_corpus) -> None:
    page = diagnostics.side_by_side_html(toy_corpus, toy_corpus.decide(0))
    same = '<span class="xlt-same" title="de: same word" style="border-bottom: 1px dotted currentColor">Yeah</span>'
    assert page.count(same) == 2  # both columns
    assert page.count('<mark title="de">') == 2 and '<mark title="de">katze</mark>' in page
    assert '<mark title="de">Yeah' not in page
    # Left-aligned, readable cells whatever the page's stylesheet says (JupyterLab right-aligns).
    cells = re.findall(r"<t[dh]\b[^>]*>", page)
    assert len(cells) == 8 and all('style="text-align: left;' in cell for cell in cells)
    assert page.count("max-width: 36em") == 2 and "<caption" in page


def test_real_dictionaries_never_highlight_an_unchanged_word(data_dir: Path) -> None:
    raw = json.loads((data_dir / "glue/mnli/train.json").read_text(encoding="utf-8"))
    rows = [{"id": f"m-{k}", "text_a": v["text_a"]} for k, v in list(raw.items())[:300]]
    switcher = CodeSwitcher(load_dictionaries(["de"], data_dir), CodeSwitchConfig(languages=("de",)))
    corpus = switcher.analyse(rows, ["text_a"])
    decisions = corpus.decide(0)
    assert diagnostics.same_word_spans(corpus, decisions).any(), "MUSE de maps some words to themselves"
    page = diagnostics.side_by_side_html(corpus, decisions, n=len(rows))
    mark = re.compile(r"<mark [^>]*>([^<]*)</mark>")
    pairs = 0
    for row in re.findall(r"<tr>(.*?)</tr>", page)[1:]:
        original, switched = re.findall(r"<td [^>]*>(.*?)</td>", row)[2:]
        for before, after in zip(mark.findall(original), mark.findall(switched), strict=True):
            assert normalise_key(before) != normalise_key(after), (before, after)
            pairs += 1
    switched_spans = ~diagnostics.same_word_spans(corpus, decisions)
    assert pairs == int(switched_spans.sum()) > 0  # every switched span is highlighted, and only those
    rates = diagnostics.switch_rates(corpus, decisions).set_index("language")
    assert rates.loc["all", "words_switched"] == int(decisions.n_words[switched_spans].sum())
