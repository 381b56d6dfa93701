"""Training and evaluation sets for one phase, code-switched where asked.

Subsets are drawn with `xlt_lib.tasks.subsample` under a fixed seed
(`SUBSET_SEED`), not the run's seed: runs that differ only in their seed then see
the same examples, and evaluation subsets are the same items in every language
and every run, so runs can be compared example by example.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from xlt_lib.codeswitch import CodeSwitchConfig, SwitchedDataset, Switcher, build_switcher, resolve_fields
from xlt_lib.tasks import TaskSpec, encode_batch, get_format, load_split, subsample, tokenize
from xlt_lib.training.settings import TrainingSettings

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedTokenizerBase

SUBSET_SEED = 0


@dataclass
class TrainSet:
    """What the Trainer trains on, with the lengths its sampler groups by."""

    dataset: Dataset | SwitchedDataset  # tokenised, or lazy and re-switched every epoch
    lengths: list[int]
    n_examples: int
    dynamic: bool


def feature_lengths(features: Dataset) -> list[int]:
    """Tokens per feature (for multiple choice, its longest choice: that is what gets padded to)."""
    ids = features["input_ids"]
    if ids and isinstance(ids[0][0], list):
        return [max(len(choice) for choice in example) for example in ids]
    return [len(x) for x in ids]


def _encode_one(
    example: dict[str, Any], task: TaskSpec, tokenizer: PreTrainedTokenizerBase, settings: TrainingSettings
) -> dict[str, Any]:
    """Encode a single (switched) canonical example, as `SwitchedDataset` needs."""
    batch = encode_batch(
        {k: [v] for k, v in example.items()},
        task,
        tokenizer,
        settings.max_length,
        train=True,
        doc_stride=settings.qa_stride,
    )
    rows = [{k: v[i] for k, v in batch.items()} for i in range(len(batch["input_ids"]))]
    # A map-style dataset item must be one feature; a format whose examples may give
    # several (QA windows) says which one to train on.
    return get_format(task.format).pick_feature(rows, tokenizer)


def train_set(
    task: TaskSpec,
    tokenizer: PreTrainedTokenizerBase,
    settings: TrainingSettings,
    codeswitch: CodeSwitchConfig | None,
    data_dir: str | os.PathLike[str] | None,
    switcher: Switcher | None = None,
) -> TrainSet:
    """English training data of ``task``, subsampled, tokenised and code-switched as configured.

    ``switcher``: one already built for ``codeswitch`` (multi-task training shares one
    across its tasks: loading its dictionaries is costly, see
    ``benchmarks/results/codeswitch_throughput.md``).
    """
    raw = load_split(task, "train", "en", data_dir=data_dir)
    raw = subsample(raw, settings.max_train_examples, SUBSET_SEED)
    encode = partial(tokenize, task=task, tokenizer=tokenizer, max_length=settings.max_length, train=True)
    if codeswitch is None:
        features = encode(raw, doc_stride=settings.qa_stride)
        return TrainSet(features, feature_lengths(features), len(raw), dynamic=False)
    switcher = switcher if switcher is not None else build_switcher(codeswitch, data_dir)
    fields = resolve_fields(codeswitch, task.text_fields)
    if codeswitch.schedule == "static":
        features = encode(switcher.switch_dataset(raw, fields, epoch=0), doc_stride=settings.qa_stride)
        return TrainSet(features, feature_lengths(features), len(raw), dynamic=False)
    # One item per example (see _encode_one); lengths from the unswitched text: switching
    # changes them a little, and they still group batches well.
    lengths = get_format(task.format).example_lengths(raw, tokenizer, settings.max_length)
    if lengths is None:
        lengths = feature_lengths(encode(raw, doc_stride=settings.qa_stride))
    lazy = SwitchedDataset(
        raw, switcher, fields, partial(_encode_one, task=task, tokenizer=tokenizer, settings=settings)
    )
    return TrainSet(lazy, lengths, len(raw), dynamic=True)


@dataclass
class EvalSet:
    """One evaluation split in one language.

    ``features`` feed the model (with labels, so the Trainer computes a loss and
    calls ``compute_metrics``); for extractive QA, ``windows`` are the same strided
    windows with ``example_id`` and context ``offset_mapping`` for turning logits
    back into answer text (for other formats, the same object as ``features``).
    """

    examples: Dataset
    features: Dataset
    windows: Dataset


def eval_set(
    task: TaskSpec,
    split: str,
    language: str,
    tokenizer: PreTrainedTokenizerBase,
    settings: TrainingSettings,
    limit: int | None,
    data_dir: str | os.PathLike[str] | None,
) -> EvalSet:
    """At most ``limit`` examples of one evaluation split and language, tokenised."""
    raw = subsample(load_split(task, split, language, data_dir=data_dir), limit, SUBSET_SEED)
    encode = partial(tokenize, raw, task, tokenizer, settings.max_length, doc_stride=settings.qa_stride)
    features = encode(train=True)
    windows = encode(train=False) if get_format(task.format).strided else features
    return EvalSet(raw, features, windows)
