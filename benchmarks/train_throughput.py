"""Training throughput of xlt's phase-3 path against the stock Hugging Face XNLI recipe.

Phase-3 XNLI training (MNLI training data) on the offline default model, on this
machine's CPU threads. Each variant runs in its own process (clean peak RSS, no
shared caches), on the same training examples and the same evaluation examples:

- ``baseline``: what ``run_xnli.py`` does: every batch padded to 128 tokens,
  random order, no length grouping, full fine-tuning, `transformers.Trainer`;
- ``xlt``: `xlt_lib.training.phases.build_trainer` with the ``cpu`` profile:
  dynamic padding, the padding-minimal sampler, frozen word embeddings, the last
  layer computed for [CLS] only, cheaper CPU dropout masks, Trainer's default
  optimizer (fused AdamW on torch >= 2.8), one process with all threads.

On request (``--variants``, or ``--variants all``), the xlt path with one thing
changed (`XLT_VARIANTS`), to show what one choice buys or would buy:

- ``xlt-full``: trainable word embeddings (batching alone is accuracy-neutral;
  freezing is a modelling choice);
- ``xlt-all-positions``: the last layer computed for every position
  (`xlt_lib.training.cls_only`);
- ``xlt-torch-dropout``: torch's own dropout masks (`xlt_lib.training.cpu_dropout`);
- ``xlt-ddp``: the xlt path under ``torchrun --nproc_per_node 2``,
  one thread per process, 8 examples per process (the same effective batch of 16),
  gradients all-reduced by gloo (Trainer's DDP on CPU). Two single-threaded
  processes keep the small matrices of a 384-wide encoder busier than one process
  with two threads;
- ``xlt-frozen-embedding-block``: ``freeze_embedding_block`` on: positions,
  token types and the embeddings' LayerNorm frozen too, so backpropagation stops
  at layer 0's input (a modelling choice, like freezing the words);
- ``xlt-foreach-adamw``, ``xlt-loop-adamw``: AdamW with torch's multi-tensor
  (``foreach``) or per-parameter (loop; what Trainer's ``adamw_torch`` is on CPU)
  implementation instead of the fused kernel;
- ``xlt-compile``: the model compiled with ``torch.compile(dynamic=True)``
  (inductor, one graph for every batch shape). Compilation happens in the first
  steps and the first evaluation batch: it is reported as ``first_steps_seconds``
  and ``eval_warmup_seconds``, outside the steady-state figures. The CPU dropout
  masks' in-place ``random_`` is not traceable, so every dropout breaks the graph
  (``compiled_graphs`` says how many graphs resulted);
- ``xlt-compile-torch-dropout``: the same with torch's dropout, which compiles into
  one graph (inductor draws the masks in its own kernels): two changes, the
  fair test of compiling;
- ``xlt-1thread``: one torch thread instead of all (per-thread efficiency: what a
  grid with one single-threaded worker per core gets per run; share of peak is
  still against the all-thread matmul peak);
- ``xlt-loader-worker``: batches collated in one DataLoader worker process
  (``dataloader_num_workers=1``) instead of the training process;
- ``xlt-omp-bound``: OpenMP threads pinned, one per core
  (``OMP_PROC_BIND=close OMP_PLACES=cores``);
- ``xlt-omp-active``: OpenMP threads spin between parallel regions instead of
  sleeping (``OMP_WAIT_POLICY=ACTIVE``).
- ``xlt-combined``: the two levers that gained at equal accuracy when measured
  alone on a quiet machine (the frozen embedding block and spinning OpenMP threads),
  together: the most the measured levers buy.

Reported per variant: steady-state training examples/s (first steps excluded,
evaluation and checkpoint saving excluded), the seconds from the start of training
to the end of the excluded first steps, evaluation examples/s on XNLI test
(en), accuracy after the same training examples, peak RSS, and achieved model
FLOP/s (6 x parameters used x tokens they process, padding included, since the
hardware computes it; the [CLS]-only last layer counted as what it computes) as a
share of a dense float32 matmul peak measured in the same run. The last line is one
JSON object.

    .venv/bin/python benchmarks/train_throughput.py           # full: baseline + xlt, ~9 min on 2 quiet cores
    .venv/bin/python benchmarks/train_throughput.py --quick   # a smoke run (~2 min)
    .venv/bin/python benchmarks/train_throughput.py --variants xlt-all-positions xlt-torch-dropout
    .venv/bin/python benchmarks/train_throughput.py --variants all   # every lever (~50 min on 2 quiet cores)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("XLT_PROGRESS", "0")


@dataclass(frozen=True)
class Variant:
    """The xlt path with one thing changed; every field at its default is xlt itself."""

    #: `TrainingSettings` overrides on the ``cpu`` profile.
    settings: dict[str, Any] = field(default_factory=dict)
    #: AdamW keyword arguments over Trainer's default ones (``fused``, ``foreach``).
    optimizer: dict[str, Any] = field(default_factory=dict)
    #: Compile the model with ``torch.compile(dynamic=True)`` before training.
    compile: bool = False
    #: Torch threads per process (None: ``--threads``).
    threads: int | None = None
    #: Processes under torchrun (gloo DDP), one thread each; 1: no launcher.
    processes: int | None = 1
    #: DataLoader worker processes collating the training batches.
    dataloader_workers: int = 0
    #: Environment of the variant's process (OpenMP settings must be there before torch loads).
    env: dict[str, str] = field(default_factory=dict)


#: The xlt variants (see the module docstring): each changes one thing from xlt (the ``cpu`` profile).
XLT_VARIANTS: dict[str, Variant] = {
    "xlt": Variant(),
    "xlt-full": Variant(settings={"freeze_word_embeddings": False}),
    "xlt-all-positions": Variant(settings={"cls_only_last_layer": False}),
    "xlt-torch-dropout": Variant(settings={"fast_cpu_dropout": False}),
    "xlt-ddp": Variant(processes=None),  # one process per thread
    "xlt-frozen-embedding-block": Variant(settings={"freeze_embedding_block": True}),
    "xlt-foreach-adamw": Variant(optimizer={"fused": False, "foreach": True}),
    "xlt-loop-adamw": Variant(optimizer={"fused": False, "foreach": False}),
    "xlt-compile": Variant(compile=True),
    # The one variant with two changes: the CPU masks' in-place ``random_`` breaks dynamo's
    # graph at every dropout, so compiling is measured with torch's dropout too (inductor
    # then draws the masks inside its own kernels).
    "xlt-compile-torch-dropout": Variant(compile=True, settings={"fast_cpu_dropout": False}),
    "xlt-1thread": Variant(threads=1),
    "xlt-loader-worker": Variant(dataloader_workers=1),
    "xlt-omp-bound": Variant(env={"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}),
    "xlt-omp-active": Variant(env={"OMP_WAIT_POLICY": "ACTIVE"}),
}
#: The levers that gained at equal accuracy on a quiet machine, together: what they buy at most.
XLT_VARIANTS["xlt-combined"] = Variant(
    settings=dict(XLT_VARIANTS["xlt-frozen-embedding-block"].settings),
    env=dict(XLT_VARIANTS["xlt-omp-active"].env),
)
VARIANTS = ("baseline", *XLT_VARIANTS)
WARMUP_STEPS = (
    3  # steps excluded from the steady-state figure (allocator and thread-pool warm-up, compilation)
)


def matmul_peak_gflops(size: int, repeats: int) -> float:
    """Best dense float32 matmul rate on this process's threads (GFLOP/s)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


class StepCounter:
    """Examples and tokens (padding included) of the batches trained on so far.

    Counted where the Trainer hands a batch to ``training_step`` (in the training
    process, whatever collates the batches and however far the DataLoader has
    prefetched), hence `count_steps`.
    """

    def __init__(self) -> None:
        self.examples = 0
        self.tokens = 0

    def add(self, input_ids: Any) -> None:
        self.examples += int(input_ids.shape[0])
        self.tokens += int(input_ids.numel())


def count_steps(trainer: Any) -> StepCounter:
    """Count every training batch of ``trainer`` (wraps its ``training_step``)."""
    counter = StepCounter()
    step = trainer.training_step

    def counted(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
        counter.add(inputs["input_ids"])
        return step(model, inputs, num_items_in_batch)

    trainer.training_step = counted
    return counter


def _step_timer(counter: StepCounter) -> Any:
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """When training began, and (time, examples, tokens) at the end of every optimizer step."""

        def __init__(self) -> None:
            self.begin = time.perf_counter()
            self.marks: list[tuple[float, int, int]] = []

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.begin = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.marks.append((time.perf_counter(), counter.examples, counter.tokens))

    return StepTimer()


def trained_flops(model: Any, tokens: int, examples: int) -> float:
    """Forward + backward FLOPs (6 x parameters x tokens) of training on ``examples`` of ``tokens`` in all.

    Embedding lookups cost no FLOPs. Each encoder layer's weights see every token,
    except a last layer computed for [CLS] only (`xlt_lib.training.cls_only`): its
    key and value projections see every token, the rest one per example. The
    pooler and classifier see one token per example. With the whole embedding
    block frozen (``freeze_embedding_block``) layer 0's query, key and value
    projections compute no gradient for their input: 4, not 6, FLOPs per weight and
    token. Optimizer updates (a few FLOPs per parameter per step) are left out:
    negligible next to these.
    """
    from xlt_lib.training.cls_only import has_cls_only_last_layer

    encoder = model.base_model.encoder
    layers = list(encoder.layer)
    last = layers[-1]
    per_token = sum(p.numel() for layer in layers[:-1] for p in layer.parameters())
    per_example = sum(p.numel() for p in model.parameters()) - per_token
    per_example -= sum(p.numel() for p in model.base_model.embeddings.parameters())
    per_example -= sum(p.numel() for p in last.parameters())
    if has_cls_only_last_layer(model):
        key_value = sum(
            p.numel() for m in (last.attention.self.key, last.attention.self.value) for p in m.parameters()
        )
        per_token += key_value
        per_example += sum(p.numel() for p in last.parameters()) - key_value
    else:
        per_token += sum(p.numel() for p in last.parameters())
    flops = 6.0 * (per_token * tokens + per_example * examples)
    if not any(p.requires_grad for p in model.base_model.embeddings.parameters()):
        attention = layers[0].attention.self
        no_input_grad = sum(
            p.numel()
            for m in (attention.query, attention.key, attention.value)
            for p in m.parameters()
            if p.dim() > 1
        )
        flops -= 2.0 * no_input_grad * tokens
    return flops


def _first_step(marks: list[tuple[float, int, int]]) -> int:
    """Index of the mark that starts the steady state (WARMUP_STEPS in, one interval left at least)."""
    return max(0, min(WARMUP_STEPS, len(marks) - 2))


def _steady(marks: list[tuple[float, int, int]]) -> tuple[float, int, int]:
    """Seconds, examples and tokens between step WARMUP_STEPS and the last step."""
    first = marks[_first_step(marks)]
    last = marks[-1]
    return last[0] - first[0], last[1] - first[1], last[2] - first[2]


def first_steps_seconds(begin: float, marks: list[tuple[float, int, int]]) -> float:
    """Seconds from the start of training to the start of the steady state (warm-up, compilation)."""
    return marks[_first_step(marks)][0] - begin


def slowest_steady_step(marks: list[tuple[float, int, int]]) -> float:
    """The longest step of the steady state (a recompilation or a stall shows up here)."""
    times = [m[0] for m in marks[_first_step(marks) :]]
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def use_variant(trainer: Any, choice: Variant) -> None:
    """Apply ``choice``'s optimizer, compilation and DataLoader workers to an xlt ``trainer`` before training."""
    if choice.optimizer:
        optimizer_class, kwargs = trainer.get_optimizer_cls_and_kwargs(trainer.args, trainer.model)
        trainer.optimizer_cls_and_kwargs = (optimizer_class, {**kwargs, **choice.optimizer})
    if choice.dataloader_workers:
        trainer.args.dataloader_num_workers = choice.dataloader_workers
    if choice.compile:
        trainer.model.compile(dynamic=True)  # in place: the same module, parameters and state_dict


def _optimizer_kind(optimizer: Any) -> str:
    """``AdamW(fused)``, ``AdamW(foreach)`` or ``AdamW(loop)``: which implementation stepped."""
    inner = getattr(optimizer, "optimizer", optimizer)  # accelerate wraps the optimizer
    defaults = inner.defaults
    kind = "fused" if defaults.get("fused") else "foreach" if defaults.get("foreach") else "loop"
    return f"{type(inner).__name__}({kind})"


def _compiled_graphs() -> int:
    """Graphs torch.compile built in this process (more than a few: recompilations or graph breaks)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def run_variant(variant: str, n_train: int, n_eval: int) -> dict[str, Any]:
    """Train and evaluate one variant in this process; returns its measurements."""
    import numpy as np
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    from xlt_lib.model import load_tokenizer, resolve_model
    from xlt_lib.tasks import get_task, load_split, subsample
    from xlt_lib.training import TrainingSettings
    from xlt_lib.training.data import SUBSET_SEED, eval_set
    from xlt_lib.training.phases import _predict_in_length_order, build_trainer

    xnli, mnli = get_task("xnli"), get_task("mnli")
    world = int(os.environ.get("WORLD_SIZE", "1"))  # > 1 under torchrun (xlt-ddp)
    choice = XLT_VARIANTS.get(variant, Variant())
    settings = TrainingSettings.profile(
        "cpu",
        batch_size=16 // world,
        max_train_examples=n_train,
        max_eval_examples=n_eval,
        max_dev_examples=32,
        **choice.settings,
    )
    model_dir = resolve_model("offline-default")
    tokenizer = load_tokenizer(model_dir)
    eval_examples = subsample(load_split(xnli, "test", "en"), n_eval, SUBSET_SEED)
    gold = np.asarray(eval_examples["label"])

    if variant == "baseline":

        def pad128(batch: dict[str, list]) -> dict[str, Any]:
            out = tokenizer(
                batch["text_a"], batch["text_b"], padding="max_length", max_length=128, truncation=True
            )
            return {**out, "label": batch["label"]}

        train_raw = subsample(load_split(mnli, "train", "en"), n_train, SUBSET_SEED)
        columns = train_raw.column_names
        train = train_raw.map(pad128, batched=True, remove_columns=columns)
        test = eval_examples.map(pad128, batched=True, remove_columns=eval_examples.column_names)
        torch.manual_seed(settings.seed)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=3)
        args = TrainingArguments(
            output_dir=tempfile.mkdtemp(prefix="xlt-bench-"),
            per_device_train_batch_size=settings.batch_size,
            per_device_eval_batch_size=2 * settings.batch_size,
            learning_rate=settings.learning_rate,
            warmup_steps=settings.warmup_ratio,
            weight_decay=settings.weight_decay,
            num_train_epochs=1,
            seed=settings.seed,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            disable_tqdm=True,
            log_level="warning",
            dataloader_pin_memory=False,
        )
        trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=default_data_collator)
        counter = count_steps(trainer)
        timer = _step_timer(counter)
        trainer.add_callback(timer)
        trainer.train()
        eval_warmup_seconds = None
        start = time.perf_counter()
        logits = trainer.predict(test).predictions
        eval_seconds = time.perf_counter() - start
    else:
        with tempfile.TemporaryDirectory(prefix="xlt-bench-") as out:
            prepared = build_trainer(
                phase="benchmark",
                encoder="offline-default",
                head_task=xnli,
                train_task=mnli,
                settings=settings,
                codeswitch=None,
                output_dir=Path(out),
                data_dir=None,
                callbacks=[],
            )
            trainer = prepared.trainer
            use_variant(trainer, choice)
            counter = count_steps(trainer)
            timer = _step_timer(counter)
            trainer.add_callback(timer)
            trainer.train()
            features = eval_set(xnli, "test", "en", prepared.tokenizer, settings, n_eval, None).features
            eval_warmup_seconds = None
            if choice.compile:  # the inference graph compiles on the first batch: keep it out of eval ex/s
                start = time.perf_counter()
                _predict_in_length_order(trainer, features.select(range(trainer.args.eval_batch_size)))
                eval_warmup_seconds = time.perf_counter() - start
            start = time.perf_counter()
            logits = _predict_in_length_order(trainer, features)
            eval_seconds = time.perf_counter() - start

    seconds, examples, tokens = _steady(timer.marks)
    # Each process counts its own batches; all processes step together, so the machine's
    # figures are this process's times the number of processes.
    examples, tokens = examples * world, tokens * world
    flops = trained_flops(trainer.model, tokens, examples)
    return {
        "variant": variant,
        "train_examples": n_train,
        "steps": len(timer.marks),
        "ex_per_s": examples / seconds,
        "first_steps_seconds": first_steps_seconds(timer.begin, timer.marks),
        "slowest_steady_step_seconds": slowest_steady_step(timer.marks),
        "eval_warmup_seconds": eval_warmup_seconds,
        "optimizer": _optimizer_kind(trainer.optimizer),
        "compiled_graphs": _compiled_graphs() if choice.compile else None,
        "tokens_per_example": tokens / examples,
        "model_gflops_per_s": flops / seconds / 1e9,
        "eval_ex_per_s": len(gold) / eval_seconds,
        "accuracy_en": float((np.asarray(logits).argmax(-1) == gold).mean()),
        "eval_examples": len(gold),
        "peak_rss_mb": world * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads() * world,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: few steps, few eval examples")
    parser.add_argument("--train-examples", type=int, help="training examples per variant")
    parser.add_argument(
        "--eval-examples", type=int, help="XNLI test (en) examples for accuracy and eval speed"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=(*VARIANTS, "all"),
        help="extra variants to run besides baseline and xlt ('all': every one)",
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant in this process
    return parser.parse_args(argv)


def selected_variants(requested: list[str] | None) -> list[str]:
    """Baseline, xlt and the ``requested`` extras (``all``: every variant), in `VARIANTS` order."""
    wanted = set(VARIANTS) if "all" in (requested or []) else {"baseline", "xlt", *(requested or [])}
    return [v for v in VARIANTS if v in wanted]


def variant_command(
    variant: str, threads: int, n_train: int, n_eval: int
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``variant`` in a process of its own."""
    choice = XLT_VARIANTS.get(variant, Variant())
    own = [__file__, "--variant", variant, "--train-examples", str(n_train), "--eval-examples", str(n_eval)]
    env = {**os.environ, **choice.env}
    if choice.processes != 1:  # torchrun: one single-threaded process per thread unless given
        processes = choice.processes or threads
        launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
        return [sys.executable, *launcher, *own, "--threads", "1"], env
    return [sys.executable, *own, "--threads", str(choice.threads or threads)], env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = args.threads or os.cpu_count() or 1

    import torch

    torch.set_num_threads(threads)
    if args.variant:
        result = run_variant(args.variant, args.train_examples, args.eval_examples)
        if int(os.environ.get("RANK", "0")) == 0:
            print(json.dumps(result))
        return 0

    n_train = args.train_examples or (160 if args.quick else 1600)
    n_eval = args.eval_examples or (96 if args.quick else 500)
    variants = selected_variants(args.variants)
    peak = matmul_peak_gflops(1024 if args.quick else 2048, 5 if args.quick else 10)
    results: dict[str, dict[str, Any]] = {}
    for variant in variants:
        command, env = variant_command(variant, threads, n_train, n_eval)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit(f"variant {variant} failed with status {done.returncode}")
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[variant]
        r["process_seconds"] = time.perf_counter() - started
        print(
            f"{variant:26s} train {r['ex_per_s']:6.1f} ex/s ({r['tokens_per_example']:5.1f} tokens/ex, "
            f"{r['model_gflops_per_s']:5.1f} GFLOP/s = {r['model_gflops_per_s'] / peak:5.1%} of peak, "
            f"first {WARMUP_STEPS} steps {r['first_steps_seconds']:5.1f} s)  "
            f"eval {r['eval_ex_per_s']:6.1f} ex/s  acc(en, n={r['eval_examples']}) {r['accuracy_en']:.3f}  "
            f"peak RSS {r['peak_rss_mb']:.0f} MB  [{r['optimizer']}, {r['threads']} threads, "
            f"{r['process_seconds']:.0f} s in all]",
            flush=True,
        )
    base, xlt = results["baseline"], results["xlt"]
    summary = {
        "mode": "quick" if args.quick else "full",
        "threads": threads,
        "train_examples": n_train,
        "eval_examples": n_eval,
        "xlt_ex_per_s": round(xlt["ex_per_s"], 2),
        "baseline_ex_per_s": round(base["ex_per_s"], 2),
        "ratio": round(xlt["ex_per_s"] / base["ex_per_s"], 2),
        "matmul_peak_gflops": round(peak, 1),
        "flops_share_of_peak": round(xlt["model_gflops_per_s"] / peak, 3),
        "baseline_flops_share_of_peak": round(base["model_gflops_per_s"] / peak, 3),
        "peak_rss_mb": round(xlt["peak_rss_mb"]),
        "baseline_peak_rss_mb": round(base["peak_rss_mb"]),
        "eval_ex_per_s": round(xlt["eval_ex_per_s"], 1),
        "baseline_eval_ex_per_s": round(base["eval_ex_per_s"], 1),
        "xlt_accuracy_en": round(xlt["accuracy_en"], 4),
        "baseline_accuracy_en": round(base["accuracy_en"], 4),
        "xlt_tokens_per_example": round(xlt["tokens_per_example"], 1),
        "baseline_tokens_per_example": round(base["tokens_per_example"], 1),
        "xlt_first_steps_seconds": round(xlt["first_steps_seconds"], 1),
        "baseline_first_steps_seconds": round(base["first_steps_seconds"], 1),
    }
    for name in variants:
        if name in ("baseline", "xlt"):
            continue
        other, key = results[name], name.replace("-", "_")
        summary[f"{key}_ex_per_s"] = round(other["ex_per_s"], 2)
        summary[f"{key}_ratio"] = round(other["ex_per_s"] / base["ex_per_s"], 2)
        summary[f"{key}_vs_xlt"] = round(other["ex_per_s"] / xlt["ex_per_s"], 3)
        summary[f"{key}_first_steps_seconds"] = round(other["first_steps_seconds"], 1)
        summary[f"{key}_flops_share_of_peak"] = round(other["model_gflops_per_s"] / peak, 3)
        summary[f"{key}_accuracy_en"] = round(other["accuracy_en"], 4)
        summary[f"{key}_peak_rss_mb"] = round(other["peak_rss_mb"])
        for extra in ("eval_warmup_seconds", "compiled_graphs"):
            if other.get(extra) is not None:
                summary[f"{key}_{extra}"] = round(other[extra], 1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
