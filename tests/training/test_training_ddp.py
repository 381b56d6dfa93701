"""The same phase code under ``torchrun`` (Trainer's DDP), here on CPU with gloo.

Two processes of one thread each fine-tune a tiny encoder: the batches must be
split between them (half the optimizer steps of one process with the same
per-process batch size), both must return the same predictions for every
language, and only the main process may write the phase-2 encoder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlt_lib.model.referenced import CHANGED_WEIGHTS

SCRIPT = """
import json, os, sys
import torch
from xlt_lib.training import TrainingSettings, run_intermediate, run_transfer

torch.set_num_threads(1)
model, out = sys.argv[1], sys.argv[2]
settings = TrainingSettings.from_dict({
    "learning_rate": 1e-3, "batch_size": 4, "max_length": 64, "max_train_examples": 32,
    "max_dev_examples": 8, "max_eval_examples": 6, "warmup_ratio": 0.0,
    "freeze_word_embeddings": True, "selection": "last", "seed": 0,
})
phase2 = run_intermediate(model, "mnli", settings, output_dir=f"{out}/intermediate")
phase3 = run_transfer(str(phase2.encoder_dir), "pawsx", settings, output_dir=f"{out}/transfer")
rank = int(os.environ.get("RANK", "0"))
phase3.predictions.to_json(f"{out}/predictions-{rank}.json", orient="records")
with open(f"{out}/steps-{rank}.json", "w") as f:
    json.dump({"intermediate": phase2.metrics["train"]["steps"], "transfer": phase3.metrics["train"]["steps"],
               "world": int(os.environ.get("WORLD_SIZE", "1"))}, f)
"""


@pytest.mark.slow
def test_phases_run_unchanged_under_torchrun(tiny_model_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "phases.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "XLT_PROGRESS": "0"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(
        [*command, str(script), str(tiny_model_dir), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    steps = [json.loads((tmp_path / f"steps-{rank}.json").read_text()) for rank in (0, 1)]
    # 32 examples, 4 per process and step, 2 processes: 4 steps (one process alone would take 8)
    assert steps[0] == steps[1] == {"intermediate": 4, "transfer": 4, "world": 2}
    predictions = [(tmp_path / f"predictions-{rank}.json").read_text() for rank in (0, 1)]
    assert predictions[0] == predictions[1]
    rows = json.loads(predictions[0])
    assert {row["language"] for row in rows} == {"de", "en", "es", "fr", "ja", "ko", "zh"}
    assert len(rows) == 7 * 6 and len({(row["language"], row["id"]) for row in rows}) == len(rows)
    encoder = tmp_path / "intermediate" / "encoder"
    weights = ("model.safetensors", CHANGED_WEIGHTS)  # a full folder, or only what training changed
    assert any((encoder / name).is_file() for name in weights) and (encoder / "xlt_encoder.json").is_file()
    assert not list(tmp_path.glob("*/encoder.partial")), "a second writer left a staging folder"
    assert not (tmp_path / "transfer" / "checkpoints").exists(), "checkpoints are deleted after success"
