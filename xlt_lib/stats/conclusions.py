"""One conclusion per target and comparison, computed once and worded the same everywhere.

The summary's closing paragraph, its line per baseline comparison, the files the
significance notebook writes and the experiment's index page all state a
comparison's conclusion through `Conclusion.sentence`, so they cannot contradict
each other or the tables. A conclusion combines what the tables say about one
(target, intermediate task, treatment, reference):

- the average over languages: its difference with its interval, and whether it
  is significant, not significant, or undecidable with this design;
- the languages significantly better and worse after correction, named;
- the replicability count (in at least how many languages the effect holds);
- whether the design could detect the effect: the smallest average difference it
  detects with 80 % power, or the seeds per condition that would make the test
  decidable at all.

Its ``verdict`` never reads "no difference" while a language is flagged, and a
significant average in a family of one says that no correction applied. Given the
runs' learning verdicts (`xlt_lib.report.results.learning_runs`), a comparison in
which no run of either condition learned reads "nothing learned", whatever its
p-value: a difference between degenerate runs is a difference between label
distributions, not a finding about transfer. Runs that did not learn on one side
only are counted in the sentence.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from xlt_lib.conditions import KIND_LABELS
from xlt_lib.stats.design import AVERAGE, COMPARISON_KINDS, MAIN_COMPARISON
from xlt_lib.stats.replicability import replicability_table
from xlt_lib.stats.seeds import min_attainable_p

Verdict = Literal["better", "worse", "mixed", "better in some languages", "worse in some languages", "no difference found", "cannot decide", "nothing learned"]  # fmt: skip
AverageState = Literal["significant", "not significant", "cannot tell"]

CORRECTION_WORDS = {
    "holm": "Holm-Bonferroni",
    "bonferroni": "Bonferroni",
    "holm-sidak": "Holm-Šidák",
    "bh": "Benjamini-Hochberg",
    "by": "Benjamini-Yekutieli",
    "none": "no",
}


def _points(value: float) -> float:
    return 100 * float(value)


@dataclass(frozen=True)
class Conclusion:
    """What the seed-level tables support for one comparison (accuracy-like metrics in fractions)."""

    target: str
    intermediate: str
    comparison: str
    treatment: str
    reference: str
    metric: str
    alpha: float
    correction: str
    n_treatment: int
    n_reference: int
    diff: float
    ci_low: float
    ci_high: float
    average_state: AverageState
    average_p_adjusted: float
    average_family_size: int
    n_languages: int
    better: tuple[str, ...]
    worse: tuple[str, ...]
    undecidable_languages: int
    replicated_better: int | None
    replicated_worse: int | None
    mde: float
    #: Seeds per condition with which the average's test, and every language's, could reach alpha.
    seeds_to_decide: int | None
    seeds_to_decide_languages: int | None
    verdict: Verdict
    #: Runs of each condition whose record says they did not learn (None: no learning records given).
    treatment_not_learned: int | None = None
    reference_not_learned: int | None = None

    @property
    def treatment_kind(self) -> str:
        return COMPARISON_KINDS[self.comparison][0]

    @property
    def reference_kind(self) -> str:
        return COMPARISON_KINDS[self.comparison][1]

    def _average(self) -> str:
        ci = (
            f", {100 * (1 - self.alpha):g}% CI [{_points(self.ci_low):+.2f}, {_points(self.ci_high):+.2f}]"
            if not math.isnan(self.ci_low)
            else ""
        )
        head = f"average difference {_points(self.diff):+.2f} points{ci}"
        if self.average_state == "cannot tell":
            return f"{head}, which this design cannot decide"
        if self.average_family_size == 1 and self.correction != "none":
            where = f"{p_phrase(self.average_p_adjusted)}; a family of one, so no correction applies"
        else:
            where = f"corrected {p_phrase(self.average_p_adjusted)}"
        status = "significant" if self.average_state == "significant" else "not significant"
        return f"{head}, {status} ({where})"

    def _languages(self) -> str:
        correction = CORRECTION_WORDS.get(self.correction, self.correction)
        after = "without correction" if self.correction == "none" else f"after {correction} correction"
        parts = [
            f"significantly better in {len(self.better)} of {self.n_languages} languages"
            + (f" ({', '.join(self.better)})" if self.better else ""),
            f"significantly worse in {len(self.worse)}"
            + (f" ({', '.join(self.worse)})" if self.worse else ""),
        ]
        words = f"{' and '.join(parts)} {after}"
        if self.undecidable_languages:
            words += f"; {self.undecidable_languages} language test(s) cannot decide with this design"
        return words

    def _replicability(self) -> str:
        if self.replicated_better is None or self.replicated_worse is None:
            return ""
        return (
            f"replicability analysis: better in at least {self.replicated_better} and worse in at least "
            f"{self.replicated_worse} of {self.n_languages} languages"
        )

    def _design(self) -> str:
        needs = []
        if self.average_state == "cannot tell" and self.seeds_to_decide is not None:
            needs.append(f"{self.seeds_to_decide} seeds per condition would make the average decidable")
        if self.undecidable_languages and self.seeds_to_decide_languages is not None:
            needs.append(
                f"{self.seeds_to_decide_languages} seeds per condition would make every language test decidable"
            )
        if needs:
            return (
                f"with {self.n_treatment} vs {self.n_reference} seeds the design cannot decide; "
                + " and ".join(needs)
            )
        if self.average_state == "cannot tell":
            return "the design cannot decide"
        if math.isnan(self.mde):
            return ""
        return (
            f"the design detects a true average difference of {_points(self.mde):.2f} points with 80% "
            f"probability (observed {abs(_points(self.diff)):.2f})"
        )

    def _learning(self) -> str:
        if self.treatment_not_learned is None or self.reference_not_learned is None:
            return ""
        if self.verdict == "nothing learned":
            return (
                f"{self.treatment_not_learned} of {self.n_treatment} and {self.reference_not_learned} of "
                f"{self.n_reference} runs did not learn (predict one class or sit at chance), so the difference "
                f"({_points(self.diff):+.2f} points) compares label distributions, not transfer; train on more "
                "examples or for longer"
            )
        parts = [
            f"{count} of {n} {KIND_LABELS[kind]} runs"
            for count, n, kind in (
                (self.treatment_not_learned, self.n_treatment, self.treatment_kind),
                (self.reference_not_learned, self.n_reference, self.reference_kind),
            )
            if count
        ]
        if not parts:
            return ""
        return f"{' and '.join(parts)} did not learn and are included in these tests"

    def sentence(self) -> str:
        """The conclusion in one sentence: the same words in the summary, the files and the index page."""
        treatment = f"{KIND_LABELS[self.treatment_kind]} ({self.treatment})"
        reference = f"{KIND_LABELS[self.reference_kind]} ({self.reference})"
        if self.verdict == "nothing learned":
            details = [self._learning()]
        else:
            details = [
                self._average(),
                self._languages(),
                self._replicability(),
                self._design(),
                self._learning(),
            ]
        return (
            f"{self.target}, {self.intermediate}: {treatment} vs {reference}: {VERDICT_WORDS[self.verdict]}; "
            + "; ".join(d for d in details if d)
            + "."
        )

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields (NaN as None), plus ``sentence``."""
        record = {
            key: None if isinstance(value, float) and math.isnan(value) else value
            for key, value in asdict(self).items()
        }
        record["better"], record["worse"] = list(self.better), list(self.worse)
        return record | {"sentence": self.sentence()}


VERDICT_WORDS: dict[str, str] = {
    "better": "better on average",
    "worse": "worse on average",
    "mixed": "mixed: significantly better in some respects and worse in others",
    "better in some languages": "better in some languages, not significantly on average",
    "worse in some languages": "worse in some languages, not significantly on average",
    "no difference found": "no significant difference, on average or in any language",
    "cannot decide": "cannot decide with this design",
    "nothing learned": "nothing to compare: no run of either condition learned",
}


def p_phrase(value: float) -> str:
    """ "p = 0.012" or "p < 0.001", for sentences."""
    text = p_text(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def p_text(value: float) -> str:
    """A p-value as tables and sentences print it: three decimals, "< 0.001", or "n/a"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def permutation_floor(row: pd.Series) -> float:
    """The exact permutation test's smallest attainable two-sided p-value for the row's seed counts."""
    floor = row.get("min_attainable_p", np.nan)
    if pd.isna(floor):
        floor = min_attainable_p(max(int(row["n_treatment"]), 1), max(int(row["n_reference"]), 1))
    return float(floor)


def comparison_state(row: pd.Series, alpha: float) -> AverageState:
    """Whether a row's corrected test is significant, not significant, or could not reach ``alpha`` at all.

    *cannot tell* ("cannot decide with this design") covers fewer than 2 seeds
    in a condition, an undefined test (zero variance in both conditions), and a
    primary test whose smallest attainable p-value *after its family's
    correction* (``min_attainable_p_adjusted``, `xlt_lib.stats.decidability`) is
    above ``alpha``, e.g. the exact permutation test with 5 vs 5 seeds under Holm
    over 15 languages.
    """
    if row["n_treatment"] < 2 or row["n_reference"] < 2 or pd.isna(row["p_value"]):
        return "cannot tell"
    if row["significant"]:
        return "significant"
    if "decidable" in row.index and not pd.isna(row["decidable"]):
        return "not significant" if bool(row["decidable"]) else "cannot tell"
    if row["test"] == "permutation" and permutation_floor(row) > alpha:
        return "cannot tell"
    return "not significant"


def _verdict(state: AverageState, diff: float, better: int, worse: int, any_decidable: bool) -> Verdict:
    avg_better = state == "significant" and diff > 0
    avg_worse = state == "significant" and diff < 0
    if (avg_better and worse) or (avg_worse and better) or (better and worse):
        return "mixed"
    if avg_better:
        return "better"
    if avg_worse:
        return "worse"
    if better:
        return "better in some languages"
    if worse:
        return "worse in some languages"
    return "no difference found" if any_decidable else "cannot decide"


def _optional_int(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def not_learned_counts(
    learning: pd.DataFrame | None, target: str, intermediate: str, condition: str
) -> int | None:
    """How many phase-3 runs of one condition on one target did not learn (None: nothing recorded).

    ``learning`` is `xlt_lib.report.results.learning_runs`' table; the reference
    condition of a comparison with the baseline has intermediate task ``none``.
    """
    if learning is None or learning.empty:
        return None
    runs = learning[
        (learning["phase"] == "transfer")
        & (learning["target"] == target)
        & (learning["intermediate"] == intermediate)
        & (learning["condition"] == condition)
    ]
    return None if runs.empty else int((~runs["learned"].astype(bool)).sum())


def conclusions(
    comparisons: pd.DataFrame, *, alpha: float | None = None, learning: pd.DataFrame | None = None
) -> list[Conclusion]:
    """One `Conclusion` per compared (target, intermediate, comparison, treatment, reference), in table order.

    ``learning``: the runs' learning verdicts (`xlt_lib.report.results.learning_runs`);
    without it, no conclusion says whether its runs learned.
    """
    alpha = float(comparisons.attrs.get("alpha", 0.05)) if alpha is None else alpha
    made = comparisons[comparisons["compared"].astype(bool)] if "compared" in comparisons else comparisons
    key = ["target", "intermediate", "comparison", "treatment", "reference"]
    replicability = replicability_table(made, alpha=alpha).set_index(key)
    found = []
    for values, group in made.groupby(key, sort=False):
        avg = group[group["language"] == AVERAGE].iloc[0]
        languages = group[group["language"] != AVERAGE]
        states = [comparison_state(row, alpha) for _, row in languages.iterrows()]
        better = tuple(languages.loc[languages["significant"] & (languages["diff"] > 0), "language"])
        worse = tuple(languages.loc[languages["significant"] & (languages["diff"] < 0), "language"])
        state = comparison_state(avg, alpha)
        undecidable = sum(s == "cannot tell" for s in states)
        rep = replicability.loc[values]
        needed = avg.get("seeds_to_decide", pd.NA)
        needed_languages = languages["seeds_to_decide"].max() if "seeds_to_decide" in languages else pd.NA
        target, intermediate, comparison, treatment, reference = map(str, values)
        reference_intermediate = "none" if COMPARISON_KINDS[comparison][1] == "none" else intermediate
        treatment_failed = not_learned_counts(learning, target, intermediate, treatment)
        reference_failed = not_learned_counts(learning, target, reference_intermediate, reference)
        nothing_learned = (
            treatment_failed is not None
            and reference_failed is not None
            and treatment_failed >= int(avg["n_treatment"])
            and reference_failed >= int(avg["n_reference"])
        )
        found.append(
            Conclusion(
                target,
                intermediate,
                comparison,
                treatment,
                reference,
                metric=str(avg["metric"]),
                alpha=alpha,
                correction=str(avg["correction"]),
                n_treatment=int(avg["n_treatment"]),
                n_reference=int(avg["n_reference"]),
                diff=float(avg["diff"]),
                ci_low=float(avg["ci_low"]),
                ci_high=float(avg["ci_high"]),
                average_state=state,
                average_p_adjusted=float(avg["p_adjusted"]),
                average_family_size=int(avg.get("family_size", 0)),
                n_languages=len(languages),
                better=better,
                worse=worse,
                undecidable_languages=undecidable,
                replicated_better=_optional_int(rep["replicated_better"]),
                replicated_worse=_optional_int(rep["replicated_worse"]),
                mde=float(avg["mde"]) if not pd.isna(avg["mde"]) else float("nan"),
                seeds_to_decide=_optional_int(needed),
                seeds_to_decide_languages=_optional_int(needed_languages),
                verdict="nothing learned"
                if nothing_learned
                else _verdict(
                    state,
                    float(avg["diff"]),
                    len(better),
                    len(worse),
                    state != "cannot tell" or undecidable < len(states),
                ),
                treatment_not_learned=treatment_failed,
                reference_not_learned=reference_failed,
            )
        )
    return found


QUESTION = (
    "whether code-switched intermediate training improves zero-shot transfer over monolingual "
    "intermediate training"
)


def closing_paragraph(found: list[Conclusion], *, seeds_to_reach: int) -> str:
    """The summary's last word on the study's question, from the main comparison's conclusions only.

    "Support" only when every average is significantly better and no language is
    significantly worse; "do not support" only when nothing at all is flagged
    and every comparison could decide; "cannot answer" when none could decide;
    otherwise the counts, in both directions, with the conclusions listed.
    Returns "" when there is no main comparison (the caller says why).
    """
    main = [c for c in found if c.comparison == MAIN_COMPARISON]
    if not main:
        return ""
    total = len(main)
    verdicts = [c.verdict for c in main]
    lines = "\n".join(f"- {c.sentence()}" for c in main)
    if all(v == "nothing learned" for v in verdicts):
        lead = (
            f"Overall, these runs cannot answer {QUESTION}: in all {total} comparison(s) no run of either "
            "condition learned (each predicts one class or sits at chance), so there is nothing to compare. "
            "Train on more examples or for longer; the warnings at the top of the report say where."
        )
    elif all(v == "better" for v in verdicts):
        lead = (
            "Overall, the data support the hypothesis: code-switched intermediate training improved average "
            f"zero-shot transfer over monolingual intermediate training in all {total} comparison(s)."
        )
    elif all(v == "no difference found" for v in verdicts):
        lead = (
            "Overall, the data do not support the hypothesis that code-switched intermediate training improves "
            f"zero-shot transfer over monolingual intermediate training: none of the {total} comparison(s) shows a "
            "significant average difference, and no language differs significantly after correction."
        )
    elif all(v == "cannot decide" for v in verdicts):
        seeds = sorted({c.n_treatment for c in main} | {c.n_reference for c in main})
        needed = max((c.seeds_to_decide_languages or c.seeds_to_decide or seeds_to_reach) for c in main)
        word = "seed" if seeds == [1] else "seeds"
        lead = (
            f"Overall, these runs cannot answer {QUESTION}: with {'/'.join(map(str, seeds))} {word} per "
            f"condition no test over seeds can reach α = {main[0].alpha:g}, so the differences above are "
            f"descriptive only. The exact permutation test needs at least {seeds_to_reach} seeds per condition "
            f"before it can reach α at all, and {needed} after the correction over the per-language family."
        )
    else:
        # Comparisons over runs that never learned say nothing either way: counted apart.
        judged = [c for c in main if c.verdict != "nothing learned"]
        avg_better = sum(c.average_state == "significant" and c.diff > 0 for c in judged)
        avg_worse = sum(c.average_state == "significant" and c.diff < 0 for c in judged)
        avg_same = sum(c.average_state == "not significant" for c in judged)
        avg_untestable = sum(c.average_state == "cannot tell" for c in judged)
        better = sum(len(c.better) for c in judged)
        worse = sum(len(c.worse) for c in judged)
        tests = sum(c.n_languages for c in judged)
        if (avg_better or better) and (avg_worse or worse):
            qualifier = "the evidence is mixed"
        elif avg_better or better:
            qualifier = "the data support an improvement, though not in every respect"
        elif avg_worse or worse:
            qualifier = "the data point the other way"
        else:
            qualifier = "no comparison found a significant difference"
        untestable = f", and cannot be tested with these seeds in {avg_untestable}" if avg_untestable else ""
        degenerate = len(main) - len(judged)
        untestable += f", and compares only runs that did not learn in {degenerate}" if degenerate else ""
        lead = (
            f"Overall, {qualifier}: code-switched intermediate training is significantly better on average in "
            f"{avg_better}, significantly worse in {avg_worse}, not distinguishable in {avg_same}{untestable} of "
            f"{total} comparison(s); per language, it is significantly better in {better} and significantly worse "
            f"in {worse} of {tests} language tests."
        )
    return f"{lead}\n\n{lines}"


def conclusions_table(found: list[Conclusion]) -> pd.DataFrame:
    """The conclusions as a table (one row each, languages joined by commas), for the notebook's files."""
    records = [c.as_record() for c in found]
    for record in records:
        record["better"], record["worse"] = ", ".join(record["better"]), ", ".join(record["worse"])
    columns = [f.name for f in Conclusion.__dataclass_fields__.values()] + ["sentence"]
    return pd.DataFrame(records, columns=columns).replace({np.nan: None})
