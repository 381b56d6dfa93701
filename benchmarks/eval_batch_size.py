"""Evaluation throughput against ``eval_batch_size`` on CPU, one thread, in length order.

Phase 3 scores every language through `_predict_in_length_order`
(`xlt_lib.training.phases`): examples sorted by length, so a batch pads to about its
own length and a bigger batch costs no padding. Whether a bigger batch is then
faster is a matter of how well the CPU kernels use it; this measures it. The offline
default encoder (all 12 layers) with a fresh XNLI head scores the same XNLI test
examples at each batch size; predictions must be identical across sizes (argmax), and
the largest logit difference is reported.

    .venv/bin/python benchmarks/eval_batch_size.py [--examples 400] [--sizes 8 16 32 64 128] [--repeats 2]

The markdown table goes to stdout; the last line is one JSON object.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()

    import numpy as np
    import torch

    from xlt_lib.tasks import get_task
    from xlt_lib.training import TrainingSettings
    from xlt_lib.training.data import eval_set, feature_lengths
    from xlt_lib.training.phases import _predict_in_length_order, build_trainer

    torch.set_num_threads(1)
    xnli, mnli = get_task("xnli"), get_task("mnli")
    settings = TrainingSettings.profile("cpu", max_length=args.max_length, max_dev_examples=8)
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
        features = eval_set(xnli, "test", "en", prepared.tokenizer, settings, args.examples, None).features
        tokens = sum(feature_lengths(features))
        _predict_in_length_order(trainer, features.select(range(16)))  # warm up
        rows, reference = [], None
        for size in args.sizes:
            trainer.args.per_device_eval_batch_size = size
            seconds = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                logits = np.asarray(_predict_in_length_order(trainer, features))
                seconds.append(time.perf_counter() - start)
            if reference is None:
                reference = logits
            rows.append(
                {
                    "eval_batch_size": size,
                    "seconds": round(min(seconds), 3),
                    "examples_per_s": round(len(features) / min(seconds), 1),
                    "same_predictions": bool((logits.argmax(-1) == reference.argmax(-1)).all()),
                    "max_logit_difference": float(np.abs(logits - reference).max()),
                }
            )
    fastest = max(rows, key=lambda row: row["examples_per_s"])
    print(f"XNLI test (en), {len(features)} examples, {tokens / len(features):.1f} tokens each, 1 thread\n")
    print("| eval_batch_size | seconds | ex/s | same predictions | max logit diff |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['eval_batch_size']} | {row['seconds']} | {row['examples_per_s']} | "
            f"{row['same_predictions']} | {row['max_logit_difference']:.2e} |"
        )
    print(
        json.dumps(
            {
                "examples": len(features),
                "tokens_per_example": round(tokens / len(features), 1),
                "threads": torch.get_num_threads(),
                "rows": rows,
                "fastest": fastest["eval_batch_size"],
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
