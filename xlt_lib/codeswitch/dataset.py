"""A lazy, epoch-aware code-switched view of a dataset, for training.

`SwitchedDataset` switches (and encodes) one example when it is fetched, so a
dynamic schedule costs no copy of the dataset per epoch and no up-front pass.
accelerate's data loaders (used by the `transformers` Trainer) call
``dataset.set_epoch(epoch)`` at the start of every epoch; with a plain
`torch.utils.data.DataLoader`, call it yourself. Worker processes receive a
fresh copy of the dataset each epoch unless ``persistent_workers=True``: with
persistent workers, the epoch set in the main process would not reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch.utils.data

from xlt_lib.codeswitch.methods import Switcher
from xlt_lib.codeswitch.switcher import _check_fields
from xlt_lib.errors import DataError


class SwitchedDataset(torch.utils.data.Dataset):
    """``encode(switcher.switch_example(base[i], fields, epoch))`` for item ``i``.

    Item ``i`` of epoch ``e`` is the same as row ``i`` of
    ``switcher.switch_dataset(base, fields, e)`` before encoding.
    """

    def __init__(
        self,
        base: Any,
        switcher: Switcher,
        fields: Sequence[str],
        encode: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.base = base
        self.switcher = switcher
        self.fields = _check_fields(fields)
        missing = [f for f in self.fields if f not in base.column_names]
        if missing:
            raise DataError(
                f"fields to code-switch not in the dataset: {', '.join(missing)} "
                f"(columns: {', '.join(base.column_names)})"
            )
        self.encode = encode
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Switch afresh for this epoch (dynamic schedule; the static schedule ignores it)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict[str, Any]:
        example = self.base[int(index)]
        return self.encode(self.switcher.switch_example(example, self.fields, self.epoch))
