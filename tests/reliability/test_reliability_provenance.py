"""Every input that matters changes a run's hash or makes its record stale; nothing is silently reused.

Complete runs are recorded here as the phase notebooks record them (`start_run`,
`finish_run` on validated notebook inputs, so ``env.json`` holds the real data and
dictionary checksums, model identity and code version) without training, on
copies of the real data, dictionary and tiny model that the tests then change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from safetensors.numpy import load_file, save_file

from xlt_lib.cli import main
from xlt_lib.experiment import load_experiment, plan, records
from xlt_lib.experiment.notebook import finish_run, intermediate_inputs, start_run, transfer_inputs

DATA_FILES = (
    "glue/mnli/train.json",
    "glue/mnli/dev.json",
    "dictionaries/muse/en-de.txt",
    "pawsx/train-en.tsv",
    *(f"pawsx/dev-{lang}.tsv" for lang in ("de", "en", "es", "fr", "ja", "ko", "zh")),
)


@pytest.fixture
def world(tmp_path: Path, data_dir: Path, tiny_model_dir: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    for name in DATA_FILES:
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / name, data / name)
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    doc = {
        "name": "prov",
        "model": str(model),
        "data_dir": str(data),
        "intermediate_tasks": ["mnli"],
        "conditions": {
            "baseline": {"kind": "none"},
            "mono": {"kind": "monolingual"},
            "cs": {"kind": "codeswitched", "codeswitch": {"languages": ["de"]}},
        },
        "targets": ["pawsx"],
        "seeds": [0],
        "settings": {"profile": "cpu", "max_train_examples": 16, "learning_rate": 5e-5},
    }
    experiment = tmp_path / "prov.yaml"
    experiment.write_text(yaml.safe_dump(doc), encoding="utf-8")
    runs = tmp_path / "runs"
    _record_complete_grid(experiment, runs, model)
    return {"root": tmp_path, "data": data, "model": model, "experiment": experiment, "runs": runs}


def _record_complete_grid(experiment: Path, runs: Path, model: Path) -> None:
    """Record every run as complete, with the provenance a real notebook writes."""
    for run in plan(load_experiment(experiment), runs_root=runs).runs:
        spec = run.spec
        run.run_dir.mkdir(parents=True)
        records.write_config(run.run_dir, spec.config())
        common = {
            "run_dir": run.run_dir,
            "settings": spec.settings,
            "seed": spec.seed,
            "data_dir": spec.data_dir,
        }
        if spec.phase == "intermediate":
            inputs = intermediate_inputs(
                model=spec.model, task=spec.intermediate, codeswitch=spec.codeswitch, **common
            )
            shutil.copytree(model, run.run_dir / records.ENCODER)  # stands in for the trained encoder
        else:
            parent = runs / "prov" / spec.parent / records.ENCODER if spec.parent else spec.model
            inputs = transfer_inputs(
                encoder=str(parent), target=spec.target, eval_split=spec.eval_split, **common
            )
        finish_run(inputs, start_run(inputs), {"phase": spec.phase})


def _replan(world: dict[str, Path], **kw: object) -> dict[str, object]:
    return {
        run.spec.run_id: run
        for run in plan(load_experiment(world["experiment"]), runs_root=world["runs"], **kw).runs
    }


def _stale(world: dict[str, Path]) -> dict[str, list[str]]:
    return {run_id: run.stale for run_id, run in _replan(world).items() if run.stale}


def _kinds(world: dict[str, Path], run_ids: object) -> set[tuple[str, str]]:
    runs = _replan(world)
    return {(runs[r].spec.phase, runs[r].spec.condition) for r in run_ids}


def test_untouched_inputs_reuse_everything(world: dict[str, Path]) -> None:
    runs = _replan(world)
    assert len(runs) == 5 and not any(run.execute for run in runs.values())
    env = records.read_json(next(r for r in runs.values() if r.spec.condition == "cs").run_dir / records.ENV)
    assert any(path.endswith("en-de.txt") for path in env["data"]), "dictionary checksum recorded"


def test_settings_change_the_hash(world: dict[str, Path]) -> None:
    before = set(_replan(world))
    doc = yaml.safe_load(world["experiment"].read_text())
    doc["settings"]["learning_rate"] = 4e-5
    world["experiment"].write_text(yaml.safe_dump(doc))
    after = _replan(world)
    assert not before & set(after) and all(run.state == "missing" for run in after.values())


def test_data_directory_changes_the_hash(world: dict[str, Path]) -> None:
    before = set(_replan(world))
    moved = world["root"] / "data-moved"
    shutil.copytree(world["data"], moved)
    doc = yaml.safe_load(world["experiment"].read_text())
    doc["data_dir"] = str(moved)
    world["experiment"].write_text(yaml.safe_dump(doc))
    assert not before & set(_replan(world))


def test_changed_data_file_reruns_its_readers(world: dict[str, Path]) -> None:
    path = world["data"] / "glue/mnli/dev.json"
    path.write_text(path.read_text(encoding="utf-8").replace("neutral", "contradiction", 1), encoding="utf-8")
    stale = _stale(world)
    assert _kinds(world, stale) == {("intermediate", "mono"), ("intermediate", "cs")}
    assert all("glue/mnli/dev.json changed" in why for reasons in stale.values() for why in reasons)
    runs = _replan(world)  # children of a rerun parent rerun too
    assert {r.spec.condition for r in runs.values() if r.execute} == {"mono", "cs"}


def test_changed_dictionary_reruns_only_codeswitched(world: dict[str, Path]) -> None:
    path = world["data"] / "dictionaries/muse/en-de.txt"
    path.write_text(path.read_text(encoding="utf-8") + "zebra Zebra\n", encoding="utf-8")
    stale = _stale(world)
    assert _kinds(world, stale) == {("intermediate", "cs")}
    assert "en-de.txt changed" in next(iter(stale.values()))[0]


def test_changed_model_weights_rerun_its_runs(world: dict[str, Path]) -> None:
    weights = world["model"] / "model.safetensors"
    tensors = load_file(str(weights))
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + 1.0
    save_file(tensors, str(weights))
    stale = _stale(world)
    assert _kinds(world, stale) == {
        ("intermediate", "mono"),
        ("intermediate", "cs"),
        ("transfer", "baseline"),
    }
    assert all("identity changed" in reasons[0] for reasons in stale.values())


def test_code_version(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another xlt version reruns; another git commit of the same version is reported, not rerun."""
    real = records.git_state()
    monkeypatch.setattr(records, "git_state", lambda repo=None: {"commit": "f" * 40, "dirty": False})
    runs = _replan(world)
    if real["commit"]:
        assert not any(run.execute for run in runs.values())
        assert all("git commit" in run.notes[0] for run in runs.values())
        monkeypatch.setenv("XLT_RUNS_DIR", str(world["runs"]))
        assert main(["run", str(world["experiment"]), "--dry-run"]) == 0
        assert "note: recorded at git commit" in capsys.readouterr().out
    monkeypatch.setattr("xlt_lib.__version__", "99.0")
    stale = _stale(world)
    assert len(stale) == 5 and all(any("xlt 99.0" in why for why in reasons) for reasons in stale.values())


def test_force_replaces_foreign_records(world: dict[str, Path]) -> None:
    run = next(iter(_replan(world).values()))
    config = yaml.safe_load((run.run_dir / records.CONFIG).read_text())
    config["identity"]["seed"] = 99
    (run.run_dir / records.CONFIG).write_text(yaml.safe_dump(config))
    with pytest.raises(records.RunRecordError, match=r"records a different run.*--force"):
        _replan(world)
    forced = _replan(world, force=True)
    assert forced[run.spec.run_id].state == "foreign" and forced[run.spec.run_id].execute
