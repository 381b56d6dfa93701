"""Issue 14, point 1: one conclusion per comparison, consistent in the summary, the files and the index page."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from xlt_lib.experiment.config import SignificanceSettings
from xlt_lib.paths import repo_root
from xlt_lib.report.build import run_significance, significance_conclusions
from xlt_lib.report.results import load_results
from xlt_lib.stats import compare_conditions, describe_findings
from xlt_lib.stats.conclusions import conclusions, conclusions_table
from xlt_lib.stats.notebook import save_conclusions
from xlt_lib.stats.simulate import XNLI_LANGUAGES, SimulatedDesign, planted_effects, simulate_results

MAIN = {"monolingual": ("monolingual", "mnli"), "codeswitched": ("codeswitched", "mnli")}


@pytest.fixture(scope="module")
def languages_only() -> pd.DataFrame:
    """+3.5 points in 5 of 15 languages: some languages flagged, the average not significant (rng 4)."""
    design = SimulatedDesign(conditions=MAIN, language_sd=0.004, run_sd=0.006)
    results = simulate_results(
        design, effects={"codeswitched": planted_effects(XNLI_LANGUAGES, 3.5, 5)}, rng=4
    )
    return compare_conditions(results, n_resamples=199)


def test_closing_names_the_improved_languages_and_never_denies_them(languages_only: pd.DataFrame) -> None:
    (conclusion,) = conclusions(languages_only)
    # The situation of the issue: languages significantly better, the average not.
    assert conclusion.average_state == "not significant" and conclusion.better and not conclusion.worse
    assert set(conclusion.better) <= set(XNLI_LANGUAGES[:5])
    assert conclusion.verdict == "better in some languages"
    words = describe_findings(languages_only)
    closing = words.split("Overall,", 1)[1]
    assert "do not support" not in words and "mixed" not in closing
    assert "the data support an improvement" in closing
    assert f"({', '.join(conclusion.better)})" in closing
    assert conclusion.sentence() in closing


def test_the_same_sentence_in_summary_files_and_index_page(
    languages_only: pd.DataFrame, tmp_path: Path
) -> None:
    found = conclusions(languages_only)
    words = describe_findings(languages_only)
    written = save_conclusions(tmp_path / "significance.conclusions.json", found)
    assert json.loads(written.read_text())[0]["better"] == list(found[0].better)
    on_index = significance_conclusions(tmp_path)
    assert on_index == [c.sentence() for c in found]
    assert all(sentence in words for sentence in on_index)
    assert list(conclusions_table(found)["sentence"]) == on_index


def test_a_significant_average_in_a_family_of_one_says_so(planted_experiment: Path) -> None:
    planted_table = compare_conditions(load_results(planted_experiment), n_resamples=199)
    avg = planted_table[(planted_table["language"] == "avg") & planted_table["compared"]]
    # The planted experiment has two targets: the averages form a family of two per kind.
    assert (avg["family_size"] == 2).all()
    one_target = planted_table[planted_table["target"] == "xnli"].copy()
    one_target.attrs = planted_table.attrs
    one_target.loc[one_target["language"] == "avg", "family_size"] = 1
    words = describe_findings(one_target)
    assert "the average forms a family of one, so no correction applies" in words
    assert "a family of one, so no correction applies" in conclusions(one_target)[0].sentence()
    assert "significant after correction" not in words.split("Per language")[0].split("**")[-1]


def test_nothing_flagged_and_decidable_is_the_only_do_not_support(
    experiment_factory: Callable[..., Path],
) -> None:
    exp = experiment_factory(seeds=(1, 2, 3), n_examples=200, accuracy={"cs": 0.6, "mono": 0.6}, rng_seed=5)
    table = compare_conditions(load_results(exp), n_resamples=199)
    found = [c for c in conclusions(table) if c.comparison == "codeswitched vs monolingual"]
    assert all(c.verdict == "no difference found" for c in found)
    assert "Overall, the data do not support the hypothesis" in describe_findings(table)
    # Flag one language by hand: the closing must no longer deny the effect.
    flagged = table.copy()
    flagged.attrs = table.attrs
    row = flagged.index[
        (flagged["comparison"] == "codeswitched vs monolingual") & (flagged["language"] == "de")
    ][0]
    flagged.loc[row, ["significant", "diff"]] = [True, 0.03]
    words = describe_findings(flagged)
    assert "do not support" not in words and "significantly better in 1 of 3 languages (de)" in words


@pytest.mark.slow
def test_index_page_states_the_notebooks_conclusions(planted_experiment: Path, tmp_path: Path) -> None:
    """run_significance (what build_report calls) leaves the conclusions the index page shows."""
    experiment = SimpleNamespace(name="planted", significance=SignificanceSettings(n_resamples=199))
    link, message = run_significance(experiment, planted_experiment, tmp_path, repo_root() / "notebooks")  # type: ignore[arg-type]
    assert link == "significance.html" and message == ""
    sentences = significance_conclusions(tmp_path)
    assert len(sentences) == 6  # 2 targets x 3 comparison kinds
    executed = nbformat.read(tmp_path / "significance.ipynb", as_version=4)
    markdown = "".join(
        o.get("data", {}).get("text/markdown", "") for c in executed.cells for o in c.get("outputs", [])
    )
    assert all(sentence in markdown for sentence in sentences)


def _learning_table(results: pd.DataFrame, failed: Callable[[str], bool]) -> pd.DataFrame:
    """One learning record per phase-3 run of ``results``; runs of the conditions ``failed`` picks did not learn."""
    runs = results.drop_duplicates("run_id")
    return pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "phase": "transfer",
            "target": runs["target"],
            "intermediate": runs["intermediate"],
            "condition": runs["condition"],
            "condition_kind": runs["condition_kind"],
            "seed": runs["seed"],
            "learned": [not failed(c) for c in runs["condition"]],
            "reasons": [
                ("it predicts one class in every language",) if failed(c) else () for c in runs["condition"]
            ],
            "train_examples": 800,
        }
    )


def test_a_comparison_where_nothing_learned_says_so_not_a_test_result(planted_experiment: Path) -> None:
    """Issue 20: a comparison between conditions in which no run learned is reported as that."""
    results = load_results(planted_experiment)
    table = compare_conditions(results, n_resamples=199)
    # The planted difference is large and significant, but neither side learned.
    learning = _learning_table(results, lambda condition: condition in {"cs", "mono"})
    found = {(c.target, c.comparison): c for c in conclusions(table, learning=learning)}
    main = found[("xnli", "codeswitched vs monolingual")]
    assert main.verdict == "nothing learned"
    assert (main.treatment_not_learned, main.reference_not_learned) == (5, 5)
    assert "no run of either condition learned" in main.sentence()
    assert "significant" not in main.sentence()
    # The baseline learned: those comparisons keep their test results and count the failures.
    against_none = found[("xnli", "codeswitched vs none")]
    assert against_none.verdict != "nothing learned"
    assert "5 of 5 code-switched runs did not learn" in against_none.sentence()
    words = describe_findings(table, learning=learning)
    closing = words.split("Overall,", 1)[1]
    assert "no run of either condition learned" in closing
    assert "cannot answer" in closing
    assert main.sentence() in words


def test_runs_that_learned_change_no_conclusion(planted_experiment: Path) -> None:
    results = load_results(planted_experiment)
    table = compare_conditions(results, n_resamples=199)
    learning = _learning_table(results, lambda condition: False)
    with_records = conclusions(table, learning=learning)
    assert [c.verdict for c in with_records] == [c.verdict for c in conclusions(table)]
    assert all(c.treatment_not_learned == 0 and c.reference_not_learned == 0 for c in with_records)
    assert [c.sentence() for c in with_records] == [c.sentence() for c in conclusions(table)]
    assert describe_findings(table, learning=learning) == describe_findings(table)
