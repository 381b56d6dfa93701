"""Words and display tables for the comparison results.

The significance notebook's conclusions are generated here, from the tables of
`xlt_lib.stats.seed_table`, so that what the report says is tested code and always
matches the numbers. Each average comparison is in one of four states, and the
words follow the state, never more:

- *significant*: the corrected test supports a difference, in its direction;
- *not significant*: "no significant difference", with the smallest effect the
  seeds could have detected (absence of evidence, not evidence of absence);
- *cannot tell*: no test over seeds can reach α with these seeds (one seed per
  condition, zero variance, or a permutation test whose floor is above α). The
  words then give the observed difference, the smallest attainable p-value and
  the seeds needed, and say nothing about support either way;
- *not compared*: the design's comparison lacks a condition kind; the words say
  which and why.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from xlt_lib.conditions import KIND_LABELS
from xlt_lib.stats.aso import ASO_THRESHOLD
from xlt_lib.stats.conclusions import (
    CORRECTION_WORDS,
    QUESTION,
    AverageState,
    Conclusion,
    closing_paragraph,
    comparison_state,
    conclusions,
    p_phrase,
    p_text,
    permutation_floor,
)
from xlt_lib.stats.decidability import resamples_to_decide
from xlt_lib.stats.design import AVERAGE, COMPARISON_KINDS, MAIN_COMPARISON
from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.power import seeds_needed, seeds_to_reach
from xlt_lib.stats.replicability import replicability_table

TEST_NAMES = {"welch": "Welch's t-test", "permutation": "the two-sample permutation test"}
CORRECTION_NAMES = CORRECTION_WORDS
State = AverageState


def _points(value: float, metric: str) -> float:
    """Accuracy and F1 are fractions in the tables and points (x100) in words."""
    return 100 * value if metric in ("accuracy", "macro_f1") else value


def _unit(metric: str) -> str:
    return "points" if metric in ("accuracy", "macro_f1") else metric


def _seeds_word(counts: list[int]) -> str:
    return "seed" if counts == [1] else "seeds"


def _condition(name: str, kind: str) -> str:
    return f"{KIND_LABELS[kind]} ({name})" if kind != "none" else f"no intermediate training ({name})"


def _compared(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The rows of comparisons that were made (tables from before ``compared`` existed count as made)."""
    if "compared" not in comparisons.columns:
        return comparisons
    return comparisons[comparisons["compared"].astype(bool)]


def _not_compared(comparisons: pd.DataFrame) -> pd.DataFrame:
    if "compared" not in comparisons.columns:
        return comparisons.iloc[0:0]
    return comparisons[~comparisons["compared"].astype(bool)]


def describe_methods(comparisons: pd.DataFrame) -> str:
    """One paragraph saying what was tested: unit of analysis, tests, sidedness, families, correction."""
    attrs = comparisons.attrs
    alpha = attrs.get("alpha", 0.05)
    made = _compared(comparisons)
    correction = str(comparisons["correction"].iloc[0])
    test = str(comparisons["test"].iloc[0])
    seeds = sorted(set(made["n_treatment"]) | set(made["n_reference"]))
    return (
        f"The unit of analysis is the training run (seed): each condition is represented by its "
        f"{'/'.join(map(str, seeds))} {_seeds_word(seeds)}, treated as independent samples. Every difference is "
        f"treatment minus reference. The primary test is {TEST_NAMES[test]} (two-sided, H0: equal mean "
        f"{comparisons['metric'].iloc[0]}); p-values are corrected with {CORRECTION_NAMES[correction]} "
        f"within each comparison kind across targets, intermediate tasks and languages (the averages over "
        f"languages form a separate family), and a result is called significant when the corrected p-value is "
        f"at most α = {alpha:g}. The exact permutation test and Almost Stochastic Order (ASO, eps_min < "
        f"{ASO_THRESHOLD:g} reads as 'clearly better') are reported alongside; intervals are percentile "
        f"bootstrap intervals at {100 * (1 - alpha):g}% over seeds."
    )


def _corrected_floor(row: pd.Series) -> float:
    """The primary test's smallest attainable p-value after the family's correction (NaN if unknown)."""
    value = row.get("min_attainable_p_adjusted", np.nan)
    return float("nan") if pd.isna(value) else float(value)


def _pooled_sd(row: pd.Series) -> float:
    n_t, n_r = int(row["n_treatment"]), int(row["n_reference"])
    if n_t < 2 or n_r < 2:
        return float("nan")
    variance = ((n_t - 1) * row["sd_treatment"] ** 2 + (n_r - 1) * row["sd_reference"] ** 2) / (n_t + n_r - 2)
    return float(np.sqrt(variance))


def seeds_advice(row: pd.Series, alpha: float) -> str:
    """How many seeds per condition a comparison would need, in words (`xlt_lib.stats.power`).

    Always the fewest seeds with which the exact permutation test can reach
    ``alpha`` at all; with at least 2 seeds per condition and a non-zero
    difference and spread, also the seeds that would detect the observed
    difference with 80% power (t-test power with the observed pooled seed sd at
    the level its correction family needs, `xlt_lib.stats.power.seeds_needed`, the
    one implementation ``xlt plan`` uses too; a rough planning figure).
    """
    metric = row["metric"]
    floor_seeds = seeds_to_reach(alpha)
    words = (
        f"the exact permutation test needs at least {floor_seeds} seeds per condition before it can reach "
        f"α = {alpha:g} at all"
    )
    sd = _pooled_sd(row)
    if np.isnan(sd):
        return words + (
            "; the seed-to-seed spread cannot be estimated from one seed, so the number of seeds that would "
            "detect a difference of this size is unknown"
        )
    family = _family_size(row)
    try:
        needed = seeds_needed(row["diff"], sd, alpha=alpha, family_size=family)
    except StatsError:  # no difference or no spread: nothing to plan for
        return words
    level = f" at α/{family} for its family of {family} tests" if family > 1 else ""
    return words + (
        f"; detecting a true difference of the observed size ({_points(abs(row['diff']), metric):.2f} "
        f"{_unit(metric)}) with 80% probability would take about {needed} seeds per condition "
        f"(t-test power{level} with the observed seed spread, a rough estimate; `xlt plan` plans the same way)"
    )


def _family_size(row: pd.Series) -> int:
    """The size of the row's correction family (1 without a correction or when unknown)."""
    size = row.get("family_size", pd.NA)
    if str(row.get("correction", "none")) == "none" or pd.isna(size):
        return 1
    return max(1, int(size))


def _average_sentence(avg: pd.Series, kind_t: str, kind_r: str, n_languages: int, alpha: float) -> str:
    metric = avg["metric"]
    unit = _unit(metric)
    diff = _points(avg["diff"], metric)
    direction = "above" if diff > 0 else "below" if diff < 0 else "equal to"
    details = [
        f"{_points(avg['mean_treatment'], metric):.2f} vs {_points(avg['mean_reference'], metric):.2f}"
    ]
    if not np.isnan(avg["ci_low"]):
        details.append(
            f"{100 * (1 - alpha):g}% CI [{_points(avg['ci_low'], metric):+.2f}, "
            f"{_points(avg['ci_high'], metric):+.2f}]"
        )
    details.append(f"{avg['n_treatment']} vs {avg['n_reference']} seeds")
    if not pd.isna(avg["p_value"]):
        details.append(
            f"{TEST_NAMES[avg['test']]} {p_phrase(avg['p_value'])}, corrected {p_phrase(avg['p_adjusted'])}"
        )
    return (
        f"Averaged over {n_languages} languages, {_condition(avg['treatment'], kind_t)} scored "
        f"{abs(diff):.2f} {unit} {direction} {_condition(avg['reference'], kind_r)} ({'; '.join(details)})."
    )


def _cannot_tell(avg: pd.Series, treatment: str, reference: str, alpha: float) -> str:
    """Why no test can reach alpha here, the observed difference, the floor, and the seeds needed."""
    metric = avg["metric"]
    n_t, n_r = int(avg["n_treatment"]), int(avg["n_reference"])
    floor = permutation_floor(avg)
    if n_t < 2 or n_r < 2:
        why = (
            f"a test over seeds needs at least 2 seeds per condition, and with {n_t} vs {n_r} seeds the "
            f"smallest p-value an exact permutation test could return is {floor:.3g}"
        )
    elif pd.isna(avg["p_value"]):
        why = f"{TEST_NAMES[avg['test']]} is undefined because neither condition varies over its {n_t} seeds"
    elif floor > alpha:
        why = (
            f"with {n_t} vs {n_r} seeds the exact permutation test cannot go below p = {floor:.3g}, "
            f"above α = {alpha:g}"
        )
    else:
        why = (
            f"with {n_t} vs {n_r} seeds the exact permutation test cannot go below p = {floor:.3g}, and after "
            f"{CORRECTION_NAMES[str(avg['correction'])]} correction over the {int(avg['family_size'])} tests of "
            f"its family not below {_corrected_floor(avg):.3g}, above α = {alpha:g}"
        )
    if not pd.isna(avg.get("seeds_to_decide", pd.NA)) and n_t >= 2 and n_r >= 2:
        why += (
            f"; it cannot decide with this design, and {int(avg['seeds_to_decide'])} seeds per condition "
            "would make it decidable"
        )
    return (
        f"These runs cannot tell whether {treatment} training differs from {reference}: {why}. The observed "
        f"difference ({_points(avg['diff'], metric):+.2f} {_unit(metric)}) is descriptive only. To test it, "
        f"{seeds_advice(avg, alpha)}."
    )


def _verdict(avg: pd.Series, kind_t: str, kind_r: str, alpha: float) -> str:
    metric = avg["metric"]
    treatment, reference = KIND_LABELS[kind_t], KIND_LABELS[kind_r]
    state = comparison_state(avg, alpha)
    if state == "cannot tell":
        return _cannot_tell(avg, treatment, reference, alpha)
    floor = permutation_floor(avg)
    if state == "significant":
        better = avg["diff"] > 0
        caveat = (
            f" With {avg['n_treatment']} vs {avg['n_reference']} seeds this rests on the t-test's normality "
            f"assumption: the distribution-free permutation test cannot go below p = {floor:.3g}."
            if avg["test"] == "welch" and floor > alpha
            else ""
        )
        family_of_one = int(avg.get("family_size", 0)) == 1 and str(avg["correction"]) != "none"
        where = (
            f"significant at α = {alpha:g}; the average forms a family of one, so no correction applies"
            if family_of_one
            else f"significant after correction at α = {alpha:g}"
        )
        return (
            f"The data support that {treatment} training is {'better' if better else 'worse'} than "
            f"{reference} on average ({where}).{caveat}"
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


def _language_sentence(
    rep: pd.Series, group: pd.DataFrame, correction: str, kind_t: str, alpha: float
) -> str:
    n = rep["n_languages"]
    languages = group[group["language"] != AVERAGE]
    testable = [comparison_state(row, alpha) != "cannot tell" for _, row in languages.iterrows()]
    if not any(testable):
        return f"Per language ({n} languages), no test can reach α either, for the same reason."
    words = (
        f"Per language, the difference is significant after {CORRECTION_NAMES[correction]} correction in "
        f"{rep['significant_better']} of {n} languages in favour of {KIND_LABELS[kind_t]} training and in "
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
    if avg["n_treatment"] < 2 or avg["n_reference"] < 2:
        return ""  # ASO compares score distributions: one score per condition is no distribution
    eps, reverse = avg["aso_eps_min"], avg["aso_eps_min_reverse"]
    level = avg["aso_confidence"]
    if eps < ASO_THRESHOLD:
        reading = f"{KIND_LABELS[kind_t]} training is almost stochastically better"
    elif reverse < ASO_THRESHOLD:
        reading = f"{KIND_LABELS[kind_t]} training is almost stochastically worse"
    else:
        reading = "neither is almost stochastically better"
    null = avg.get("aso_null_rate", np.nan)
    rate = (
        f" With {avg['n_treatment']} vs {avg['n_reference']} seeds ASO gives a 'clearly better' reading in "
        f"{100 * null:.0f}% of comparisons where nothing differs (measured null rate), so read it beside the tests."
        if not pd.isna(null)
        else ""
    )
    return (
        f"ASO on the averages: eps_min = {eps:.2f} (reverse {reverse:.2f}) at confidence {level:.3g}: {reading}."
        + rate
    )


def _secondary_line(values: tuple, avg: pd.Series, alpha: float, conclusion: Conclusion) -> str:
    target, intermediate, kind, treatment, reference = values
    kind_t, _ = COMPARISON_KINDS[kind]
    metric = avg["metric"]
    state = comparison_state(avg, alpha)
    observed = f"{_points(avg['diff'], metric):+.2f} {_unit(metric)}"
    if conclusion.verdict == "nothing learned":
        return f"- {conclusion.sentence()}"
    if state == "cannot tell":
        return (
            f"- {target}, {intermediate}: {KIND_LABELS[kind_t]} ({treatment}) vs no intermediate training "
            f"({reference}): no test can reach α with {avg['n_treatment']} vs {avg['n_reference']} seeds "
            f"(observed {observed}, smallest attainable p = {permutation_floor(avg):.3g}). "
            f"Conclusion: {conclusion.sentence()}"
        )
    relation = (
        ("significantly better than" if avg["diff"] > 0 else "significantly worse than")
        if state == "significant"
        else "not significantly different from"
    )
    caveat = (
        f"; rests on the t-test's normality assumption: the permutation test cannot go below p = {permutation_floor(avg):.3g}"
        if state == "significant" and avg["test"] == "welch" and permutation_floor(avg) > alpha
        else ""
    )
    return (
        f"- {target}, {intermediate}: {KIND_LABELS[kind_t]} ({treatment}) is {relation} no intermediate training "
        f"({reference}) on average ({observed}, corrected {p_phrase(avg['p_adjusted'])}{caveat}). "
        f"Conclusion: {conclusion.sentence()}"
    )


def _skipped_lines(comparisons: pd.DataFrame) -> list[str]:
    skipped = _not_compared(comparisons)
    return [
        f"- {row['target']}, {row['intermediate']}: {row['comparison']}: "
        + str(row["note"]).removeprefix("not compared: ")
        + "."
        for _, row in skipped.iterrows()
    ]


def _no_main_comparison(comparisons: pd.DataFrame) -> str:
    """The closing words when no code-switched vs monolingual comparison could be made, with the reasons."""
    reasons = _not_compared(comparisons)
    reasons = reasons[reasons["comparison"] == MAIN_COMPARISON]["note"].str.removeprefix("not compared: ")
    return (
        f"Overall, these runs cannot answer the study's question, {QUESTION}: no code-switched vs monolingual "
        f"comparison could be made ({'; '.join(dict.fromkeys(reasons))})."
    )


def describe_findings(
    comparisons: pd.DataFrame, *, alpha: float | None = None, learning: pd.DataFrame | None = None
) -> str:
    """A short Markdown summary, in words, of what the comparison table supports.

    One paragraph per (target, intermediate task, treatment, reference) of the
    main comparison (code-switched vs monolingual) built from its ``avg`` row
    and its per-language rows, then one line per comparison with the
    no-intermediate baseline, the comparisons that could not be made and why,
    any missing runs, and a closing paragraph. Every claim follows
    `comparison_state`: "support" only when significant, "no significant
    difference" with the detectable effect otherwise, and, when no test could
    reach α with this design, the observed difference with the smallest
    attainable p-value and the seeds needed, and no word on support either way.
    The closing paragraph and the baseline lines state each comparison's
    `xlt_lib.stats.conclusions.Conclusion`, the same sentence the notebook
    writes to ``conclusions.csv`` and the index page shows. ``learning`` (the runs'
    learning verdicts, `xlt_lib.report.results.learning_runs`) turns a comparison in
    which no run learned into that statement instead of a test result.
    """
    alpha = float(comparisons.attrs.get("alpha", 0.05)) if alpha is None else alpha
    correction = str(comparisons["correction"].iloc[0])
    made = _compared(comparisons)
    key = ["target", "intermediate", "comparison", "treatment", "reference"]
    replicability = replicability_table(made, alpha=alpha).set_index(key)
    found: dict[tuple[str, ...], Conclusion] = {
        (c.target, c.intermediate, c.comparison, c.treatment, c.reference): c
        for c in conclusions(comparisons, alpha=alpha, learning=learning)
    }
    parts = [describe_methods(comparisons), ""]
    for values, group in made[made["comparison"] == MAIN_COMPARISON].groupby(key, sort=False):
        target, intermediate, kind, _, _ = values
        kind_t, kind_r = COMPARISON_KINDS[kind]
        avg = group[group["language"] == AVERAGE].iloc[0]
        rep = replicability.loc[values]
        conclusion = found[tuple(map(str, values))]
        if conclusion.verdict == "nothing learned":
            parts += [
                f"**{target}, intermediate task {intermediate}: {avg['treatment']} vs {avg['reference']}.** "
                f"{conclusion.sentence()}",
                "",
            ]
            continue
        sentences = [
            _average_sentence(avg, kind_t, kind_r, int(rep["n_languages"]), alpha),
            _verdict(avg, kind_t, kind_r, alpha),
            _language_sentence(rep, group, correction, kind_t, alpha),
            _aso_sentence(avg, kind_t),
        ]
        parts += [
            f"**{target}, intermediate task {intermediate}: {avg['treatment']} vs {avg['reference']}.** "
            + " ".join(s for s in sentences if s),
            "",
        ]

    secondary = made[made["comparison"] != MAIN_COMPARISON]
    lines = [
        _secondary_line(
            values, group[group["language"] == AVERAGE].iloc[0], alpha, found[tuple(map(str, values))]
        )
        for values, group in secondary.groupby(key, sort=False)
    ]
    if lines:
        parts += ["Against the baseline without intermediate training:", "", *lines, ""]
    skipped = _skipped_lines(comparisons)
    if skipped:
        parts += ["Comparisons that could not be made:", "", *skipped, ""]
    missing = comparisons.attrs.get("missing_runs") or []
    if missing:
        parts += ["Runs missing from the design (the analysis uses the runs that completed):", ""]
        parts += [f"- {line}" for line in missing] + [""]
    closing = closing_paragraph(list(found.values()), seeds_to_reach=seeds_to_reach(alpha))
    parts.append(closing or _no_main_comparison(comparisons))
    return "\n".join(parts).strip() + "\n"


def _mean_sd(mean: float, sd: float, metric: str) -> str:
    if np.isnan(mean):
        return ""
    if np.isnan(sd):
        return f"{_points(mean, metric):.2f}"
    return f"{_points(mean, metric):.2f} ± {_points(sd, metric):.2f}"


def format_comparisons(
    comparisons: pd.DataFrame, *, rows: Literal["all", "average", "languages"] = "all"
) -> pd.DataFrame:
    """The comparison table for reading: scores in points, mean ± sd, the CI as text, p-values rounded.

    ``n seeds`` counts the seeds of each condition (treatment vs reference).
    ``rows``: ``"all"``; ``"average"``, the ``avg`` row of each comparison and
    one row per comparison that could not be made, with the reason in ``note``
    (a compact overview; the per-language differences are also in
    `xlt_lib.stats.plots.difference_heatmap`); or ``"languages"``, the
    per-language rows only (the detail the overview leaves out).
    """
    if rows not in ("all", "average", "languages"):
        raise StatsError(f"rows={rows!r}: expected 'all', 'average' or 'languages'")
    shown = []
    for _, r in comparisons.iterrows():
        compared = bool(r.get("compared", True))
        is_average = r["language"] == AVERAGE
        if (rows == "average" and compared and not is_average) or (
            rows == "languages" and (is_average or not compared)
        ):
            continue
        metric = r["metric"]
        if not compared:
            shown.append(
                {
                    "target": r["target"],
                    "intermediate": r["intermediate"],
                    "comparison": r["comparison"],
                    "note": r["note"],
                }
            )
            continue
        ci = (
            f"[{_points(r['ci_low'], metric):+.2f}, {_points(r['ci_high'], metric):+.2f}]"
            if not np.isnan(r["ci_low"])
            else ""
        )
        shown.append(
            {
                "target": r["target"],
                "intermediate": r["intermediate"],
                "comparison": f"{r['treatment']} vs {r['reference']}",
                "language": r["language"],
                "n seeds": f"{r['n_treatment']} vs {r['n_reference']}",
                "treatment": _mean_sd(r["mean_treatment"], r["sd_treatment"], metric),
                "reference": _mean_sd(r["mean_reference"], r["sd_reference"], metric),
                "diff": f"{_points(r['diff'], metric):+.2f}",
                "CI": ci,
                f"p ({r['test']})": p_text(r["p_value"]),
                "p adjusted": p_text(r["p_adjusted"]),
                "significant": "yes" if r["significant"] else "no",
                "p (permutation)": p_text(r["p_permutation"]),
                "min. p": p_text(r["min_attainable_p"]),
                "ASO eps_min": f"{r['aso_eps_min']:.2f}" if not pd.isna(r["aso_eps_min"]) else "",
                "ASO null rate": f"{100 * r['aso_null_rate']:.0f}%"
                if not pd.isna(r.get("aso_null_rate"))
                else "",
                "note": r["note"],
            }
        )
    table = pd.DataFrame(shown)
    if table.empty:
        return table
    # Rows of comparisons not made have fewer columns: keep the others' order, the note last.
    columns = [c for c in table.columns if c != "note"] + ["note"]
    return table[columns].fillna("")


def format_examples(examples: pd.DataFrame) -> pd.DataFrame:
    """The example-level table for reading: accuracies and differences in points, p-values rounded.

    ``note`` says where the randomisation test cannot reach α after its family's
    correction with the resamples used, and how many would let it.
    """
    alpha = float(examples.attrs.get("alpha", 0.05))
    table = pd.DataFrame(
        {
            "target": examples["target"],
            "intermediate": examples["intermediate"],
            "comparison": examples["treatment"] + " vs " + examples["reference"],
            "language": examples["language"],
            "pairing": np.where(
                examples["pairing"] == "pooled", "pooled", "seed " + examples["seed"].astype("string")
            ),
            "examples": examples["n_examples"],
            "diff": [f"{100 * v:+.2f}" for v in examples["diff"]],
            "CI": [
                f"[{100 * lo:+.2f}, {100 * hi:+.2f}]"
                for lo, hi in zip(examples["ci_low"], examples["ci_high"], strict=True)
            ],
            "p (bootstrap)": [p_text(v) for v in examples["p_bootstrap"]],
            "p (randomisation)": [p_text(v) for v in examples["p_randomization"]],
            "p (McNemar)": [p_text(v) for v in examples["p_mcnemar"]],
            "p adjusted": [p_text(v) for v in examples["p_adjusted"]],
            "significant": np.where(examples["significant"], "yes", "no"),
        }
    )
    if "decidable" in examples.columns:
        n_resamples = int(examples.attrs.get("n_resamples", 0))
        table["note"] = [
            ""
            if decidable
            else (
                f"cannot decide with this design: with {n_resamples} resamples the randomisation test cannot "
                f"reach α after {examples['correction'].iloc[0]} over {size} tests; "
                f"n_resamples >= {resamples_to_decide(int(size), alpha=alpha, correction=str(examples['correction'].iloc[0]))} would"
            )
            for decidable, size in zip(examples["decidable"], examples["family_size"], strict=True)
        ]
    return table


def _counts(frame: pd.DataFrame) -> str:
    """``better / worse of n``: significant rows in each direction."""
    better = int((frame["significant"] & (frame["diff"] > 0)).sum())
    worse = int((frame["significant"] & (frame["diff"] < 0)).sum())
    return f"{better} / {worse} of {len(frame)}"


def summarize_examples(examples: pd.DataFrame) -> pd.DataFrame:
    """The example-level results in one row per comparison, instead of one per language and seed.

    Over the comparison's languages: the mean and range of the pooled
    (mean-over-seeds) difference in points; in how many languages the pooled
    test is significant after correction in favour of / against the treatment;
    the same count over every (language, seed) pair of the per-seed tests; and
    the smallest corrected pooled p-value. `format_examples` has every row.
    """
    key = ["target", "intermediate", "comparison", "treatment", "reference"]
    rows = []
    for values, group in examples.groupby(key, sort=False):
        target, intermediate, _, treatment, reference = values
        pooled = group[group["pairing"] == "pooled"]
        per_seed = group[group["pairing"] == "seed"]
        diffs = 100 * pooled["diff"]
        rows.append(
            {
                "target": target,
                "intermediate": intermediate,
                "comparison": f"{treatment} vs {reference}",
                "languages": len(pooled),
                "examples per language": int(pooled["n_examples"].median()) if len(pooled) else 0,
                "mean diff": f"{diffs.mean():+.2f}",
                "diff range": f"[{diffs.min():+.2f}, {diffs.max():+.2f}]",
                "pooled: significant better / worse": _counts(pooled),
                "per seed: significant better / worse": _counts(per_seed) if len(per_seed) else "",
                "smallest p adjusted (pooled)": p_text(pooled["p_adjusted"].min()),
            }
        )
    return pd.DataFrame(rows)


def runs_table(results: pd.DataFrame) -> pd.DataFrame:
    """Completed runs per target and condition: ``n_seeds`` (a count), ``seed_list`` (the seeds), languages."""
    keys = ["target", "intermediate", "condition", "condition_kind"]
    return (
        results.groupby(keys)
        .agg(
            n_seeds=("seed", "nunique"),
            seed_list=("seed", lambda s: ", ".join(map(str, sorted(s.unique())))),
            n_languages=("language", "nunique"),
        )
        .reset_index()
    )
