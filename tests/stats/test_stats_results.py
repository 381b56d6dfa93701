"""load_results / load_predictions / incomplete_runs on synthetic run records."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from xlt_lib.errors import RunRecordError
from xlt_lib.report.results import RESULT_COLUMNS, incomplete_runs, load_predictions, load_results


def test_load_results_reads_completed_transfer_runs_only(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(languages=("en", "de"), seeds=(1, 2), n_examples=50)
    table = load_results(exp)
    assert tuple(table.columns) == RESULT_COLUMNS
    # 3 conditions x 2 seeds x 2 languages; the phase-2 run and the incomplete run are skipped.
    assert len(table) == 12
    assert set(table["condition_kind"]) == {"none", "monolingual", "codeswitched"}
    assert set(table.loc[table["condition_kind"] == "none", "intermediate"]) == {"none"}
    assert table["seed"].dtype == "int64" and table["n"].eq(50).all()
    assert table["predictions_path"].map(lambda p: Path(p).is_file()).all()
    first = table.iloc[0]
    metrics = json.loads((exp / first["run_id"] / "metrics.json").read_text())
    assert first["accuracy"] == metrics["per_language"][first["language"]]["accuracy"]


def test_incomplete_runs_are_listed(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1,), n_examples=20)
    incomplete = incomplete_runs(exp)
    assert incomplete["run_id"].tolist() == ["transfer-ffffffffffff"]
    assert incomplete.loc[0, "phase"] == "transfer" and not incomplete.loc[0, "has_notebook"]


def test_empty_experiment_gives_empty_table(tmp_path: Path) -> None:
    table = load_results(tmp_path)
    assert table.empty and tuple(table.columns) == RESULT_COLUMNS


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunRecordError, match="no such experiment directory"):
        load_results(tmp_path / "nope")


def _edit_config(run_dir: Path, **changes: object) -> None:
    path = run_dir / "config.yaml"
    config = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config))


def _first_run(exp: Path) -> Path:
    return sorted(exp.glob("transfer-0*"))[0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"condition_kind": None}, r"needs key\(s\) condition_kind"),
        ({"seed": "one"}, "'seed' must be an integer"),
        ({"condition_kind": "bilingual"}, "expected one of none, monolingual, codeswitched"),
        ({"intermediate": "mnli", "condition_kind": "none"}, "runs without intermediate training"),
        ({"run_id": "transfer-000000000999"}, "does not match its folder name"),
    ],
)
def test_bad_config_is_refused_naming_file_and_key(
    experiment_factory: Callable[..., Path], changes: dict[str, object], message: str
) -> None:
    exp = experiment_factory(seeds=(1,), n_examples=20)
    run = _first_run(exp)
    _edit_config(run, **changes)
    with pytest.raises(RunRecordError, match=message) as info:
        load_results(exp)
    assert str(run / "config.yaml") in str(info.value)


def test_bad_metrics_are_refused(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1,), n_examples=20)
    run = _first_run(exp)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["per_language"]["de"]["accuracy"] = 61.5  # percent instead of a fraction
    (run / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(RunRecordError, match=r"per_language.de.accuracy: expected a fraction"):
        load_results(exp)


def test_completed_run_without_config_is_refused(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1,), n_examples=20)
    (_first_run(exp) / "config.yaml").unlink()
    with pytest.raises(RunRecordError, match=r"config\.yaml: missing"):
        load_results(exp)


def test_load_predictions_types_and_refusals(tmp_path: Path) -> None:
    good = pd.DataFrame({"id": ["a", "b"], "language": ["de", "de"], "gold": [0, 1], "prediction": [1, 1]})
    good.to_parquet(tmp_path / "good.parquet")
    loaded = load_predictions(tmp_path / "good.parquet")
    assert list(loaded.columns) == ["id", "language", "gold", "prediction"]
    assert loaded["gold"].dtype == "int64"

    good.drop(columns="gold").to_parquet(tmp_path / "nogold.parquet")
    with pytest.raises(RunRecordError, match=r"nogold.parquet: lacks column\(s\) gold"):
        load_predictions(tmp_path / "nogold.parquet")
    good.assign(prediction=["x", "y"]).to_parquet(tmp_path / "labels.parquet")
    with pytest.raises(RunRecordError, match="'prediction' must hold integer label indices"):
        load_predictions(tmp_path / "labels.parquet")
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(RunRecordError, match="cannot be read as parquet"):
        load_predictions(tmp_path / "broken.parquet")
    with pytest.raises(RunRecordError, match="no such predictions file"):
        load_predictions(tmp_path / "missing.parquet")
