"""How much code-switching actually happened, and why not more: tidy tables.

All figures are counted in *words* of the switched fields (a switched
dictionary phrase counts all its words) from one `AnalysedCorpus` and one epoch's
`SwitchDecisions`, so they describe exactly the data a run trained on.

Because a unit the drawn language lacks stays English (CoSDA-ML), the expected
share of words *replaced* is ``sentence_ratio × token_ratio × mean per-language
token coverage`` (uniform language draw).

Dictionaries also map many words to themselves (MUSE has "yeah" → "yeah" and
"not" → "not" in German): such a replacement leaves the text as it was. Every
table here counts a word as *switched* only when its text changed, which is also
what the explorer's side-by-side table highlights; a replacement by the same
word is counted apart (``words_same``), shown with a dotted underline instead
of a highlight, and listed among the words that stay English. `switch_rates`
reports the achieved switch rate beside its expectation, which discounts
same-word translations, and the replacement rate that CoSDA-ML's ratios set.

pandas is imported by the functions that build tables, so that the ``xlt codeswitch``
commands, which import this module, leave ``xlt --help`` fast.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from xlt_lib.codeswitch.dictionary import BilingualDictionary, normalise_key
from xlt_lib.codeswitch.switcher import AnalysedCorpus, SwitchDecisions

if TYPE_CHECKING:
    import pandas as pd


def dictionary_table(dictionaries: Mapping[str, BilingualDictionary]) -> pd.DataFrame:
    """One row per dictionary: size, phrases, duplicates, skipped lines."""
    import pandas as pd

    return pd.DataFrame([d.summary() for d in dictionaries.values()])


def _translatable(corpus: AnalysedCorpus) -> np.ndarray:
    """(units, languages) bool: has unit ``u`` a translation into language ``l``."""
    _, count = corpus.switcher.types.arrays()
    return count[corpus.unit_type] > 0


def coverage(corpus: AnalysedCorpus) -> pd.DataFrame:
    """Share of English word tokens and types with a translation, per language and for the union.

    Columns: ``language`` (``"union"`` for any language, ``"mean"`` for the
    average over languages, which sets the expected switch rate), ``source`` (where
    the language's dictionary came from: ``muse``, ``extra``, ``file`` or ``induced``;
    empty for the union and mean rows), ``token_coverage``, ``type_coverage``,
    ``tokens``, ``types``.
    """
    import pandas as pd

    languages = corpus.switcher.languages
    has = _translatable(corpus)
    types, first = np.unique(corpus.unit_type, return_index=True)
    type_has = has[first]
    n_tokens, n_types = corpus.n_units, len(types)
    rows = []
    for li, lang in enumerate(languages):
        rows.append(
            {
                "language": lang,
                "source": corpus.switcher.dictionaries[lang].source,
                "token_coverage": float(has[:, li].mean()) if n_tokens else 0.0,
                "type_coverage": float(type_has[:, li].mean()) if n_types else 0.0,
            }
        )
    any_has = has.any(axis=1)
    rows.append(
        {
            "language": "union",
            "source": "",
            "token_coverage": float(any_has.mean()) if n_tokens else 0.0,
            "type_coverage": float(type_has.any(axis=1).mean()) if n_types else 0.0,
        }
    )
    per_language = pd.DataFrame(rows[:-1])
    rows.append(
        {
            "language": "mean",
            "source": "",
            "token_coverage": float(per_language["token_coverage"].mean()),
            "type_coverage": float(per_language["type_coverage"].mean()),
        }
    )
    out = pd.DataFrame(rows)
    out["tokens"] = n_tokens
    out["types"] = n_types
    return out


def same_word_spans(corpus: AnalysedCorpus, decisions: SwitchDecisions) -> np.ndarray:
    """Bool per switched span: is its translation the English text itself (``"yeah"`` → ``"yeah"``)?

    Compared in look-up form (`normalise_key`: case, spacing and apostrophes
    ignored), so a capitalised copy of the word counts as the same word.
    """
    texts = corpus.slot_text
    slots = corpus.unit_slot[decisions.units].tolist()
    starts = corpus.unit_start[decisions.units].tolist()
    ends = decisions.ends.tolist()
    replacements = corpus.replacements(decisions)
    return np.array(
        [
            normalise_key(rep) == normalise_key(texts[slot][start:end])
            for slot, start, end, rep in zip(slots, starts, ends, replacements, strict=True)
        ],
        dtype=bool,
    )


def _spans(decisions: SwitchDecisions, keep: np.ndarray) -> SwitchDecisions:
    """The decisions restricted to the spans ``keep`` marks."""
    return dataclasses.replace(
        decisions,
        units=decisions.units[keep],
        ends=decisions.ends[keep],
        n_words=decisions.n_words[keep],
        languages=decisions.languages[keep],
        picks=decisions.picks[keep],
    )


def _same_share(corpus: AnalysedCorpus) -> np.ndarray:
    """(types, languages): the share of a type's candidate translations that are the type itself.

    A replacement draws uniformly among the candidates, so this is the chance
    that replacing the word leaves it unchanged.
    """
    types = corpus.switcher.types
    start, count = types.arrays()
    lower = types.variants[0]
    # Candidates are stored type by type, language by language: their owner type, in storage order.
    owner = np.repeat(np.repeat(np.arange(len(types.keys)), len(types.languages)), count.ravel())
    same = np.fromiter(
        (normalise_key(t) == types.keys[o] for t, o in zip(lower, owner.tolist(), strict=True)),
        dtype=np.int64,
        count=len(lower),
    )
    cumulative = np.concatenate([[0], np.cumsum(same)])
    n_same = cumulative[start + count] - cumulative[start]
    return np.divide(n_same, count, out=np.zeros(count.shape), where=count > 0)


def _expected_words(corpus: AnalysedCorpus, count_same: bool) -> np.ndarray:
    """(units, languages): the chance that a word is replaced into a language, given it is drawn."""
    expected = (_translatable(corpus) & ~corpus.unit_protected[:, None]).astype(float)
    if not count_same:
        expected *= 1.0 - _same_share(corpus)[corpus.unit_type]
    return expected


def expected_switch_rate(corpus: AnalysedCorpus, *, count_same: bool = False) -> float:
    """The share of words expected to be switched, for this corpus and the switcher's settings.

    ``sentence_ratio × token_ratio × coverage``, where coverage is the mean
    per-language token coverage of the units that may be switched (answer-span
    words of extractive QA excluded), each translation weighted by the chance
    that it differs from the English word. ``count_same=True`` counts
    replacements by the same word too: the replacement rate CoSDA-ML's
    ratios set.
    """
    cfg = corpus.switcher.config
    if corpus.n_units == 0:
        return 0.0
    return cfg.sentence_ratio * cfg.token_ratio * float(_expected_words(corpus, count_same).mean())


def switch_rates(corpus: AnalysedCorpus, decisions: SwitchDecisions) -> pd.DataFrame:
    """Achieved share of words switched, overall (``language="all"``) and into each language.

    Columns: ``language``; ``words_switched`` (words whose text changed: the
    highlighted ones); ``words_same`` (words replaced by the same word, which
    stay English); ``words``; ``switch_rate`` (``words_switched / words``);
    ``replace_rate`` (switched and same, over words: what CoSDA-ML's ratios
    set); ``expected_rate`` (the expectation of ``switch_rate``; per language,
    the overall expectation's share from that language); ``examples_chosen``;
    ``epoch``.
    """
    import pandas as pd

    cfg = corpus.switcher.config
    languages = corpus.switcher.languages
    total = corpus.n_words
    same = same_word_spans(corpus, decisions)
    switched = decisions.n_words * ~same
    unchanged = decisions.n_words * same
    factor = cfg.sentence_ratio * cfg.token_ratio / len(languages)
    per_lang = np.bincount(decisions.languages, weights=switched, minlength=len(languages))
    per_lang_same = np.bincount(decisions.languages, weights=unchanged, minlength=len(languages))
    expected = _expected_words(corpus, count_same=False).sum(axis=0) if total else np.zeros(len(languages))

    def rate(words: float) -> float:
        return float(words / total) if total else 0.0

    rows = [
        {
            "language": lang,
            "words_switched": int(per_lang[li]),
            "words_same": int(per_lang_same[li]),
            "words": total,
            "switch_rate": rate(per_lang[li]),
            "replace_rate": rate(per_lang[li] + per_lang_same[li]),
            "expected_rate": factor * rate(expected[li]),
        }
        for li, lang in enumerate(languages)
    ]
    rows.insert(
        0,
        {
            "language": "all",
            "words_switched": int(switched.sum()),
            "words_same": int(unchanged.sum()),
            "words": total,
            "switch_rate": rate(switched.sum()),
            "replace_rate": rate(decisions.n_words.sum()),
            "expected_rate": expected_switch_rate(corpus),
        },
    )
    out = pd.DataFrame(rows)
    out["examples_chosen"] = int(decisions.chosen.sum())
    out["epoch"] = decisions.epoch
    return out


def unswitched_words(corpus: AnalysedCorpus, decisions: SwitchDecisions, top: int = 20) -> pd.DataFrame:
    """The most frequent words left in English, and whether any dictionary could have switched them.

    A word replaced by the same word (``"yeah"`` → ``"yeah"``) stays English and
    is counted here. Columns: ``word``, ``count``, ``share`` (of all unswitched
    words), ``same_word`` (how many of them were replaced by the same word),
    ``translatable_into`` (number of target languages with a translation).
    """
    import pandas as pd

    same = same_word_spans(corpus, decisions)
    stayed = ~corpus.switched_mask(_spans(decisions, ~same))
    n_types = len(corpus.switcher.types.keys)
    counts = np.bincount(corpus.unit_type[stayed], minlength=n_types)
    same_counts = np.bincount(
        corpus.unit_type[corpus.switched_mask(_spans(decisions, same))], minlength=n_types
    )
    order = np.argsort(-counts, kind="stable")[:top]
    order = order[counts[order] > 0]
    _, count = corpus.switcher.types.arrays()
    total = counts.sum()
    keys = corpus.switcher.types.keys
    return pd.DataFrame(
        {
            "word": [keys[t] for t in order],
            "count": counts[order].astype(int),
            "share": counts[order] / total if total else 0.0,
            "same_word": same_counts[order].astype(int),
            "translatable_into": (count[order] > 0).sum(axis=1),
        }
    )


def _examples_to_show(corpus: AnalysedCorpus, n: int) -> list[int]:
    return list(range(min(n, len(corpus))))


def _slots_by_example(corpus: AnalysedCorpus) -> list[int]:
    """Slot indices grouped by example (fields in order within an example)."""
    return np.argsort(corpus.slot_example, kind="stable").tolist()


def side_by_side(corpus: AnalysedCorpus, decisions: SwitchDecisions, n: int = 5) -> pd.DataFrame:
    """The first ``n`` examples, one row per switched text slot: ``id, field, original, switched``."""
    import pandas as pd

    new = corpus.render_slots(decisions)
    wanted = set(_examples_to_show(corpus, n))
    rows = []
    for slot in _slots_by_example(corpus):
        text = corpus.slot_text[slot]
        ex = int(corpus.slot_example[slot])
        if ex not in wanted:
            continue
        field = corpus.fields[int(corpus.slot_field[slot])]
        elem = int(corpus.slot_elem[slot])
        rows.append(
            {
                "id": corpus.ids[ex],
                "field": field if elem < 0 else f"{field}[{elem}]",
                "original": text,
                "switched": new.get(slot, text),
            }
        )
    return pd.DataFrame(rows, columns=["id", "field", "original", "switched"])


#: Inline styles of the side-by-side table. Inline, because the same HTML is shown by JupyterLab
#: (whose stylesheet right-aligns table cells) and by nbconvert pages, and no stylesheet reaches both.
_TABLE_STYLE = "border-collapse: collapse; table-layout: auto"
_HEAD_STYLE = "text-align: left; vertical-align: bottom; padding: 0.3em 0.6em"
_KEY_STYLE = "text-align: left; vertical-align: top; padding: 0.3em 0.6em; white-space: nowrap"
_TEXT_STYLE = (
    "text-align: left; vertical-align: top; padding: 0.3em 0.6em; white-space: normal; "
    "min-width: 18em; max-width: 36em; line-height: 1.45"
)
_SAME_STYLE = "border-bottom: 1px dotted currentColor"
_CAPTION = (
    '<caption style="caption-side: bottom; text-align: left; padding-top: 0.4em">'
    "Highlighted: switched words (hover for the language). Dotted: words the dictionary translates as "
    "themselves, which stay English and are not counted as switched.</caption>"
)


def _marked(word: str, language: str, same: bool) -> str:
    """A switched word highlighted with its language as the tooltip, or a same-word one underlined."""
    if same:
        title = html.escape(f"{language}: same word")
        return f'<span class="xlt-same" title="{title}" style="{_SAME_STYLE}">{html.escape(word)}</span>'
    return f'<mark title="{html.escape(language)}">{html.escape(word)}</mark>'


def side_by_side_html(corpus: AnalysedCorpus, decisions: SwitchDecisions, n: int = 5) -> str:
    """An HTML table of original and switched text; switched words in ``<mark title=LANG>``.

    Switched words are marked in both columns (the English word on the left, its
    translation on the right), so the table reads without colour too. A word
    replaced by the same word is not a switch: it gets a dotted underline
    (``<span class="xlt-same">``) instead, as `switch_rates` counts it apart.
    Cells are left-aligned with a readable width by inline styles.
    """
    languages = corpus.switcher.languages
    replacements = corpus.replacements(decisions)
    same = same_word_spans(corpus, decisions).tolist()
    by_slot: dict[int, list[tuple[int, int, str, str, bool]]] = {}
    wanted = set(_examples_to_show(corpus, n))
    for k, u in enumerate(decisions.units.tolist()):
        slot = int(corpus.unit_slot[u])
        by_slot.setdefault(slot, []).append(
            (
                int(corpus.unit_start[u]),
                int(decisions.ends[k]),
                replacements[k],
                languages[decisions.languages[k]],
                same[k],
            )
        )
    rows = []
    for slot in _slots_by_example(corpus):
        text = corpus.slot_text[slot]
        ex = int(corpus.slot_example[slot])
        if ex not in wanted:
            continue
        spans = by_slot.get(slot, [])
        left, right, pos = [], [], 0
        for s, e, rep, lang, is_same in spans:
            plain = html.escape(text[pos:s])
            left += [plain, _marked(text[s:e], lang, is_same)]
            right += [plain, _marked(rep, lang, is_same)]
            pos = e
        left.append(html.escape(text[pos:]))
        right.append(html.escape(text[pos:]))
        field = corpus.fields[int(corpus.slot_field[slot])]
        elem = int(corpus.slot_elem[slot])
        name = field if elem < 0 else f"{field}[{elem}]"
        rows.append(
            f'<tr><td style="{_KEY_STYLE}">{html.escape(corpus.ids[ex])}</td>'
            f'<td style="{_KEY_STYLE}">{html.escape(name)}</td>'
            f'<td style="{_TEXT_STYLE}">{"".join(left)}</td><td style="{_TEXT_STYLE}">{"".join(right)}</td></tr>'
        )
    head = "".join(
        f'<th style="{_HEAD_STYLE}">{name}</th>' for name in ("id", "field", "original", "switched")
    )
    return (
        f'<table class="xlt-codeswitch" style="{_TABLE_STYLE}">{_CAPTION}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def written_token_coverage(
    texts: Iterable[str], dictionaries: Mapping[str, BilingualDictionary]
) -> dict[str, float]:
    """Token coverage the way both references measure it: split on single spaces, look up as written.

    Returns the union coverage ``as_written`` (punctuation attached, case kept)
    and ``lowercased``; `coverage` gives the coverage of this package's units.
    """
    keys: set[str] = set()
    for d in dictionaries.values():
        keys.update(d.entries)
    n = written = lowered = 0
    for text in texts:
        for token in text.split(" "):
            if not token:
                continue
            n += 1
            written += token in keys
            lowered += normalise_key(token) in keys
    return {
        "tokens": n,
        "as_written": written / n if n else 0.0,
        "lowercased": lowered / n if n else 0.0,
    }
