"""Bilingual lexicon induction from the encoder itself: English → any language it covers.

No parallel data: every word (English query or target candidate) is encoded
alone and mean-pooled over one layer of the encoder (e5 was trained with mean
pooling); each English word gets the candidate with the best CSLS score
(`xlt_lib.codeswitch.retrieval`). A pair enters the dictionary when its score
reaches ``threshold``; every score is kept (`induced_store`), so a stricter or
looser dictionary is a re-filter, not a rebuild.

Measured (``benchmarks/dictionary_induction.py``, results in
``benchmarks/results/dictionary_induction.md``): the last layer retrieves better
than middle layers for the offline default encoder, and encoding a bare word
better than with e5's ``query:`` prefix; the defaults below follow that.

Candidates come only from legitimate sources (`xlt_lib.codeswitch.candidates`):
the target side of an existing dictionary, the tokenizer's whole-word pieces in
the language's script, and text of training splits, never evaluation splits.
torch is imported inside the functions that encode.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlt_lib.checksums import file_sha256
from xlt_lib.codeswitch import candidates as cands
from xlt_lib.codeswitch.dictionary import BilingualDictionary, default_dictionary_path, load_dictionary
from xlt_lib.codeswitch.induced_store import write_induced
from xlt_lib.codeswitch.retrieval import DEFAULT_K, Retrieval, retrieve
from xlt_lib.errors import ConfigError, DictionaryError
from xlt_lib.model.identity import model_identity
from xlt_lib.model.loading import load_model, load_tokenizer

#: A word-encoding function: words -> (n, dim) float32 rows.
Embed = Callable[[Sequence[str]], np.ndarray]

#: CSLS score an induced pair needs to enter the dictionary. Chosen on the --quick benchmark
#: sample (seed 1: precision@1 0.945 of the 57.5% of held-out words kept, pooled over the 12
#: MUSE languages), then measured on the full one (seed 0): EXPECTED_PRECISION.
DEFAULT_THRESHOLD = 0.04
#: What the full benchmark measured at DEFAULT_THRESHOLD on held-out MUSE pairs, pooled over the
#: 12 MUSE languages (benchmarks/results/dictionary_induction.md: per language 0.73 (el) to 0.95
#: (vi)). Recorded with each dictionary built at that threshold. Measured with candidate sets of
#: 10,000 MUSE target words that hold the right answer: where the candidates miss it (a small
#: list such as Swahili's) the kept pairs are less precise (0.61-0.65 against the sw/ur lists).
EXPECTED_PRECISION: dict[str, Any] = {
    "threshold": DEFAULT_THRESHOLD,
    "precision_at_1": 0.878,
    "kept_share": 0.556,
    "measured_by": "benchmarks/dictionary_induction.py --seed 0 (full; 12 MUSE languages pooled)",
}


@dataclass(frozen=True)
class InductionSettings:
    """How a dictionary is induced; recorded with every induced dictionary.

    ``layer``: hidden state pooled (-1: the last; 0 is the embedding layer);
    ``prefix``: text put before each word (e5 uses ``"query: "``; bare words
    retrieve better here); ``k``: CSLS neighbourhood; ``candidate_sources``:
    subset of `candidates.CANDIDATE_SOURCES`; ``max_candidates`` caps the
    candidate vocabulary (in source order: frequent words first);
    ``query_tasks`` / ``max_queries``: the English words translated, from
    those tasks' training splits.
    """

    model: str = "offline-default"
    layer: int = -1
    prefix: str = ""
    k: int = DEFAULT_K
    threshold: float = DEFAULT_THRESHOLD
    candidate_sources: tuple[str, ...] = ("dictionary", "tokenizer", "train-text")
    max_candidates: int = 30000
    query_tasks: tuple[str, ...] = ("mnli",)
    max_queries: int = 30000
    batch_size: int = 256

    def __post_init__(self) -> None:
        unknown = sorted(set(self.candidate_sources) - set(cands.CANDIDATE_SOURCES))
        if unknown or not self.candidate_sources:
            raise ConfigError(
                f"candidate sources {', '.join(unknown) or '(none)'}: expected some of "
                f"{', '.join(cands.CANDIDATE_SOURCES)}"
            )
        if self.k < 1 or self.max_candidates < 1 or self.max_queries < 1 or self.batch_size < 1:
            raise ConfigError("k, max_candidates, max_queries and batch_size must be positive")

    def record(self) -> dict[str, Any]:
        """JSON-ready settings, as an induced dictionary's build record stores them (batch size aside)."""
        out = asdict(self)
        out.pop("batch_size")
        return {key: list(value) if isinstance(value, tuple) else value for key, value in out.items()}


def encoder_embedder(model_name: str, layer: int = -1, prefix: str = "", batch_size: int = 256) -> Embed:
    """Encode words alone with a model (alias, folder or hub id): mean pooling over ``layer``.

    Words are batched by length (little padding); rows come back in input order.
    """
    import torch

    tokenizer = load_tokenizer(model_name)
    model = load_model(model_name)
    model.train(False)  # inference mode (dropout off)

    def embed(words: Sequence[str]) -> np.ndarray:
        texts = [prefix + w for w in words]
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = tokenizer(
                    [texts[i] for i in idx], padding=True, truncation=True, max_length=32, return_tensors="pt"
                )
                hidden = model(**batch, output_hidden_states=True).hidden_states[layer]
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[idx] = pooled.float().numpy()
        return out

    embed.tokenizer = tokenizer  # type: ignore[attr-defined]  # for tokenizer candidates
    return embed


@dataclass(frozen=True)
class Induced:
    """Retrieval results of one language: each query's ranked candidates and scores."""

    language: str
    queries: list[str]
    candidates: list[str]
    retrieval: Retrieval

    def best(self) -> list[tuple[str, str, float]]:
        """(english, foreign, score) of every query's best candidate."""
        idx, scores = self.retrieval.indices[:, 0].tolist(), self.retrieval.scores[:, 0].tolist()
        return [(q, self.candidates[i], s) for q, i, s in zip(self.queries, idx, scores, strict=True)]

    def ranked(self, query_index: int) -> list[str]:
        return [self.candidates[i] for i in self.retrieval.indices[query_index].tolist()]


def induce(
    language: str,
    queries: Sequence[str],
    candidates: Sequence[str],
    embed: Embed,
    *,
    k: int = DEFAULT_K,
    method: str = "csls",
    top: int = 5,
    query_vectors: np.ndarray | None = None,
) -> Induced:
    """Retrieve the ``top`` candidates of every query (CSLS over the whole query set)."""
    if not queries or not candidates:
        raise DictionaryError(f"induction {language}: {len(queries)} queries, {len(candidates)} candidates")
    q = query_vectors if query_vectors is not None else embed(list(queries))
    c = embed(list(candidates))
    result = retrieve(q, c, method=method, k=k, top=top)  # type: ignore[arg-type]
    return Induced(language, list(queries), list(candidates), result)


def precision_at(
    induced: Induced, gold: Mapping[str, Sequence[str]], ks: Sequence[int] = (1, 5)
) -> dict[int, float]:
    """Share of ``gold``'s English words (among the queries) whose top-k holds a gold translation."""
    position = {q: i for i, q in enumerate(induced.queries)}
    tested = [w for w in gold if w in position]
    out = {}
    for k in ks:
        hits = sum(any(c in gold[w] for c in induced.ranked(position[w])[:k]) for w in tested)
        out[k] = hits / len(tested) if tested else float("nan")
    return out


def precision_above(
    induced: Induced, gold: Mapping[str, Sequence[str]], threshold: float
) -> dict[str, float | int]:
    """Precision@1 of the gold-tested queries whose best score reaches ``threshold``, and how many do."""
    best = {q: (f, s) for q, f, s in induced.best()}
    tested = [w for w in gold if w in best]
    kept = [w for w in tested if best[w][1] >= threshold]
    correct = sum(best[w][0] in gold[w] for w in kept)
    return {
        "tested": len(tested),
        "kept": len(kept),
        "precision": correct / len(kept) if kept else float("nan"),
    }


@dataclass
class CandidateSet:
    """A language's candidate words and how many each source gave (before merging)."""

    words: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    dictionary: BilingualDictionary | None = None


def candidate_set(
    language: str,
    settings: InductionSettings,
    queries: Sequence[str],
    tokenizer: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> CandidateSet:
    """The candidate vocabulary of ``language`` from ``settings.candidate_sources``.

    ``dictionary``: the data directory's dictionary of the language (its target
    side only). ``train-text``: words of every registered task's training split
    in the language that the data directory holds. ``tokenizer``: whole-word
    pieces in the language's script, minus the English queries, for languages
    of a non-Latin script only (`candidates.distinct_script`), and only as a
    fallback where the other sources gave no word: a script is shared (Urdu's
    with Arabic and Persian), and words of a neighbour language would compete
    with the language's own.
    """
    sources: list[list[str]] = []
    counts: dict[str, int] = {}
    dictionary = None
    if "dictionary" in settings.candidate_sources:
        try:
            dictionary = load_dictionary(default_dictionary_path(language, data_dir), language)
        except DictionaryError:
            dictionary = None
        words = cands.dictionary_words(dictionary) if dictionary is not None else []
        sources.append(words)
        counts["dictionary"] = len(words)
    if "train-text" in settings.candidate_sources:
        words = cands.target_training_words(language, data_dir)
        sources.append(words)
        counts["train-text"] = len(words)
    fallback = not any(sources)
    if "tokenizer" in settings.candidate_sources and fallback and cands.distinct_script(language):
        english = set(queries)
        tokenizer = tokenizer if tokenizer is not None else load_tokenizer(settings.model)
        words = [w for w in cands.tokenizer_words(tokenizer, language) if w.lower() not in english]
        sources.append(words)
        counts["tokenizer"] = len(words)
    merged = cands.merge(*sources, limit=settings.max_candidates)
    if not merged:
        raise DictionaryError(
            f"induction {language}: no candidate words from {', '.join(settings.candidate_sources)} "
            "(no dictionary, no training text, no known script)"
        )
    return CandidateSet(merged, counts, dictionary)


def build_induced(
    languages: Sequence[str],
    settings: InductionSettings = InductionSettings(),
    data_dir: str | os.PathLike[str] | None = None,
    embed: Embed | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Path]:
    """Induce and write (`induced_store`) the dictionary of each language; returns their paths.

    The English queries are encoded once for all languages. Where the language
    has an existing dictionary, the precision of the kept pairs against it is
    measured and recorded (``check``): its target side was a candidate set, its
    pairing was not used.
    """
    embed = embed or encoder_embedder(settings.model, settings.layer, settings.prefix, settings.batch_size)
    tokenizer = getattr(embed, "tokenizer", None)  # else loaded where a language needs it
    queries = cands.english_queries(settings.query_tasks, data_dir, settings.max_queries)
    log(f"induction: {len(queries)} English words from {', '.join(settings.query_tasks)} (train)")
    query_vectors = embed(queries)
    identity = model_identity(settings.model)
    out: dict[str, Path] = {}
    for language in languages:
        chosen = candidate_set(language, settings, queries, tokenizer, data_dir)
        induced = induce(language, queries, chosen.words, embed, k=settings.k, query_vectors=query_vectors)
        check: dict[str, Any] | None = None
        if chosen.dictionary is not None:
            gold = {w: chosen.dictionary.entries[w] for w in queries if w in chosen.dictionary.entries}
            check = {
                "against": str(chosen.dictionary.path),
                "precision_at": {str(k): v for k, v in precision_at(induced, gold).items()},
                **precision_above(induced, gold, settings.threshold),
            }
        meta = {
            "settings": settings.record(),
            "model_identity": json.loads(json.dumps(identity)),
            "candidates": len(chosen.words),
            "candidate_counts": chosen.counts,
            "dictionary_sha256": file_sha256(chosen.dictionary.path)
            if chosen.dictionary and chosen.dictionary.path
            else None,
            "check": check,
            "expected_precision": EXPECTED_PRECISION if settings.threshold == DEFAULT_THRESHOLD else None,
            "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        out[language] = write_induced(language, induced.best(), settings.threshold, meta)
        kept = sum(1 for _, _, s in induced.best() if s >= settings.threshold)
        note = (
            f"; precision above threshold vs {Path(check['against']).name}: {check['precision']:.2f} of {check['kept']}"
            if check
            else ""
        )
        log(
            f"induction {language}: {len(chosen.words)} candidates {chosen.counts}, {kept} pairs kept{note} -> {out[language]}"
        )
    return out
