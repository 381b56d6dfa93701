"""The comparison tables, their refusals, their words and their figures, on synthetic experiments."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xlt_lib.errors import RunRecordError
from xlt_lib.report.results import load_results
from xlt_lib.stats import (
    AVERAGE,
    MissingRunsError,
    PairingError,
    compare_conditions,
    compare_examples,
    describe_findings,
    format_comparisons,
    format_examples,
    plan_comparisons,
    replicability_table,
)
from xlt_lib.stats.example_table import EXAMPLE_COLUMNS
from xlt_lib.stats.plots import difference_heatmap, language_scores
from xlt_lib.stats.seed_table import COMPARISON_COLUMNS

FAST = {"n_resamples": 999, "seed": 0}


@pytest.fixture(scope="module")
def planted_results(planted_experiment: Path) -> pd.DataFrame:
    return load_results(planted_experiment)


@pytest.fixture(scope="module")
def planted_table(planted_results: pd.DataFrame) -> pd.DataFrame:
    return compare_conditions(planted_results, **FAST)


def test_plan_has_every_comparison(planted_results: pd.DataFrame) -> None:
    plan = plan_comparisons(planted_results)
    assert [(c.target, c.kind, c.treatment, c.reference) for c in plan] == [
        ("pawsx", "codeswitched vs monolingual", "cs", "mono"),
        ("xnli", "codeswitched vs monolingual", "cs", "mono"),
        ("pawsx", "codeswitched vs none", "cs", "baseline"),
        ("xnli", "codeswitched vs none", "cs", "baseline"),
        ("pawsx", "monolingual vs none", "mono", "baseline"),
        ("xnli", "monolingual vs none", "mono", "baseline"),
    ]


def test_comparison_table_numbers_come_from_the_runs(
    planted_results: pd.DataFrame, planted_table: pd.DataFrame
) -> None:
    assert tuple(planted_table.columns) == COMPARISON_COLUMNS
    # 6 comparisons x (3 languages + avg)
    assert len(planted_table) == 24
    row = planted_table.query(
        "target == 'xnli' and comparison == 'codeswitched vs monolingual' and language == 'de'"
    )
    row = row.iloc[0]
    runs = planted_results.query("target == 'xnli' and language == 'de'")
    cs = runs.loc[runs["condition"] == "cs", "accuracy"].to_numpy()
    mono = runs.loc[runs["condition"] == "mono", "accuracy"].to_numpy()
    assert row["mean_treatment"] == pytest.approx(cs.mean())
    assert row["sd_reference"] == pytest.approx(mono.std(ddof=1))
    assert row["diff"] == pytest.approx(cs.mean() - mono.mean())
    assert row["p_welch"] == pytest.approx(stats.ttest_ind(cs, mono, equal_var=False).pvalue)
    assert row["n_treatment"] == 5 and row["min_attainable_p"] == pytest.approx(2 / 252)
    avg = planted_table.query(
        "target == 'xnli' and comparison == 'codeswitched vs monolingual' and language == @AVERAGE"
    )
    per_run = runs.groupby(["condition", "seed"])  # one language only here: recompute from all languages
    all_languages = (
        planted_results.query("target == 'xnli'").groupby(["condition", "seed"])["accuracy"].mean()
    )
    assert avg.iloc[0]["mean_treatment"] == pytest.approx(all_languages["cs"].mean())
    assert per_run.ngroups == 15


def test_planted_effect_is_significant_and_holm_is_applied(planted_table: pd.DataFrame) -> None:
    main = planted_table[planted_table["comparison"] == "codeswitched vs monolingual"]
    assert main["significant"].all() and (main["diff"] > 0).all()
    assert (main["aso_eps_min"] < 0.2).all()
    languages = main[main["language"] != AVERAGE]
    assert (languages["family_size"] == 6).all()  # 2 targets x 3 languages
    p = languages["p_value"].to_numpy()
    order = np.argsort(p)
    holm = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    np.testing.assert_allclose(languages["p_adjusted"].to_numpy()[order], np.minimum(holm, 1))


def test_no_effect_is_not_significant_and_three_seeds_are_flagged(
    experiment_factory: Callable[..., Path],
) -> None:
    exp = experiment_factory(seeds=(1, 2, 3), n_examples=200, accuracy={"cs": 0.6, "mono": 0.6}, rng_seed=3)
    table = compare_conditions(load_results(exp), test="permutation", **FAST)
    main = table[table["comparison"] == "codeswitched vs monolingual"]
    assert not main["significant"].any()
    np.testing.assert_allclose(main["min_attainable_p"], 0.1)
    assert main["note"].str.contains("cannot go below p = 0.1 > alpha = 0.05").all()
    words = describe_findings(table)
    assert "cannot go below p = 0.1" in words
    # No test can reach alpha with 3 vs 3 seeds: the words say so and nothing about support either way.
    assert "cannot answer" in words and "support" not in words


def test_missing_monolingual_runs_are_refused(experiment_factory: Callable[..., Path]) -> None:
    # Only code-switched runs: no comparison at all is possible (partial designs: test_stats_partial.py).
    exp = experiment_factory(seeds=(1, 2), n_examples=20, conditions=(("cs", "codeswitched", "mnli"),))
    with pytest.raises(
        MissingRunsError,
        match="target xnli, intermediate mnli, codeswitched vs monolingual: no completed monolingual runs",
    ) as info:
        compare_conditions(load_results(exp), **FAST)
    assert "found cs (seeds 1, 2)" in str(info.value)


def test_missing_baseline_is_refused_unless_allowed(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(
        seeds=(1, 2),
        n_examples=20,
        conditions=(("mono", "monolingual", "mnli"), ("cs", "codeswitched", "mnli")),
    )
    results = load_results(exp)
    with pytest.raises(MissingRunsError, match="no completed runs without intermediate training"):
        compare_conditions(results, require_baseline=True, **FAST)
    table = compare_conditions(results, require_baseline=False, **FAST)
    assert set(table.loc[table["compared"], "comparison"]) == {"codeswitched vs monolingual"}


def test_empty_results_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MissingRunsError, match="no completed phase-3 runs"):
        compare_conditions(load_results(tmp_path))


def test_duplicate_runs_are_refused(planted_results: pd.DataFrame) -> None:
    doubled = pd.concat([planted_results, planted_results.assign(run_id=planted_results["run_id"] + "x")])
    with pytest.raises(PairingError, match="more than one run"):
        compare_conditions(doubled, **FAST)


def test_runs_on_different_languages_are_refused(planted_results: pd.DataFrame) -> None:
    first_run = planted_results["run_id"].iloc[0]
    fewer = planted_results[
        ~((planted_results["run_id"] == first_run) & (planted_results["language"] == "sw"))
    ]
    with pytest.raises(PairingError, match=f"run {first_run} lacks sw"):
        compare_conditions(fewer, **FAST)


def test_single_seed_gives_no_tests_but_a_note(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1,), n_examples=30)
    table = compare_conditions(load_results(exp), **FAST)
    assert table["p_value"].isna().all() and not table["significant"].any()
    assert table["note"].str.contains("need at least 2 per condition").all()
    assert "needs at least 2 seeds" in describe_findings(table)


def test_replicability_counts_languages(planted_table: pd.DataFrame) -> None:
    rep = replicability_table(planted_table)
    main = rep[rep["comparison"] == "codeswitched vs monolingual"]
    assert (main["n_languages"] == 3).all()
    assert (main["replicated_better"] >= 2).all() and (main["replicated_worse"] == 0).all()
    assert (main["significant_better"] == 3).all()


def test_words_for_a_planted_effect(planted_table: pd.DataFrame) -> None:
    words = describe_findings(planted_table)
    assert "The unit of analysis is the training run (seed)" in words
    assert "Holm-Bonferroni" in words
    assert "The data support that code-switched training is better than monolingual on average" in words
    assert "Overall, the data support the hypothesis" in words
    assert "almost stochastically better" in words
    assert "rests on the t-test's normality" not in words  # 5 vs 5 seeds: the permutation floor is 0.008


def test_words_when_code_switching_hurts(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(
        seeds=(1, 2, 3, 4, 5), n_examples=400, accuracy={"cs": 0.52, "mono": 0.62}, seed_sd=0.004
    )
    table = compare_conditions(load_results(exp), **FAST)
    words = describe_findings(table)
    assert "is worse than monolingual" in words
    assert "significantly worse in 1" in words


def test_display_tables(planted_table: pd.DataFrame) -> None:
    shown = format_comparisons(planted_table)
    assert len(shown) == len(planted_table)
    first = shown.iloc[0]
    assert "±" in first["treatment"] and first["diff"].startswith("+") and first["significant"] == "yes"


# --- example level ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted_examples(planted_results: pd.DataFrame) -> pd.DataFrame:
    return compare_examples(planted_results, **FAST)


def test_example_table_structure_and_pooling(
    planted_results: pd.DataFrame, planted_examples: pd.DataFrame
) -> None:
    assert tuple(planted_examples.columns) == EXAMPLE_COLUMNS
    # 6 comparisons x 3 languages x (pooled + 5 seeds)
    assert len(planted_examples) == 108
    pooled = planted_examples.query(
        "pairing == 'pooled' and target == 'xnli' and comparison == 'codeswitched vs monolingual' and language == 'de'"
    ).iloc[0]
    runs = planted_results.query("target == 'xnli' and language == 'de'")
    expected = (
        runs.loc[runs["condition"] == "cs", "accuracy"].mean()
        - runs.loc[runs["condition"] == "mono", "accuracy"].mean()
    )
    assert pooled["diff"] == pytest.approx(expected)  # the pooled statistic is the mean-over-seeds difference
    assert np.isnan(pooled["p_mcnemar"])
    per_seed = planted_examples.query("pairing == 'seed'")
    assert per_seed["p_mcnemar"].notna().all()
    main_pooled = planted_examples.query(
        "pairing == 'pooled' and comparison == 'codeswitched vs monolingual'"
    )
    assert main_pooled["significant"].all()
    assert len(format_examples(planted_examples)) == len(planted_examples)


def _rewrite_predictions(run_dir: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = run_dir / "predictions.parquet"
    change(pd.read_parquet(path)).to_parquet(path, index=False)


def _run_of(exp: Path, condition: str, seed: int) -> Path:
    for config in exp.glob("*/config.yaml"):
        text = config.read_text()
        if f"condition: {condition}\n" in text and f"seed: {seed}\n" in text and "phase: transfer" in text:
            return config.parent
    raise AssertionError(f"no run {condition} seed {seed}")


def test_mismatched_example_ids_are_refused(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=40)
    run = _run_of(exp, "mono", 2)

    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame.index[:3], "id"] = ["other-1", "other-2", "other-3"]
        return frame

    _rewrite_predictions(run, rename)
    with pytest.raises(PairingError, match=r"3 example\(s\) of run .* are missing from run .*mono, seed 2"):
        compare_examples(load_results(exp), **FAST)


def test_unpaired_seeds_are_refused_for_per_seed_tests(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=40)
    results = load_results(exp)
    results = results[~((results["condition"] == "mono") & (results["seed"] == 2))]
    with pytest.raises(PairingError, match=r"seeds \[2\] only in cs"):
        compare_examples(results, **FAST)
    pooled = compare_examples(results, per_seed=False, **FAST)
    assert (pooled["pairing"] == "pooled").all()


def test_predictions_that_do_not_match_metrics_are_refused(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=40)
    run = _run_of(exp, "cs", 1)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["per_language"]["de"]["accuracy"] = 0.99
    (run / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(RunRecordError, match="do not belong together"):
        compare_examples(load_results(exp), **FAST)


def test_missing_prediction_file_is_refused(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=40)
    (_run_of(exp, "mono", 1) / "predictions.parquet").unlink()
    with pytest.raises(MissingRunsError, match=r"condition mono, seed 1\) has no predictions.parquet"):
        compare_examples(load_results(exp), **FAST)


# --- figures ------------------------------------------------------------------------------


def test_figures_show_every_comparison_and_language(
    planted_results: pd.DataFrame, planted_table: pd.DataFrame
) -> None:

    fig = difference_heatmap(planted_table)
    ax = fig.axes[0]
    assert len(ax.get_xticklabels()) == 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["de", "en", "sw", AVERAGE]
    marks = [t.get_text() for t in ax.texts]
    assert sum(m.endswith("*") for m in marks) == int(planted_table["significant"].sum())
    grid = language_scores(planted_results)
    assert len(grid.axes.flat) == 2


def test_words_warn_when_welch_carries_a_three_seed_result(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(
        seeds=(1, 2, 3), n_examples=400, accuracy={"cs": 0.75, "mono": 0.6}, seed_sd=0.003
    )
    table = compare_conditions(load_results(exp), **FAST)
    words = describe_findings(table)
    assert "better than monolingual on average" in words
    assert "rests on the t-test's normality assumption" in words and "cannot go below p = 0.1" in words
