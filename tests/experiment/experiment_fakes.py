"""Trivial phase notebooks for runner tests: same parameters as the real ones, no training.

They write records through `xlt_lib.experiment.records` like the real notebooks and
obey marker files in ``$XLT_TEST_MARKERS``: ``fail-<run_id>`` raises inside the
notebook, ``sleep-<run_id>`` sleeps (to be cancelled from outside). Each run also
writes ``started`` with its SLURM job id (empty outside SLURM).
"""

from __future__ import annotations

from pathlib import Path

import fake_notebooks
import pytest

from xlt_lib.experiment import Experiment, load_experiment

BODY = """\
import os, time
from pathlib import Path
import pandas as pd
from xlt_lib.experiment import records

run = Path(run_dir)
markers = Path(os.environ.get("XLT_TEST_MARKERS", "/nonexistent"))
job = os.environ.get("SLURM_ARRAY_JOB_ID", os.environ.get("SLURM_JOB_ID", ""))
task_id = os.environ.get("SLURM_ARRAY_TASK_ID")
(run / "started").write_text(f"{job}_{task_id}" if task_id else job)
if (markers / f"sleep-{run.name}").exists():
    time.sleep(600)
if (markers / f"fail-{run.name}").exists():
    raise RuntimeError(f"planned failure of {run.name}")
if encoder is not None and "intermediate-" in str(encoder):
    assert (Path(encoder).parent / "metrics.json").is_file(), "parent encoder is not complete"
if target is None:
    (run / "encoder").mkdir()
    records.finish_run(run, {"phase": "intermediate", "task": task, "dev": {"accuracy": 0.5}})
else:
    langs = ["en", "de", "fr"]
    acc = {lang: 0.5 + 0.01 * seed + (0.05 if encoder and "intermediate-" in str(encoder) else 0) for lang in langs}
    metrics = {
        "phase": "transfer", "target": target, "eval_split": eval_split,
        "per_language": {lang: {"accuracy": acc[lang], "macro_f1": acc[lang], "n": 4} for lang in langs},
        "average": {"accuracy": sum(acc.values()) / 3, "macro_f1": sum(acc.values()) / 3},
    }
    rows = [
        {"id": f"{target}-test-{i:05d}", "language": lang, "gold": i % 2, "prediction": (i + seed) % 2}
        for lang in langs for i in range(4)
    ]
    records.finish_run(run, metrics, predictions=pd.DataFrame(rows))
"""


def write_fake_notebooks(folder: Path) -> Path:
    """The fake phase notebooks with this module's body (marker-driven failures and sleeps)."""
    return fake_notebooks.write_fake_notebooks(folder, BODY)


FAKE_EXPERIMENT = """\
name: fake
model: offline-default
intermediate_tasks: [mnli]
conditions:
  base: {kind: none}
  mono: {kind: monolingual}
targets: [xnli]
seeds: [1]
settings: {profile: cpu, max_train_examples: 8}
"""


def fake_experiment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str = FAKE_EXPERIMENT
) -> tuple[Experiment, Path]:
    """The experiment ``text`` with its runs under ``tmp_path/runs``, and an empty marker folder."""
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("XLT_TEST_MARKERS", str(markers))
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    path = tmp_path / "fake.yaml"
    path.write_text(text)
    return load_experiment(path), markers
