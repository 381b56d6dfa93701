"""Datasets and collation for multi-task training: every batch one task, tagged with it.

`MultiTaskDataset` reads the (pass, task, row) indices of `TaskBatchSampler`;
`MultiTaskCollator` pads a batch with its task's own collator (formats differ:
multiple choice pads every choice, tagging pads labels with -100) and adds the
``task_id`` that `MultiTaskModel` routes by. `TaskTagged` tags an evaluation set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from xlt_lib.training.task_sampler import TaskIndex

TASK_KEY = "task_id"


class MultiTaskDataset(Dataset):
    """The union of several tasks' training sets, indexed by `TaskIndex` integers.

    A task set with ``set_epoch`` (a dynamically code-switched `SwitchedDataset`) is
    switched afresh for every pass over it, exactly as single-task training
    re-switches every epoch: the pass number is its epoch.
    """

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        self.index = TaskIndex(tuple(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.index.total

    def __getitem__(self, index: int) -> dict[str, Any]:
        pass_number, task, row = self.index.decode(index)
        dataset = self.datasets[task]
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(pass_number)
        return {**dataset[row], TASK_KEY: task}


class TaskTagged(Dataset):
    """An evaluation set of one task, each feature tagged with the task's index."""

    def __init__(self, features: Any, task_id: int) -> None:
        self.features = features
        self.task_id = task_id

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.features[int(index)], TASK_KEY: self.task_id}


class MultiTaskCollator:
    """Collate a one-task batch with that task's collator and add ``task_id`` (a 0-d tensor)."""

    def __init__(self, collators: Sequence[Callable[[list[dict[str, Any]]], dict[str, Any]]]) -> None:
        self.collators = list(collators)

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        tasks = {int(f[TASK_KEY]) for f in features}
        if len(tasks) != 1:
            raise ValueError(f"a multi-task batch must come from one task, got task ids {sorted(tasks)}")
        (task,) = tasks
        batch = self.collators[task]([{k: v for k, v in f.items() if k != TASK_KEY} for f in features])
        batch[TASK_KEY] = torch.tensor(task, dtype=torch.long)
        return batch
