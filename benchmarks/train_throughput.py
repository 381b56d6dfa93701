"""Training throughput of xlt's phase-3 path against the stock Hugging Face XNLI recipe.

Phase-3 XNLI training (MNLI training data) on the offline default model, on this
machine's CPU threads. Each variant runs in its own process (clean peak RSS, no
shared caches), on the same training examples and the same evaluation examples:

- ``baseline``: what ``run_xnli.py`` does: every batch padded to 128 tokens,
  random order, no length grouping, full fine-tuning, `transformers.Trainer`;
- ``xlt``: `xlt_lib.training.phases.build_trainer` with the ``cpu`` profile:
  dynamic padding, the padding-minimal sampler, frozen word embeddings, the last
  layer computed for [CLS] only, cheaper CPU dropout masks.

On request (``--variants``), the xlt path with one choice undone, to show what it buys:

- ``xlt-full``: trainable word embeddings (batching alone is accuracy-neutral;
  freezing is a modelling choice);
- ``xlt-all-positions``: the last layer computed for every position
  (`xlt_lib.training.cls_only`);
- ``xlt-torch-dropout``: torch's own dropout masks (`xlt_lib.training.cpu_dropout`);
- ``xlt-ddp``: the xlt path under ``torchrun --nproc_per_node 2``,
  one thread per process, 8 examples per process (the same effective batch of 16),
  gradients all-reduced by gloo (Trainer's DDP on CPU). Two single-threaded
  processes keep the small matrices of a 384-wide encoder busier than one process
  with two threads.

Reported per variant: steady-state training examples/s (first steps excluded,
evaluation and checkpoint saving excluded), evaluation examples/s on XNLI test
(en), accuracy after the same training examples, peak RSS, and achieved model
FLOP/s (6 x parameters used x tokens they process, padding included, since the
hardware computes it; the [CLS]-only last layer counted as what it computes) as a
share of a dense float32 matmul peak measured in the same run. The last line is one
JSON object.

    .venv/bin/python benchmarks/train_throughput.py           # full: baseline + xlt, ~9 min on 2 quiet cores
    .venv/bin/python benchmarks/train_throughput.py --quick   # a smoke run (~2 min)
    .venv/bin/python benchmarks/train_throughput.py --variants xlt-all-positions xlt-torch-dropout
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("XLT_PROGRESS", "0")

#: The xlt variants: settings changed from xlt's (the ``cpu`` profile), each to show what one choice buys.
XLT_VARIANTS: dict[str, dict[str, Any]] = {
    "xlt": {},
    "xlt-full": {"freeze_word_embeddings": False},
    "xlt-all-positions": {"cls_only_last_layer": False},
    "xlt-torch-dropout": {"fast_cpu_dropout": False},
    "xlt-ddp": {},
}
VARIANTS = ("baseline", *XLT_VARIANTS)
WARMUP_STEPS = 3  # steps excluded from the steady-state figure (allocator and thread-pool warm-up)


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


class CountingCollator:
    """Wraps a collator to count examples and tokens (padding included) per batch."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.examples = 0
        self.tokens = 0

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(features)
        self.examples += int(batch["input_ids"].shape[0])
        self.tokens += int(batch["input_ids"].numel())
        return batch


def _step_timer(counter: CountingCollator) -> Any:
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """(time, examples, tokens) at the end of every optimizer step."""

        def __init__(self) -> None:
            self.marks: list[tuple[float, int, int]] = []

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.marks.append((time.perf_counter(), counter.examples, counter.tokens))

    return StepTimer()


def trained_flops(model: Any, tokens: int, examples: int) -> float:
    """Forward + backward FLOPs (6 x parameters x tokens) of training on ``examples`` of ``tokens`` in all.

    Embedding lookups cost no FLOPs. Each encoder layer's weights see every token,
    except a last layer computed for [CLS] only (`xlt_lib.training.cls_only`): its
    key and value projections see every token, the rest one per example. The
    pooler and classifier see one token per example. Optimizer updates (a few FLOPs
    per parameter per step) are left out: negligible next to these.
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
    return 6.0 * (per_token * tokens + per_example * examples)


def _steady(marks: list[tuple[float, int, int]]) -> tuple[float, int, int]:
    """Seconds, examples and tokens between step WARMUP_STEPS and the last step."""
    first = marks[min(WARMUP_STEPS, len(marks) - 2)]
    last = marks[-1]
    return last[0] - first[0], last[1] - first[1], last[2] - first[2]


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
    settings = TrainingSettings.profile(
        "cpu",
        batch_size=16 // world,
        max_train_examples=n_train,
        max_eval_examples=n_eval,
        max_dev_examples=32,
        **XLT_VARIANTS.get(variant, {}),
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
        counter = CountingCollator(default_data_collator)
        timer = _step_timer(counter)
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
        trainer = Trainer(
            model=model, args=args, train_dataset=train, data_collator=counter, callbacks=[timer]
        )
        trainer.train()
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
            counter = CountingCollator(trainer.data_collator)
            trainer.data_collator = counter
            timer = _step_timer(counter)
            trainer.add_callback(timer)
            trainer.train()
            trainer.data_collator = counter.inner
            features = eval_set(xnli, "test", "en", prepared.tokenizer, settings, n_eval, None).features
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
        "tokens_per_example": tokens / examples,
        "model_gflops_per_s": flops / seconds / 1e9,
        "eval_ex_per_s": len(gold) / eval_seconds,
        "accuracy_en": float((np.asarray(logits).argmax(-1) == gold).mean()),
        "eval_examples": len(gold),
        "peak_rss_mb": world * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads() * world,
    }


def main() -> int:
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
        choices=VARIANTS,
        help="extra variants to run besides baseline and xlt",
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant in this process
    args = parser.parse_args()
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
    variants = [v for v in VARIANTS if v in {"baseline", "xlt", *(args.variants or [])}]
    peak = matmul_peak_gflops(1024 if args.quick else 2048, 5 if args.quick else 10)
    results: dict[str, dict[str, Any]] = {}
    for variant in variants:
        command = [sys.executable, __file__, "--variant", variant, "--threads", str(threads)]
        if variant == "xlt-ddp":
            launcher = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc_per_node",
                str(threads),
            ]
            command = [*launcher, __file__, "--variant", variant, "--threads", "1"]
        command += ["--train-examples", str(n_train), "--eval-examples", str(n_eval)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit(f"variant {variant} failed with status {done.returncode}")
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[variant]
        print(
            f"{variant:17s} train {r['ex_per_s']:6.1f} ex/s ({r['tokens_per_example']:5.1f} tokens/ex, "
            f"{r['model_gflops_per_s']:5.1f} GFLOP/s = {r['model_gflops_per_s'] / peak:5.1%} of peak)  "
            f"eval {r['eval_ex_per_s']:6.1f} ex/s  acc(en, n={r['eval_examples']}) {r['accuracy_en']:.3f}  "
            f"peak RSS {r['peak_rss_mb']:.0f} MB",
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
    }
    for name in variants:
        if name in ("baseline", "xlt"):
            continue
        other, key = results[name], name.replace("-", "_")
        summary[f"{key}_ex_per_s"] = round(other["ex_per_s"], 2)
        summary[f"{key}_ratio"] = round(other["ex_per_s"] / base["ex_per_s"], 2)
        summary[f"{key}_flops_share_of_peak"] = round(other["model_gflops_per_s"] / peak, 3)
        summary[f"{key}_accuracy_en"] = round(other["accuracy_en"], 4)
        summary[f"{key}_peak_rss_mb"] = round(other["peak_rss_mb"])
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
