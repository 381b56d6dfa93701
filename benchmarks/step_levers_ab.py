"""Forward + backward time of one training batch with and without xlt's per-step levers, interleaved.

The offline default with a fresh classification head and frozen word embeddings,
one 16 x 46 batch (half of it with 6 padding tokens), dropout active. Four copies
of the model (plain; [CLS]-only last layer; CPU dropout masks; both) take turns
step by step, so machine noise hits them alike; medians after 3 warm-up rounds.

    .venv/bin/python benchmarks/step_levers_ab.py [--rounds 25]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    from xlt_lib.model import resolve_model
    from xlt_lib.training.cls_only import use_cls_only_last_layer
    from xlt_lib.training.cpu_dropout import use_cpu_dropout

    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()
    plain = AutoModelForSequenceClassification.from_pretrained(resolve_model("offline-default"), num_labels=3)
    plain.get_input_embeddings().weight.requires_grad_(False)
    models = {"plain": plain}
    for name, levers in {
        "cls_only": (True, False),
        "cpu_dropout": (False, True),
        "both": (True, True),
    }.items():
        model = copy.deepcopy(plain)
        if levers[0]:
            use_cls_only_last_layer(model, "classification")
        if levers[1]:
            use_cpu_dropout(model)
        models[name] = model

    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (16, 46), generator=generator)
    mask = torch.ones_like(ids)
    mask[:8, 40:] = 0
    labels = torch.randint(0, 3, (16,), generator=generator)
    times: dict[str, list[float]] = {name: [] for name in models}
    for round_ in range(args.rounds):
        for name, model in models.items():
            model.train()
            start = time.perf_counter()
            model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
            model.zero_grad(set_to_none=True)
            if round_ >= 3:
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["plain"])
    summary = {}
    for name, values in times.items():
        median = statistics.median(values)
        summary[name] = {"median_ms": round(median * 1000), "speedup": round(base / median, 3)}
        print(f"{name:12s} median {median * 1000:5.0f} ms  speedup {base / median:.3f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
