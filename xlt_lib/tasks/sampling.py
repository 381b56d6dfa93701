"""Deterministic, label-balanced subsampling that picks the same items in every language.

`datasets.Dataset.train_test_split(stratify_by_column=...)` would stratify, but it
draws by row position: two language files of a row-aligned set, or the same file
after a row is added, would give different items. Here each example is ranked by
a hash of (seed, id) instead, and ids of row-aligned multilingual sets are the same
in every language (``xnli-test-00042``), so the same seed selects the same items
everywhere, whatever the row order.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from xlt_lib.errors import ConfigError


def _rank(seed: int, example_id: str) -> bytes:
    return hashlib.sha256(f"{seed}\x00{example_id}".encode()).digest()


def _quotas(counts: dict[Any, int], n: int) -> dict[Any, int]:
    """Per-class quotas proportional to class sizes, summing to ``n`` (largest remainder)."""
    total = sum(counts.values())
    exact = {label: n * count / total for label, count in counts.items()}
    quotas = {label: int(value) for label, value in exact.items()}
    leftover = n - sum(quotas.values())
    by_remainder = sorted(counts, key=lambda label: (-(exact[label] - quotas[label]), str(label)))
    for label in by_remainder[:leftover]:
        quotas[label] += 1
    return quotas


def subsample(ds: Any, n: int | None, seed: int, stratify_by: str | None = "label") -> Any:
    """``n`` examples of ``ds``, deterministic given ``seed``, keeping the label distribution.

    Each class gets a quota proportional to its size (so a balanced set stays
    balanced); within a class the examples with the smallest hash of (seed, id) are
    kept. Without an ``id`` column, or when ``stratify_by`` is ``None`` or not a
    scalar column of ``ds`` (QA, tagging), examples are drawn without stratifying.
    The selection keeps the original row order. No-op when ``n`` is ``None`` or
    at least ``len(ds)``.
    """
    if n is None or n >= len(ds):
        return ds
    if n <= 0:
        raise ConfigError(f"subsample size n={n}: expected a positive number of examples")
    stratify = stratify_by is not None and stratify_by in ds.column_names
    # Read the needed columns once as plain lists: `datasets` columns are lazy, and
    # indexing them row by row costs about a millisecond a row (a minute for SST-2).
    wanted = [name for name in ("id", stratify_by if stratify else None) if name in ds.column_names]
    columns = ds.select_columns(wanted)[:] if wanted else {}
    ids = columns["id"] if "id" in columns else [str(i) for i in range(len(ds))]
    groups: dict[Any, list[int]] = defaultdict(list)
    values = columns[stratify_by] if stratify else [None] * len(ds)
    if stratify and values and isinstance(values[0], list):
        values = [None] * len(ds)
    for index, value in enumerate(values):
        groups[value].append(index)
    quotas = _quotas({label: len(members) for label, members in groups.items()}, n)
    chosen: list[int] = []
    for label, members in groups.items():
        ranked = sorted(members, key=lambda index: _rank(seed, ids[index]))
        chosen.extend(ranked[: quotas[label]])
    return ds.select(sorted(chosen))
