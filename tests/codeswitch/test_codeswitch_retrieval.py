"""CSLS retrieval on a tiny synthetic embedding space with known answers (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from xlt_lib.codeswitch.retrieval import mean_neighbour_similarity, retrieve, unit_rows


def hub_space(n: int = 40, dim: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Queries sharing one direction, their translations, and a hub candidate on that direction.

    Query ``i`` is ``(e0 + z_i) / sqrt 2`` with ``z_i`` orthogonal to ``e0``; its translation
    is ``z_i`` plus noise (cosine about 0.65 to the query); the hub is ``e0`` itself (cosine
    0.71 to every query). Plain nearest neighbour returns the hub for every query; CSLS
    discounts the hub, which is close to all queries, and returns the translations.
    """
    rng = np.random.default_rng(seed)
    e0 = np.zeros(dim)
    e0[0] = 1.0
    z = rng.normal(size=(n, dim))
    z[:, 0] = 0.0
    z = unit_rows(z)
    queries = unit_rows(e0 + z)
    noise = rng.normal(size=(n, dim))
    noise[:, 0] = 0.0
    translations = unit_rows(z + 0.45 * unit_rows(noise))
    hub = n
    candidates = np.vstack([translations, e0[None, :]])
    return queries, candidates, hub


def test_csls_beats_nearest_neighbour_on_a_hub() -> None:
    queries, candidates, hub = hub_space()
    truth = np.arange(len(queries))
    nn = retrieve(queries, candidates, method="nn", top=1)
    csls = retrieve(queries, candidates, method="csls", k=5, top=1)
    assert (nn.indices[:, 0] == hub).mean() > 0.9, "the hub is every query's nearest neighbour"
    assert (nn.indices[:, 0] == truth).mean() < 0.1
    assert (csls.indices[:, 0] == truth).all(), "CSLS finds every translation"


def test_ranking_scores_and_cosines_are_consistent() -> None:
    queries, candidates, _ = hub_space(n=12, dim=16, seed=3)
    result = retrieve(queries, candidates, method="csls", k=3, top=4)
    assert result.indices.shape == result.scores.shape == result.cosine.shape == (12, 4)
    assert (np.diff(result.scores, axis=1) <= 1e-6).all(), "best first"
    q, c = unit_rows(queries), unit_rows(candidates)
    expected_cos = np.take_along_axis(q @ c.T, result.indices, axis=1)
    np.testing.assert_allclose(result.cosine, expected_cos, rtol=1e-5, atol=1e-6)
    r_t = mean_neighbour_similarity(q, c, 3)
    r_s = mean_neighbour_similarity(c, q, 3)
    manual = 2 * (q @ c.T) - r_t[:, None] - r_s[None, :]
    np.testing.assert_allclose(result.scores, np.take_along_axis(manual, result.indices, axis=1), atol=1e-5)
    np.testing.assert_array_equal(result.indices[:, 0], manual.argmax(axis=1))


def test_mean_neighbour_similarity_by_hand() -> None:
    a = np.array([[1.0, 0.0]])
    b = unit_rows(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert mean_neighbour_similarity(a, b, k=2)[0] == pytest.approx((1.0 + 2**-0.5) / 2)
    assert mean_neighbour_similarity(a, b, k=10)[0] == pytest.approx((1.0 + 2**-0.5) / 3), "k capped"


def test_a_source_vocabulary_defines_the_candidates_neighbourhood() -> None:
    queries, candidates, _ = hub_space()
    # Retrieving for two queries only: with the whole source vocabulary as neighbourhood,
    # the hub is still recognised as one.
    few = retrieve(queries[:2], candidates, method="csls", k=5, top=1, source=queries)
    assert few.indices[:, 0].tolist() == [0, 1]
    with pytest.raises(ValueError, match="method"):
        retrieve(queries, candidates, method="cosine")  # type: ignore[arg-type]
