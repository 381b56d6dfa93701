"""Retrieving translations between two embedded vocabularies: nearest neighbour and CSLS.

In a shared embedding space a few target words (hubs) are close to very many
source words, and plain nearest-neighbour retrieval returns them for all of them.
CSLS (cross-domain similarity local scaling, Conneau et al. 2018, the MUSE paper)
discounts each side's density::

    csls(x, y) = 2 cos(x, y) - r_T(x) - r_S(y)

where ``r_T(x)`` is the mean cosine of source word ``x`` to its ``k`` nearest
candidates and ``r_S(y)`` the mean cosine of candidate ``y`` to its ``k`` nearest
source words. A hub has a high ``r_S`` and loses its advantage. ``r_T(x)`` is the
same for every candidate of ``x``, so it does not change the ranking, but it puts
scores of different source words on one scale, which a threshold needs.

Pure numpy on unit-normalised float32 rows, computed in blocks so that a
20,000 × 20,000 problem never holds the whole similarity matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["csls", "nn"]
#: CSLS neighbourhood size (MUSE's default).
DEFAULT_K = 10
_BLOCK = 2048


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); a zero row stays zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, np.float32(1e-12))


def mean_neighbour_similarity(a: np.ndarray, b: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """For each row of ``a``: the mean cosine to its ``k`` nearest rows of ``b`` (rows unit length)."""
    k = min(k, len(b))
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), _BLOCK):
        sims = a[start : start + _BLOCK] @ b.T
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        out[start : start + _BLOCK] = top.mean(axis=1)
    return out


@dataclass(frozen=True)
class Retrieval:
    """The ``top`` best candidates of each query, best first.

    ``indices`` index the candidate list; ``scores`` are the retrieval scores
    (CSLS or cosine) and ``cosine`` the plain cosine of the same pairs.
    """

    indices: np.ndarray  # (queries, top) int64
    scores: np.ndarray  # (queries, top) float32
    cosine: np.ndarray  # (queries, top) float32
    method: str
    k: int


def retrieve(
    queries: np.ndarray,
    candidates: np.ndarray,
    *,
    method: Method = "csls",
    k: int = DEFAULT_K,
    top: int = 5,
    source: np.ndarray | None = None,
) -> Retrieval:
    """The ``top`` candidates of every query by CSLS (default) or plain cosine (``"nn"``).

    ``source`` is the source vocabulary that defines a candidate's neighbourhood
    ``r_S`` (default: the queries themselves); pass the whole source vocabulary
    when retrieving for a sample of it, so that a candidate's hubness does not
    depend on the sample.
    """
    if method not in ("csls", "nn"):
        raise ValueError(f"method must be 'csls' or 'nn', got {method!r}")
    q, c = unit_rows(queries), unit_rows(candidates)
    if len(c) == 0:
        raise ValueError("no candidates to retrieve from")
    top = min(top, len(c))
    if method == "csls":
        r_source = mean_neighbour_similarity(c, unit_rows(source) if source is not None else q, k)
        r_target = mean_neighbour_similarity(q, c, k)
    indices = np.empty((len(q), top), dtype=np.int64)
    scores = np.empty((len(q), top), dtype=np.float32)
    cosine = np.empty((len(q), top), dtype=np.float32)
    for start in range(0, len(q), _BLOCK):
        sims = q[start : start + _BLOCK] @ c.T
        block = (
            (2 * sims - r_target[start : start + _BLOCK, None] - r_source[None, :])
            if method == "csls"
            else sims
        )
        part = np.argpartition(-block, top - 1, axis=1)[:, :top]
        order = np.argsort(-np.take_along_axis(block, part, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(part, order, axis=1)
        indices[start : start + _BLOCK] = best
        scores[start : start + _BLOCK] = np.take_along_axis(block, best, axis=1)
        cosine[start : start + _BLOCK] = np.take_along_axis(sims, best, axis=1)
    return Retrieval(indices=indices, scores=scores, cosine=cosine, method=method, k=k)
