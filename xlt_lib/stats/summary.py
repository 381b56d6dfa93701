"""Words and display tables for the comparison results.

The significance notebook's conclusions are generated here, from the tables of
`xlt_lib.stats.compare`, so that what the report says is tested code and always
matches the numbers: a difference is called an improvement only when the
corrected test says so, a non-significant result is reported as "no evidence"
together with the smallest effect the seeds could have detected, and a result
that the number of seeds made impossible is called that.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from xlt_lib.stats.aso import ASO_THRESHOLD
from xlt_lib.stats.compare import AVERAGE, COMPARISON_KINDS, MAIN_COMPARISON, replicability_table

TEST_NAMES = {"welch": "Welch's t-test", "permutation": "the two-sample permutation test"}
CORRECTION_NAMES = {
    "holm": "Holm-Bonferroni",
    "bonferroni": "Bonferroni",
    "holm-sidak": "Holm-Šidák",
    "bh": "Benjamini-Hochberg",
    "by": "Benjamini-Yekutieli",
    "none": "no",
}
KIND_WORDS = {
    "codeswitched": "code-switched",
    "monolingual": "monolingual",
    "none": "no intermediate training",
}


def _points(value: float, metric: str) -> float:
    """Accuracy and F1 are fractions in the tables and points (x100) in words."""
    return 100 * value if metric in ("accuracy", "macro_f1") else value


def _unit(metric: str) -> str:
    return "points" if metric in ("accuracy", "macro_f1") else metric


def _p_is(value: float) -> str:
    """ "p = 0.012" or "p < 0.001", for sentences."""
    text = _p(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _p(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _condition(name: str, kind: str) -> str:
    return f"{KIND_WORDS[kind]} ({name})" if kind != "none" else f"no intermediate training ({name})"


def describe_methods(comparisons: pd.DataFrame) -> str:
    """One paragraph saying what was tested: unit of analysis, tests, sidedness, families, correction."""
    attrs = comparisons.attrs
    alpha = attrs.get("alpha", 0.05)
    correction = str(comparisons["correction"].iloc[0])
    test = str(comparisons["test"].iloc[0])
    seeds = sorted(set(comparisons["n_treatment"]) | set(comparisons["n_reference"]))
    return (
        f"The unit of analysis is the training run (seed): each condition is represented by its "
        f"{'/'.join(map(str, seeds))} seeds, treated as independent samples. Every difference is "
        f"treatment minus reference. The primary test is {TEST_NAMES[test]} (two-sided, H0: equal mean "
        f"{comparisons['metric'].iloc[0]}); p-values are corrected with {CORRECTION_NAMES[correction]} "
        f"within each comparison kind across targets, intermediate tasks and languages (the averages over "
        f"languages form a separate family), and a result is called significant when the corrected p-value is "
        f"at most α = {alpha:g}. The exact permutation test and Almost Stochastic Order (ASO, eps_min < "
        f"{ASO_THRESHOLD:g} reads as 'clearly better') are reported alongside; intervals are percentile "
        f"bootstrap intervals at {100 * (1 - alpha):g}% over seeds."
    )


def _average_sentence(avg: pd.Series, kind_t: str, kind_r: str, n_languages: int, alpha: float) -> str:
    metric = avg["metric"]
    unit = _unit(metric)
    diff = _points(avg["diff"], metric)
    direction = "above" if diff > 0 else "below" if diff < 0 else "equal to"
    ci = (
        f"{100 * (1 - alpha):g}% CI [{_points(avg['ci_low'], metric):+.2f}, {_points(avg['ci_high'], metric):+.2f}]"
        if not np.isnan(avg["ci_low"])
        else "no CI"
    )
    return (
        f"Averaged over {n_languages} languages, {_condition(avg['treatment'], kind_t)} scored "
        f"{abs(diff):.2f} {unit} {direction} {_condition(avg['reference'], kind_r)} "
        f"({_points(avg['mean_treatment'], metric):.2f} vs {_points(avg['mean_reference'], metric):.2f}; {ci}; "
        f"{avg['n_treatment']} vs {avg['n_reference']} seeds; {TEST_NAMES[avg['test']]} {_p_is(avg['p_value'])}, "
        f"corrected {_p_is(avg['p_adjusted'])})."
    )


def _verdict(avg: pd.Series, kind_t: str, kind_r: str, alpha: float) -> str:
    metric = avg["metric"]
    treatment, reference = KIND_WORDS[kind_t], KIND_WORDS[kind_r]
    if kind_r == "none":
        reference = "no intermediate training"
    if np.isnan(avg["p_value"]):
        return (
            f"The data cannot answer whether {treatment} training differs from {reference}: "
            "a test over seeds needs at least 2 seeds per condition."
        )
    floor = avg["min_attainable_p"]
    if avg["significant"]:
        better = avg["diff"] > 0
        caveat = (
            f" With {avg['n_treatment']} vs {avg['n_reference']} seeds this rests on the t-test's normality "
            f"assumption: the distribution-free permutation test cannot go below p = {floor:.3g}."
            if avg["test"] == "welch" and not np.isnan(floor) and floor > alpha
            else ""
        )
        return (
            f"The data support that {treatment} training is {'better' if better else 'worse'} than "
            f"{reference} on average (significant after correction at α = {alpha:g}).{caveat}"
        )
    if avg["test"] == "permutation" and not np.isnan(floor) and floor > alpha:
        return (
            f"The data cannot show a difference between {treatment} training and {reference}: with "
            f"{avg['n_treatment']} vs {avg['n_reference']} seeds the exact permutation test cannot go below "
            f"p = {floor:.3g}, above α = {alpha:g}. More seeds are needed before any conclusion."
        )
    mde = avg["mde"]
    power = (
        f" With these seeds, a true difference of {_points(mde, metric):.2f} {_unit(metric)} would be detected "
        f"with 80% probability (observed: {_points(abs(avg['diff']), metric):.2f}), so smaller effects remain possible."
        if not np.isnan(mde)
        else ""
    )
    return (
        f"The data show no significant difference between {treatment} training and {reference} on average; "
        f"this is absence of evidence, not evidence of no effect.{power}"
    )


def _language_sentence(rep: pd.Series, correction: str, kind_t: str) -> str:
    n = rep["n_languages"]
    words = (
        f"Per language, the difference is significant after {CORRECTION_NAMES[correction]} correction in "
        f"{rep['significant_better']} of {n} languages in favour of {KIND_WORDS[kind_t]} training and in "
        f"{rep['significant_worse']} against it."
    )
    if pd.isna(rep["replicated_better"]):
        return words
    return words + (
        f" Replicability analysis (Dror et al. 2017, {str(rep['method']).capitalize()} partial conjunctions, family-wise α = "
        f"{rep['alpha']:g}) supports an improvement in at least {rep['replicated_better']} of {n} languages "
        f"and a degradation in at least {rep['replicated_worse']}."
    )


def _aso_sentence(avg: pd.Series, kind_t: str) -> str:
    eps, reverse = avg["aso_eps_min"], avg["aso_eps_min_reverse"]
    level = avg["aso_confidence"]
    if eps < ASO_THRESHOLD:
        reading = f"{KIND_WORDS[kind_t]} training is almost stochastically better"
    elif reverse < ASO_THRESHOLD:
        reading = f"{KIND_WORDS[kind_t]} training is almost stochastically worse"
    else:
        reading = "neither is almost stochastically better"
    return f"ASO on the averages: eps_min = {eps:.2f} (reverse {reverse:.2f}) at confidence {level:.3g}: {reading}."


def describe_findings(comparisons: pd.DataFrame, *, alpha: float | None = None) -> str:
    """A short Markdown summary, in words, of what the comparison table supports.

    One paragraph per (target, intermediate task, treatment, reference) of the
    main comparison (code-switched vs monolingual) built from its ``avg`` row
    and its per-language rows, then one line per comparison with the
    no-intermediate baseline, and a closing overall verdict. Every claim is
    hedged by the corrected test: "support" only when significant, otherwise
    "no significant difference" with the detectable effect, or "cannot show"
    when the number of seeds rules significance out.
    """
    alpha = float(comparisons.attrs.get("alpha", 0.05)) if alpha is None else alpha
    correction = str(comparisons["correction"].iloc[0])
    replicability = replicability_table(comparisons, alpha=alpha)
    key = ["target", "intermediate", "comparison", "treatment", "reference"]
    parts = [describe_methods(comparisons), ""]
    tally = {"better": 0, "worse": 0, "unclear": 0}
    main = comparisons[comparisons["comparison"] == MAIN_COMPARISON]
    for values, group in main.groupby(key, sort=False):
        target, intermediate, kind, _, _ = values
        kind_t, kind_r = COMPARISON_KINDS[kind]
        avg = group[group["language"] == AVERAGE].iloc[0]
        rep = replicability.set_index(key).loc[values]
        n_languages = int(rep["n_languages"])
        parts.append(
            f"**{target}, intermediate task {intermediate}: {avg['treatment']} vs {avg['reference']}.** "
            + " ".join(
                [
                    _average_sentence(avg, kind_t, kind_r, n_languages, alpha),
                    _verdict(avg, kind_t, kind_r, alpha),
                    _language_sentence(rep, correction, kind_t),
                    _aso_sentence(avg, kind_t),
                ]
            )
        )
        parts.append("")
        if avg["significant"]:
            tally["better" if avg["diff"] > 0 else "worse"] += 1
        else:
            tally["unclear"] += 1

    baseline_lines = []
    for values, group in comparisons[comparisons["comparison"] != MAIN_COMPARISON].groupby(key, sort=False):
        target, intermediate, kind, treatment, reference = values
        kind_t, _ = COMPARISON_KINDS[kind]
        avg = group[group["language"] == AVERAGE].iloc[0]
        metric = avg["metric"]
        state = (
            ("significantly better than" if avg["diff"] > 0 else "significantly worse than")
            if avg["significant"]
            else "not significantly different from"
        )
        baseline_lines.append(
            f"- {target}, {intermediate}: {KIND_WORDS[kind_t]} ({treatment}) is {state} no intermediate training "
            f"({reference}) on average ({_points(avg['diff'], metric):+.2f} {_unit(metric)}, "
            f"corrected {_p_is(avg['p_adjusted'])})."
        )
    if baseline_lines:
        parts += ["Against the baseline without intermediate training:", "", *baseline_lines, ""]

    total = sum(tally.values())
    if tally["better"] == total:
        overall = (
            "Overall, the data support the hypothesis: code-switched intermediate training improved average "
            f"zero-shot transfer over monolingual intermediate training in all {total} comparison(s)."
        )
    elif tally["better"] == 0 and tally["worse"] == 0:
        overall = (
            "Overall, the data do not support the hypothesis that code-switched intermediate training improves "
            f"zero-shot transfer over monolingual intermediate training: none of the {total} comparison(s) shows a "
            "significant average difference."
        )
    else:
        overall = (
            f"Overall, the evidence is mixed: code-switched intermediate training is significantly better on "
            f"average in {tally['better']}, significantly worse in {tally['worse']}, and not distinguishable in "
            f"{tally['unclear']} of {total} comparison(s)."
        )
    parts.append(overall)
    return "\n".join(parts).strip() + "\n"


def _mean_sd(mean: float, sd: float, metric: str) -> str:
    if np.isnan(sd):
        return f"{_points(mean, metric):.2f}"
    return f"{_points(mean, metric):.2f} ± {_points(sd, metric):.2f}"


def format_comparisons(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The comparison table for reading: scores in points, mean ± sd, the CI as text, p-values rounded."""
    rows = []
    for _, r in comparisons.iterrows():
        metric = r["metric"]
        ci = (
            f"[{_points(r['ci_low'], metric):+.2f}, {_points(r['ci_high'], metric):+.2f}]"
            if not np.isnan(r["ci_low"])
            else ""
        )
        rows.append(
            {
                "target": r["target"],
                "intermediate": r["intermediate"],
                "comparison": f"{r['treatment']} vs {r['reference']}",
                "language": r["language"],
                "seeds": f"{r['n_treatment']} vs {r['n_reference']}",
                "treatment": _mean_sd(r["mean_treatment"], r["sd_treatment"], metric),
                "reference": _mean_sd(r["mean_reference"], r["sd_reference"], metric),
                "diff": f"{_points(r['diff'], metric):+.2f}",
                "CI": ci,
                f"p ({r['test']})": _p(r["p_value"]),
                "p adjusted": _p(r["p_adjusted"]),
                "significant": "yes" if r["significant"] else "no",
                "p (permutation)": _p(r["p_permutation"]),
                "min. p": _p(r["min_attainable_p"]),
                "ASO eps_min": f"{r['aso_eps_min']:.2f}",
                "note": r["note"],
            }
        )
    return pd.DataFrame(rows)


def format_examples(examples: pd.DataFrame) -> pd.DataFrame:
    """The example-level table for reading: accuracies and differences in points, p-values rounded."""
    table = pd.DataFrame(
        {
            "target": examples["target"],
            "intermediate": examples["intermediate"],
            "comparison": examples["treatment"] + " vs " + examples["reference"],
            "language": examples["language"],
            "seeds": np.where(
                examples["pairing"] == "pooled", "pooled", "seed " + examples["seed"].astype("string")
            ),
            "examples": examples["n_examples"],
            "diff": [f"{100 * v:+.2f}" for v in examples["diff"]],
            "CI": [
                f"[{100 * lo:+.2f}, {100 * hi:+.2f}]"
                for lo, hi in zip(examples["ci_low"], examples["ci_high"], strict=True)
            ],
            "p (bootstrap)": [_p(v) for v in examples["p_bootstrap"]],
            "p (randomisation)": [_p(v) for v in examples["p_randomization"]],
            "p (McNemar)": [_p(v) for v in examples["p_mcnemar"]],
            "p adjusted": [_p(v) for v in examples["p_adjusted"]],
            "significant": np.where(examples["significant"], "yes", "no"),
        }
    )
    return table
