"""In how many languages each effect holds: replicability counts per comparison (Dror et al. 2017)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xlt_lib.stats.design import AVERAGE
from xlt_lib.stats.multiple import CombiningMethod, replicability_count

REPLICABILITY_COLUMNS: tuple[str, ...] = (
    "target",
    "intermediate",
    "comparison",
    "treatment",
    "reference",
    "n_languages",
    "significant_better",
    "significant_worse",
    "replicated_better",
    "replicated_worse",
    "method",
    "alpha",
)


def replicability_table(
    comparisons: pd.DataFrame, *, alpha: float | None = None, method: CombiningMethod = "bonferroni"
) -> pd.DataFrame:
    """In how many languages each effect holds, per comparison (Dror et al. 2017).

    From a `compare_conditions` table (its per-language rows; ``avg`` excluded):
    ``significant_better``/``significant_worse`` count languages whose adjusted
    p-value is significant with the difference in that direction;
    ``replicated_better`` is `replicability_count` of the primary test's one-sided
    p-values ``p_greater`` (H0: the treatment is not better), i.e. a lower bound,
    with family-wise error ``alpha``, on the number of languages in which the
    treatment is better; ``replicated_worse`` the same with ``p_less``. Bonferroni
    partial conjunctions by default, because the languages are not independent
    (`replicability_count`). Counts are missing (NA) where the tests could not
    be run.
    """
    alpha = float(comparisons.attrs.get("alpha", 0.05)) if alpha is None else alpha
    key = ["target", "intermediate", "comparison", "treatment", "reference"]
    rows = []
    made = comparisons[comparisons["compared"].astype(bool)] if "compared" in comparisons else comparisons
    per_language = made[made["language"] != AVERAGE]
    for values, group in per_language.groupby(key, sort=False):
        row: dict[str, Any] = dict(zip(key, values, strict=True))
        row |= {
            "n_languages": len(group),
            "significant_better": int((group["significant"] & (group["diff"] > 0)).sum()),
            "significant_worse": int((group["significant"] & (group["diff"] < 0)).sum()),
            "method": method,
            "alpha": alpha,
        }
        for direction, column in (("better", "p_greater"), ("worse", "p_less")):
            p = group[column].to_numpy(dtype=float)
            row[f"replicated_{direction}"] = (
                pd.NA if np.isnan(p).any() else replicability_count(p, alpha=alpha, method=method).count
            )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(REPLICABILITY_COLUMNS))
    for column in ("replicated_better", "replicated_worse"):
        table[column] = table[column].astype("Int64")
    return table
