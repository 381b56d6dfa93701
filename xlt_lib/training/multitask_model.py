"""One encoder shared by several task heads (multi-task intermediate training).

Each task gets the ordinary ``AutoModelFor*`` of its format, built from the same
encoder by `load_with_head` (so every format, every architecture and every
setting — ``num_layers``, frozen embeddings — works as in single-task training).
Then all heads are pointed at one base model: exactly one set of encoder
parameters exists, trained by every task's batches, while each head's own layers
(classifier, QA span head, ...) see only its task's batches.

Why the shared base is held as a plain attribute of each head and registered only
once, on `MultiTaskModel`: if every head registered it as a submodule, the
model's ``state_dict`` would hold the same tensors under several names, which
safetensors refuses to save (the Trainer checkpoints a non-`PreTrainedModel` with
``safetensors.torch.save_file``). Registered once, it is saved, moved to a device,
put in train/eval mode and given to the optimizer once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

from xlt_lib.tasks import TaskSpec
from xlt_lib.training.heads import load_with_head
from xlt_lib.training.settings import TrainingSettings


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def share_base(head: PreTrainedModel, base: nn.Module) -> None:
    """Make ``head`` run on ``base`` (held as an attribute, not a registered submodule)."""
    prefix = head.base_model_prefix
    if prefix in head._modules:
        del head._modules[prefix]
    object.__setattr__(head, prefix, base)


class MultiTaskModel(nn.Module):
    """Task heads over one shared encoder; ``forward(task_id, **inputs)`` runs that task's head.

    ``task_id`` indexes `task_names` (the collator adds it to every batch, whose
    examples all belong to one task). The output is the head's own output (loss and
    logits, or start/end logits), so the Trainer's loss and evaluation code apply.
    """

    # The Trainer must not pass num_items_in_batch through ``**inputs`` to a head.
    accepts_loss_kwargs = False

    def __init__(self, heads: Mapping[str, PreTrainedModel]) -> None:
        super().__init__()
        if not heads:
            raise ValueError("a multi-task model needs at least one head")
        names = list(heads)
        # Keep the most complete base (BERT's QA and tagging heads build theirs without a
        # pooler; a classification head's base has one, and phase 3 reuses it).
        keep = max(names, key=lambda name: (_count(heads[name].base_model), -names.index(name)))
        self.encoder = heads[keep].base_model
        for head in heads.values():
            share_base(head, self.encoder)
        self.heads = nn.ModuleDict(dict(heads))
        self.task_names: tuple[str, ...] = tuple(names)

    @property
    def config(self) -> Any:
        """The shared encoder's config (what phase 3 loads)."""
        return self.encoder.config

    def head(self, task: str | int) -> PreTrainedModel:
        """The full model (shared encoder + head) of one task, by name or index."""
        return self.heads[task if isinstance(task, str) else self.task_names[task]]

    def forward(self, task_id: torch.Tensor | int, **inputs: Any) -> Any:
        return self.head(int(task_id))(**inputs)


def build_multitask_model(
    encoder: str | Path, tasks: Sequence[TaskSpec], settings: TrainingSettings
) -> MultiTaskModel:
    """Load ``encoder`` once per task with that task's fresh head, then share one encoder.

    Head ``i`` is initialised under seed ``settings.seed * 1009 + i`` (not the run seed
    itself), so two heads of the same shape (QQP's and SST-2's two-way classifiers)
    do not start from identical weights. Each extra copy of the encoder is dropped
    as soon as its head is tied, so at most two copies are in memory at once.
    """
    heads: dict[str, PreTrainedModel] = {}
    shared: nn.Module | None = None
    for i, task in enumerate(tasks):
        head = load_with_head(
            encoder, task.format, task.labels, settings.replace(seed=settings.seed * 1_009 + i)
        )
        # Every base was just loaded from the same weights, so any one can serve all heads;
        # keep the most complete (with a pooler) and drop the others' copies right away.
        if shared is None or _count(head.base_model) > _count(shared):
            shared = head.base_model
            for earlier in heads.values():
                share_base(earlier, shared)
        else:
            share_base(head, shared)
        heads[task.name] = head
    return MultiTaskModel(heads)
