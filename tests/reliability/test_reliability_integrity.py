"""Issue 19: a run record is either right or visibly not (damaged, stale, or refused by name).

Records are written as the phase notebooks write them (`start_run` / `finish_run` on
validated inputs, no training), like `test_reliability_provenance`, then damaged the
way a careless user would: another data directory, a hand-edited ``config.yaml``, a
truncated predictions file, ``{}`` metrics, a deleted encoder, a record from an xlt
without manifests. Each case failed (silently reused or crashed) before issue 19.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from xlt_lib.cli import main
from xlt_lib.errors import DataError, RunRecordError
from xlt_lib.experiment import load_experiment, plan, records
from xlt_lib.experiment.describe import describe_plan
from xlt_lib.experiment.notebook import finish_run, intermediate_inputs, start_run, transfer_inputs

DATA_FILES = (
    "glue/mnli/train.json",
    "glue/mnli/dev.json",
    "pawsx/train-en.tsv",
    *(f"pawsx/dev-{lang}.tsv" for lang in ("de", "en", "es", "fr", "ja", "ko", "zh")),
)


def _record_complete_grid(experiment: Path, runs: Path, model: Path) -> None:
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
            inputs = intermediate_inputs(model=spec.model, task=spec.intermediate, codeswitch=None, **common)
            shutil.copytree(model, run.run_dir / records.ENCODER)  # stands in for the trained encoder
            metrics: dict = {"phase": "intermediate"}
        else:
            parent = runs / "integrity" / spec.parent / records.ENCODER if spec.parent else spec.model
            inputs = transfer_inputs(
                encoder=str(parent), target=spec.target, eval_split=spec.eval_split, **common
            )
            metrics = {
                "phase": "transfer",
                "per_language": {"en": {"accuracy": 0.5, "macro_f1": 0.5, "n": 4}},
                "average": {"accuracy": 0.5, "macro_f1": 0.5},
            }
        predictions = (
            pd.DataFrame(
                {"id": [f"p-{i}" for i in range(4)], "language": "en", "gold": [0, 1, 0, 1], "prediction": 0}
            )
            if spec.phase == "transfer"
            else None
        )
        finish_run(inputs, start_run(inputs), metrics, predictions)


@pytest.fixture
def world(tmp_path: Path, data_dir: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A complete 3-run grid whose data directory comes from ``XLT_DATA_DIR`` (no ``data_dir`` key)."""
    data = tmp_path / "data"
    for name in DATA_FILES:
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / name, data / name)
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    doc = {
        "name": "integrity",
        "model": str(model),
        "intermediate_tasks": ["mnli"],
        "conditions": {"baseline": {"kind": "none"}, "mono": {"kind": "monolingual"}},
        "targets": ["pawsx"],
        "seeds": [0],
        "settings": {"profile": "cpu", "max_train_examples": 16},
    }
    experiment = tmp_path / "integrity.yaml"
    experiment.write_text(yaml.safe_dump(doc), encoding="utf-8")
    runs = tmp_path / "runs"
    monkeypatch.setenv("XLT_DATA_DIR", str(data))
    monkeypatch.setenv("XLT_RUNS_DIR", str(runs))
    monkeypatch.setenv("XLT_CACHE_DIR", str(tmp_path / "cache"))
    _record_complete_grid(experiment, runs, model)
    return {"root": tmp_path, "data": data, "model": model, "experiment": experiment, "runs": runs}


def _plan(world: dict):
    return plan(load_experiment(world["experiment"]), runs_root=world["runs"])


def _runs(world: dict) -> dict:
    return {(run.spec.phase, run.spec.condition): run for run in _plan(world).runs}


def test_untouched_grid_is_done_and_every_record_has_a_manifest(world: dict) -> None:
    the_plan = _plan(world)
    assert not the_plan.to_execute
    for run in the_plan.runs:
        listed = json.loads((run.run_dir / records.MANIFEST).read_text())["files"]
        assert {records.CONFIG, records.ENV, records.METRICS} <= set(listed)
        assert (records.PREDICTIONS in listed) == (run.spec.phase == "transfer")
        assert any(name.startswith("encoder/") for name in listed) == (run.spec.phase == "intermediate")


# -- case 1: another data directory ----------------------------------------------------------
def test_switching_xlt_data_dir_makes_every_run_stale(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    other = world["root"] / "other-data"
    shutil.copytree(world["data"], other)
    lines = (other / "pawsx" / "dev-de.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[1].split("\t")
    fields[-1] = "0\n" if fields[-1].strip() == "1" else "1\n"  # a test label changed
    (other / "pawsx" / "dev-de.tsv").write_text(
        "".join([lines[0], "\t".join(fields), *lines[2:]]), encoding="utf-8"
    )
    (other / "pawsx" / "dev-fr.tsv").unlink()  # a language file deleted
    monkeypatch.setenv("XLT_DATA_DIR", str(other))
    runs = _plan(world).runs
    assert all(run.execute for run in runs)
    for run in runs:
        assert f"data dir changed: {world['data']} -> {other}" in run.stale, run.stale


def test_changed_and_missing_data_files_are_named_relative_to_the_data_dir(world: dict) -> None:
    (world["data"] / "pawsx" / "dev-fr.tsv").unlink()
    path = world["data"] / "pawsx" / "dev-de.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    stale = [why for run in _plan(world).runs for why in run.stale]
    assert any(why.startswith("data: pawsx/dev-de.tsv changed") for why in stale), stale
    assert any(why.startswith("data: pawsx/dev-fr.tsv is missing") for why in stale), stale


def test_a_nonexistent_data_dir_is_an_error_not_a_reuse(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLT_DATA_DIR", str(world["root"] / "nonexistent"))
    with pytest.raises(DataError, match=r"XLT_DATA_DIR=.*nonexistent: no such directory"):
        _plan(world)


def test_a_legacy_record_read_from_another_data_dir_is_stale(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records from before ``data_source``: their data files' location tells where they read."""
    for run in _plan(world).runs:
        _make_legacy(run.run_dir)
    other = world["root"] / "other-data"
    shutil.copytree(world["data"], other)
    monkeypatch.setenv("XLT_DATA_DIR", str(other))
    runs = _plan(world).runs
    assert all(run.execute and any(why.startswith("data dir changed") for why in run.stale) for run in runs)


# -- case 2: identity fields of config.yaml edited by hand ------------------------------------
@pytest.mark.parametrize(
    ("key", "value"), [("target", "xnli"), ("seed", 7), ("condition_kind", "codeswitched")]
)
def test_an_edited_identity_field_is_refused_by_name(
    world: dict, key: str, value: object, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _runs(world)[("transfer", "mono")]
    config = yaml.safe_load((run.run_dir / records.CONFIG).read_text())
    config[key] = value
    (run.run_dir / records.CONFIG).write_text(yaml.safe_dump(config))
    with pytest.raises(
        RunRecordError, match=rf"config.yaml: does not match its run id .*'{key}' is {value!r}"
    ):
        _plan(world)
    for command in (["run", str(world["experiment"]), "--dry-run"], ["report", str(world["experiment"])]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"'{key}' is {value!r}" in err and "restore the field" in err and "Traceback" not in err


def test_a_renamed_condition_is_a_label_not_an_identity(world: dict) -> None:
    doc = yaml.safe_load(world["experiment"].read_text())
    doc["conditions"]["monolingual"] = doc["conditions"].pop("mono")
    world["experiment"].write_text(yaml.safe_dump(doc))
    assert not _plan(world).to_execute


# -- case 3: damaged files -----------------------------------------------------------------
def test_truncated_predictions_are_damaged_not_complete(world: dict) -> None:
    run = _runs(world)[("transfer", "baseline")]
    path = run.run_dir / records.PREDICTIONS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    again = _runs(world)[("transfer", "baseline")]
    assert again.state == "damaged" and again.execute
    assert any("predictions.parquet" in why and "truncated" in why for why in again.damaged)
    assert "damaged: redo" in describe_plan(_plan(world))


def test_empty_metrics_are_damaged_not_done(world: dict) -> None:
    run = _runs(world)[("transfer", "mono")]
    (run.run_dir / records.METRICS).write_text("{}")
    again = _runs(world)[("transfer", "mono")]
    assert again.state == "damaged" and again.execute
    assert any("metrics.json" in why for why in again.damaged)


def test_a_deleted_manifest_of_a_new_record_is_damage(world: dict) -> None:
    run = _runs(world)[("transfer", "mono")]
    (run.run_dir / records.MANIFEST).unlink()
    assert _runs(world)[("transfer", "mono")].state == "damaged"


# -- case 4: a deleted phase-2 encoder -------------------------------------------------------
def test_a_deleted_parent_encoder_redoes_the_parent_and_its_dependents(world: dict) -> None:
    parent = _runs(world)[("intermediate", "mono")]
    for weights in (parent.run_dir / records.ENCODER).glob("*.safetensors"):
        weights.unlink()
    runs = _runs(world)
    assert runs[("intermediate", "mono")].state == "damaged" and runs[("intermediate", "mono")].execute
    assert any(
        "encoder/model.safetensors is missing" in why for why in runs[("intermediate", "mono")].damaged
    )
    assert runs[("transfer", "mono")].execute  # its child follows
    assert not runs[("transfer", "baseline")].execute


# -- records from an older xlt (no manifest) -------------------------------------------------
def _make_legacy(run_dir: Path) -> None:
    (run_dir / records.MANIFEST).unlink()
    env = json.loads((run_dir / records.ENV).read_text())
    env.pop("record_format")
    env.pop("data_source")
    (run_dir / records.ENV).write_text(json.dumps(env))


def test_legacy_records_stay_done_with_a_note(world: dict) -> None:
    for run in _plan(world).runs:
        _make_legacy(run.run_dir)
    runs = _plan(world).runs
    assert not any(run.execute for run in runs)
    assert all(any("no manifest (written by an older xlt)" in note for note in run.notes) for run in runs)


def test_legacy_records_are_still_checked_for_what_can_be_checked(world: dict) -> None:
    runs = _runs(world)
    for run in runs.values():
        _make_legacy(run.run_dir)
    (runs[("transfer", "mono")].run_dir / records.METRICS).write_text("{}")
    predictions = runs[("transfer", "baseline")].run_dir / records.PREDICTIONS
    predictions.write_bytes(predictions.read_bytes()[:100])
    shutil.rmtree(runs[("intermediate", "mono")].run_dir / records.ENCODER)
    (runs[("intermediate", "mono")].run_dir / records.ENCODER).mkdir()
    again = _runs(world)
    assert {key for key, run in again.items() if run.state == "damaged"} == set(runs)
