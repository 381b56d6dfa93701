"""Pairing two runs' predictions example by example.

Example-level tests (paired bootstrap, approximate randomisation, McNemar) are
only valid when both runs were scored on exactly the same examples. A silent
inner join would hide a truncated prediction file or a different evaluation
split, so pairing refuses anything but a one-to-one match on ``(id, language)``
with identical gold labels, and says how many keys are wrong, with examples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from xlt_lib.stats.errors import PairingError

KEY = ("id", "language")
PREDICTION_COLUMNS = ("id", "language", "gold", "prediction")
_MAX_EXAMPLES_SHOWN = 5


def _show(keys: Sequence[tuple[object, ...]]) -> str:
    shown = ", ".join("/".join(str(part) for part in key) for key in keys[:_MAX_EXAMPLES_SHOWN])
    more = len(keys) - _MAX_EXAMPLES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _check_columns(frame: pd.DataFrame, name: str) -> None:
    missing = [column for column in PREDICTION_COLUMNS if column not in frame.columns]
    if missing:
        raise PairingError(
            f"predictions of {name} lack column(s) {', '.join(missing)}; expected {', '.join(PREDICTION_COLUMNS)}"
        )


def _keys(frame: pd.DataFrame) -> pd.Index:
    """One string per example, ``language<US>id``: hashing one column is much faster than a merge."""
    return pd.Index(frame["language"].astype(str) + "\x1f" + frame["id"].astype(str))


def _as_pairs(keys: pd.Index) -> list[tuple[str, str]]:
    """``language<US>id`` keys back to ``(id, language)`` for messages."""
    return [tuple(reversed(key.split("\x1f", 1))) for key in keys]


def _check_unique(keys: pd.Index, name: str) -> None:
    duplicated = keys.duplicated(keep=False)
    if duplicated.any():
        repeated = keys[duplicated].unique()
        raise PairingError(
            f"predictions of {name} have {len(repeated)} (id, language) key(s) more than once "
            f"({int(duplicated.sum())} rows), e.g. {_show(_as_pairs(repeated))}; "
            "each example must be predicted exactly once"
        )


def pair_predictions(
    predictions_a: pd.DataFrame,
    predictions_b: pd.DataFrame,
    *,
    name_a: str = "A",
    name_b: str = "B",
) -> pd.DataFrame:
    """Align two runs' predictions on ``(id, language)`` and mark which examples each got right.

    Returns one row per example, sorted by ``(language, id)`` so that the result
    does not depend on file order, with columns ``id, language, gold, correct_a,
    correct_b`` (booleans).

    Raises `PairingError` when a column is missing, when a key occurs twice in a
    run, when a key occurs in one run only, or when the runs disagree on an
    example's gold label (they were then evaluated on different data); the
    message gives the counts and up to five example keys.
    """
    _check_columns(predictions_a, name_a)
    _check_columns(predictions_b, name_b)
    keys_a, keys_b = _keys(predictions_a), _keys(predictions_b)
    _check_unique(keys_a, name_a)
    _check_unique(keys_b, name_b)

    only_a = keys_a.difference(keys_b)
    only_b = keys_b.difference(keys_a)
    if len(only_a) or len(only_b):
        parts = []
        if len(only_a):
            parts.append(
                f"{len(only_a)} example(s) of {name_a} are missing from {name_b} (e.g. {_show(_as_pairs(only_a))})"
            )
        if len(only_b):
            parts.append(
                f"{len(only_b)} example(s) of {name_b} are missing from {name_a} (e.g. {_show(_as_pairs(only_b))})"
            )
        raise PairingError(f"cannot pair {name_a} with {name_b} example by example: " + "; ".join(parts))

    order_a = np.argsort(keys_a.to_numpy(dtype=str), kind="stable")
    sorted_keys = keys_a[order_a]
    order_b = keys_b.get_indexer(sorted_keys)
    a = predictions_a.iloc[order_a]
    b = predictions_b.iloc[order_b]
    gold_a = a["gold"].to_numpy()
    gold_b = b["gold"].to_numpy()
    gold_differs = gold_a != gold_b
    if gold_differs.any():
        keys = _as_pairs(sorted_keys[gold_differs])
        raise PairingError(
            f"{name_a} and {name_b} disagree on the gold label of {len(keys)} example(s), e.g. {_show(keys)}: "
            "they were evaluated on different data"
        )
    return pd.DataFrame(
        {
            "id": a["id"].astype(str).to_numpy(),
            "language": a["language"].astype(str).to_numpy(),
            "gold": gold_a.astype(int),
            "correct_a": a["prediction"].to_numpy() == gold_a,
            "correct_b": b["prediction"].to_numpy() == gold_b,
        }
    )
