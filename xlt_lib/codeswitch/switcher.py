"""The CoSDA-ML procedure, over canonical examples of any task format.

Procedure (Qin et al. 2020): choose each example with probability
``sentence_ratio``; replace each word (see `text`) of a chosen example, with
probability ``token_ratio``, by a random translation into a language drawn
uniformly from ``languages`` (per word, or once per example in ``per_sentence``
mode). Where the drawn language has a dictionary phrase starting at the word,
the longest such phrase is replaced instead (its other words go with it). A word
the drawn language lacks stays English — as in CoSDA-ML, so the achieved rate is
``sentence_ratio × token_ratio × mean per-language coverage``.

Speed comes from doing the expensive part once: `CodeSwitcher.analyse` cuts every
text into units and resolves each distinct unit to its candidate translations
(cached per word type, shared across calls); each epoch then only draws random
numbers for the whole corpus in a few numpy passes (`streams`) and splices the
chosen translations into the original strings.

Fields: a string field is one text; a list-of-strings field (``choices`` of
multiple choice, ``tokens`` of tagging) is switched element by element, so list
lengths and token/tag alignment never change. For extractive QA the units
overlapping an answer span are left untouched and ``answers.answer_start`` is
recomputed for the switched context.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlt_lib.codeswitch import streams
from xlt_lib.codeswitch.config import CodeSwitchConfig
from xlt_lib.codeswitch.dictionary import BilingualDictionary
from xlt_lib.codeswitch.sources import load_configured_dictionaries
from xlt_lib.codeswitch.text import PhraseIndex, apply_case, find_units
from xlt_lib.errors import ConfigError, DataError

_CONTEXT_FIELD = "context"  # the field SQuAD-style ``answers`` offsets point into
_MASK64 = (1 << 64) - 1


class TypeTable:
    """Candidate translations of every distinct unit key seen so far, in all languages.

    ``start[t, l]`` and ``count[t, l]`` locate the translations of type ``t`` into
    language ``l`` in the flat ``variants`` lists (one list per English case:
    lower, Capitalised, UPPER, so casing costs nothing per epoch). A type with
    ``count[t].sum() == 0`` has no translation at all.
    """

    def __init__(self, dictionaries: Mapping[str, BilingualDictionary], languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        self._entries = [dictionaries[lang].entries for lang in self.languages]
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []
        self._start: list[list[int]] = []
        self._count: list[list[int]] = []
        self.variants: tuple[list[str], list[str], list[str]] = ([], [], [])
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def type_of(self, key: str) -> int:
        """The type id of a normalised key, resolving its translations on first sight."""
        tid = self.ids.get(key)
        if tid is not None:
            return tid
        lower, capital, upper = self.variants
        starts, counts = [], []
        for lang, entries in zip(self.languages, self._entries, strict=True):
            translations = entries.get(key, ())
            starts.append(len(lower))
            counts.append(len(translations))
            for t in translations:
                lower.append(t)
                capital.append(apply_case(t, 1, lang))
                upper.append(apply_case(t, 2, lang))
        tid = len(self.keys)
        self.ids[key] = tid
        self.keys.append(key)
        self._start.append(starts)
        self._count.append(counts)
        self._arrays = None
        return tid

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(start, count)`` as int64 arrays of shape (types, languages)."""
        if self._arrays is None or len(self._arrays[0]) != len(self.keys):
            shape = (len(self.keys), len(self.languages))
            self._arrays = (
                np.array(self._start, dtype=np.int64).reshape(shape),
                np.array(self._count, dtype=np.int64).reshape(shape),
            )
        return self._arrays


@dataclass(frozen=True)
class SwitchDecisions:
    """What one epoch switched, one entry per replaced span, in text order.

    ``units`` is the (first) word of each span, ``ends`` its character end (past
    the word, or past the phrase), ``n_words`` its length in words, ``languages``
    the index of its target language and ``picks`` the index of its translation
    in `TypeTable.variants`.
    """

    epoch: int | None
    units: np.ndarray
    ends: np.ndarray
    n_words: np.ndarray
    languages: np.ndarray
    picks: np.ndarray
    chosen: np.ndarray  # bool per example: was the example selected (sentence_ratio)


class _RngDraws:
    """Uniforms from a caller's generator, in the shape the keyed draws have (`switch_text`)."""

    def __init__(self, rng: np.random.Generator, n_examples: int, n_units: int) -> None:
        self.example = rng.random((2, n_examples))
        self.unit = rng.random((3, n_units))

    def for_examples(self, counter: int) -> np.ndarray:
        return self.example[counter - 1]

    def for_units(self, draw: int, idx: np.ndarray) -> np.ndarray:
        return self.unit[draw, idx]


class _KeyedDraws:
    """Uniforms keyed by (seed, epoch, example id, field, position): see `streams`."""

    def __init__(self, corpus: AnalysedCorpus, seed: int, epoch: int) -> None:
        self.keys = streams.example_keys(corpus.id_hashes, seed, epoch)
        self.unit_keys = self.keys[corpus.unit_example]
        self.counters = corpus.unit_counter

    def for_examples(self, counter: int) -> np.ndarray:
        return streams.uniforms(self.keys, counter)

    def for_units(self, draw: int, idx: np.ndarray | slice) -> np.ndarray:
        return streams.uniforms(self.unit_keys[idx], self.counters[idx] + np.uint64(draw))


class AnalysedCorpus:
    """Examples cut into words once, ready to be switched for any epoch.

    Built by `CodeSwitcher.analyse`. A *slot* is one string (a string field, or
    one element of a list field); a *unit* is one word of a slot. Unit arrays
    (``unit_*``) cover every word of every switched field, translatable or not,
    so diagnostics count coverage and unswitched words from the same analysis.
    Dictionary phrases starting at a word live in the ``phrase_*`` arrays.
    """

    def __init__(self, switcher: CodeSwitcher, columns: Mapping[str, Sequence[Any]], fields: Sequence[str]):
        self.switcher = switcher
        self.fields = tuple(fields)
        self.columns = columns
        ids = columns.get("id")
        if ids is None:
            raise DataError("code-switching needs an 'id' column (the canonical schema) to seed each example")
        self.ids = [str(i) for i in ids]
        n = len(self.ids)
        for f in self.fields:
            if f not in columns:
                raise DataError(f"field {f!r} to code-switch is not a column; columns: {', '.join(columns)}")
            if len(columns[f]) != n:
                raise DataError(f"column {f!r} has {len(columns[f])} rows, 'id' has {n}")
        self.id_hashes = np.fromiter((streams.stable_hash64(i) for i in self.ids), dtype=np.uint64, count=n)
        self._analyse()

    # -- analysis -----------------------------------------------------------------------------------

    def _analyse(self) -> None:
        type_of = self.switcher.types.type_of
        phrase_index = self.switcher.phrases
        answers = self.columns.get("answers") if _CONTEXT_FIELD in self.fields else None
        slot_example, slot_field, slot_elem, slot_text = [], [], [], []
        u_slot, u_start, u_end, u_case, u_type, u_counter, u_protected = ([] for _ in range(7))
        p_unit, p_type, p_end, p_words = [], [], [], []
        slot_keys = self.switcher._slot_keys
        for fi, f in enumerate(self.fields):
            column = self.columns[f]
            for ex, value in enumerate(column):
                if isinstance(value, str):
                    items: Iterable[tuple[int, str]] = ((-1, value),)
                elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                    items = enumerate(value)
                else:
                    raise DataError(
                        f"example {self.ids[ex]!r}: field {f!r} must be a string or a list of strings "
                        f"to be code-switched, got {type(value).__name__}"
                    )
                spans = ()
                if answers is not None and f == _CONTEXT_FIELD:
                    spans = _answer_spans(answers[ex], self.ids[ex])
                for elem, text in items:
                    slot = len(slot_text)
                    slot_example.append(ex)
                    slot_field.append(fi)
                    slot_elem.append(elem)
                    slot_text.append(text)
                    skey = slot_keys.get((f, elem))
                    if skey is None:
                        skey = slot_keys[(f, elem)] = streams.stable_hash64(f"{f}\x1f{elem}")
                    for k, unit in enumerate(find_units(text, phrase_index)):
                        protected = bool(spans) and any(unit.start < b and a < unit.end for a, b in spans)
                        for phrase in unit.phrases:
                            if spans and any(unit.start < b and a < phrase.end for a, b in spans):
                                continue
                            p_unit.append(len(u_slot))
                            p_type.append(type_of(phrase.key))
                            p_end.append(phrase.end)
                            p_words.append(phrase.n_words)
                        u_slot.append(slot)
                        u_start.append(unit.start)
                        u_end.append(unit.end)
                        u_case.append(unit.case)
                        u_type.append(type_of(unit.key))
                        u_counter.append((skey + k * streams.DRAWS_PER_UNIT) & _MASK64)
                        u_protected.append(protected)
        self.slot_example = np.array(slot_example, dtype=np.int64)
        self.slot_field = np.array(slot_field, dtype=np.int64)
        self.slot_elem = np.array(slot_elem, dtype=np.int64)
        self.slot_text = slot_text
        self.unit_slot = np.array(u_slot, dtype=np.int64)
        self.unit_example = self.slot_example[self.unit_slot] if u_slot else np.zeros(0, dtype=np.int64)
        self.unit_start = np.array(u_start, dtype=np.int64)
        self.unit_end = np.array(u_end, dtype=np.int64)
        self.unit_case = np.array(u_case, dtype=np.int8)
        self.unit_type = np.array(u_type, dtype=np.int64)
        self.unit_counter = np.array(u_counter, dtype=np.uint64)
        self.unit_protected = np.array(u_protected, dtype=bool)
        # Phrases, grouped by first word, longest first (the order find_units gives).
        self.phrase_unit = np.array(p_unit, dtype=np.int64)
        self.phrase_type = np.array(p_type, dtype=np.int64)
        self.phrase_end = np.array(p_end, dtype=np.int64)
        self.phrase_words = np.array(p_words, dtype=np.int64)
        self.unit_has_phrase = np.zeros(len(u_slot), dtype=bool)
        self.unit_has_phrase[self.phrase_unit] = True
        self._has_answers = answers is not None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_units(self) -> int:
        return len(self.unit_type)

    @property
    def n_words(self) -> int:
        """Words in the switched fields."""
        return self.n_units

    # -- sampling -----------------------------------------------------------------------------------

    def decide(self, epoch: int = 0, rng: np.random.Generator | None = None) -> SwitchDecisions:
        """Draw the switches of one epoch (the static schedule always uses epoch 0).

        With ``rng`` the draws come from that generator instead of the
        (seed, epoch, id)-keyed streams (``epoch`` is then ignored).
        """
        cfg = self.switcher.config
        if rng is not None:
            draws: _RngDraws | _KeyedDraws = _RngDraws(rng, len(self), self.n_units)
            epoch_used = None
        else:
            epoch_used = 0 if cfg.schedule == "static" else int(epoch)
            draws = _KeyedDraws(self, cfg.seed, epoch_used)
        chosen = draws.for_examples(streams.COUNTER_CHOOSE_EXAMPLE) < cfg.sentence_ratio
        empty = np.zeros(0, dtype=np.int64)
        if self.n_units == 0 or not chosen.any() or cfg.token_ratio == 0.0:
            return SwitchDecisions(epoch_used, empty, empty, empty, empty, empty, chosen)
        start, count = self.switcher.types.arrays()
        # Candidates: words of chosen examples that drew "replace" and are not answer words.
        select = draws.for_units(streams.DRAW_SELECT, slice(None))
        idx = np.flatnonzero((select < cfg.token_ratio) & chosen[self.unit_example] & ~self.unit_protected)
        if cfg.mode == "per_sentence":
            example_lang = self.switcher._language_index(draws.for_examples(streams.COUNTER_EXAMPLE_LANGUAGE))
            lang = example_lang[self.unit_example[idx]]
        else:
            lang = self.switcher._language_index(draws.for_units(streams.DRAW_LANGUAGE, idx))
        types = self.unit_type[idx]
        ends = self.unit_end[idx]
        n_words = np.ones(len(idx), dtype=np.int64)
        if len(self.phrase_unit):
            self._prefer_phrases(idx, lang, types, ends, n_words, count)
        n_candidates = count[types, lang]
        keep = n_candidates > 0
        if (n_words > 1).any():
            keep &= ~self._inside_switched_phrase(idx, n_words, keep)
        idx, lang, types, ends, n_words, n_candidates = (
            a[keep] for a in (idx, lang, types, ends, n_words, n_candidates)
        )
        u_pick = draws.for_units(streams.DRAW_PICK, idx)
        picks = start[types, lang] + np.minimum((u_pick * n_candidates).astype(np.int64), n_candidates - 1)
        return SwitchDecisions(epoch_used, idx, ends, n_words, lang, picks, chosen)

    def _prefer_phrases(
        self,
        idx: np.ndarray,
        lang: np.ndarray,
        types: np.ndarray,
        ends: np.ndarray,
        n_words: np.ndarray,
        count: np.ndarray,
    ) -> None:
        """Replace a selected word by the longest phrase starting at it that its language has (in place).

        A Python loop, but only over the few selected words that start a phrase.
        """
        (positions,) = np.nonzero(self.unit_has_phrase[idx])
        if not len(positions):
            return
        first = np.searchsorted(self.phrase_unit, idx[positions], side="left")
        n_phrases = len(self.phrase_unit)
        for pos, p in zip(positions.tolist(), first.tolist(), strict=True):
            unit, language = idx[pos], lang[pos]
            while p < n_phrases and self.phrase_unit[p] == unit:
                if count[self.phrase_type[p], language] > 0:
                    types[pos] = self.phrase_type[p]
                    ends[pos] = self.phrase_end[p]
                    n_words[pos] = self.phrase_words[p]
                    break
                p += 1

    def _inside_switched_phrase(self, idx: np.ndarray, n_words: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Selected words that fall inside an earlier switched phrase (they vanish with it).

        Greedy left to right: a phrase that starts inside a switched phrase is dropped
        too. Loops in Python only over the (few) switched phrases.
        """
        covered = np.zeros(self.n_units + 1, dtype=np.int64)
        covered_until = -1
        phrase_positions = np.flatnonzero(keep & (n_words > 1))
        for unit, k in zip(idx[phrase_positions].tolist(), n_words[phrase_positions].tolist(), strict=True):
            if unit <= covered_until:
                continue  # inside an earlier phrase: the mask below already covers it
            covered[unit + 1] += 1
            covered[unit + k] -= 1
            covered_until = unit + k - 1
        return np.cumsum(covered)[idx] > 0

    def switched_mask(self, decisions: SwitchDecisions) -> np.ndarray:
        """Bool per unit: was this word replaced (alone or inside a phrase)."""
        mask = np.zeros(self.n_units, dtype=bool)
        mask[decisions.units] = True
        for unit, k in zip(
            decisions.units[decisions.n_words > 1].tolist(),
            decisions.n_words[decisions.n_words > 1].tolist(),
            strict=True,
        ):
            mask[unit : unit + k] = True
        return mask

    # -- rendering ----------------------------------------------------------------------------------

    def replacements(self, decisions: SwitchDecisions) -> list[str]:
        """The translation (cased like the English word) spliced in for each switched span."""
        variants = self.switcher.types.variants
        cases = self.unit_case[decisions.units].tolist()
        return [variants[c][p] for c, p in zip(cases, decisions.picks.tolist(), strict=True)]

    def render_slots(self, decisions: SwitchDecisions) -> dict[int, str]:
        """New text of every slot with at least one switched span."""
        texts = self.slot_text
        out: dict[int, str] = {}
        units = decisions.units
        if len(units) == 0:
            return out
        slots = self.unit_slot[units].tolist()
        starts = self.unit_start[units].tolist()
        ends = decisions.ends.tolist()
        reps = self.replacements(decisions)
        # Hand-written splice loop: the one per-epoch Python loop, kept minimal for speed.
        current = slots[0]
        text = texts[current]
        parts: list[str] = []
        pos = 0
        for slot, s, e, rep in zip(slots, starts, ends, reps, strict=True):
            if slot != current:
                parts.append(text[pos:])
                out[current] = "".join(parts)
                current, text, parts, pos = slot, texts[slot], [], 0
            parts.append(text[pos:s])
            parts.append(rep)
            pos = e
        parts.append(text[pos:])
        out[current] = "".join(parts)
        return out

    def switched_columns(self, decisions: SwitchDecisions) -> dict[str, list[Any]]:
        """The switched fields (and re-aligned ``answers``) as whole columns."""
        new_slots = self.render_slots(decisions)
        out = {f: list(self.columns[f]) for f in self.fields}
        for slot, text in new_slots.items():
            ex = int(self.slot_example[slot])
            field = self.fields[int(self.slot_field[slot])]
            elem = int(self.slot_elem[slot])
            if elem < 0:
                out[field][ex] = text
            else:
                column = out[field]
                if column[ex] is self.columns[field][ex]:
                    column[ex] = list(column[ex])
                column[ex][elem] = text
        if self._has_answers:
            out["answers"] = self._realigned_answers(decisions, new_slots)
        return out

    def _realigned_answers(self, decisions: SwitchDecisions, new_slots: Mapping[int, str]) -> list[Any]:
        """Answer offsets moved by the length change of every switched span before them."""
        answers = list(self.columns["answers"])
        if not new_slots:
            return answers
        context_fi = self.fields.index(_CONTEXT_FIELD)
        units = decisions.units
        slots = self.unit_slot[units]
        growth = np.array([len(r) for r in self.replacements(decisions)], dtype=np.int64) - (
            decisions.ends - self.unit_start[units]
        )
        for slot in new_slots:
            if self.slot_field[slot] != context_fi:
                continue
            ex = int(self.slot_example[slot])
            answer = answers[ex]
            if not answer or not answer.get("answer_start"):
                continue
            mine = slots == slot
            ends, deltas = decisions.ends[mine], growth[mine]
            shifted = [int(a + deltas[ends <= a].sum()) for a in answer["answer_start"]]
            answers[ex] = {**answer, "answer_start": shifted}
        return answers

    def switch(self, epoch: int = 0) -> list[dict[str, Any]]:
        """Switched copies of all examples (only the switched fields and ``answers`` change)."""
        decisions = self.decide(epoch)
        new = self.switched_columns(decisions)
        names = list(self.columns)
        return [
            {name: (new[name][i] if name in new else self.columns[name][i]) for name in names}
            for i in range(len(self))
        ]


def _answer_spans(answers: Any, example_id: str) -> tuple[tuple[int, int], ...]:
    if not answers:
        return ()
    try:
        return tuple(
            (int(a), int(a) + len(t)) for a, t in zip(answers["answer_start"], answers["text"], strict=True)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"example {example_id!r}: 'answers' must be {{'text': [...], 'answer_start': [...]}} "
            f"of equal lengths ({exc})"
        ) from None


class CodeSwitcher:
    """Switches English examples into the configured languages with the given dictionaries."""

    def __init__(self, dictionaries: Mapping[str, BilingualDictionary], config: CodeSwitchConfig) -> None:
        missing = [lang for lang in config.languages if lang not in dictionaries]
        if missing:
            raise ConfigError(f"codeswitch.languages: no dictionary loaded for {', '.join(missing)}")
        self.config = config
        self.languages = config.languages  # draw order is the config's, whatever the mapping's order
        self.dictionaries = {lang: dictionaries[lang] for lang in self.languages}
        self.types = TypeTable(self.dictionaries, self.languages)
        self.phrases = PhraseIndex({lang: d.entries for lang, d in self.dictionaries.items()})
        self._slot_keys: dict[tuple[str, int], int] = {}

    def _language_index(self, u: np.ndarray) -> np.ndarray:
        return np.minimum((u * len(self.languages)).astype(np.int64), len(self.languages) - 1)

    def analyse(self, data: Any, fields: Sequence[str]) -> AnalysedCorpus:
        """Cut a `datasets.Dataset`, a mapping of columns or a list of example dicts into units."""
        fields = _check_fields(fields)
        if isinstance(data, Mapping):
            columns = data
        elif isinstance(data, list):
            names = list(data[0]) if data else ["id", *fields]
            columns = {n: [ex.get(n) for ex in data] for n in names}
        else:  # datasets.Dataset: pull only the columns switching needs
            wanted = [c for c in ("id", *fields, "answers") if c in data.column_names]
            columns = data.select_columns(wanted).to_dict()
        return AnalysedCorpus(self, columns, fields)

    def switch_text(self, text: str, rng: np.random.Generator) -> str:
        """Switch one free-standing text with a caller-supplied generator.

        The text is treated as one example (chosen with ``sentence_ratio``); for
        runs that must be reproducible per example use `switch_example`.
        """
        corpus = self.analyse({"id": [""], "text": [text]}, ("text",))
        return corpus.render_slots(corpus.decide(rng=rng)).get(0, text)

    def switch_example(
        self, example: Mapping[str, Any], fields: Sequence[str], epoch: int = 0
    ) -> dict[str, Any]:
        """A switched copy of one canonical example.

        Deterministic in (``config.seed``, ``epoch``, ``example["id"]``): the same
        as this example's row of `switch_dataset` for that epoch. The static
        schedule ignores ``epoch``.
        """
        if "id" not in example:
            raise DataError(
                f"example without an 'id' cannot be switched reproducibly: keys {', '.join(example)}"
            )
        corpus = self.analyse({k: [v] for k, v in example.items()}, fields)
        new = corpus.switched_columns(corpus.decide(epoch))
        return {k: (new[k][0] if k in new else v) for k, v in example.items()}

    def switch_dataset(self, ds: Any, fields: Sequence[str], epoch: int = 0) -> Any:
        """A materialised switched copy of a `datasets.Dataset` (same columns, features and order)."""
        corpus = self.analyse(ds, fields)
        new = corpus.switched_columns(corpus.decide(epoch))
        out = ds.remove_columns(list(new))
        for name, column in new.items():
            out = out.add_column(name, column, feature=ds.features[name])
        return out.select_columns(ds.column_names)


def _check_fields(fields: Sequence[str]) -> tuple[str, ...]:
    if isinstance(fields, str) or not fields or not all(isinstance(f, str) for f in fields):
        raise ConfigError(f"fields to code-switch: expected a non-empty list of field names, got {fields!r}")
    if len(set(fields)) != len(fields):
        raise ConfigError(f"fields to code-switch: listed twice in {list(fields)!r}")
    return tuple(fields)


def resolve_fields(config: CodeSwitchConfig, text_fields: Sequence[str]) -> tuple[str, ...]:
    """The fields to switch: ``config.fields`` (each must be a text field of the task) or all of them."""
    if config.fields is None:
        return tuple(text_fields)
    unknown = [f for f in config.fields if f not in text_fields]
    if unknown:
        raise ConfigError(
            f"codeswitch.fields: {', '.join(unknown)} not a text field of the task "
            f"(text fields: {', '.join(text_fields)})"
        )
    return config.fields


def build_cosda_switcher(
    config: CodeSwitchConfig, data_dir: str | os.PathLike[str] | None = None
) -> CodeSwitcher:
    """CoSDA-ML: load the configured dictionaries (`xlt_lib.codeswitch.sources`) and build a switcher."""
    return CodeSwitcher(load_configured_dictionaries(config, data_dir), config)
