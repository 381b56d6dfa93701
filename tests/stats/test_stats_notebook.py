"""The significance notebook end to end under papermill, and its refusal on missing runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from xlt_lib.paths import repo_root
from xlt_lib.stats import StatsError
from xlt_lib.stats.notebook import check_parameters

NOTEBOOK = repo_root() / "notebooks" / "significance.ipynb"


def _execute(experiment_dir: Path, output: Path, **parameters: object) -> nbformat.NotebookNode:
    import papermill

    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters={"experiment_dir": str(experiment_dir), "n_resamples": 199, **parameters},
        kernel_name="xlt",
        progress_bar=False,
        cwd=str(repo_root()),
    )
    return nbformat.read(output, as_version=4)


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts.append(data.get("text/markdown", "") + data.get("text/html", "") + output.get("text", ""))
            parts += output.get("traceback", [])
            parts.append(output.get("evalue", ""))
    return "\n".join(parts)


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and "experiment_dir" in tagged[0].source


def test_parameters_are_checked() -> None:
    assert check_parameters(experiment_dir="runs/x", alpha="1e-2").alpha == 0.01
    with pytest.raises(StatsError, match="experiment_dir"):
        check_parameters(experiment_dir="")
    with pytest.raises(StatsError, match=r"correction: .*got 'holms'"):
        check_parameters(experiment_dir="runs/x", correction="holms")
    with pytest.raises(StatsError, match="n_resamples"):
        check_parameters(experiment_dir="runs/x", n_resamples="1000")


@pytest.mark.slow
def test_notebook_renders_a_synthetic_experiment(planted_experiment: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    notebook = _execute(planted_experiment, tmp_path / "significance.ipynb", output_dir=str(out))
    text = _text(notebook)
    assert "Overall, the data support the hypothesis" in text
    assert "1 run(s) have no `metrics.json`" in text
    assert any("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    assert {p.name for p in out.iterdir()} == {
        "comparisons.csv",
        "replicability.csv",
        "examples.csv",
        "summary.md",
    }


@pytest.mark.slow
def test_notebook_refuses_without_monolingual_runs(
    experiment_factory: Callable[..., Path], tmp_path: Path
) -> None:
    from papermill.exceptions import PapermillExecutionError

    # Only code-switched runs: nothing to compare (a partial design is compared as far as it goes).
    exp = experiment_factory(seeds=(1, 2), n_examples=30, conditions=(("cs", "codeswitched", "mnli"),))
    output = tmp_path / "refused.ipynb"
    with pytest.raises(PapermillExecutionError) as info:
        _execute(exp, output)
    assert "MissingRunsError" in str(info.value)
    assert (
        "target xnli, intermediate mnli, codeswitched vs monolingual: no completed monolingual runs"
        in str(info.value)
    )
    assert "no completed monolingual runs" in _text(nbformat.read(output, as_version=4))
