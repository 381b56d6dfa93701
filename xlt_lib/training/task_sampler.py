"""Which task each multi-task batch comes from, and which of that task's examples it holds.

Written here because no library does it for a `transformers.Trainer`: jiant's
samplers (uniform, proportional, temperature) draw a task per step from
p_i ∝ n_i^(1/T), and each task is read as an endless stream of passes over its
data. `TaskBatchSampler` does the same as a PyTorch batch sampler:

- every batch holds examples of one task only (their formats and heads differ);
- within a task, each pass is `PaddingMinimalSampler`'s length-grouped, shuffled
  order for that pass, and a pass is finished before the next begins, also across
  epoch boundaries (a small task under the uniform sampler is simply read again);
- the task of each batch is drawn i.i.d. from the sampler's probabilities with a
  generator seeded by ``(seed, epoch)``: epoch ``e`` is a pure function of the seed,
  so a resumed run replays exactly the order it would have seen.

An "epoch" has as many batches as one pass over every task would
(``sum_i ceil(n_i / batch_size)``), so epochs and ``max_train_examples`` keep their
single-task meaning under the proportional sampler.

Yielded indices encode (pass, task, row) in one integer (`TaskIndex`), so that the
dataset can re-switch code-switched text afresh on every pass, as single-task
training does every epoch.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Sampler

from xlt_lib.errors import ConfigError
from xlt_lib.training.multitask_spec import SAMPLERS
from xlt_lib.training.sampling import PaddingMinimalSampler


def task_probabilities(
    sizes: Mapping[str, int], sampler: str, temperature: float | None = None
) -> dict[str, float]:
    """p_i for each task: ``uniform`` 1/K, ``proportional`` n_i / Σn, ``temperature`` ∝ n_i^(1/T)."""
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if not sizes or any(n <= 0 for n in sizes.values()):
        raise ConfigError(f"multi-task sampling needs at least one example per task, got sizes {dict(sizes)}")
    if sampler == "uniform":
        exponent = 0.0
    elif sampler == "proportional":
        exponent = 1.0
    else:
        if temperature is None or not (temperature > 0 and math.isfinite(temperature)):
            raise ConfigError(f"temperature: expected a positive finite number, got {temperature!r}")
        exponent = 1.0 / temperature
    # In log space: n^(1/T) for 10^6 examples and T = 0.1 would overflow a float.
    logs = {task: exponent * math.log(n) for task, n in sizes.items()}
    top = max(logs.values())
    weights = {task: math.exp(value - top) for task, value in logs.items()}
    total = sum(weights.values())
    return {task: weight / total for task, weight in weights.items()}


@dataclass(frozen=True)
class TaskIndex:
    """One integer per (pass, task, row): ``pass * total + offset[task] + row``."""

    sizes: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.sizes)

    @property
    def offsets(self) -> tuple[int, ...]:
        out, start = [], 0
        for n in self.sizes:
            out.append(start)
            start += n
        return tuple(out)

    def encode(self, pass_number: int, task: int, row: int) -> int:
        return pass_number * self.total + self.offsets[task] + row

    def decode(self, index: int) -> tuple[int, int, int]:
        pass_number, rest = divmod(int(index), self.total)
        task = bisect.bisect_right(self.offsets, rest) - 1
        return pass_number, task, rest - self.offsets[task]


class TaskBatchSampler(Sampler[list[int]]):
    """Task-homogeneous batches of `TaskIndex` indices, tasks drawn from ``probabilities``.

    ``lengths[i]`` are the token lengths of task ``i``'s training features (for
    padding-minimal batches); ``probabilities[i]`` its sampling probability.
    """

    def __init__(
        self,
        lengths: Sequence[Sequence[int]],
        probabilities: Sequence[float],
        batch_size: int,
        seed: int,
        batches_per_epoch: int | None = None,
    ) -> None:
        if len(lengths) != len(probabilities) or not lengths:
            raise ValueError("one probability per task, and at least one task")
        if any(len(task) == 0 for task in lengths):
            raise ValueError("every task needs at least one training example")
        self.index = TaskIndex(tuple(len(task) for task in lengths))
        self.probabilities = torch.tensor(list(probabilities), dtype=torch.float64)
        self.batch_size = batch_size
        self.seed = seed
        self.batches_per_pass = [math.ceil(len(task) / batch_size) for task in lengths]
        self.num_batches = batches_per_epoch or sum(self.batches_per_pass)
        # One independent padding-minimal order per task (its own seed, its pass as "epoch").
        self._orders = [
            PaddingMinimalSampler(task, batch_size, seed=seed * 1_009 + i) for i, task in enumerate(lengths)
        ]
        self._cache: dict[int, tuple[int, list[list[int]]]] = {}
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer at the start of every epoch."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_batches

    def task_choices(self, epoch: int) -> torch.Tensor:
        """The task of every batch of ``epoch`` (i.i.d. draws, seeded by ``(seed, epoch)``)."""
        generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch + 7_919)
        return torch.multinomial(self.probabilities, self.num_batches, replacement=True, generator=generator)

    def _pass_batches(self, task: int, pass_number: int) -> list[list[int]]:
        cached = self._cache.get(task)
        if cached is None or cached[0] != pass_number:
            order = self._orders[task]
            order.set_epoch(pass_number)
            rows = list(order)
            batches = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
            self._cache[task] = cached = (pass_number, batches)
        return cached[1]

    def __iter__(self) -> Iterator[list[int]]:
        tasks = len(self.batches_per_pass)
        consumed = torch.zeros(tasks, dtype=torch.long)
        for earlier in range(self.epoch):  # where each task's stream stands (cheap: counts only)
            consumed += torch.bincount(self.task_choices(earlier), minlength=tasks)
        position = consumed.tolist()
        for task in self.task_choices(self.epoch).tolist():
            pass_number, batch = divmod(position[task], self.batches_per_pass[task])
            position[task] += 1
            rows = self._pass_batches(task, pass_number)[batch]
            yield [self.index.encode(pass_number, task, row) for row in rows]
