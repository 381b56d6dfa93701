"""Reproducible random numbers keyed by (seed, epoch, example id, position).

Every random draw of the switcher is a pure function of *what* it decides: the
run seed, the epoch (dynamic schedule), the example id, the field, the word
position and the kind of decision. So an example switches the same way whether
it is switched alone (`SwitchedDataset`, one DataLoader worker among many) or in
a whole-corpus batch, in any order, on any machine.

Why hand-written: numpy's generators are stream-based, so one keyed stream per
example means constructing a ``Generator`` per example (about as slow as the
whole switch), and Python's ``hash`` is salted per process. A counter-based
generator — SplitMix64's finaliser over ``key + counter·φ`` — gives all the draws
of a whole corpus in a few vectorised numpy passes. SplitMix64 (Steele et al.
2014) passes BigCrush; its output is only used for Bernoulli and categorical
draws here. Stable keys come from BLAKE2b, not from ``hash``.
"""

from __future__ import annotations

import hashlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53

#: Counters of per-example decisions (per-unit counters are random 64-bit slot keys plus offsets).
COUNTER_CHOOSE_EXAMPLE = 1
COUNTER_EXAMPLE_LANGUAGE = 2
#: Offsets of the three per-unit decisions.
DRAW_SELECT, DRAW_LANGUAGE, DRAW_PICK = 0, 1, 2
DRAWS_PER_UNIT = 4


def stable_hash64(text: str) -> int:
    """A process-independent 64-bit hash of a string."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise on uint64 (wrap-around arithmetic is intended)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def run_key(seed: int, epoch: int) -> np.uint64:
    """The key of one (seed, epoch): mixed into every example key."""
    return np.uint64(stable_hash64(f"xlt-codeswitch:{seed}:{epoch}"))


def example_keys(id_hashes: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """Per-example keys for one (seed, epoch), from the examples' `stable_hash64(id)`."""
    return mix64(id_hashes.astype(np.uint64, copy=False) ^ run_key(seed, epoch))


def uniforms(keys: np.ndarray | np.uint64, counters: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1), one per (key, counter) pair (broadcast)."""
    state = np.asarray(keys, dtype=np.uint64) + np.asarray(counters, dtype=np.uint64) * _GOLDEN
    return (mix64(state) >> np.uint64(11)).astype(np.float64) * _TO_UNIT
