"""Grid expansion and run hashes: what is in a run's identity and what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.experiment import expand, load_experiment
from xlt_lib.experiment.grid import canonical_json, run_hash

BASE = """\
name: {name}
model: offline-default
intermediate_tasks: [mnli, qqp]
conditions:
  {none_name}: {{kind: none}}
  mono: {{kind: monolingual}}
  cs: {{kind: codeswitched, codeswitch: {{languages: [de, fr]}}}}
targets: [xnli, pawsx]
seeds: [1, 2]
settings: {{profile: cpu, max_train_examples: {n}}}
"""


def runs(tmp_path: Path, name: str = "g", none_name: str = "base", n: int = 100) -> list:
    path = tmp_path / f"{name}-{none_name}-{n}.yaml"
    path.write_text(BASE.format(name=name, none_name=none_name, n=n))
    return expand(load_experiment(path))


def test_grid_shape_and_dependencies(tmp_path: Path) -> None:
    grid = runs(tmp_path)
    phase2 = [r for r in grid if r.phase == "intermediate"]
    phase3 = [r for r in grid if r.phase == "transfer"]
    assert len(phase2) == 2 * 2 * 2  # task x non-none condition x seed
    assert len(phase3) == 2 * (2 + len(phase2))  # target x (none per seed + each phase-2 run)
    by_id = {r.run_id: r for r in grid}
    position = {r.run_id: i for i, r in enumerate(grid)}
    for run in phase3:
        if run.condition_kind == "none":
            assert run.parent is None and run.intermediate == "none"
        else:
            parent = by_id[run.parent]
            assert (
                parent.seed == run.seed
                and parent.condition == run.condition
                and position[parent.run_id] < position[run.run_id]
            )
    # one encoder serves every target: each phase-2 run has exactly one child per target
    for parent in phase2:
        assert sorted(r.target for r in phase3 if r.parent == parent.run_id) == ["pawsx", "xnli"]
    assert all(r.run_id.startswith(f"{r.phase}-") and len(r.hash) == 12 for r in grid)


def test_codeswitch_seed_follows_the_run_seed(tmp_path: Path) -> None:
    cs = [r for r in runs(tmp_path) if r.condition_kind == "codeswitched" and r.phase == "intermediate"]
    assert {r.seed for r in cs} == {r.codeswitch["seed"] for r in cs} == {1, 2}


def test_hash_ignores_labels_but_not_settings(tmp_path: Path) -> None:
    ids = {r.run_id for r in runs(tmp_path)}
    assert {r.run_id for r in runs(tmp_path, name="renamed", none_name="baseline")} == ids
    changed = {r.run_id for r in runs(tmp_path, n=101)}
    assert not changed & ids


def test_phase3_hash_includes_the_parent(tmp_path: Path) -> None:
    grid = runs(tmp_path)
    children = [r for r in grid if r.phase == "transfer" and r.target == "xnli" and r.seed == 1 and r.parent]
    assert len({r.identity["parent"] for r in children}) == len(children) == 4
    assert len({r.run_id for r in children}) == 4


def test_config_has_the_contract_keys(tmp_path: Path) -> None:
    config = runs(tmp_path)[-1].config()
    for key in (
        "phase",
        "experiment",
        "run_id",
        "model",
        "intermediate",
        "condition",
        "condition_kind",
        "target",
        "seed",
        "parent",
        "settings",
        "codeswitch",
        "data_dir",
    ):
        assert key in config
    assert config["settings"]["seed"] == config["seed"]


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, {"y": 2, "x": 1}]}) == canonical_json(
        {"a": [1, {"x": 1, "y": 2}], "b": 1}
    )
    assert run_hash({"a": 1, "b": 2}) == run_hash({"b": 2, "a": 1}) != run_hash({"a": 1, "b": 3})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
