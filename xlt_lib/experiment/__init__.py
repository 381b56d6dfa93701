"""Experiments: the YAML schema, grid expansion, the papermill runner and run records.

- `load_experiment(path)` -> `Experiment` (fully validated; `ConfigError` names file and key)
- `expand(experiment)` -> `RunSpec` list (phase 2, then phase 3), each named by a content hash
- `plan(experiment, force=False)` -> `Plan` (what is done, what this invocation runs)
- `execute(plan, executor=None)` -> `Summary` (local, N workers, or SLURM via submitit)
- `xlt_lib.experiment.records`: atomic run records; `xlt_lib.experiment.notebook`: what notebooks call

Heavy libraries are imported inside functions so ``xlt --help`` stays fast.
"""

from xlt_lib.experiment.config import (
    Condition,
    ExecutorSpec,
    Experiment,
    SignificanceSettings,
    SlurmSettings,
    Target,
    load_experiment,
)
from xlt_lib.experiment.executors import Summary, execute
from xlt_lib.experiment.grid import RunSpec, expand
from xlt_lib.experiment.runner import Plan, PlannedRun, RunOutcome, execute_run, plan

__all__ = [
    "Condition",
    "ExecutorSpec",
    "Experiment",
    "Plan",
    "PlannedRun",
    "RunOutcome",
    "RunSpec",
    "SignificanceSettings",
    "SlurmSettings",
    "Summary",
    "Target",
    "execute",
    "execute_run",
    "expand",
    "load_experiment",
    "plan",
]
