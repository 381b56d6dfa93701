# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.16.0
#   kernelspec:
#     display_name: Python (xlt)
#     language: python
#     name: xlt
# ---

# %% [markdown]
# # Does code-switched intermediate training improve zero-shot transfer?
#
# This report compares, for every target task, language and English
# intermediate task of one experiment, three ways of preparing the encoder
# before fine-tuning on the English target data: intermediate training on
# **code-switched** English data, intermediate training on the **monolingual**
# English data, and **no** intermediate training. Every number below is read
# from the run records the experiment wrote (`config.yaml`, `metrics.json`,
# `predictions.parquet`); nothing is computed from a notebook's memory.
#
# Differences are always *first-named minus second-named condition*, in
# accuracy points. An experiment that lacks a condition kind (say, no
# code-switched runs) is compared as far as its runs go; the comparisons it
# cannot make are listed with the reason. An unfinished experiment is analysed
# on the runs that completed: the missing runs are listed, and the outputs are
# still written.

# %% tags=["parameters"]
experiment_dir = ""  # runs/<experiment>/
alpha = 0.05
correction = "holm"  # holm, bonferroni, holm-sidak, bh, by, none
n_resamples = 10_000
seed = 0
test = "welch"  # primary test over seeds: welch (default: decides with 3-5 seeds) or permutation
per_seed = True  # example level: also pair runs seed by seed; False: pooled over seeds only
require_baseline = False  # True: refuse when a target has no run without intermediate training
output_dir = ""  # if set, the tables and the summary are also written there
conclusions_file = ""  # if set, the conclusions are also written there as JSON (read by the index page)

# %%
import warnings

import pandas as pd
from IPython.display import HTML, Markdown, display

from xlt_lib.errors import XltError
from xlt_lib.report.learning import learning_warnings
from xlt_lib.report.results import incomplete_runs, learning_runs, load_results
from xlt_lib.stats import (
    compare_conditions,
    compare_examples,
    describe_findings,
    format_comparisons,
    format_examples,
    replicability_table,
    runs_table,
    summarize_examples,
)
from xlt_lib.stats.conclusions import conclusions, conclusions_table
from xlt_lib.stats.notebook import check_parameters, collapsed_table, save_conclusions, save_outputs
from xlt_lib.stats.plots import difference_heatmap, language_scores

warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
pd.set_option("display.max_rows", 500)
params = check_parameters(
    experiment_dir=experiment_dir,
    alpha=alpha,
    correction=correction,
    n_resamples=n_resamples,
    seed=seed,
    test=test,
    require_baseline=require_baseline,
    output_dir=output_dir,
    per_seed=per_seed,
    conclusions_file=conclusions_file,
)


def show(frame: pd.DataFrame) -> None:
    """A table without its row numbers."""
    display(frame.style.hide(axis="index"))


# %% [markdown]
# ## Did the runs learn?
#
# A run that predicts one class everywhere, or whose English accuracy is no better
# than its majority class, or whose training loss never left ln k, did not learn
# (`xlt_lib.training.learning`): comparisons over such runs compare label
# distributions, not conditions, so they are named here before any table.

# %%
judged = learning_runs(params.experiment_dir)
degenerate = learning_warnings(judged)
if degenerate:
    display(Markdown("**Runs that did not learn:**\n\n" + "\n".join(f"- {line}" for line in degenerate)))
elif judged.empty:
    display(Markdown("No run records whether it learned (written by an older xlt, or a format not judged)."))
else:
    display(Markdown(f"All {len(judged)} judged runs learned: none predicts one class or sits at chance."))

# %% [markdown]
# ## The runs
#
# Completed phase-3 runs (those with a `metrics.json`), by target and condition:
# how many seeds (`n_seeds`), which ones (`seed_list`), and on how many languages.

# %%
results = load_results(params.experiment_dir)
runs = runs_table(results)
if runs.empty:
    display(Markdown("**No completed phase-3 runs.**"))
else:
    show(runs)
unfinished = incomplete_runs(params.experiment_dir)
if not unfinished.empty:
    display(Markdown(f"**{len(unfinished)} run(s) have no `metrics.json` and are left out:**"))
    show(unfinished)

# %%
comparisons = compare_conditions(
    results,
    alpha=params.alpha,
    correction=params.correction,
    test=params.test,
    n_resamples=params.n_resamples,
    seed=params.seed,
    require_baseline=params.require_baseline,
)

# %% [markdown]
# ## What the data support

# %%
# The learning verdicts read above: a comparison in which no run learned says so instead of a test result.
summary = describe_findings(comparisons, learning=judged)
display(Markdown(summary))
found = conclusions(comparisons, learning=judged)
tables = {"comparisons": comparisons, "replicability": replicability_table(comparisons)}
# Written now, so that a failure in the example-level cells below still leaves the seed-level results.
if params.output_dir is not None:
    save_outputs(params.output_dir, tables, summary)
if params.conclusions_file is not None:
    save_conclusions(params.conclusions_file, found)

# %% [markdown]
# ## Comparisons over seeds
#
# One row per comparison, for the unweighted mean over languages (`avg`);
# the per-language rows are folded below the table, and drawn in the heatmap.
# *n seeds* counts each condition's seeds. Scores are mean ± standard
# deviation over seeds in accuracy points; *CI* is a percentile bootstrap
# interval of the difference over seeds; *p adjusted* is the primary test's
# p-value after correction within the comparison's family; *min. p* is the
# smallest p-value the exact permutation test can reach with these seeds;
# *ASO eps_min* below 0.2 reads as "the first condition is almost
# stochastically better". Comparisons the runs do not allow say why in *note*.

# %%
show(format_comparisons(comparisons, rows="average"))
display(HTML(collapsed_table(format_comparisons(comparisons, rows="languages"), "Every language")))

# %% [markdown]
# ### Differences by language
#
# Each cell is the difference in accuracy points; `*` marks differences that
# stay significant after correction.

# %%
display(difference_heatmap(comparisons))

# %% [markdown]
# ### Accuracy by language and condition
#
# Mean over seeds with a 95% bootstrap interval over seeds (descriptive: with
# few seeds such intervals are narrow).

# %%
display(language_scores(results, seed=params.seed).figure)

# %% [markdown]
# ### In how many languages does each effect hold?
#
# Replicability analysis (Dror et al. 2017): *replicated better* is a lower
# bound, with family-wise error α, on the number of languages in which the
# first condition is better (Bonferroni partial conjunctions, valid although
# the languages share test items and models).

# %%
show(replicability_table(comparisons))

# %% [markdown]
# ## Comparisons over test examples
#
# The same comparisons with the test example as the unit: *pooled* compares the
# mean-over-seeds correctness of each example (paired bootstrap and approximate
# randomisation over examples); *per seed* pairs the two conditions' runs with
# the same seed (bootstrap, randomisation and exact McNemar). These tests say
# whether a difference is larger than test-set sampling noise, not whether it
# would survive re-training; the seed-level tests above answer that. One row
# per comparison counts, over languages (and seeds), the significant results
# in each direction; every language and seed is folded below it.

# %%
try:
    examples = compare_examples(
        results,
        alpha=params.alpha,
        correction=params.correction,
        n_resamples=params.n_resamples,
        seed=params.seed,
        per_seed=params.per_seed,
        require_baseline=params.require_baseline,
        unpaired="skip",  # an unfinished experiment: pair the seeds both conditions have, list the rest
    )
except XltError as exc:  # e.g. a run without predictions: the seed-level results above still stand
    examples = None
    display(Markdown(f"**The example-level tests could not run:** {exc}"))
if examples is not None:
    for line in examples.attrs["unpaired"]:
        display(Markdown(f"*Not paired:* {line}"))
    show(summarize_examples(examples))
    display(HTML(collapsed_table(format_examples(examples), "Every language and seed")))
    tables["examples"] = examples

# %%
if params.output_dir is not None:
    written = save_outputs(params.output_dir, tables, summary)
    display(Markdown("Tables written to " + ", ".join(f"`{path}`" for path in written) + "."))
