"""How many seeds (and evaluation examples) a design needs to detect an average difference.

``xlt plan EXPERIMENT --mde POINTS`` asks: with the default significance procedure
(Welch's t-test over seeds on each run's average over languages, corrected within
the family of average rows: `xlt_lib.stats.seed_table`), how many seeds per
condition detect a true average difference of ``POINTS`` with 80 % probability?
The answer needs the spread of a run's average accuracy over seeds, which has two
sources that a design changes differently:

* **seed variance** - initialisation, data order, dropout: only more seeds reduce
  its effect on a condition's mean;
* **example variance** - a run scores each of the ``n`` test examples of a
  language right or wrong: binomial sampling noise ``p (1 - p) / n`` per language,
  ``(1 / L^2) sum_l p_l (1 - p_l) / n`` on the average over ``L`` languages; more
  evaluation examples reduce it.

`estimate_variance` separates them in the pilot runs: the observed variance of the
run averages within each (target, intermediate, condition) group (ddof 1, pooled
over groups) minus the binomial variance at each run's own evaluation size; what
is left (at least 0) is the seed variance. The binomial term is an upper bound of
the per-run example noise on a fixed test set (examples differ in difficulty, which
lowers it), so the seed share it leaves is, if anything, too small and the planned
example noise too large: the two errors partly cancel. `design_for` then adds the
binomial variance back at each candidate evaluation size and asks
`xlt_lib.stats.power.seeds_needed` (the one implementation the significance
report's advice uses too) for the seeds at level ``alpha / family size``.

With fewer than two completed runs in every group of a target, there is no seed
variance to estimate: the plan says so and uses `PRIOR_SEED_SD_POINTS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.power import power_of, seeds_needed

#: Prior seed standard deviation (accuracy points) of a run's XNLI score: measured on XNLI with
#: 4,000 English training pairs (the ``cpu`` profile's cap), the mean over the 15 languages of
#: the per-language seed sd (issue 15). Used for a run's *average* over languages, where it is
#: conservative: the sd of an average is at most the average of the sds. It already holds the
#: example noise of the evaluation it was measured with, so planning adds example noise on top
#: (conservative again).
PRIOR_SEED_SD_POINTS = 1.9
PRIOR_SOURCE = (
    f"prior seed sd {PRIOR_SEED_SD_POINTS} points (XNLI, 4,000 training pairs, mean over 15 languages; "
    "issue 15)"
)
#: Columns of a `xlt_lib.report.results.load_results` table that planning reads.
NEEDED_COLUMNS = ("target", "intermediate", "condition", "seed", "run_id", "language", "accuracy", "n")


@dataclass(frozen=True)
class TargetVariance:
    """The two variance sources of one target's run averages (accuracy units squared)."""

    target: str
    #: Seed variance of a run's average over languages.
    seed_variance: float
    #: Mean accuracy per language over the pilot runs (for the binomial term at another size).
    accuracy: dict[str, float]
    #: Evaluation examples per language in the pilot (the median over runs and languages).
    pilot_eval_examples: int | None
    #: Runs and groups with at least 2 seeds that the estimate pools; 0 when it is the prior.
    runs: int
    groups: int
    #: Observed variance of the run averages and the binomial share of it (pooled), for the record.
    observed_variance: float
    binomial_variance: float
    source: str
    #: Evaluation examples per language the split offers (None: unknown); a larger size is capped here.
    eval_available: int | None = None

    @property
    def from_prior(self) -> bool:
        return self.runs == 0

    def example_variance(self, n: int | None) -> float:
        """Binomial variance of the average over languages with ``n`` evaluation examples per language."""
        size = n if n is not None else self.pilot_eval_examples
        if size and self.eval_available:
            size = min(size, self.eval_available)
        if not size or not self.accuracy:
            return 0.0
        p = np.array(list(self.accuracy.values()), dtype=float)
        return float(np.sum(p * (1 - p) / size) / len(p) ** 2)

    def sd(self, n: int | None) -> float:
        """Standard deviation of a run's average accuracy with ``n`` evaluation examples per language."""
        return math.sqrt(self.seed_variance + self.example_variance(n))


def binomial_variance(accuracy: Sequence[float], n: Sequence[float]) -> float:
    """Binomial variance of an unweighted average of per-language accuracies, each from its ``n`` examples."""
    p = np.asarray(accuracy, dtype=float)
    sizes = np.asarray(n, dtype=float)
    if p.size == 0:
        return 0.0
    return float(np.sum(p * (1 - p) / sizes) / p.size**2)


def estimate_variance(
    results: pd.DataFrame, target: str, *, languages: Sequence[str] | None = None
) -> TargetVariance:
    """Seed and example variance of ``target``'s run averages in a pilot (`load_results` table).

    ``languages``: those the plan evaluates (default: the pilot's); where the pilot
    has no run of ``target``, their accuracy is taken as 0.5, the largest binomial
    variance. Falls back to `PRIOR_SEED_SD_POINTS` when no (intermediate,
    condition) group has 2 seeds.
    """
    missing = [c for c in NEEDED_COLUMNS if c not in results.columns]
    if missing:
        raise StatsError(f"pilot table: missing column(s) {', '.join(missing)}")
    rows = results[results["target"] == target]
    accuracy = {
        str(lang): float(acc)
        for lang, acc in rows.groupby("language")["accuracy"].mean().items()
        if languages is None or lang in languages
    }
    if not accuracy and languages:
        accuracy = dict.fromkeys(languages, 0.5)
    pilot_n = int(rows["n"].median()) if len(rows) else None
    per_run = rows.groupby(["intermediate", "condition", "seed", "run_id"]).apply(
        lambda run: pd.Series(
            {
                "average": float(run["accuracy"].mean()),
                "binomial": binomial_variance(run["accuracy"], run["n"]),
            }
        ),
        include_groups=False,
    )
    observed_sum, binomial_sum, dof, runs, groups = 0.0, 0.0, 0, 0, 0
    if len(per_run):
        for _, group in per_run.groupby(level=["intermediate", "condition"]):
            if len(group) < 2:
                continue
            observed_sum += float(group["average"].var(ddof=1)) * (len(group) - 1)
            binomial_sum += float(group["binomial"].mean()) * (len(group) - 1)
            dof += len(group) - 1
            runs += len(group)
            groups += 1
    if dof == 0:
        prior = (PRIOR_SEED_SD_POINTS / 100) ** 2
        return TargetVariance(
            target=target,
            seed_variance=prior,
            accuracy=accuracy,
            pilot_eval_examples=pilot_n,
            runs=0,
            groups=0,
            observed_variance=float("nan"),
            binomial_variance=float("nan"),
            source=(
                f"{target}: fewer than 2 completed seeds in every condition of the pilot, so the seed variance "
                f"cannot be estimated; using the {PRIOR_SOURCE}"
            ),
        )
    observed, binomial = observed_sum / dof, binomial_sum / dof
    seed = max(observed - binomial, 0.0)
    return TargetVariance(
        target=target,
        seed_variance=seed,
        accuracy=accuracy,
        pilot_eval_examples=pilot_n,
        runs=runs,
        groups=groups,
        observed_variance=observed,
        binomial_variance=binomial,
        source=(
            f"{target}: {runs} pilot runs in {groups} condition(s): sd of a run's average "
            f"{100 * math.sqrt(observed):.2f} points = seed {100 * math.sqrt(seed):.2f} (+) example noise "
            f"{100 * math.sqrt(binomial):.2f} (binomial at {pilot_n} examples per language)"
        ),
    )


@dataclass(frozen=True)
class Design:
    """Seeds per condition and evaluation examples per language, and the power they give."""

    seeds: int
    eval_examples: int | None
    #: Power of the worst target's average test at ``seeds`` (at least the power asked for).
    power: float
    #: Planned sd of a run's average per target (accuracy units).
    sd: dict[str, float] = field(default_factory=dict)
    #: The target that needs the most seeds.
    deciding_target: str = ""


def design_for(
    variances: Iterable[TargetVariance],
    mde_points: float,
    *,
    eval_examples: int | None,
    alpha: float = 0.05,
    power: float = 0.8,
    family_size: int = 1,
) -> Design:
    """Seeds per condition for every target's average to detect ``mde_points`` with ``power``.

    Each target's average row is one test of a family of ``family_size`` (the
    comparison's average rows over targets and intermediate tasks); the design
    needs as many seeds as its hardest target.
    """
    if not mde_points > 0:
        raise StatsError(f"mde={mde_points!r}: expected a positive number of points")
    effect = mde_points / 100
    best: Design | None = None
    sds: dict[str, float] = {}
    for variance in variances:
        sd = variance.sd(eval_examples)
        sds[variance.target] = sd
        n = 2 if sd <= 0 else seeds_needed(effect, sd, alpha=alpha, power=power, family_size=family_size)
        reached = power_of(effect, sd, n, alpha=alpha, family_size=family_size) if sd > 0 else 1.0
        if best is None or n > best.seeds or (n == best.seeds and reached < best.power):
            best = Design(n, eval_examples, reached, {}, variance.target)
    if best is None:
        raise StatsError("no target to plan for")
    return Design(best.seeds, eval_examples, best.power, sds, best.deciding_target)


def eval_sizes(current: int | None, available: int | None) -> list[int | None]:
    """Candidate evaluation sizes per language: the current one, then 2x, 5x, 10x ... up to what the split has.

    ``current`` None (no cap) is the whole split: ``available`` (None when unknown, the only candidate).
    """
    if current is None or (available is not None and current >= available):
        return [available if current is None else min(current, available)] if available else [current]
    sizes: list[int | None] = [current]
    for factor in (2, 5, 10, 20, 50):
        size = current * factor
        if available is not None and size >= available:
            sizes.append(available)  # the whole split
            break
        sizes.append(size)
    return sizes
