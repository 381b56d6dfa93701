"""Does phase 3 learn from the base encoder at a given size? The probe behind the demo's design.

Runs xlt's own phase 3 (`run_transfer`, the ``cpu`` profile, selection ``last``) on a
target from the base offline encoder, i.e. the ``none`` condition, once per seed, with
one thread (as each of the demo's two workers has), evaluating English plus two other
languages. Each run's learning verdict is the one xlt records (`xlt_lib.training.learning`):
a run whose final training loss is still within 0.02 nats of ln k, or whose English
accuracy is within noise of the majority class, did not learn. One JSON line per run;
the last line summarises the configuration.

    .venv/bin/python benchmarks/learning_threshold.py xnli --pairs 2000 --lr 5e-5 --seeds 1 2 3

Results: benchmarks/results/demo_design.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", choices=["xnli", "pawsx"])
    parser.add_argument("--pairs", type=int, required=True, help="English training pairs")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--warmup", type=float, default=0.1, help="warm-up ratio")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--eval-examples", type=int, default=400, help="per evaluated language")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from xlt_lib.training.phases import run_transfer
    from xlt_lib.training.settings import TrainingSettings

    torch.set_num_threads(args.threads)
    languages = ["en", "de", "sw"] if args.target == "xnli" else ["en", "de", "zh"]
    learned = 0
    for seed in args.seeds:
        settings = TrainingSettings.profile(
            "cpu",
            learning_rate=args.lr,
            warmup_ratio=args.warmup,
            max_train_examples=args.pairs,
            max_dev_examples=100,
            max_eval_examples=args.eval_examples,
            selection="last",
            seed=seed,
        )
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            result = run_transfer(
                "offline-default", args.target, settings, output_dir=out, languages=languages
            )
        verdict = result.metrics["learning"]
        learned += bool(verdict["learned"])
        print(
            json.dumps(
                {
                    "seed": seed,
                    "seconds": round(time.perf_counter() - started),
                    "en_accuracy": round(verdict["accuracy"], 4),
                    "final_train_loss": round(verdict["final_train_loss"], 4),
                    "predicted_classes": verdict["predicted_classes"],
                    "learned": verdict["learned"],
                    "reasons": verdict["reasons"],
                }
            ),
            flush=True,
        )
    summary = {"target": args.target, "pairs": args.pairs, "lr": args.lr, "warmup_ratio": args.warmup}
    print(json.dumps(summary | {"seeds": len(args.seeds), "learned": learned}))


if __name__ == "__main__":
    main()
