"""How much code-switching actually happened, and why not more: tidy tables.

All figures are counted in *words* of the switched fields (a switched
dictionary phrase counts all its words) from one `AnalysedCorpus` and one epoch's
`SwitchDecisions`, so they describe exactly the data a run trained on.

Because a unit the drawn language lacks stays English (CoSDA-ML), the expected
switch rate is ``sentence_ratio × token_ratio × mean per-language token
coverage`` (uniform language draw), which `switch_rates` reports beside the
achieved rate.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from xlt_lib.codeswitch.dictionary import BilingualDictionary, normalise_key
from xlt_lib.codeswitch.switcher import AnalysedCorpus, SwitchDecisions


def dictionary_table(dictionaries: Mapping[str, BilingualDictionary]) -> pd.DataFrame:
    """One row per dictionary: size, phrases, duplicates, skipped lines."""
    return pd.DataFrame([d.summary() for d in dictionaries.values()])


def _translatable(corpus: AnalysedCorpus) -> np.ndarray:
    """(units, languages) bool: has unit ``u`` a translation into language ``l``."""
    _, count = corpus.switcher.types.arrays()
    return count[corpus.unit_type] > 0


def coverage(corpus: AnalysedCorpus) -> pd.DataFrame:
    """Share of English word tokens and types with a translation, per language and for the union.

    Columns: ``language`` (``"union"`` for any language, ``"mean"`` for the
    average over languages, which sets the expected switch rate), ``token_coverage``,
    ``type_coverage``, ``tokens``, ``types``.
    """
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
                "token_coverage": float(has[:, li].mean()) if n_tokens else 0.0,
                "type_coverage": float(type_has[:, li].mean()) if n_types else 0.0,
            }
        )
    any_has = has.any(axis=1)
    rows.append(
        {
            "language": "union",
            "token_coverage": float(any_has.mean()) if n_tokens else 0.0,
            "type_coverage": float(type_has.any(axis=1).mean()) if n_types else 0.0,
        }
    )
    per_language = pd.DataFrame(rows[:-1])
    rows.append(
        {
            "language": "mean",
            "token_coverage": float(per_language["token_coverage"].mean()),
            "type_coverage": float(per_language["type_coverage"].mean()),
        }
    )
    out = pd.DataFrame(rows)
    out["tokens"] = n_tokens
    out["types"] = n_types
    return out


def expected_switch_rate(corpus: AnalysedCorpus) -> float:
    """``sentence_ratio × token_ratio × coverage`` for this corpus and the switcher's settings.

    Coverage is the mean per-language token coverage of the units that may be
    switched (answer-span words of extractive QA excluded).
    """
    cfg = corpus.switcher.config
    if corpus.n_units == 0:
        return 0.0
    has = _translatable(corpus) & ~corpus.unit_protected[:, None]
    mean_coverage = float(has.mean())
    return cfg.sentence_ratio * cfg.token_ratio * mean_coverage


def switch_rates(corpus: AnalysedCorpus, decisions: SwitchDecisions) -> pd.DataFrame:
    """Achieved share of words switched, overall (``language="all"``) and into each language.

    Columns: ``language``, ``words_switched``, ``words``, ``switch_rate``,
    ``expected_rate`` (per language: the overall expectation's share from that
    language), ``examples_chosen``.
    """
    cfg = corpus.switcher.config
    languages = corpus.switcher.languages
    total = corpus.n_words
    switched_words = decisions.n_words
    has = _translatable(corpus) & ~corpus.unit_protected[:, None]
    factor = cfg.sentence_ratio * cfg.token_ratio / len(languages)
    per_lang = np.bincount(decisions.languages, weights=switched_words, minlength=len(languages))
    rows = [
        {
            "language": lang,
            "words_switched": int(per_lang[li]),
            "words": total,
            "switch_rate": per_lang[li] / total if total else 0.0,
            "expected_rate": factor * float(has[:, li].sum()) / total if total else 0.0,
        }
        for li, lang in enumerate(languages)
    ]
    rows.insert(
        0,
        {
            "language": "all",
            "words_switched": int(switched_words.sum()),
            "words": total,
            "switch_rate": float(switched_words.sum() / total) if total else 0.0,
            "expected_rate": expected_switch_rate(corpus),
        },
    )
    out = pd.DataFrame(rows)
    out["examples_chosen"] = int(decisions.chosen.sum())
    out["epoch"] = decisions.epoch
    return out


def unswitched_words(corpus: AnalysedCorpus, decisions: SwitchDecisions, top: int = 20) -> pd.DataFrame:
    """The most frequent words left in English, and whether any dictionary could have switched them.

    Columns: ``word``, ``count``, ``share`` (of all unswitched words),
    ``translatable_into`` (number of target languages with a translation).
    """
    types = corpus.unit_type[~corpus.switched_mask(decisions)]
    counts = np.bincount(types, minlength=len(corpus.switcher.types.keys))
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


def side_by_side_html(corpus: AnalysedCorpus, decisions: SwitchDecisions, n: int = 5) -> str:
    """An HTML table of original and switched text; switched words in ``<mark title=LANG>``.

    Switched words are marked in both columns (the English word on the left, its
    translation on the right), so the table reads without colour too.
    """
    languages = corpus.switcher.languages
    replacements = corpus.replacements(decisions)
    by_slot: dict[int, list[tuple[int, int, str, str]]] = {}
    wanted = set(_examples_to_show(corpus, n))
    for k, u in enumerate(decisions.units.tolist()):
        slot = int(corpus.unit_slot[u])
        by_slot.setdefault(slot, []).append(
            (
                int(corpus.unit_start[u]),
                int(decisions.ends[k]),
                replacements[k],
                languages[decisions.languages[k]],
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
        for s, e, rep, lang in spans:
            plain = html.escape(text[pos:s])
            left += [plain, f'<mark title="{lang}">{html.escape(text[s:e])}</mark>']
            right += [plain, f'<mark title="{lang}">{html.escape(rep)}</mark>']
            pos = e
        left.append(html.escape(text[pos:]))
        right.append(html.escape(text[pos:]))
        field = corpus.fields[int(corpus.slot_field[slot])]
        elem = int(corpus.slot_elem[slot])
        name = field if elem < 0 else f"{field}[{elem}]"
        rows.append(
            f"<tr><td>{html.escape(corpus.ids[ex])}</td><td>{html.escape(name)}</td>"
            f"<td>{''.join(left)}</td><td>{''.join(right)}</td></tr>"
        )
    return (
        '<table class="xlt-codeswitch"><thead><tr><th>id</th><th>field</th><th>original</th>'
        f"<th>switched</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
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
