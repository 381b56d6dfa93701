"""Partial designs, words that match what the seeds allow, and compact display tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from xlt_lib.report.results import load_results
from xlt_lib.stats import (
    AVERAGE,
    MissingRunsError,
    PairingError,
    StatsError,
    compare_conditions,
    compare_examples,
    comparison_plan,
    comparison_state,
    describe_findings,
    format_comparisons,
    replicability_table,
    runs_table,
    seeds_to_reach,
    summarize_examples,
)
from xlt_lib.stats.notebook import collapsed_table
from xlt_lib.stats.plots import MAX_HEIGHT, difference_heatmap, language_scores

FAST = {"n_resamples": 999, "seed": 0}
BASELINE = ("baseline", "none", "none")
MONO = ("mono", "monolingual", "mnli")
CS = ("cs", "codeswitched", "mnli")


# --- partial designs ------------------------------------------------------------------------


def test_baseline_and_monolingual_only_are_compared(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2, 3, 4, 5), n_examples=60, conditions=(BASELINE, MONO))
    results = load_results(exp)
    plan = comparison_plan(results)
    assert [(c.kind, c.treatment, c.reference) for c in plan.comparisons] == [
        ("monolingual vs none", "mono", "baseline")
    ]
    assert [(s.kind, s.reason.split(" (")[0]) for s in plan.skipped] == [
        ("codeswitched vs monolingual", "no completed code-switched runs"),
        ("codeswitched vs none", "no completed code-switched runs"),
    ]

    table = compare_conditions(results, **FAST)
    made = table[table["compared"]]
    assert set(made["comparison"]) == {"monolingual vs none"} and len(made) == 4  # 3 languages + avg
    skipped = table[~table["compared"]].set_index("comparison")
    assert list(skipped.index) == ["codeswitched vs monolingual", "codeswitched vs none"]
    assert skipped.loc["codeswitched vs monolingual", "reference"] == "mono"
    assert skipped.loc["codeswitched vs monolingual", "treatment"] == ""
    assert skipped["note"].str.startswith("not compared: no completed code-switched runs (found ").all()
    assert skipped["p_value"].isna().all() and not skipped["significant"].any()
    # Skipped rows join no correction family and no replicability count.
    assert list(made["family_size"]) == [3, 3, 3, 1]  # 3 languages; the avg row is a family of its own
    assert set(replicability_table(table)["comparison"]) == {"monolingual vs none"}

    words = describe_findings(table)
    assert "Comparisons that could not be made:" in words
    assert "- xnli, mnli: codeswitched vs monolingual: no completed code-switched runs (found " in words
    assert "monolingual (mono) is" in words  # the comparison that was made is reported
    assert "these runs cannot answer the study's question" in words
    assert "support the hypothesis" not in words

    shown = format_comparisons(table, rows="average")
    assert list(shown["comparison"]) == [
        "mono vs baseline",
        "codeswitched vs monolingual",
        "codeswitched vs none",
    ]
    assert shown.columns[-1] == "note" and shown["note"].iloc[1].startswith("not compared:")

    examples = compare_examples(results, **FAST)
    assert set(examples["comparison"]) == {"monolingual vs none"}
    assert [s.kind for s in examples.attrs["skipped"]] == [
        "codeswitched vs monolingual",
        "codeswitched vs none",
    ]


def test_monolingual_and_codeswitched_without_baseline_are_compared(
    experiment_factory: Callable[..., Path],
) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=40, conditions=(MONO, CS))
    table = compare_conditions(load_results(exp), **FAST)
    assert set(table.loc[table["compared"], "comparison"]) == {"codeswitched vs monolingual"}
    skipped = table[~table["compared"]]
    assert list(skipped["comparison"]) == ["codeswitched vs none", "monolingual vs none"]
    assert skipped["note"].str.contains("no completed runs with no intermediate training", regex=False).all()
    words = describe_findings(table)
    assert "**xnli, intermediate task mnli: cs vs mono.**" in words
    assert "- xnli, mnli: monolingual vs none: no completed runs with no intermediate training" in words


def test_nothing_to_compare_is_refused_naming_what_is_missing(
    experiment_factory: Callable[..., Path],
) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=20, conditions=(BASELINE,))
    with pytest.raises(MissingRunsError) as info:
        compare_conditions(load_results(exp), **FAST)
    message = str(info.value)
    assert "no pair of condition kinds has completed runs" in message
    assert (
        "target xnli (no intermediate-trained runs), codeswitched vs monolingual: "
        "no completed code-switched and no completed monolingual runs (found baseline (seeds 1, 2))"
    ) in message
    assert "found baseline (seeds 1, 2)" in message


def test_unpaired_seeds_name_the_missing_runs(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=30, conditions=(BASELINE, MONO))
    results = load_results(exp)
    results = results[~((results["condition"] == "baseline") & (results["seed"] == 2))]
    with pytest.raises(PairingError, match=r"seeds \[2\] only in mono.*missing runs: baseline seed 2"):
        compare_examples(results, **FAST)


# --- words at 1, 3 and 5 seeds ---------------------------------------------------------------


def _words(factory: Callable[..., Path], seeds: tuple[int, ...], test: str, **kwargs: object) -> tuple:
    exp = factory(seeds=seeds, n_examples=200, **kwargs)
    table = compare_conditions(load_results(exp), test=test, **FAST)
    avg = table[(table["comparison"] == "codeswitched vs monolingual") & (table["language"] == AVERAGE)].iloc[
        0
    ]
    return table, avg, describe_findings(table)


def test_words_with_one_seed_say_nothing_about_support(experiment_factory: Callable[..., Path]) -> None:
    table, avg, words = _words(experiment_factory, (1,), "welch")
    assert comparison_state(avg, 0.05) == "cannot tell"
    assert "support" not in words and "no significant difference" not in words
    assert "These runs cannot tell whether code-switched training differs from monolingual" in words
    assert f"The observed difference ({100 * avg['diff']:+.2f} points) is descriptive only" in words
    assert "with 1 vs 1 seeds the smallest p-value an exact permutation test could return is 1" in words
    assert f"needs at least {seeds_to_reach(0.05)} seeds per condition" in words and seeds_to_reach(0.05) == 4
    assert "cannot be estimated from one seed" in words
    assert "Overall, these runs cannot answer" in words and "with 1 seed per condition" in words
    assert "ASO" not in words.split("\n\n", 1)[1]  # no ASO reading of one score per condition
    assert table.loc[table["compared"], "aso_eps_min"].isna().all()
    assert (table.loc[table["compared"], "min_attainable_p"] == 1.0).all()


def test_words_with_three_seeds_and_a_permutation_test(experiment_factory: Callable[..., Path]) -> None:
    _, avg, words = _words(experiment_factory, (1, 2, 3), "permutation", accuracy={"cs": 0.64, "mono": 0.6})
    assert comparison_state(avg, 0.05) == "cannot tell"
    assert "support" not in words and "no significant difference" not in words
    assert "with 3 vs 3 seeds the exact permutation test cannot go below p = 0.1, above α = 0.05" in words
    assert f"The observed difference ({100 * avg['diff']:+.2f} points) is descriptive only" in words
    assert "would take about" in words and "seeds per condition" in words  # from the observed seed spread
    assert "no test can reach α either" in words


def test_words_with_three_seeds_and_welch_can_be_significant_or_not(
    experiment_factory: Callable[..., Path],
) -> None:
    _, avg, words = _words(
        experiment_factory, (1, 2, 3), "welch", accuracy={"cs": 0.6, "mono": 0.6}, rng_seed=5
    )
    assert comparison_state(avg, 0.05) == "not significant"  # Welch has no floor: it could have reached α
    assert "no significant difference" in words and "absence of evidence" in words
    assert "cannot tell" not in words
    assert "Overall, the data do not support the hypothesis" in words


@pytest.mark.parametrize(
    ("cs", "expected"), [(0.6, "do not support"), (0.7, "the data support the hypothesis")]
)
def test_words_with_five_seeds_are_definite(
    experiment_factory: Callable[..., Path], cs: float, expected: str
) -> None:
    _, avg, words = _words(
        experiment_factory, (1, 2, 3, 4, 5), "permutation", accuracy={"cs": cs, "mono": 0.6}, seed_sd=0.003
    )
    assert comparison_state(avg, 0.05) in ("significant", "not significant")
    assert "cannot tell" not in words and "cannot answer" not in words
    assert expected in words.lower()


# --- display --------------------------------------------------------------------------------


def test_runs_table_counts_seeds(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(0,), n_examples=20)
    runs = runs_table(load_results(exp))
    assert list(runs.columns) == [
        "target",
        "intermediate",
        "condition",
        "condition_kind",
        "n_seeds",
        "seed_list",
        "n_languages",
    ]
    assert (
        (runs["n_seeds"] == 1).all() and (runs["seed_list"] == "0").all() and (runs["n_languages"] == 3).all()
    )
    exp = experiment_factory(seeds=(3, 7), n_examples=20)
    runs = runs_table(load_results(exp))
    assert (runs["n_seeds"] == 2).all() and (runs["seed_list"] == "3, 7").all()


def test_compact_tables(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(seeds=(1, 2), n_examples=40)
    results = load_results(exp)
    table = compare_conditions(results, **FAST)
    overview = format_comparisons(table, rows="average")
    languages = format_comparisons(table, rows="languages")
    assert len(overview) == 3 and set(overview["language"]) == {AVERAGE}
    assert len(languages) == 9 and AVERAGE not in set(languages["language"])
    assert len(format_comparisons(table)) == 12 and "n seeds" in overview.columns
    assert overview["n seeds"].iloc[0] == "2 vs 2"
    with pytest.raises(StatsError, match="rows='some'"):
        format_comparisons(table, rows="some")  # type: ignore[arg-type]

    examples = compare_examples(results, **FAST)
    summary = summarize_examples(examples)
    assert len(summary) == 3  # one row per comparison instead of 3 languages x (pooled + 2 seeds)
    first = summary.iloc[0]
    pooled = examples[
        (examples["comparison"] == "codeswitched vs monolingual") & (examples["pairing"] == "pooled")
    ]
    assert first["languages"] == 3 and first["examples per language"] == 40
    assert first["mean diff"] == f"{100 * pooled['diff'].mean():+.2f}"
    assert first["pooled: significant better / worse"].endswith(" of 3")
    assert first["per seed: significant better / worse"].endswith(" of 6")

    folded = collapsed_table(overview, "Every language")
    assert folded.startswith("<details><summary>Every language (3 rows)</summary>")
    assert folded.count("<tr") == 4 and folded.endswith("</details>")


def test_heatmap_skips_uncompared_rows_and_stays_short(experiment_factory: Callable[..., Path]) -> None:

    languages = tuple(f"l{i:02d}" for i in range(40))
    exp = experiment_factory(seeds=(1,), n_examples=10, languages=languages, conditions=(BASELINE, MONO))
    results = load_results(exp)
    table = compare_conditions(results, **FAST)
    fig = difference_heatmap(table)
    assert len(fig.axes[0].get_xticklabels()) == 1  # mono vs baseline only
    assert fig.get_size_inches()[1] <= MAX_HEIGHT
    grid = language_scores(results)
    legend = [t.get_text() for t in grid.legend.get_texts()]
    assert legend == ["baseline", "mnli / mono"]


def test_language_scores_order_conditions_by_kind(experiment_factory: Callable[..., Path]) -> None:

    exp = experiment_factory(
        seeds=(1,),
        n_examples=10,
        conditions=(("a-cs", "codeswitched", "mnli"), ("z-base", "none", "none"), MONO),
        accuracy={"a-cs": 0.6, "z-base": 0.5},
    )
    legend = [t.get_text() for t in language_scores(load_results(exp)).legend.get_texts()]
    assert legend == ["z-base", "mnli / mono", "mnli / a-cs"]


def test_secondary_line_flags_a_three_seed_welch_result(experiment_factory: Callable[..., Path]) -> None:
    exp = experiment_factory(
        seeds=(1, 2, 3),
        n_examples=400,
        conditions=(BASELINE, MONO),
        accuracy={"mono": 0.75, "baseline": 0.55},
        seed_sd=0.003,
    )
    words = describe_findings(compare_conditions(load_results(exp), **FAST))
    line = next(line for line in words.splitlines() if line.startswith("- xnli, mnli: monolingual"))
    assert "is significantly better than no intermediate training" in line
    assert "rests on the t-test's normality assumption: the permutation test cannot go below p = 0.1" in line
