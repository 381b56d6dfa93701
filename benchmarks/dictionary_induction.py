"""Bilingual lexicon induction from the offline encoder, measured against held-out MUSE pairs.

For each of the 12 non-English XNLI languages with a MUSE dictionary, a random
sample of MUSE's English words (ranks 1,000-10,000 in file order, single words
with a single-word translation) is held out: their pairs are used for scoring
only. What the induction sees is a *set* of target words (the MUSE target side:
the held-out words' translations plus the other target words in file order, up
to a cap; no pairing) and the English queries (MNLI training words plus the
held-out words, encoded alone). Nothing is fitted: retrieval is CSLS (k=10) over
mean-pooled word encodings (`xlt_lib.codeswitch.induction`).

Reported per language: precision@1 and @5 (CSLS), precision@1 of plain nearest
neighbour, precision@1 of the pairs whose score reaches the threshold and the
share kept, and the coverage of MNLI's English word tokens (train split) by the
MUSE dictionary and by the induced one (pairs at or above the threshold). Swahili
and Urdu have no MUSE dictionary: they are induced with the candidates the build
uses (`xlt codeswitch induce`: their dictionaries' target side, plus the
tokenizer's Arabic-script words for Urdu) and scored against those dictionaries.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dictionary_induction.py [--quick] [--seed 0]
        [--layer -1] [--prefix ""] [--threshold T] [--data-dir DIR]

torch runs with one thread. The last line of output is one JSON object.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import argparse
import json
import platform
import random
import statistics
import time
from collections import Counter

from xlt_lib.codeswitch import candidates as cands
from xlt_lib.codeswitch.config import XNLI_TARGET_LANGUAGES
from xlt_lib.codeswitch.dictionary import BilingualDictionary, load_dictionary
from xlt_lib.codeswitch.induction import (
    DEFAULT_THRESHOLD,
    Induced,
    InductionSettings,
    candidate_set,
    encoder_embedder,
    precision_above,
    precision_at,
)
from xlt_lib.codeswitch.retrieval import retrieve
from xlt_lib.paths import data_dir as resolve_data_dir

SIZES = {  # held-out words per language, candidate cap, MNLI query words
    "full": (1000, 10000, 15000),
    "quick": (150, 2000, 3000),
}
THRESHOLDS = (0.0, 0.02, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15)


def held_out(dictionary: BilingualDictionary, n: int, rng: random.Random) -> dict[str, tuple[str, ...]]:
    """``n`` English words (ranks 1,000-10,000) with their single-word translations: scored, never seen."""
    words = [w for w in list(dictionary.entries)[1000:10000] if cands.is_word(w)]
    pool = [w for w in words if any(cands.is_word(t) for t in dictionary.entries[w])]
    chosen = rng.sample(pool, min(n, len(pool)))
    return {w: tuple(t for t in dictionary.entries[w] if cands.is_word(t)) for w in chosen}


def muse_candidates(dictionary: BilingualDictionary, gold: dict[str, tuple[str, ...]], cap: int) -> list[str]:
    """The held-out words' translations plus other MUSE target words in file order: a set of words."""
    words = cands.merge(
        [t for ts in gold.values() for t in ts], cands.dictionary_words(dictionary), limit=cap
    )
    return sorted(words)  # a set: sorted, so that no order carries the pairing


def coverage(tokens: Counter[str], covered: set[str]) -> float:
    total = sum(tokens.values())
    return sum(c for w, c in tokens.items() if w in covered) / total if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller sample (minutes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layer", type=int, default=-1)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    mode = "quick" if args.quick else "full"
    n_held, cap, n_queries = SIZES[mode]
    root = resolve_data_dir(args.data_dir)
    assert root is not None, "needs the data directory (XLT_DATA_DIR or the mirror)"
    rng = random.Random(args.seed)
    muse = [lang for lang in XNLI_TARGET_LANGUAGES if (root / f"dictionaries/muse/en-{lang}.txt").is_file()]
    extra = [lang for lang in XNLI_TARGET_LANGUAGES if lang not in muse]

    embed = encoder_embedder("offline-default", args.layer, args.prefix)
    mnli_tokens = cands.training_words("mnli", "en", "train", root)
    mnli_words = cands.english_queries(("mnli",), root, n_queries)

    dictionaries = {lang: load_dictionary(root / f"dictionaries/muse/en-{lang}.txt", lang) for lang in muse}
    dictionaries |= {
        lang: load_dictionary(root / f"dictionaries/extra/en-{lang}.txt", lang) for lang in extra
    }
    gold = {lang: held_out(d, n_held, rng) for lang, d in dictionaries.items()}
    queries = cands.merge(mnli_words, *(list(g) for g in gold.values()))
    t = time.perf_counter()
    query_vectors = embed(queries)
    print(f"{len(queries)} English words encoded in {time.perf_counter() - t:.0f} s", flush=True)

    settings = InductionSettings(max_candidates=cap, threshold=args.threshold)
    rows, pooled = {}, {th: [0, 0, 0] for th in THRESHOLDS}  # threshold -> tested, kept, correct
    for lang, dictionary in dictionaries.items():
        t = time.perf_counter()
        if lang in muse:
            words = muse_candidates(dictionary, gold[lang], cap)
        else:
            built = candidate_set(lang, settings, queries, embed.tokenizer, root).words  # type: ignore[attr-defined]
            words = sorted(cands.merge([t for ts in gold[lang].values() for t in ts], built, limit=cap))
        candidate_vectors = embed(words)
        induced = Induced(lang, queries, words, retrieve(query_vectors, candidate_vectors, method="csls"))
        nn = Induced(lang, queries, words, retrieve(query_vectors, candidate_vectors, method="nn", top=1))
        p = precision_at(induced, gold[lang])
        nn_p1 = precision_at(nn, gold[lang], (1,))[1]
        above = precision_above(induced, gold[lang], args.threshold)
        if lang in muse:
            for th in THRESHOLDS:
                a = precision_above(induced, gold[lang], th)
                pooled[th][0] += a["tested"]
                pooled[th][1] += a["kept"]
                pooled[th][2] += round(a["precision"] * a["kept"]) if a["kept"] else 0
        kept_words = {q for q, _, s in induced.best() if s >= args.threshold}
        rows[lang] = {
            "source": "muse" if lang in muse else f"extra ({dictionary.path.name})",
            "candidates": len(words),
            "held_out": len(gold[lang]),
            "p_at_1": p[1],
            "p_at_5": p[5],
            "nn_p_at_1": nn_p1,
            "precision_above_threshold": above["precision"],
            "kept_share": above["kept"] / above["tested"] if above["tested"] else float("nan"),
            "coverage_dictionary": coverage(mnli_tokens, set(dictionary.entries)),
            "coverage_induced": coverage(mnli_tokens, kept_words),
            "seconds": round(time.perf_counter() - t, 1),
        }
        print(
            lang,
            json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[lang].items()}),
            flush=True,
        )

    print(
        "\n| language | dictionary | candidates | held-out | P@1 | P@5 | NN P@1 | P@1 at score ≥ "
        f"{args.threshold} | kept | MNLI coverage: dictionary | induced |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for lang, r in rows.items():
        print(
            f"| {lang} | {r['source']} | {r['candidates']} | {r['held_out']} | {r['p_at_1']:.3f} | "
            f"{r['p_at_5']:.3f} | {r['nn_p_at_1']:.3f} | {r['precision_above_threshold']:.3f} | "
            f"{r['kept_share']:.2f} | {r['coverage_dictionary']:.3f} | {r['coverage_induced']:.3f} |"
        )
    mean = {
        key: statistics.mean(rows[lang][key] for lang in muse) for key in ("p_at_1", "p_at_5", "nn_p_at_1")
    }
    print(
        f"\nmean over the {len(muse)} MUSE languages: P@1 {mean['p_at_1']:.3f}, P@5 {mean['p_at_5']:.3f}, "
        f"NN P@1 {mean['nn_p_at_1']:.3f}"
    )
    print("\npooled over the MUSE languages: threshold -> precision@1 of kept pairs, share kept")
    by_threshold = {}
    for th, (tested, kept, correct) in pooled.items():
        by_threshold[str(th)] = {"precision": correct / kept if kept else None, "kept_share": kept / tested}
        print(f"  {th:.2f}: {by_threshold[str(th)]['precision'] or 0:.3f}, {kept / tested:.2f}")
    result = {
        "mode": mode,
        "seed": args.seed,
        "layer": args.layer,
        "prefix": args.prefix,
        "threshold": args.threshold,
        "p_at_1": {lang: round(r["p_at_1"], 4) for lang, r in rows.items() if lang in muse},
        "p_at_5": {lang: round(r["p_at_5"], 4) for lang, r in rows.items() if lang in muse},
        "nn_p_at_1": {lang: round(r["nn_p_at_1"], 4) for lang, r in rows.items() if lang in muse},
        "mean_p_at_1": round(mean["p_at_1"], 4),
        "mean_p_at_5": round(mean["p_at_5"], 4),
        "precision_above_threshold": {
            lang: round(r["precision_above_threshold"], 4) for lang, r in rows.items()
        },
        "kept_share": {lang: round(r["kept_share"], 4) for lang, r in rows.items()},
        "by_threshold": by_threshold,
        "coverage_mnli": {
            "dictionary": {lang: round(r["coverage_dictionary"], 4) for lang, r in rows.items()},
            "induced": {lang: round(r["coverage_induced"], 4) for lang, r in rows.items()},
        },
        "induced_scored_against_own_list": {
            lang: {"p_at_1": round(rows[lang]["p_at_1"], 4), "p_at_5": round(rows[lang]["p_at_5"], 4)}
            for lang in extra
        },
        "languages_induced": extra,
        "sizes": {"held_out": n_held, "candidates_cap": cap, "mnli_queries": len(mnli_words)},
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
