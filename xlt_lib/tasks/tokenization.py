"""Tokenisation of canonical rows, the cached ``Dataset.map`` around it, and collators.

How a format is tokenised and padded is its format module's
(`xlt_lib.tasks.formats`); this module applies it to a task: `encode_batch` is a
pure function over a batch of canonical rows (a dict of lists), so it serves both
``Dataset.map(batched=True)`` and single code-switched examples built on the fly;
`tokenize` caches the map. Nothing is padded here: collators pad each batch to its
own longest sequence (dynamic padding against pad-to-128:
``benchmarks/results/train_throughput.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xlt_lib.errors import ConfigError
from xlt_lib.tasks.formats import get_format
from xlt_lib.tasks.registry import get_task
from xlt_lib.tasks.spec import TaskSpec

#: Bump when `encode_batch`'s output changes, to invalidate tokenisation caches.
ENCODING_VERSION = "1"

#: Columns that identify examples but are not model inputs; collators drop them.
BOOKKEEPING_COLUMNS = ("id", "language", "example_id", "offset_mapping")


def encode_batch(
    batch: dict[str, list],
    task: TaskSpec | str,
    tokenizer: Any,
    max_length: int,
    *,
    train: bool = True,
    doc_stride: int = 128,
) -> dict[str, list]:
    """Tokenise a batch of canonical rows for ``task``'s format (no padding).

    - classification: ``(text_a[, text_b])`` pairs, ``labels``;
    - multiple choice: ``(context + question, choice)`` pairs, nested per choice, ``labels``;
    - extractive QA: strided windows (see `ExtractiveQA.encode`), ``example_id``;
    - tagging: word-aligned ``labels`` (-100 on specials and sub-word continuations).

    ``id`` and ``language`` pass through (for QA, ``example_id`` per feature) so
    predictions can be joined back to examples.
    """
    spec = get_task(task)
    if max_length < 8:
        raise ConfigError(f"max_length={max_length}: expected at least 8 tokens")
    return get_format(spec.format).encode(
        batch, spec, tokenizer, max_length, train=train, doc_stride=doc_stride
    )


#: Fingerprints already computed, per tokenizer object (see `tokenizer_fingerprint`).
_FINGERPRINTS: weakref.WeakKeyDictionary[Any, tuple[str, str]] = weakref.WeakKeyDictionary()


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A content hash of a tokenizer: same vocabulary, rules and special tokens, same hash.

    Hashing the pickled tokenizer (what ``datasets`` does by default) is unstable: a
    fast tokenizer's truncation/padding state changes once it has been called, so
    the second run would miss the cache. The serialised backend is hashed without
    that state instead.

    Serialising a 250k vocabulary costs ~0.09 s, and a phase-3 run tokenises once per
    split and language (17 times for XNLI), so the hash is remembered per tokenizer
    object, and recomputed whenever its size, special tokens or sides have changed
    (adding tokens changes its size). A tokenizer whose backend is swapped in place
    (a new normaliser, with the same size) is not noticed: xlt never does that.
    """
    quick = _quick_state(tokenizer)
    try:
        known = _FINGERPRINTS.get(tokenizer)
    except TypeError:  # neither hashable nor weakly referenceable: hash it every time
        known = None
    if known is not None and known[0] == quick:
        return known[1]
    fingerprint = _fingerprint(tokenizer)
    with contextlib.suppress(TypeError):
        _FINGERPRINTS[tokenizer] = (quick, fingerprint)
    return fingerprint


def _quick_state(tokenizer: Any) -> str:
    """What changes when a tokenizer is extended or reconfigured, cheap to read."""
    try:
        size = len(tokenizer)
    except TypeError:
        size = None
    return json.dumps(
        [
            type(tokenizer).__name__,
            size,
            {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())},
            getattr(tokenizer, "padding_side", None),
            getattr(tokenizer, "truncation_side", None),
        ]
    )


def _fingerprint(tokenizer: Any) -> str:
    parts: dict[str, Any] = {
        "class": type(tokenizer).__name__,
        "special": {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())},
        "padding_side": getattr(tokenizer, "padding_side", None),
        "truncation_side": getattr(tokenizer, "truncation_side", None),
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8"))
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        digest.update(_backend_without_call_state(backend).encode("utf-8"))
    else:
        digest.update(json.dumps(sorted(tokenizer.get_vocab().items()), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _backend_without_call_state(backend: Any) -> str:
    """The backend tokenizer serialised with truncation and padding switched off.

    transformers sets both again on every call, so they are leftovers of the last
    call, not part of what the tokenizer is. Switching them off around ``to_str``
    (and restoring them) avoids parsing the 16 MB JSON of a 250k vocabulary.
    """
    truncation, padding = backend.truncation, backend.padding
    backend.no_truncation()
    backend.no_padding()
    try:
        return backend.to_str()
    finally:
        if truncation is not None:
            backend.enable_truncation(**truncation)
        if padding is not None:
            backend.enable_padding(**padding)


def tokenize(
    ds: Any,
    task: TaskSpec | str,
    tokenizer: Any,
    max_length: int,
    *,
    train: bool = True,
    doc_stride: int = 128,
) -> Any:
    """Tokenise a canonical dataset with `encode_batch`, cached by ``datasets``.

    The cache fingerprint is derived explicitly from the dataset's fingerprint, the
    task, the tokenizer's content, ``max_length``, ``train`` and ``doc_stride``, so a
    second run with the same inputs reads the cached arrow file instead of
    tokenising again, and any change of those inputs tokenises afresh.
    """
    spec = get_task(task)
    material = json.dumps(
        [
            ENCODING_VERSION,
            getattr(ds, "_fingerprint", None),
            spec.name,
            spec.format,
            tokenizer_fingerprint(tokenizer),
            max_length,
            train,
            doc_stride if get_format(spec.format).strided else None,
        ]
    )
    fingerprint = hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
    return ds.map(
        encode_batch,
        batched=True,
        fn_kwargs={
            "task": spec,
            "tokenizer": tokenizer,
            "max_length": max_length,
            "train": train,
            "doc_stride": doc_stride,
        },
        remove_columns=ds.column_names,
        new_fingerprint=fingerprint,
        desc=f"tokenising {spec.name}",
    )


@dataclass
class DropBookkeeping:
    """Wrap a collator so that identifier columns (``id``, ``example_id``, ...) never reach it.

    The Trainer already removes columns the model does not take; this keeps the
    collators usable with a plain ``DataLoader`` too, where string ids would make
    tensor conversion fail.
    """

    collator: Callable[[list[dict[str, Any]]], dict[str, Any]]

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        cleaned = [{k: v for k, v in f.items() if k not in BOOKKEEPING_COLUMNS} for f in features]
        return self.collator(cleaned)


def collator_for(task: TaskSpec | str, tokenizer: Any) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    """A collator that pads each batch to its longest sequence (never to ``max_length``).

    The padding is the format's (`TaskFormat.collator`): classification and QA use
    `DataCollatorWithPadding` (QA's start/end positions are scalars per feature and
    need no padding); multiple choice uses transformers' `DataCollatorForMultipleChoice`
    (pads every choice of the batch to one length); tagging uses
    `DataCollatorForTokenClassification`, padding labels with -100.
    """
    spec = get_task(task)
    return DropBookkeeping(get_format(spec.format).collator(tokenizer))
