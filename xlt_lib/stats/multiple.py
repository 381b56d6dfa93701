"""Multiple comparisons: adjusted p-values, and in how many languages an effect holds.

A study like this one tests the same question in 15 XNLI and 7 PAWS-X
languages, for several intermediate tasks: at alpha = 0.05, one in twenty true
nulls comes out "significant" by chance. Two complementary answers:

- `adjust_pvalues`: family-wise (Holm-Bonferroni) or false-discovery-rate
  (Benjamini-Hochberg) adjusted p-values, via statsmodels.
- `replicability_count`: Dror et al. (2017), *Replicability Analysis for Natural
  Language Processing: Testing Significance with Multiple Datasets* (TACL):
  a lower bound, with family-wise error control, on the *number* of languages in
  which the effect holds, from partial-conjunction tests (Benjamini & Heller 2008).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import chi2
from statsmodels.stats.multitest import multipletests

from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.settings import CORRECTIONS as CORRECTION_NAMES
from xlt_lib.stats.settings import check_correction

#: statsmodels' method name of each correction (`xlt_lib.stats.settings.CORRECTIONS` names them).
#: Note that statsmodels' own default ("hs") is Holm-Sidak, not Holm-Bonferroni.
CORRECTIONS: dict[str, str | None] = dict(
    zip(CORRECTION_NAMES, ("holm", "bonferroni", "holm-sidak", "fdr_bh", "fdr_by", None), strict=True)
)


def adjust_pvalues(pvalues: ArrayLike, *, method: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Raw and adjusted p-values of one family of hypotheses, and which are rejected.

    ``method``: ``holm`` (Holm-Bonferroni step-down; family-wise error rate under
    any dependence), ``bonferroni``, ``holm-sidak`` (FWER under independence or
    positive dependence), ``bh`` (Benjamini-Hochberg; false discovery rate under
    independence or positive regression dependence), ``by`` (Benjamini-Yekutieli;
    FDR under any dependence) or ``none``. NaN p-values (tests that could not be
    run) are left out of the family and stay NaN, not rejected.

    Returns a table in input order with columns ``p_raw, p_adjusted, reject``.
    """
    check_correction(method)
    if not 0 < alpha < 1:
        raise StatsError(f"alpha={alpha!r}: expected a number in (0, 1)")
    raw = np.asarray(pvalues, dtype=float).reshape(-1)
    valid = ~np.isnan(raw)
    if ((raw[valid] < 0) | (raw[valid] > 1)).any():
        raise StatsError(
            f"p-values must lie in [0, 1], got {raw[valid][(raw[valid] < 0) | (raw[valid] > 1)]}"
        )
    adjusted = np.full(raw.shape, np.nan)
    reject = np.zeros(raw.shape, dtype=bool)
    if valid.any():
        statsmodels_method = CORRECTIONS[method]
        if statsmodels_method is None:
            adjusted[valid] = raw[valid]
            reject[valid] = raw[valid] <= alpha
        elif method == "holm":
            adjusted[valid] = _holm(raw[valid])
            reject[valid] = adjusted[valid] <= alpha
        else:
            rejected, corrected, _, _ = multipletests(raw[valid], alpha=alpha, method=statsmodels_method)
            adjusted[valid] = corrected
            reject[valid] = rejected
    return pd.DataFrame({"p_raw": raw, "p_adjusted": adjusted, "reject": reject})


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values: the running maximum of ``(m - i) p_(i)`` in ascending order, capped at 1.

    Computed here rather than by statsmodels' ``multipletests(method="holm")``,
    which calls ``gc.collect()`` on every call: 0.1 s each in a process holding
    many objects, which made the calibration (thousands of families) crawl. The
    tests check both agree.
    """
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(p.size, 0, -1))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


CombiningMethod = Literal["bonferroni", "fisher"]


def partial_conjunction_pvalues(pvalues: ArrayLike, *, method: CombiningMethod = "bonferroni") -> np.ndarray:
    """p-values of the partial conjunction nulls ``H0^{u/N}`` for u = 1..N (Benjamini & Heller 2008).

    ``H0^{u/N}``: fewer than u of the N individual nulls are false (the effect
    holds in fewer than u languages). With the p-values sorted ascending,
    ``p_(1) <= ... <= p_(N)``, its p-value combines the N - u + 1 largest:

    - ``bonferroni``: ``(N - u + 1) * p_(u)``, capped at 1. Valid under any
      dependence between the individual tests.
    - ``fisher``: ``P(chi2_{2(N-u+1)} >= -2 sum_{i>=u} log p_(i))``. More
      powerful, but valid only for independent tests.

    Returned monotone non-decreasing in u (a running maximum), as Dror et al.
    (2017) require for counting with `replicability_count`.
    """
    p = np.sort(np.asarray(pvalues, dtype=float).reshape(-1))
    if p.size == 0:
        raise StatsError("partial conjunction needs at least one p-value")
    if np.isnan(p).any() or ((p < 0) | (p > 1)).any():
        raise StatsError(f"partial conjunction needs p-values in [0, 1], got {p.tolist()}")
    n = p.size
    u = np.arange(1, n + 1)
    if method == "bonferroni":
        combined = np.minimum(1.0, (n - u + 1) * p)
    elif method == "fisher":
        with np.errstate(divide="ignore"):
            logs = np.log(p)
        # sum over i >= u of log p_(i): a reversed cumulative sum.
        tail_sums = np.cumsum(logs[::-1])[::-1]
        combined = chi2.sf(-2 * tail_sums, df=2 * (n - u + 1))
    else:
        raise StatsError(f"method={method!r}: expected 'bonferroni' or 'fisher'")
    return np.maximum.accumulate(combined)


@dataclass(frozen=True)
class ReplicabilityResult:
    """Dror et al. (2017): the effect holds in at least ``count`` of ``n_tests`` languages (FWER alpha)."""

    count: int
    n_tests: int
    alpha: float
    method: str
    partial_conjunction: tuple[float, ...]


def replicability_count(
    pvalues: ArrayLike, *, alpha: float = 0.05, method: CombiningMethod = "bonferroni"
) -> ReplicabilityResult:
    """Estimated number of languages in which the effect holds: ``k = max{u : p^{u/N} <= alpha}``.

    Null hypotheses tested: the partial conjunctions ``H0^{u/N}`` ("the effect
    holds in fewer than u languages"), in order u = 1, 2, ...; they are nested,
    so testing each at ``alpha`` until the first non-rejection controls the
    family-wise error of the count (Dror et al. 2017, Benjamini & Heller 2008).
    Pass one-sided p-values in the direction of interest: a count of languages
    where *A is better* needs p-values of H0 "A is not better".

    Use ``bonferroni`` unless the tests are independent. Here they are not: every
    language is scored by the same trained models, and XNLI/PAWS-X test sets are
    translations of the same items, so the default is Bonferroni (Fisher would
    overstate the count).
    """
    if not 0 < alpha < 1:
        raise StatsError(f"alpha={alpha!r}: expected a number in (0, 1)")
    combined = partial_conjunction_pvalues(pvalues, method=method)
    rejected = np.flatnonzero(combined <= alpha)
    # combined is non-decreasing, so the rejected u form a prefix 1..k.
    count = int(rejected[-1] + 1) if rejected.size else 0
    return ReplicabilityResult(
        count=count,
        n_tests=int(combined.size),
        alpha=float(alpha),
        method=method,
        partial_conjunction=tuple(float(x) for x in combined),
    )


def adjust_in_families(
    table: pd.DataFrame, family: Iterable[str], alpha: float, correction: str
) -> pd.DataFrame:
    """Add ``p_adjusted``, ``significant`` and ``family_size``, correcting ``p_value`` within each family.

    A family is the rows sharing the values of the ``family`` columns; NaN
    p-values (tests that could not run) stay out of it (`adjust_pvalues`).
    """
    p_values = table["p_value"].to_numpy(dtype=float)
    adjusted = np.full(len(table), np.nan)
    significant = np.zeros(len(table), dtype=bool)
    size = np.zeros(len(table), dtype=int)
    for positions in table.groupby(list(family), sort=False).indices.values():
        result = adjust_pvalues(p_values[positions], method=correction, alpha=alpha)
        adjusted[positions] = result["p_adjusted"].to_numpy()
        significant[positions] = result["reject"].to_numpy()
        size[positions] = int(result["p_raw"].notna().sum())
    return table.assign(p_adjusted=adjusted, significant=significant, family_size=size)


def smallest_adjusted_p(floor: float, family_size: int, *, correction: str) -> float:
    """The smallest corrected p-value a test with p-value floor ``floor`` can reach in its family.

    The best case for any one test is every test of the family at its floor
    (for Holm and Bonferroni the others do not matter; for Benjamini-Hochberg it
    is what lets the smallest adjusted p equal the raw one), so this is the
    correction applied to ``family_size`` copies of ``floor``: ``m * floor`` for
    Holm/Bonferroni, ``1 - (1 - floor)^m`` for Holm-Šidák, ``floor`` for BH and
    no correction, ``floor * sum(1/i)`` for BY (what `adjust_pvalues` gives for
    such a family; the tests check the two agree). When it is above alpha the
    test cannot decide, whatever the data.
    """
    check_correction(correction)
    m = int(family_size)
    if m < 1:
        return float(floor)
    if correction in ("holm", "bonferroni"):
        value = m * floor
    elif correction == "holm-sidak":
        value = 1 - (1 - floor) ** m
    elif correction == "by":
        value = floor * sum(1 / i for i in range(1, m + 1))
    else:  # bh, none
        value = floor
    return float(min(1.0, value))
