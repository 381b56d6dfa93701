"""Issue 14, point 4: an unfinished experiment is analysed on what completed, says what is missing, writes outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat
import pytest

from xlt_lib.paths import repo_root
from xlt_lib.report.results import load_results
from xlt_lib.stats import StatsError, compare_conditions, compare_examples, describe_findings
from xlt_lib.stats.design import missing_runs
from xlt_lib.stats.notebook import check_parameters

NOTEBOOKS = repo_root() / "notebooks"
FAST = {"n_resamples": 199}


def _drop_metrics(experiment_dir: Path, condition: str, seed: int) -> None:
    """Make one phase-3 run unfinished, as a crash before metrics.json would."""
    for config in experiment_dir.glob("*/config.yaml"):
        text = config.read_text()
        if f"condition: {condition}\n" in text and f"seed: {seed}\n" in text and "phase: transfer" in text:
            (config.parent / "metrics.json").unlink()
            return
    raise AssertionError(f"no run of {condition} seed {seed}")


@pytest.fixture
def unfinished(experiment_factory: Callable[..., Path]) -> Path:
    exp = experiment_factory(seeds=(1, 2, 3), n_examples=60)
    _drop_metrics(exp, "mono", 2)
    return exp


def test_examples_pair_the_seeds_both_have_and_list_the_rest(unfinished: Path) -> None:
    results = load_results(unfinished)
    examples = compare_examples(results, unpaired="skip", **FAST)
    per_seed = examples[(examples["pairing"] == "seed") & (examples["reference"] == "mono")]
    assert set(per_seed["seed"]) == {1, 3}
    assert any("mono seed 2" in line for line in examples.attrs["unpaired"])
    assert missing_runs(results) == ["xnli, mnli / mono: seed(s) 2 not completed (completed: 1, 3)"]
    pooled = compare_examples(results, per_seed=False, **FAST)
    assert set(pooled["pairing"]) == {"pooled"}
    with pytest.raises(StatsError, match="unpaired="):
        compare_examples(results, unpaired="ignore", **FAST)  # type: ignore[arg-type]


def test_the_summary_states_what_is_missing(unfinished: Path) -> None:
    words = describe_findings(compare_conditions(load_results(unfinished), **FAST))
    assert "Runs missing from the design (the analysis uses the runs that completed):" in words
    assert "- xnli, mnli / mono: seed(s) 2 not completed (completed: 1, 3)" in words


def test_per_seed_is_a_notebook_parameter_in_both_paired_files() -> None:
    assert check_parameters(experiment_dir="runs/x", per_seed=False).per_seed is False
    with pytest.raises(StatsError, match="per_seed"):
        check_parameters(experiment_dir="runs/x", per_seed="no")
    ipynb = nbformat.read(NOTEBOOKS / "significance.ipynb", as_version=4)
    (cell,) = [c for c in ipynb.cells if "parameters" in c.metadata.get("tags", [])]
    assert "per_seed = True" in cell.source
    paired = jupytext.read(NOTEBOOKS / "significance.py")
    assert [c.source for c in paired.cells] == [c.source for c in ipynb.cells]  # the two files in sync


@pytest.mark.slow
def test_notebook_runs_on_an_unfinished_experiment_and_writes_its_outputs(
    unfinished: Path, tmp_path: Path
) -> None:
    import papermill

    out = tmp_path / "tables"
    conclusions = tmp_path / "conclusions.json"
    papermill.execute_notebook(
        str(NOTEBOOKS / "significance.ipynb"),
        str(tmp_path / "significance.ipynb"),
        parameters={
            "experiment_dir": str(unfinished),
            "n_resamples": 199,
            "per_seed": True,
            "output_dir": str(out),
            "conclusions_file": str(conclusions),
        },
        kernel_name="xlt",
        progress_bar=False,
        cwd=str(repo_root()),
    )
    assert {p.name for p in out.iterdir()} >= {"comparisons.csv", "examples.csv", "summary.md"}
    assert "seed(s) 2 not completed" in (out / "summary.md").read_text()
    assert conclusions.is_file()
