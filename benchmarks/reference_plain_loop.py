"""The issue's reference recipe as a plain hand-written loop, to compare xlt's phase 3 with.

Offline default, ``BertForSequenceClassification`` (fresh head), word embeddings
frozen, AdamW lr 5e-5 and weight decay 0.01, linear decay after 10 % warm-up, batch 16,
max length 128, one epoch over N English training pairs in random order, no
gradient clipping, seed 0; accuracy on the first 300 English rows of the target's
evaluation split (PAWS-X dev, XNLI test). Prints the mean loss every 50 steps.

    .venv/bin/python benchmarks/reference_plain_loop.py pawsx 4000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", choices=["pawsx", "xnli"])
    parser.add_argument("pairs", type=int)
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    from xlt_lib.model import load_tokenizer, resolve_model
    from xlt_lib.tasks import get_task, load_split, subsample
    from xlt_lib.training.data import SUBSET_SEED

    hf_logging.set_verbosity_error()
    torch.manual_seed(0)
    random.seed(0)
    task = get_task(args.target)
    model_dir = resolve_model("offline-default")
    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(task.labels))
    model.get_input_embeddings().weight.requires_grad_(False)
    train = subsample(load_split(get_task(task.train_task), "train", "en"), args.pairs, SUBSET_SEED)
    evaluation = load_split(task, "dev" if args.target == "pawsx" else "test", "en").select(range(300))

    def encode(rows: object) -> dict[str, torch.Tensor]:
        return tokenizer(
            list(rows["text_a"]), list(rows["text_b"]), truncation=True, max_length=128,
            padding=True, return_tensors="pt",
        )  # fmt: skip

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=5e-5, weight_decay=0.01)
    steps = (len(train) + 15) // 16
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    order = list(range(len(train)))
    random.shuffle(order)
    model.train()
    losses: list[float] = []
    start = time.time()
    for step in range(steps):
        rows = train.select(order[step * 16 : (step + 1) * 16])
        loss = model(**encode(rows), labels=torch.tensor(list(rows["label"]))).loss
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if (step + 1) % 50 == 0:
            print(
                step + 1, round(float(np.mean(losses[-50:])), 3), f"{time.time() - start:.0f} s", flush=True
            )
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(evaluation), 32):
            rows = evaluation.select(range(i, min(i + 32, len(evaluation))))
            predicted = model(**encode(rows)).logits.argmax(-1)
            correct += int((predicted == torch.tensor(list(rows["label"]))).sum())
    print(
        json.dumps(
            {
                "target": args.target,
                "pairs": args.pairs,
                "accuracy_en": round(100 * correct / len(evaluation), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
