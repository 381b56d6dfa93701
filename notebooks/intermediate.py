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
# # Phase 2 — intermediate-task training
#
# The second of the study's three phases (Phang et al. 2020): a pretrained
# multilingual encoder is trained on one **English** intermediate task, either
# on the task's own English text (*monolingual* condition) or on the same text
# code-switched into the target languages with bilingual dictionaries
# (*code-switched* condition, CoSDA-ML). Only the encoder carries over to
# phase 3 (`transfer.ipynb`); the task head is dropped.
#
# This notebook is a thin driver: every step is a call into `xlt_lib`, where it
# is tested. `xlt run params/<experiment>.yaml` executes it through papermill
# with the parameters of one run; opened in JupyterLab as is, the defaults below
# train a small model on the offline default encoder in a few minutes on a
# laptop CPU (a few hundred MNLI pairs, the first layers only).

# %% [markdown]
# The run's stopwatch starts with the kernel's first cell: `metrics.json` records
# where the run's time went (`timings`: kernel start, imports, data, model,
# training, evaluation, saving; see `xlt_lib.training.timings`).

# %%
import time

kernel_ready = time.time()

# %% tags=["parameters"]
run_dir = None  # None: a fresh scratch folder under .xlt-cache/scratch
model = "offline-default"  # or a hub id (xlm-roberta-large) or a model folder
task = "mnli"  # the English intermediate task (see `xlt data`)
codeswitch = None  # None (monolingual) or e.g. {"languages": ["de", "fr", "zh"], "token_ratio": 0.4}
settings = {
    "profile": "cpu",  # a TrainingSettings profile; the other keys override it
    "max_train_examples": 400,
    "max_dev_examples": 200,
    "num_layers": 4,
    "max_length": 96,
}
seed = 0
data_dir = None  # None: XLT_DATA_DIR, ../shared/data, or the Hugging Face hub
task_files = []  # task files of user-defined tasks (xlt run passes the experiment's)

# %% [markdown]
# ## Parameters, validated
#
# Papermill may have injected the values above from a YAML 1.1 file (where an
# unquoted `no` is `false`); the library checks every one and says which is wrong.

# %%
import pandas as pd
from IPython.display import Markdown, display

from xlt_lib.experiment.notebook import finish_run, intermediate_inputs, provenance_table, start_run
from xlt_lib.training import run_intermediate
from xlt_lib.training.timings import RunTimings

timings = RunTimings.in_notebook(kernel_ready)
inputs = intermediate_inputs(
    run_dir=run_dir,
    model=model,
    task=task,
    codeswitch=codeswitch,
    settings=settings,
    seed=seed,
    data_dir=data_dir,
    task_files=task_files,
)
condition = "monolingual" if inputs.codeswitch is None else "code-switched"
display(
    Markdown(
        f"**{inputs.task}**, {condition}, seed {inputs.seed}, from `{inputs.source}` → `{inputs.run_dir}`"
    )
)
pd.Series(inputs.settings.to_dict(), name="training settings").to_frame()

# %%
if inputs.codeswitch is not None:
    display(pd.Series(inputs.codeswitch.to_dict(), name="code-switching").to_frame())

# %% [markdown]
# ## Provenance
#
# Package versions, git commit, device, the model's identity and the SHA-256 of
# every data file read go to `env.json` before training starts.

# %%
environment = start_run(inputs, timings)
provenance_table(environment)

# %% [markdown]
# ## Training
#
# The Trainer-based loop of `xlt_lib.training`: the checkpoint is chosen as the
# settings say (`selection`), and the encoder (without its head) is saved to
# `encoder/` with a record of what produced it.

# %%
result = run_intermediate(
    model=inputs.source,
    task=inputs.task,
    settings=inputs.settings,
    codeswitch=inputs.codeswitch,
    output_dir=inputs.run_dir,
    data_dir=inputs.data_dir,
    timings=timings,
)
print(f"encoder saved to {result.encoder_dir}")

# %% [markdown]
# ## Metrics
#
# English dev scores of the selected checkpoint and the training statistics.

# %%
pd.json_normalize(result.metrics, sep=".").T.rename(columns={0: "value"})

# %% [markdown]
# ## Record
#
# `metrics.json` is written last and atomically: its presence marks the run complete.

# %%
finish_run(inputs, environment, result.metrics, timings=timings)
