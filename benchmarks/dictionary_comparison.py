"""Does filling the Swahili and Urdu dictionaries change what code-switched training transfers? (issue 18)

Reads the completed runs of ``params/induced-dictionaries.yaml`` and prints, for the
languages whose dictionaries the conditions change (``--languages``, default sw and
ur) and the 15-language average:

1. **Coverage**: the share of the phase-2 training text's English word tokens (the
   runs' MNLI subsample) that each condition's dictionary can translate, and its
   source (`xlt_lib.codeswitch.diagnostics.coverage`, what the explorer shows).
2. **Zero-shot accuracy** per condition: mean and sd over seeds, and every seed.
3. **Contrasts between code-switched conditions**, which the significance report
   does not make (it compares each condition with the monolingual one): the
   report's own seed-level tests (`xlt_lib.stats.seeds`: Welch's t-test as the
   primary test, the exact permutation test, a percentile bootstrap interval),
   Holm-adjusted over the whole family (contrasts x columns).

The significance report's verdicts (each condition against monolingual) come from
``xlt report``; this script adds what the dictionary question needs. The last line
is one JSON object.

    .venv/bin/python benchmarks/dictionary_comparison.py runs/induced-dictionaries
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from xlt_lib.codeswitch import CodeSwitchConfig, build_switcher, diagnostics
from xlt_lib.experiment import load_experiment
from xlt_lib.report.results import load_results
from xlt_lib.stats.multiple import adjust_pvalues
from xlt_lib.stats.seeds import bootstrap_mean_difference, permutation_test, welch_test
from xlt_lib.tasks import get_task, load_split, subsample
from xlt_lib.training.data import SUBSET_SEED

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params/induced-dictionaries.yaml"
#: (treatment, reference): the question of the issue first, then what isolates the source.
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("muse-induced", "muse-only"),
    ("muse-induced", "muse-lists"),
    ("muse-filled", "muse-lists"),
    ("muse-lists", "muse-only"),
)
AVERAGE = "avg"


def coverage_table(params: Path, languages: list[str]) -> pd.DataFrame:
    """Token coverage of ``languages`` per code-switched condition, over the phase-2 training text."""
    experiment = load_experiment(params)
    task = get_task(experiment.intermediate_tasks[0])  # type: ignore[arg-type]
    limit = experiment.intermediate_settings.get("max_train_examples")
    text = subsample(load_split(task, "train", "en", data_dir=experiment.data_dir), limit, SUBSET_SEED)
    rows = []
    for condition in experiment.conditions:
        if condition.codeswitch is None:
            continue
        config = CodeSwitchConfig.from_dict(condition.codeswitch)
        shown = [lang for lang in languages if lang in config.languages]
        if not shown:
            rows.append(
                {"condition": condition.name, "language": ", ".join(languages), "source": "not switched"}
            )
            continue
        switcher = build_switcher(config, experiment.data_dir)
        table = diagnostics.coverage(switcher.analyse(text, list(task.text_fields))).set_index("language")
        for lang in shown:
            rows.append(
                {
                    "condition": condition.name,
                    "language": lang,
                    "source": table.loc[lang, "source"],
                    "token_coverage": round(float(table.loc[lang, "token_coverage"]), 3),
                    "type_coverage": round(float(table.loc[lang, "type_coverage"]), 3),
                }
            )
    return pd.DataFrame(rows)


def seed_scores(results: pd.DataFrame, languages: list[str]) -> pd.DataFrame:
    """Accuracy (%) per (condition, seed) for ``languages`` and the average over every language."""
    wide = results.pivot_table(index=["condition", "seed"], columns="language", values="accuracy")
    out = wide[languages].copy()
    out[AVERAGE] = wide.mean(axis=1)
    return out * 100


def accuracy_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd and every seed's score per condition and column."""
    rows = []
    for condition, frame in scores.groupby(level="condition", sort=False):
        for column in scores.columns:
            values = frame[column].to_numpy()
            rows.append(
                {
                    "condition": condition,
                    "language": column,
                    "mean": round(float(values.mean()), 2),
                    "sd": round(float(values.std(ddof=1)), 2),
                    "seeds": " ".join(f"{v:.1f}" for v in values),
                }
            )
    return pd.DataFrame(rows)


def contrast_table(scores: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The contrasts of `CONTRASTS` present in ``scores``, tested over seeds, Holm over the family."""
    present = set(scores.index.get_level_values("condition"))
    rows = []
    for treatment, reference in CONTRASTS:
        if not {treatment, reference} <= present:
            continue
        for column in scores.columns:
            a = scores.loc[treatment, column].to_numpy()
            b = scores.loc[reference, column].to_numpy()
            low, high = bootstrap_mean_difference(a, b, confidence_level=1 - alpha)
            rows.append(
                {
                    "contrast": f"{treatment} - {reference}",
                    "language": column,
                    "diff": round(float(a.mean() - b.mean()), 2),
                    "ci": f"[{low:.2f}, {high:.2f}]",
                    "p_welch": float(welch_test(a, b).p_value),
                    "p_permutation": float(permutation_test(a, b).p_value),
                }
            )
    table = pd.DataFrame(rows)
    if not table.empty:
        adjusted = adjust_pvalues(table["p_welch"].to_numpy(), method="holm", alpha=alpha)
        table["p_holm"] = adjusted["p_adjusted"].to_numpy()
        table["significant"] = adjusted["reject"].to_numpy()
    return table


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    return table.round({"p_welch": 3, "p_permutation": 3, "p_holm": 3})


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "runs_dir", type=Path, help="the experiment's records, e.g. runs/induced-dictionaries"
    )
    parser.add_argument(
        "--params", type=Path, default=PARAMS, help="the experiment file (default: %(default)s)"
    )
    parser.add_argument("--languages", default="sw,ur", help="languages to show (default: %(default)s)")
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    languages = [lang for lang in args.languages.split(",") if lang]

    coverage = coverage_table(args.params, languages)
    results = load_results(args.runs_dir)
    scores = seed_scores(results, languages)
    accuracy = accuracy_table(scores)
    contrasts = contrast_table(scores, args.alpha)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(
            "coverage of the phase-2 training text's English word tokens\n", coverage.to_string(index=False)
        )
        print("\nzero-shot XNLI accuracy (%), seeds", sorted(set(results["seed"])))
        print(accuracy.to_string(index=False))
        print(f"\ncontrasts over seeds (Welch primary, Holm over {len(contrasts)} tests, alpha {args.alpha})")
        print(_rounded(contrasts).to_string(index=False))
    summary = {
        "seeds": sorted(int(s) for s in set(results["seed"])),
        "accuracy": {f"{r.condition}/{r.language}": [r.mean, r.sd] for r in accuracy.itertuples(index=False)},
        "contrasts": {
            f"{r.contrast}/{r.language}": {"diff": r.diff, "p_holm": round(float(r.p_holm), 4)}
            for r in contrasts.itertuples(index=False)
        },
        "significant": [
            f"{r.contrast}/{r.language}" for r in contrasts.itertuples(index=False) if r.significant
        ],
        "coverage": {
            f"{r.condition}/{r.language}": float(r.token_coverage)
            for r in coverage.dropna(subset=["token_coverage"]).itertuples(index=False)
        },
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
