"""Training order that keeps batches random but nearly free of padding.

Why not `transformers.trainer_pt_utils.LengthGroupedSampler`: it draws from the
global torch RNG (so a resumed run replays a different order unless every RNG
state lines up), and within each mega-batch it yields batches in descending
length, a systematic long-to-short pattern in the optimisation. This sampler
derives its permutation from ``(seed, epoch)`` alone, which makes an interrupted
run resume onto exactly the order it would have seen, and shuffles the order of
whole batches across the epoch. Padding is what makes a pad-to-128 baseline slow
on CPU (64 % of its tokens are padding on MNLI), see the training benchmark.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class PaddingMinimalSampler(Sampler[int]):
    """Indices such that every consecutive ``batch_size`` of them have similar lengths.

    Each epoch: a seeded permutation of the data is cut into mega-batches of
    ``megabatch_factor * batch_size`` examples, each mega-batch is sorted by length
    and cut into batches, and the batches of the whole epoch are shuffled. Every
    batch is full except possibly the very last one, so the DataLoader's batch
    boundaries coincide with the sampler's.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, seed: int, megabatch_factor: int = 50
    ) -> None:
        if batch_size <= 0 or megabatch_factor <= 0:
            raise ValueError("batch_size and megabatch_factor must be positive")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.long)
        self.batch_size = batch_size
        self.seed = seed
        self.megabatch_factor = megabatch_factor
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer at the start of every epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator)
        mega = self.batch_size * self.megabatch_factor
        batches: list[torch.Tensor] = []
        for start in range(0, len(order), mega):
            chunk = order[start : start + mega]
            # stable sort: ties keep the random order, so equal lengths still mix
            chunk = chunk[torch.sort(self.lengths[chunk], descending=True, stable=True).indices]
            batches.extend(chunk.split(self.batch_size))
        last = batches.pop() if batches and len(batches[-1]) < self.batch_size else None
        shuffled = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        if last is not None:
            shuffled.append(last)
        return iter(torch.cat(shuffled).tolist() if shuffled else [])
