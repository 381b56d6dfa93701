"""Multi-task intermediate training: the task sampler, the shared encoder, per-task heads, end to end.

Tiny encoder (2 layers, real tokenizer) and a handful of real rows of each task.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file
from scipy.stats import chisquare
from transformers import TrainerCallback

from xlt_lib.errors import ConfigError
from xlt_lib.model import load_tokenizer
from xlt_lib.tasks import collator_for, resolved_task
from xlt_lib.training import TrainingSettings, run_intermediate, run_transfer
from xlt_lib.training.data import train_set
from xlt_lib.training.heads import load_with_head
from xlt_lib.training.multitask_data import TASK_KEY, MultiTaskCollator, MultiTaskDataset
from xlt_lib.training.multitask_model import MultiTaskModel, build_multitask_model
from xlt_lib.training.multitask_spec import MultiTaskSpec
from xlt_lib.training.task_sampler import TaskBatchSampler, TaskIndex, task_probabilities

TINY = {
    "learning_rate": 1e-3,
    "batch_size": 4,
    "max_length": 64,
    "max_train_examples": 12,
    "max_dev_examples": 6,
    "max_eval_examples": 4,
    "warmup_ratio": 0.0,
    "selection": "last",
}


def _settings(**overrides: Any) -> TrainingSettings:
    return TrainingSettings.from_dict({**TINY, **overrides})


# -- the sampler ---------------------------------------------------------------------------


def test_task_probabilities_follow_their_definitions() -> None:
    sizes = {"a": 100, "b": 400, "c": 1600}
    assert task_probabilities(sizes, "uniform") == pytest.approx({t: 1 / 3 for t in sizes})
    assert task_probabilities(sizes, "proportional") == pytest.approx({t: n / 2100 for t, n in sizes.items()})
    # T = 2: p ∝ sqrt(n) = 10, 20, 40
    assert task_probabilities(sizes, "temperature", 2.0) == pytest.approx(
        {"a": 1 / 7, "b": 2 / 7, "c": 4 / 7}
    )
    assert task_probabilities(sizes, "temperature", 1.0) == pytest.approx(
        task_probabilities(sizes, "proportional")
    )
    assert task_probabilities(sizes, "temperature", 1e6) == pytest.approx(
        task_probabilities(sizes, "uniform"), abs=1e-5
    )
    assert task_probabilities({"a": 10**9, "b": 1}, "temperature", 0.05)["a"] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="sampler"):
        task_probabilities(sizes, "round_robin")
    with pytest.raises(ConfigError, match="temperature"):
        task_probabilities(sizes, "temperature", None)


SIZES = (300, 60, 12)  # batches of 4: 75 + 15 + 3 = 93 per epoch


def _draws(sampler: TaskBatchSampler, epochs: int) -> list[list[int]]:
    batches = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        batches.extend(sampler)
    return batches


@pytest.mark.parametrize(
    ("kind", "temperature"), [("uniform", None), ("proportional", None), ("temperature", 3.0)]
)
def test_sampler_task_frequencies_match_the_definition(kind: str, temperature: float | None) -> None:
    probabilities = task_probabilities(dict(zip("abc", SIZES, strict=True)), kind, temperature)
    p = [probabilities[t] for t in "abc"]
    sampler = TaskBatchSampler([[10] * n for n in SIZES], p, batch_size=4, seed=7)
    index = TaskIndex(SIZES)
    batches = _draws(sampler, epochs=40)
    assert len(batches) == 40 * 93
    tasks = [index.decode(batch[0])[1] for batch in batches]
    observed = [Counter(tasks)[i] for i in range(3)]
    n = sum(observed)
    # A fixed seed makes this deterministic; p > 0.001 under the sampler's own distribution ...
    assert chisquare(observed, [n * q for q in p]).pvalue > 1e-3
    # ... and the test has power: any other sampler's distribution is rejected outright.
    for other in {"uniform", "proportional"} - {kind}:
        q = task_probabilities(dict(zip("abc", SIZES, strict=True)), other)
        assert chisquare(observed, [n * q[t] for t in "abc"]).pvalue < 1e-6


def test_sampler_batches_are_one_task_and_read_each_task_in_whole_passes() -> None:
    p = task_probabilities(dict(zip("abc", SIZES, strict=True)), "uniform")
    lengths = [[(i * 7) % 50 + 1 for i in range(n)] for n in SIZES]
    sampler = TaskBatchSampler(lengths, list(p.values()), batch_size=4, seed=3)
    index = TaskIndex(SIZES)
    streams: dict[int, list[tuple[int, int]]] = {0: [], 1: [], 2: []}
    for batch in _draws(sampler, epochs=5):
        decoded = [index.decode(i) for i in batch]
        assert len({task for _, task, _ in decoded}) == 1  # task-homogeneous
        assert len({pass_number for pass_number, _, _ in decoded}) == 1
        task = decoded[0][1]
        streams[task].extend((pass_number, row) for pass_number, _, row in decoded)
    for task, stream in streams.items():
        passes = Counter(pass_number for pass_number, _ in stream)
        for pass_number, count in passes.items():
            rows = [row for p_, row in stream if p_ == pass_number]
            if pass_number < max(passes):  # every finished pass holds each row exactly once
                assert sorted(rows) == list(range(SIZES[task]))
            assert len(rows) == len(set(rows)) == count
        assert [p_ for p_, _ in stream] == sorted(p_ for p_, _ in stream)  # passes in order, across epochs
    assert max(Counter(p_ for p_, _ in streams[2])) > 5  # uniform: the small task is read many times


def test_sampler_epochs_depend_only_on_seed_and_epoch() -> None:
    lengths = [[5] * n for n in SIZES]
    first = TaskBatchSampler(lengths, [0.5, 0.3, 0.2], batch_size=4, seed=11)
    seen = _draws(first, epochs=3)
    resumed = TaskBatchSampler(lengths, [0.5, 0.3, 0.2], batch_size=4, seed=11)
    resumed.set_epoch(2)  # a run resumed in its third epoch
    assert list(resumed) == seen[2 * 93 :]
    other = TaskBatchSampler(lengths, [0.5, 0.3, 0.2], batch_size=4, seed=12)
    assert _draws(other, epochs=1) != seen[:93]


def test_task_index_round_trips() -> None:
    index = TaskIndex((3, 5, 2))
    decoded = {
        index.decode(index.encode(p, t, r))
        for p in range(4)
        for t, n in enumerate((3, 5, 2))
        for r in range(n)
    }
    assert len(decoded) == 4 * 10
    assert index.decode(index.encode(2, 1, 4)) == (2, 1, 4)


def test_dataset_switches_each_task_afresh_on_every_pass() -> None:
    class Recording(torch.utils.data.Dataset):
        def __init__(self) -> None:
            self.epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"input_ids": [i], "epoch": self.epoch}

    dataset = MultiTaskDataset([Recording(), Recording()])
    item = dataset[dataset.index.encode(4, 1, 2)]
    assert item == {"input_ids": [2], "epoch": 4, TASK_KEY: 1}
    assert dataset[dataset.index.encode(0, 1, 2)]["epoch"] == 0


# -- the shared encoder and the heads ------------------------------------------------------


FOUR_FORMATS = ("mnli", "cosmosqa", "tydiqa_en", "ccg")


@pytest.fixture
def four_heads(tiny_model_dir: Path, ccg_dir: Path) -> tuple[MultiTaskModel, dict[str, Any]]:
    """A model with a head of every format, and one real collated batch per task."""
    settings = _settings(max_train_examples=4, freeze_word_embeddings=False)
    # data_dir None: CCG reads XLT_CCG_DIR, the others the shared mirror (an explicit data_dir would win for all)
    specs = [resolved_task(name) for name in FOUR_FORMATS]
    model = build_multitask_model(tiny_model_dir, specs, settings)
    tokenizer = load_tokenizer(str(tiny_model_dir))
    collate = MultiTaskCollator([collator_for(spec, tokenizer) for spec in specs])
    batches = {}
    for i, spec in enumerate(specs):
        features = train_set(spec, tokenizer, settings, None, None).dataset
        batches[spec.name] = collate([{**features[j], TASK_KEY: i} for j in range(min(2, len(features)))])
    return model, batches


def test_every_head_runs_on_one_and_the_same_encoder(four_heads: Any, tmp_path: Path) -> None:
    model, _ = four_heads
    encoder_params = list(model.encoder.parameters())
    for head in model.heads.values():
        assert head.base_model is model.encoder
        assert head.get_input_embeddings().weight is model.encoder.get_input_embeddings().weight
        own = {id(p) for p in head.parameters()}
        assert not own & {id(p) for p in encoder_params}  # heads hold no encoder parameter of their own
    total = len(encoder_params) + sum(len(list(h.parameters())) for h in model.heads.values())
    assert len(list(model.parameters())) == total
    state = model.state_dict()
    assert sum(k.startswith("encoder.") for k in state) == len(model.encoder.state_dict())
    save_file({k: v.contiguous() for k, v in state.items()}, tmp_path / "m.safetensors")  # no shared tensors
    assert model.encoder.pooler is not None  # the most complete base (with pooler) was kept


def test_each_head_gets_gradients_only_from_its_own_task(four_heads: Any) -> None:
    model, batches = four_heads
    probe = model.encoder.encoder.layer[0].attention.self.query.weight
    for name, batch in batches.items():
        model.zero_grad(set_to_none=True)
        loss = model(**batch).loss
        assert torch.isfinite(loss)
        loss.backward()
        for other, head in model.heads.items():
            grads = [p.grad for p in head.parameters()]
            if other == name:
                assert all(g is not None for g in grads) and any(bool(g.abs().sum() > 0) for g in grads)
            else:
                assert all(g is None for g in grads), f"{other}'s head got a gradient from a {name} batch"
        assert probe.grad is not None and bool(probe.grad.abs().sum() > 0), f"encoder untouched by {name}"
        assert model.encoder.get_input_embeddings().weight.grad is not None


# -- end to end ----------------------------------------------------------------------------


def test_multitask_phase2_saves_an_encoder_that_phase3_loads(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    from xlt_lib.codeswitch import CodeSwitchConfig

    spec = MultiTaskSpec(tasks=("mnli", "cosmosqa"), sampler="temperature", temperature=2.0, name="mt")
    codeswitch = CodeSwitchConfig(languages=("de", "fr"), token_ratio=0.9)
    result = run_intermediate(
        str(tiny_model_dir), spec.as_parameter(), _settings(), codeswitch, tmp_path / "p2", data_dir
    )
    record = json.loads((result.encoder_dir / "xlt_encoder.json").read_text())
    assert record["task"] == "mt" and record["tasks"] == ["mnli", "cosmosqa"]
    assert record["sampler"] == "temperature" and record["temperature"] == 2.0
    assert record["codeswitch"] == codeswitch.to_dict()
    train = result.metrics["train"]
    seen = train["tasks"]
    assert sum(t["batches_seen"] for t in seen.values()) == train["steps"] == 6  # 3 + 3 batches of 4
    assert sum(t["examples_seen"] for t in seen.values()) == train["examples_seen"] == 24
    assert {name: v["batches_seen"] for name, v in record["seen"].items()} == {
        name: v["batches_seen"] for name, v in seen.items()
    }
    assert set(result.metrics["dev"]) == {"mnli", "cosmosqa", "average"}
    # Each judged task is checked for learning on its own dev set (a tiny model does not learn).
    learning = result.metrics["learning"]
    assert set(learning["tasks"]) == {"mnli", "cosmosqa"}
    assert learning["learned"] is False and any(
        r.startswith("mnli: dev accuracy") for r in learning["reasons"]
    )
    assert not (tmp_path / "p2" / "checkpoints").exists()

    # Phase 3 loads exactly the saved encoder (no missing encoder weights) and runs.
    saved = load_file(result.encoder_dir / "model.safetensors")
    reloaded = load_with_head(result.encoder_dir, "classification", ("a", "b"), _settings())
    base = reloaded.base_model.state_dict()
    assert set(saved) <= set(base)
    for key, tensor in saved.items():
        assert torch.equal(base[key], tensor), key
    initial = load_file(tiny_model_dir / "model.safetensors")
    layer = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(saved[layer], next(v for k, v in initial.items() if k.endswith(layer)))
    transfer = run_transfer(
        str(result.encoder_dir), "pawsx", _settings(max_eval_examples=3), None, tmp_path / "p3", data_dir
    )
    assert transfer.metrics["encoder"]["intermediate_task"] == "mt"
    assert set(transfer.predictions["language"]) == set(resolved_task("pawsx").languages)


@pytest.mark.slow
def test_a_resumed_multitask_run_matches_an_uninterrupted_one(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    """Same sampler order, same per-task counts, same selected checkpoint after an interruption."""
    spec = MultiTaskSpec(tasks=("mnli", "cosmosqa"), sampler="uniform")
    # 2 + 2 batches per epoch, 2 epochs; checkpoints (and dev evaluations) every 3 steps.
    settings = _settings(epochs=2, max_train_examples=8, selection="best_en_dev", eval_interval=3)

    def run(out: Path, callbacks: list[TrainerCallback] | None = None) -> dict[str, Any]:
        result = run_intermediate(str(tiny_model_dir), spec, settings, None, out, data_dir, callbacks or [])
        metrics = json.loads(json.dumps(result.metrics))
        metrics["train"] = {
            k: v
            for k, v in metrics["train"].items()
            if k not in ("train_seconds", "examples_per_s", "resumed_from")
        }
        return metrics

    class Interrupt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 7:  # in the second epoch, after the checkpoint of step 6
                raise KeyboardInterrupt("simulated interruption")

    first = run(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", [Interrupt()])
    assert (tmp_path / "b" / "checkpoints" / "checkpoint-6").is_dir()
    assert run(tmp_path / "b") == first
    dev = first["dev"]
    assert dev["average"] == pytest.approx((dev["mnli"]["accuracy"] + dev["cosmosqa"]["accuracy"]) / 2)
    assert first["train"]["steps"] == 8 and first["train"]["selected_step"] in (3, 6, 8)
    assert sum(t["batches_seen"] for t in first["train"]["tasks"].values()) == 8


def test_qa_dev_scores_enter_the_average_on_a_0_to_1_scale(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    spec = MultiTaskSpec(tasks=("cosmosqa", "tydiqa_en"), sampler="proportional")
    settings = _settings(max_train_examples=4, max_steps=2, max_dev_examples=4)
    dev = run_intermediate(str(tiny_model_dir), spec, settings, None, tmp_path, data_dir).metrics["dev"]
    assert dev["average"] == pytest.approx((dev["cosmosqa"]["accuracy"] + dev["tydiqa_en"]["f1"] / 100) / 2)
    assert {"exact_match", "f1", "n"} <= set(dev["tydiqa_en"])
