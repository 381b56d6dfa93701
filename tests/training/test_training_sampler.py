"""PaddingMinimalSampler: a permutation, deterministic per (seed, epoch), with little padding."""

from __future__ import annotations

import random

from xlt_lib.training.sampling import PaddingMinimalSampler


def _padding(order: list[int], lengths: list[int], batch: int) -> float:
    padded = sum(
        max(lengths[i] for i in order[s : s + batch]) * len(order[s : s + batch])
        for s in range(0, len(order), batch)
    )
    return 1 - sum(lengths) / padded


def test_sampler_is_a_deterministic_permutation_per_epoch() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(5, 120) for _ in range(1003)]
    sampler = PaddingMinimalSampler(lengths, batch_size=16, seed=1)
    first = list(sampler)
    assert sorted(first) == list(range(1003))
    assert list(PaddingMinimalSampler(lengths, batch_size=16, seed=1)) == first
    sampler.set_epoch(1)
    assert list(sampler) != first and sorted(sampler) == list(range(1003))
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_sampler_cuts_padding_and_keeps_batches_full() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(5, 120) for _ in range(1003)]
    order = list(PaddingMinimalSampler(lengths, batch_size=16, seed=0))
    shuffled = list(range(1003))
    rng.shuffle(shuffled)
    assert _padding(order, lengths, 16) < 0.05 < 0.3 < _padding(shuffled, lengths, 16)
    # only the final batch may be short: 1003 = 62 * 16 + 11
    batch_maxima = [max(lengths[i] for i in order[s : s + 16]) for s in range(0, 992, 16)]
    assert batch_maxima != sorted(batch_maxima) and batch_maxima != sorted(batch_maxima, reverse=True)
