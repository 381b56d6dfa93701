"""SwitchedDataset: lazy, per item, epoch-aware; never materialises the dataset."""

from __future__ import annotations

import datasets
import torch.utils.data

from xlt_lib.codeswitch import BilingualDictionary, CodeSwitchConfig, CodeSwitcher, SwitchedDataset

PAIRS = [("the", "die"), ("cat", "katze"), ("sat", "saß"), ("on", "auf"), ("mat", "matte"), ("dog", "hund")]


class RowOnly:
    """A dataset stand-in that allows only len(), column_names and single-row access, and counts rows read."""

    def __init__(self, ds: datasets.Dataset) -> None:
        self._ds = ds
        self.column_names = ds.column_names
        self.rows_read = 0

    def __len__(self) -> int:
        return len(self._ds)

    def __getitem__(self, index: int) -> dict:
        assert isinstance(index, int), "only single rows may be read"
        self.rows_read += 1
        return self._ds[index]


def make(schedule: str = "dynamic") -> tuple[datasets.Dataset, CodeSwitcher]:
    ds = datasets.Dataset.from_list(
        [
            {"id": f"t-{i}", "text_a": "The cat sat on the mat " * 4, "text_b": "the dog", "label": i % 3}
            for i in range(40)
        ]
    )
    sw = CodeSwitcher(
        {"de": BilingualDictionary.from_pairs("de", PAIRS)},
        CodeSwitchConfig(languages=("de",), token_ratio=0.5, schedule=schedule),
    )
    return ds, sw


def encode(example: dict) -> dict:
    return {"text": example["text_a"] + " | " + example["text_b"], "label": example["label"]}


def test_items_are_switched_lazily_one_row_each() -> None:
    ds, sw = make()
    base = RowOnly(ds)
    view = SwitchedDataset(base, sw, ["text_a", "text_b"], encode)
    assert len(view) == 40 and base.rows_read == 0
    item = view[7]
    assert base.rows_read == 1
    expected = sw.switch_example(ds[7], ["text_a", "text_b"], 0)
    assert item == encode(expected)
    assert item["label"] == ds[7]["label"]


def test_set_epoch_reswitches_dynamic_and_matches_switch_dataset() -> None:
    ds, sw = make()
    view = SwitchedDataset(ds, sw, ["text_a", "text_b"], encode)
    epoch0 = [view[i] for i in range(len(view))]
    view.set_epoch(1)
    epoch1 = [view[i] for i in range(len(view))]
    assert sum(a != b for a, b in zip(epoch0, epoch1, strict=True)) > 30
    assert epoch1 == [encode(row) for row in sw.switch_dataset(ds, ["text_a", "text_b"], 1)]
    view.set_epoch(0)
    assert [view[i] for i in range(len(view))] == epoch0


def test_static_schedule_is_the_same_every_epoch() -> None:
    ds, sw = make("static")
    view = SwitchedDataset(ds, sw, ["text_a"], encode)
    first = [view[i] for i in range(10)]
    view.set_epoch(5)
    assert [view[i] for i in range(10)] == first


def test_works_under_a_dataloader_with_workers() -> None:
    ds, sw = make()
    view = SwitchedDataset(ds, sw, ["text_a", "text_b"], encode)
    view.set_epoch(2)
    loader = torch.utils.data.DataLoader(view, batch_size=8, num_workers=1, collate_fn=list)
    seen = [item for batch in loader for item in batch]
    assert seen == [view[i] for i in range(len(view))]
