"""Preflight (issue 13): every input of the planned runs is resolved before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.experiment import load_experiment, plan
from xlt_lib.experiment.grid import expand
from xlt_lib.experiment.preflight import PreflightError

EXPERIMENT = """\
name: pf
model: {model}
data_dir: {data}
conditions:
  baseline: {{kind: none}}
targets:
  - {target}
seeds: [0]
settings: {{profile: cpu, max_train_examples: 8}}
"""


def _write(tmp_path: Path, target: str, model: str = "offline-default", data: Path | None = None) -> Path:
    path = tmp_path / "pf.yaml"
    path.write_text(EXPERIMENT.format(model=model, data=data or tmp_path / "data", target=target))
    return path


@pytest.fixture
def data(data_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data" / "pawsx"
    root.mkdir(parents=True)
    for name in ("train-en.tsv", "dev-en.tsv", "test-en.tsv"):
        (root / name).write_text("".join((data_dir / "pawsx" / name).open().readlines()[:5]))
    return root.parent


def test_a_listed_language_without_its_file_is_missing_with_its_path(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    experiment = load_experiment(_write(tmp_path, "{task: pawsx, eval_split: test, languages: [en, de]}"))
    preflight = plan(experiment).preflight
    assert [(read.what, read.where, read.problem) for read in preflight.missing] == [
        ("pawsx test de", str(data / "pawsx/test-de.tsv"), "missing")
    ]
    with pytest.raises(PreflightError, match=r"pawsx test de: local .*pawsx/test-de\.tsv \(missing\)"):
        preflight.raise_for_missing()
    sources = preflight.sources()
    assert f"pawsx train en: local {data}/pawsx/train-en.tsv" in sources
    assert "pawsx dev de" not in sources  # only the languages evaluated and English dev are read


def test_without_languages_the_files_present_are_evaluated(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    preflight = plan(load_experiment(_write(tmp_path, "{task: pawsx, eval_split: test}"))).preflight
    assert not preflight.missing
    assert [r.what for r in preflight.all_reads() if r.what.startswith("pawsx test")] == ["pawsx test en"]


def test_a_model_folder_without_weights_is_missing(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    folder = tmp_path / "model"
    folder.mkdir()
    preflight = plan(load_experiment(_write(tmp_path, "pawsx", model=str(folder)))).preflight
    (read,) = preflight.missing
    assert read.kind == "model" and read.where == str(folder / "*.safetensors")


def test_languages_enter_the_run_id_only_where_given(data: Path, tmp_path: Path) -> None:
    plain = expand(load_experiment(_write(tmp_path, "{task: pawsx, eval_split: test}")))
    listed = expand(load_experiment(_write(tmp_path, "{task: pawsx, eval_split: test, languages: [en]}")))
    assert "languages" not in plain[0].identity and listed[0].identity["languages"] == ["en"]
    assert plain[0].run_id != listed[0].run_id
    assert "languages" not in plain[0].config() and listed[0].config()["languages"] == ["en"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "{task: pawsx, languages: [EN]}",
            r"targets\[0\]\.languages\[0\]: expected a language code such as 'de', got 'EN' \(line 7\)",
        ),
        ("{task: pawsx, languages: [de, de]}", r"language 'de' is listed twice"),
        ("{task: pawsx, source: web}", r"targets\[0\]\.source: .*auto, hub"),
        ("{task: pawsx, source: hub, languages: [en, it]}", r"pawsx on the hub has no language\(s\) it"),
    ],
)
def test_target_languages_and_source_are_validated(
    data: Path, tmp_path: Path, target: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_experiment(_write(tmp_path, target))
