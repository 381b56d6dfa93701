"""``benchmarks/train_throughput.py`` without training: its variant table, command lines and bookkeeping."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
import torch
from bench_loader import load_benchmark
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from xlt_lib.training import TrainingSettings
from xlt_lib.training.heads import freeze_embedding_block

bench = load_benchmark("train_throughput")

TINY_BERT = BertConfig(
    vocab_size=60,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    max_position_embeddings=24,
    num_labels=3,
)


def test_each_xlt_variant_changes_one_thing_and_its_settings_are_valid() -> None:
    assert bench.XLT_VARIANTS["xlt"] == bench.Variant()
    assert bench.VARIANTS[:2] == ("baseline", "xlt")
    for name, variant in bench.XLT_VARIANTS.items():
        changed = [
            f.name
            for f in dataclasses.fields(variant)
            if getattr(variant, f.name) != getattr(bench.Variant(), f.name)
        ]
        if name == "xlt-compile-torch-dropout":  # compiling needs torch's dropout (see the docstring)
            assert changed == ["settings", "compile"] and variant.settings == {"fast_cpu_dropout": False}
        elif name == "xlt-combined":  # the levers that gained, together
            assert changed == ["settings", "env"]
            assert variant.settings == bench.XLT_VARIANTS["xlt-frozen-embedding-block"].settings
            assert variant.env == bench.XLT_VARIANTS["xlt-omp-active"].env
        else:
            assert len(changed) == (0 if name == "xlt" else 1), (name, changed)
        TrainingSettings.profile("cpu", **variant.settings)  # a ConfigError for an unknown or bad setting
        assert f"``{name}``" in bench.__doc__ or name == "xlt", f"{name} is not described in the docstring"
    assert bench.XLT_VARIANTS["xlt-frozen-embedding-block"].settings == {"freeze_embedding_block": True}


def test_the_variants_option_selects_extras_in_table_order_and_all_of_them() -> None:
    assert bench.selected_variants(None) == ["baseline", "xlt"]
    assert bench.selected_variants(["xlt-compile", "xlt-full"]) == [
        "baseline",
        "xlt",
        "xlt-full",
        "xlt-compile",
    ]
    assert bench.selected_variants(["all"]) == list(bench.VARIANTS)
    assert bench.parse_args(["--variants", "all", "--quick"]).variants == ["all"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--variants", "xlt-warp-drive"])


def test_each_variant_runs_in_its_own_process_with_its_threads_and_environment() -> None:
    command, env = bench.variant_command("xlt", 2, 160, 96)
    assert command[:2] == [sys.executable, bench.__file__]
    assert command[command.index("--threads") + 1] == "2"
    assert command[command.index("--variant") + 1] == "xlt"
    assert command[command.index("--train-examples") + 1] == "160"

    command, _ = bench.variant_command("xlt-ddp", 2, 160, 96)
    assert command[1:4] == ["-m", "torch.distributed.run", "--standalone"]
    assert command[command.index("--nproc_per_node") + 1] == "2"
    assert command[command.index("--threads") + 1] == "1"

    command, _ = bench.variant_command("xlt-1thread", 2, 160, 96)
    assert "torch.distributed.run" not in command and command[command.index("--threads") + 1] == "1"

    _, env = bench.variant_command("xlt-omp-bound", 2, 160, 96)
    assert env["OMP_PROC_BIND"] == "close" and env["OMP_PLACES"] == "cores"
    _, env = bench.variant_command("baseline", 2, 160, 96)
    assert "OMP_PROC_BIND" not in env or env["OMP_PROC_BIND"] == bench.os.environ.get("OMP_PROC_BIND")


def _trainer(tmp_path: Path) -> Trainer:
    torch.manual_seed(0)
    args = TrainingArguments(
        output_dir=str(tmp_path), use_cpu=True, report_to="none", per_device_train_batch_size=2
    )
    return Trainer(model=BertForSequenceClassification(TINY_BERT), args=args)


@pytest.mark.parametrize(
    ("variant", "kind"),
    [("xlt", "AdamW(fused)"), ("xlt-foreach-adamw", "AdamW(foreach)"), ("xlt-loop-adamw", "AdamW(loop)")],
)
def test_the_optimizer_variants_build_the_implementation_they_name(
    tmp_path: Path, variant: str, kind: str
) -> None:
    trainer = _trainer(tmp_path)
    bench.use_variant(trainer, bench.XLT_VARIANTS[variant])
    assert bench._optimizer_kind(trainer.create_optimizer()) == kind


class _FakeTrainer:
    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    def training_step(self, model: object, inputs: dict, num_items_in_batch: object = None) -> str:
        self.calls.append(tuple(inputs["input_ids"].shape))
        return "loss"


def test_steps_are_counted_where_the_trainer_trains_and_timed_after_the_warm_up(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path)
    bench.use_variant(trainer, bench.XLT_VARIANTS["xlt-loader-worker"])
    assert trainer.args.dataloader_num_workers == 1

    fake = _FakeTrainer()
    counter = bench.count_steps(fake)
    assert fake.training_step(None, {"input_ids": torch.zeros(2, 7)}) == "loss"
    fake.training_step(None, {"input_ids": torch.zeros(3, 5)}, 3)
    assert fake.calls == [(2, 7), (3, 5)]  # the Trainer's own step still runs, once per batch
    assert (counter.examples, counter.tokens) == (5, 29)

    marks = [(10.0 + t, 16 * i, 700 * i) for i, t in enumerate([1, 2, 3, 4, 5, 6, 9], start=1)]
    assert bench._steady(marks) == (5.0, 48, 2100)  # from the end of step WARMUP_STEPS + 1
    assert bench.first_steps_seconds(10.0, marks) == 4.0
    assert bench.slowest_steady_step(marks) == 3.0


def test_a_frozen_embedding_block_is_counted_without_layer_0s_input_gradient() -> None:
    model = BertForSequenceClassification(TINY_BERT)
    trained = bench.trained_flops(model, tokens=1000, examples=10)
    freeze_embedding_block(model)
    projections = 3 * TINY_BERT.hidden_size**2  # query, key and value weights of layer 0
    assert trained - bench.trained_flops(model, tokens=1000, examples=10) == 2.0 * projections * 1000
