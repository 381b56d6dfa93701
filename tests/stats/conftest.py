"""Synthetic experiment directories in the run-record layout of ARCHITECTURE.md.

The runner writes real records; these tests build small ones with known,
planted effects: each condition has a true accuracy per language, each seed a
small random offset from it, and each run's predictions are drawn so that its
metrics.json is computed from them, as a real run's is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

LANGUAGES = ("en", "de", "sw")
CONDITIONS = (("baseline", "none", "none"), ("mono", "monolingual", "mnli"), ("cs", "codeswitched", "mnli"))


def macro_f1(gold: np.ndarray, prediction: np.ndarray, n_labels: int) -> float:
    scores = []
    for label in range(n_labels):
        tp = np.sum((prediction == label) & (gold == label))
        fp = np.sum((prediction == label) & (gold != label))
        fn = np.sum((prediction != label) & (gold == label))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def write_run(
    experiment_dir: Path,
    run_id: str,
    config: Mapping[str, object],
    predictions: pd.DataFrame | None,
    *,
    metrics: Mapping[str, object] | None = None,
    complete: bool = True,
    n_labels: int = 3,
) -> Path:
    """One run folder: config.yaml, env.json, predictions.parquet and (if complete) metrics.json."""
    run_dir = experiment_dir / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
    (run_dir / "env.json").write_text(json.dumps({"python": "3.11"}), encoding="utf-8")
    if predictions is not None:
        predictions.to_parquet(run_dir / "predictions.parquet", index=False)
    if metrics is None and predictions is not None:
        per_language = {}
        for language, group in predictions.groupby("language"):
            gold, pred = group["gold"].to_numpy(), group["prediction"].to_numpy()
            per_language[language] = {
                "accuracy": float(np.mean(gold == pred)),
                "macro_f1": macro_f1(gold, pred, n_labels),
                "n": len(group),
            }
        metrics = {
            "phase": config.get("phase", "transfer"),
            "target": config.get("target"),
            "eval_split": "test",
            "per_language": per_language,
            "average": {"accuracy": float(np.mean([m["accuracy"] for m in per_language.values()]))},
            "train": {},
        }
    if complete and metrics is not None:
        (run_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return run_dir


def make_experiment(
    root: Path,
    *,
    name: str = "synthetic",
    targets: Sequence[str] = ("xnli",),
    languages: Sequence[str] = LANGUAGES,
    n_examples: int = 300,
    seeds: Sequence[int] = (1, 2, 3),
    conditions: Sequence[tuple[str, str, str]] = CONDITIONS,
    accuracy: Mapping[str, float] | None = None,
    seed_sd: float = 0.01,
    rng_seed: int = 0,
) -> Path:
    """An experiment directory with one completed phase-3 run per target, condition and seed.

    ``accuracy`` gives each condition's true accuracy (default: baseline 0.55,
    mono 0.60, cs 0.60, i.e. no difference between cs and mono). Also writes a
    completed phase-2 run and an incomplete phase-3 run, which loaders must skip.
    """
    accuracy = {"baseline": 0.55, "mono": 0.60, "cs": 0.60} | dict(accuracy or {})
    rng = np.random.default_rng(rng_seed)
    experiment_dir = root / name
    experiment_dir.mkdir(parents=True)
    gold = {(t, lang): rng.integers(0, 3, n_examples) for t in targets for lang in languages}
    ids = [f"item-{i:05d}" for i in range(n_examples)]
    counter = 0
    for target in targets:
        for condition, kind, intermediate in conditions:
            for seed in seeds:
                offset = rng.normal(0, seed_sd)
                frames = []
                for language in languages:
                    g = gold[(target, language)]
                    correct = rng.random(n_examples) < np.clip(accuracy[condition] + offset, 0, 1)
                    frames.append(
                        pd.DataFrame(
                            {
                                "id": ids,
                                "language": language,
                                "gold": g,
                                "prediction": np.where(correct, g, (g + 1) % 3),
                            }
                        )
                    )
                counter += 1
                run_id = f"transfer-{counter:012x}"
                config = {
                    "phase": "transfer",
                    "experiment": name,
                    "run_id": run_id,
                    "target": target,
                    "intermediate": intermediate,
                    "condition": condition,
                    "condition_kind": kind,
                    "seed": int(seed),
                }
                write_run(experiment_dir, run_id, config, pd.concat(frames, ignore_index=True))
    write_run(
        experiment_dir,
        "intermediate-aaaaaaaaaaaa",
        {"phase": "intermediate", "experiment": name, "run_id": "intermediate-aaaaaaaaaaaa", "seed": 1},
        None,
        metrics={"phase": "intermediate", "train": {"loss": 0.5}},
    )
    write_run(
        experiment_dir,
        "transfer-ffffffffffff",
        {"phase": "transfer", "experiment": name, "run_id": "transfer-ffffffffffff", "target": targets[0]},
        None,
        complete=False,
    )
    return experiment_dir


@pytest.fixture
def experiment_factory(tmp_path: Path) -> Callable[..., Path]:
    """Build synthetic experiments under a fresh temporary folder."""
    made = 0

    def factory(**kwargs: object) -> Path:
        nonlocal made
        made += 1
        return make_experiment(tmp_path / f"runs{made}", **kwargs)

    return factory


@pytest.fixture(scope="session")
def planted_experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two targets, 5 seeds; code-switching adds 8 points over monolingual, which adds 5 over none."""
    return make_experiment(
        tmp_path_factory.mktemp("planted"),
        targets=("xnli", "pawsx"),
        seeds=(1, 2, 3, 4, 5),
        accuracy={"baseline": 0.55, "mono": 0.60, "cs": 0.68},
        n_examples=400,
        seed_sd=0.005,
    )
