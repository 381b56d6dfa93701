# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (xlt)
#     language: python
#     name: xlt
# ---

# %% [markdown]
# # Phase 3 — target fine-tuning and zero-shot cross-lingual evaluation
#
# The encoder (the pretrained model itself for the *none* baseline, or a phase-2
# encoder from `intermediate.ipynb`) gets a fresh head and is fine-tuned on the
# target's **English** training data (XNLI trains on MNLI, PAWS-X on English
# PAWS-X), then evaluated on every language of the target without seeing any of
# them in training: zero-shot cross-lingual transfer.
#
# A thin driver over `xlt_lib.training.run_transfer`. As is, the defaults below
# fine-tune the offline default encoder on a few hundred pairs and evaluate a
# sample of XNLI in all 15 languages in a few minutes on a laptop CPU.

# %% [markdown]
# The run's stopwatch starts with the kernel's first cell: `metrics.json` records
# where the run's time went (`timings`: kernel start, imports, data, model,
# training, evaluation, saving; see `xlt_lib.training.timings`).

# %%
import time

kernel_ready = time.time()

# %% tags=["parameters"]
run_dir = None  # None: a fresh scratch folder under .xlt-cache/scratch
encoder = "offline-default"  # the model, a phase-2 run's encoder folder, or a hub id
target = "xnli"  # xnli or pawsx
eval_split = None  # None: the target's default (XNLI test, PAWS-X dev)
codeswitch = None  # code-switching of the target's English training data (normally None)
settings = {
    "profile": "cpu",
    "max_train_examples": 400,
    "max_eval_examples": 200,
    "max_dev_examples": 200,
    "num_layers": 4,
    "max_length": 96,
}
seed = 0
data_dir = None
languages = None  # None: every language of the evaluation split (local data: the files present)
source = "auto"  # "hub": read the target's own splits from the Hugging Face hub
task_files = []  # task files of user-defined tasks (xlt run passes the experiment's)

# %% [markdown]
# ## Parameters, validated

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.patches import Patch

from xlt_lib.experiment.notebook import finish_run, provenance_table, start_run, transfer_inputs
from xlt_lib.training import run_transfer
from xlt_lib.training.timings import RunTimings

timings = RunTimings.in_notebook(kernel_ready)
inputs = transfer_inputs(
    run_dir=run_dir,
    encoder=encoder,
    target=target,
    eval_split=eval_split,
    codeswitch=codeswitch,
    settings=settings,
    seed=seed,
    data_dir=data_dir,
    languages=languages,
    source=source,
    task_files=task_files,
)
display(
    Markdown(
        f"**{inputs.task}** ({inputs.eval_split}), seed {inputs.seed}, encoder `{inputs.source}` → `{inputs.run_dir}`"
    )
)
pd.Series(inputs.settings.to_dict(), name="training settings").to_frame()

# %% [markdown]
# ## Provenance

# %%
environment = start_run(inputs, timings)
provenance_table(environment)

# %% [markdown]
# ## Fine-tuning on English, evaluation in every language

# %%
result = run_transfer(
    encoder=inputs.source,
    target=inputs.target_spec(),
    settings=inputs.settings,
    codeswitch=inputs.codeswitch,
    output_dir=inputs.run_dir,
    data_dir=inputs.data_dir,
    languages=inputs.languages,
    timings=timings,
)

# %% [markdown]
# ## Results per language
#
# Accuracy and macro-F1 on each language's evaluation split; English is the
# language the model was fine-tuned in, every other one is zero-shot.

# %%
per_language = pd.DataFrame(result.metrics["per_language"]).T.rename_axis("language").reset_index()
per_language["zero-shot"] = per_language["language"] != "en"
display(per_language.round(4))
display(
    Markdown(
        f"Average over {len(per_language)} languages: accuracy **{result.metrics['average']['accuracy']:.4f}**, macro-F1 **{result.metrics['average']['macro_f1']:.4f}**"
    )
)

# %%
fig, ax = plt.subplots(figsize=(max(5, 0.55 * len(per_language)), 3.2))
ordered = per_language.sort_values("accuracy", ascending=False).reset_index(drop=True)
colours = {False: "C0", True: "C1"}  # fine-tuned in English, zero-shot
ax.bar(ordered.index, ordered["accuracy"], color=[colours[z] for z in ordered["zero-shot"]])
ax.set_xticks(ordered.index, ordered["language"])
ax.axhline(result.metrics["average"]["accuracy"], color="0.3", linestyle="--", linewidth=1, label="average")
ax.set_title(f"{inputs.task} {inputs.eval_split}: accuracy per language (seed {inputs.seed})")
ax.set_xlabel("language")
ax.set_ylabel("accuracy")
ax.set_ylim(0, 1)
shown = [
    Patch(color=colour, label="zero-shot" if zero_shot else "English")
    for zero_shot, colour in colours.items()
]
ax.legend(handles=[*shown, *ax.get_legend_handles_labels()[0]], loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Record
#
# Per-example predictions (`predictions.parquet`: id, language, gold, prediction)
# feed the significance tests; `metrics.json` is written last and atomically.

# %%
finish_run(inputs, environment, result.metrics, predictions=result.predictions, timings=timings)
