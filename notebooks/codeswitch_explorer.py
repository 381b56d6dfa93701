# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (xlt)
#     language: python
#     name: xlt
# ---

# %% [markdown]
# # Code-switching explorer
#
# What does CoSDA-ML code-switching (Qin et al. 2020) do to one task's English
# training data? For the chosen task, dictionaries and ratios this notebook shows
# how much of the text the dictionaries cover, how much is actually switched into
# each language, which frequent words stay English, and a few examples side by
# side. All logic lives in `xlt_lib.codeswitch`; this notebook only narrates.

# %% tags=["parameters"]
task = "mnli"
split = "train"
languages = ["ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]
sentence_ratio = 1.0
token_ratio = 0.4
mode = "per_word"
n_examples = 2000
n_show = 5
seed = 42
epoch = 0
data_dir = None

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import HTML, display

from xlt_lib.codeswitch import CodeSwitchConfig, build_switcher, diagnostics, resolve_fields
from xlt_lib.tasks import get_task, load_split

config = CodeSwitchConfig.from_dict(
    {
        "languages": languages,
        "sentence_ratio": sentence_ratio,
        "token_ratio": token_ratio,
        "mode": mode,
        "seed": seed,
    }
)
spec = get_task(task)
fields = resolve_fields(config, spec.text_fields)
ds = load_split(task, split, data_dir=data_dir)
ds = ds.select(range(min(int(n_examples), len(ds))))
switcher = build_switcher(config, data_dir)
corpus = switcher.analyse(ds, fields)
decisions = corpus.decide(epoch)
print(f"{task}/{split}: {len(ds)} examples, fields {', '.join(fields)}, {corpus.n_words:,} words")

# %% [markdown]
# ## The dictionaries
#
# MUSE where it has the language, otherwise the `extra/` dictionaries (Urdu from
# the CoSDA-ML authors, Swahili from Wiktionary). Phrase entries are matched
# greedily, longest first.

# %%
diagnostics.dictionary_table(switcher.dictionaries).drop(columns="path")

# %% [markdown]
# ## Coverage and switch rate per language
#
# *Coverage* is the share of the task's English words that a language's
# dictionary translates; *switch rate* is the share of words actually replaced
# in this epoch. A word the drawn language cannot translate stays English, so
# the expected rate is `sentence_ratio × token_ratio × mean coverage`.

# %%
coverage = diagnostics.coverage(corpus)
rates = diagnostics.switch_rates(corpus, decisions)
display(coverage.set_index("language")[["token_coverage", "type_coverage"]].round(3).T)
overall = rates.set_index("language").loc["all"]
print(
    f"switched {overall.switch_rate:.3f} of all words (expected {overall.expected_rate:.3f}); "
    f"{int(overall.examples_chosen)} of {len(corpus)} examples chosen"
)

# %%
per_language = coverage[coverage.language.isin(config.languages)][["language", "token_coverage"]].merge(
    rates[rates.language.isin(config.languages)][["language", "switch_rate"]], on="language"
)
# The per-language switch rate is a share of all words; scale by the number of
# languages to compare it with coverage × token_ratio on one axis.
per_language["switch_rate × languages"] = per_language.pop("switch_rate") * len(config.languages)
tidy = per_language.melt(id_vars="language", var_name="measure", value_name="share")
fig, ax = plt.subplots(figsize=(10, 4))
sns.barplot(data=tidy, x="language", y="share", hue="measure", ax=ax)
ax.axhline(config.token_ratio, color="grey", linestyle=":", label="token_ratio")
ax.set_title(f"{task}: dictionary coverage and achieved switch rate per language")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# ## Words that stay English
#
# The most frequent unswitched words, and into how many languages they could
# have been translated at all (0: no dictionary has them).

# %%
diagnostics.unswitched_words(corpus, decisions, top=25)

# %% [markdown]
# ## Examples side by side
#
# Switched words are highlighted; hover over one to see its language.

# %%
display(HTML(diagnostics.side_by_side_html(corpus, decisions, n=n_show)))
