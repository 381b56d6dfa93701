"""Code-switching throughput on MNLI pairs, one CPU core (CoSDA-ML setting).

Switches both sides of every MNLI training pair in the offline mirror into the
13 non-English XNLI languages that have a MUSE-format dictionary (the 12 MUSE
has, plus Urdu from the CoSDA-ML authors' NL-Augmenter dictionary; Swahili's
Wiktionary dictionary is not MUSE's and is left out) at sentence ratio 1.0,
token ratio 0.4, over several epochs of the dynamic schedule. The one-off
analysis (cutting texts into words, resolving translations) is timed apart
from the per-epoch cost (drawing and splicing). Also times the per-example path
that `SwitchedDataset` uses, and reports token coverage the references' way
(split on spaces, look up as written / lowercased) and as handled here.

    .venv/bin/python benchmarks/codeswitch_throughput.py [--quick] [--epochs N] [--data-dir DIR]

The last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: one core means one thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import argparse
import json
import platform
import statistics
import time

from xlt_lib.codeswitch import (
    XNLI_TARGET_LANGUAGES,
    CodeSwitchConfig,
    CodeSwitcher,
    diagnostics,
    load_dictionaries,
)
from xlt_lib.paths import data_dir as resolve_data_dir


def pin_to_one_core() -> int | None:
    """Run on the first CPU this process may use; returns it (None where affinity is unsupported)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def benchmark_languages(root) -> tuple[str, ...]:
    """Non-English XNLI languages with a MUSE dictionary, plus Urdu (MUSE-style, CoSDA-ML's)."""
    muse = [lang for lang in XNLI_TARGET_LANGUAGES if (root / f"dictionaries/muse/en-{lang}.txt").is_file()]
    return (*muse, "ur")


def load_mnli(root, limit: int | None) -> list[dict]:
    """MNLI train pairs in canonical form, via the task registry (or the mirror file if it is missing)."""
    try:
        from xlt_lib.tasks import load_split
    except ImportError:
        raw = json.loads((root / "glue/mnli/train.json").read_text(encoding="utf-8"))
        rows = [
            {"id": f"mnli-train-{int(k):05d}", "text_a": v["text_a"], "text_b": v["text_b"]}
            for k, v in raw.items()
        ]
    else:
        rows = load_split("mnli", "train", data_dir=root).select_columns(["id", "text_a", "text_b"]).to_list()
    return rows[:limit] if limit else rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 pairs, 2 epochs (a smoke run)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    epochs = 2 if args.quick else args.epochs
    cpu = pin_to_one_core()
    root = resolve_data_dir(args.data_dir)
    if root is None:
        parser.error("no data directory: pass --data-dir or set XLT_DATA_DIR")

    languages = benchmark_languages(root)
    rows = load_mnli(root, 2000 if args.quick else None)
    config = CodeSwitchConfig(languages=languages, sentence_ratio=1.0, token_ratio=0.4, seed=42)
    print(f"{len(rows)} MNLI pairs; {len(languages)} languages: {' '.join(languages)}; cpu {cpu}")

    t0 = time.perf_counter()
    dictionaries = load_dictionaries(languages, root)
    load_s = time.perf_counter() - t0
    switcher = CodeSwitcher(dictionaries, config)

    t0, c0 = time.perf_counter(), time.process_time()
    corpus = switcher.analyse(rows, ["text_a", "text_b"])
    analyse_s, analyse_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    epoch_s, epoch_cpu_s = [], []
    rates = []
    for epoch in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        decisions = corpus.decide(epoch)
        corpus.switched_columns(decisions)
        epoch_s.append(time.perf_counter() - t0)
        epoch_cpu_s.append(time.process_time() - c0)
        rates.append(decisions.n_words.sum() / corpus.n_words)
    per_epoch = statistics.median(epoch_s)
    pairs_per_s = len(rows) / per_epoch
    # CPU time of this process: what the figure would be on an unshared core.
    pairs_per_cpu_s = len(rows) / statistics.median(epoch_cpu_s)

    n_single = min(len(rows), 2000)
    t0, c0 = time.perf_counter(), time.process_time()
    for row in rows[:n_single]:
        switcher.switch_example(row, ("text_a", "text_b"), epoch=1)
    single_pairs_per_s = n_single / (time.perf_counter() - t0)
    single_pairs_per_cpu_s = n_single / (time.process_time() - c0)

    written = diagnostics.written_token_coverage(
        (t for row in rows for t in (row["text_a"], row["text_b"])), dictionaries
    )
    coverage = diagnostics.coverage(corpus).set_index("language")

    print(f"dictionaries loaded in {load_s:.2f} s; one-off analysis {analyse_s:.2f} s "
          f"({len(rows) / analyse_s:,.0f} pairs/s)")  # fmt: skip
    print(
        f"per epoch: median {per_epoch * 1000:.1f} ms over {epochs} epochs -> {pairs_per_s:,.0f} pairs/s "
        f"({pairs_per_cpu_s:,.0f} per CPU-second)"
    )
    print(
        f"per-example path (SwitchedDataset): {single_pairs_per_s:,.0f} pairs/s "
        f"({single_pairs_per_cpu_s:,.0f} per CPU-second)"
    )
    print(
        f"achieved switch rate {statistics.mean(rates):.3f} (expected {diagnostics.expected_switch_rate(corpus):.3f})"
    )
    print(
        f"token coverage (union): as written {written['as_written']:.3f}, lowercased {written['lowercased']:.3f}, "
        f"as handled {coverage.loc['union', 'token_coverage']:.3f}; mean per language "
        f"{coverage.loc['mean', 'token_coverage']:.3f}"
    )
    print(
        json.dumps(
            {
                "pairs": len(rows),
                "languages": list(languages),
                "epochs": epochs,
                "pairs_per_s": round(pairs_per_s),
                "pairs_per_cpu_s": round(pairs_per_cpu_s),
                "per_epoch_s": round(per_epoch, 4),
                "analysis_s": round(analyse_s, 3),
                "analysis_cpu_s": round(analyse_cpu_s, 3),
                "analysis_pairs_per_s": round(len(rows) / analyse_s),
                "dictionary_load_s": round(load_s, 3),
                "single_example_pairs_per_s": round(single_pairs_per_s),
                "single_example_pairs_per_cpu_s": round(single_pairs_per_cpu_s),
                "switch_rate": round(float(statistics.mean(rates)), 4),
                "expected_switch_rate": round(diagnostics.expected_switch_rate(corpus), 4),
                "token_coverage": round(float(coverage.loc["union", "token_coverage"]), 4),
                "token_coverage_as_written": round(written["as_written"], 4),
                "token_coverage_lowercased": round(written["lowercased"], 4),
                "mean_language_coverage": round(float(coverage.loc["mean", "token_coverage"]), 4),
                "cpu": cpu,
                "python": platform.python_version(),
                "quick": args.quick,
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
