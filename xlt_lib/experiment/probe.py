"""The calibration probe: a run's phase at probe size, timed, in a fresh interpreter.

``python -m xlt_lib.experiment.probe JOBS`` reads a JSON list of jobs (its argument, built by
`xlt_lib.experiment.calibration.probe_job_parameters`) and prints one JSON line:
for each job its wall seconds, training and evaluation seconds and examples per
second, measured by the same calls a phase notebook makes (validate the inputs,
`start_run`, `run_intermediate` / `run_transfer`, `finish_run`) into a scratch
run directory that is deleted afterwards. It imports what the notebooks import
first, so the caller's measurement of the whole process includes that cost, as each
real run's kernel pays it. What a phase notebook adds around those calls (starting a
kernel through papermill, a dozen cell round trips, the per-language figure) is timed
once per probe by executing a small notebook that does only that (`notebook_seconds`);
at toy sizes it is most of a run. Heavy by nature; nothing imports this module.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ipykernel.kernelapp  # noqa: F401  (what a run's kernel loads: counted in the fixed overhead)
import matplotlib.pyplot  # noqa: F401
import pandas  # noqa: F401
import torch

from xlt_lib.experiment.notebook import finish_run, intermediate_inputs, start_run, transfer_inputs
from xlt_lib.experiment.runner import KERNEL_NAME, batch_environment
from xlt_lib.training import run_intermediate, run_transfer

#: The cells of the stand-in notebook: a phase notebook's round trips and its figure, not its phase.
NOTEBOOK_CELLS = (
    "import matplotlib.pyplot as plt\nimport pandas as pd\nfrom IPython.display import Markdown, display",
    *("display(Markdown('cell'))",) * 10,
    "frame = pd.DataFrame({'language': [f'l{i}' for i in range(15)], 'accuracy': [0.5] * 15})\n"
    "display(frame.round(4))",
    "fig, ax = plt.subplots(figsize=(8, 3.2))\n"
    "ax.bar(frame['language'], frame['accuracy'])\nfig.tight_layout()\nplt.show()",
)


def notebook_seconds(scratch: Path) -> float:
    """Wall seconds papermill takes to run `NOTEBOOK_CELLS` on the xlt kernel, as the runner runs a phase."""
    import logging

    import nbformat
    import papermill

    logging.getLogger("papermill").setLevel(logging.WARNING)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    source = scratch / "notebook-overhead.ipynb"
    nbformat.write(notebook, source)
    started = time.perf_counter()
    with batch_environment():
        papermill.execute_notebook(
            str(source),
            str(scratch / "notebook-overhead.out.ipynb"),
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    return time.perf_counter() - started


def run_job(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """One job, timed like a notebook run from input validation to ``metrics.json``."""
    torch.set_num_threads(int(job["threads"]))
    run_dir = scratch / job["key"]
    run_dir.mkdir(parents=True)
    started = time.perf_counter()
    if job["phase"] == "intermediate":
        inputs = intermediate_inputs(
            run_dir=run_dir,
            model=job["model"],
            task=job["task"],
            codeswitch=job["codeswitch"],
            settings=job["settings"],
            seed=0,
            data_dir=job["data_dir"],
            task_files=job["task_files"],
        )
        environment = start_run(inputs)
        result: Any = run_intermediate(
            model=inputs.source,
            task=inputs.task,
            settings=inputs.settings,
            codeswitch=inputs.codeswitch,
            output_dir=inputs.run_dir,
            data_dir=inputs.data_dir,
        )
        finish_run(inputs, environment, result.metrics)
    else:
        inputs = transfer_inputs(
            run_dir=run_dir,
            encoder=job["model"],
            target=job["task"],
            settings=job["settings"],
            seed=0,
            data_dir=job["data_dir"],
            languages=job["languages"],
            task_files=job["task_files"],
        )
        environment = start_run(inputs)
        result = run_transfer(
            encoder=inputs.source,
            target=inputs.target_spec(),
            settings=inputs.settings,
            codeswitch=inputs.codeswitch,
            output_dir=inputs.run_dir,
            data_dir=inputs.data_dir,
            languages=inputs.languages,
        )
        finish_run(inputs, environment, result.metrics, predictions=result.predictions)
    wall = time.perf_counter() - started
    train = result.metrics["train"]
    evaluation = result.metrics.get("eval") or {}
    return {
        "key": job["key"],
        "threads": int(job["threads"]),
        "wall_s": wall,
        "train_s": float(train["train_seconds"]),
        "train_examples_per_s": float(train["examples_per_s"]),
        "eval_s": float(evaluation.get("seconds") or 0.0),
        "eval_examples_per_s": evaluation.get("examples_per_s"),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
    }


def main() -> int:
    jobs = json.loads(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="xlt-probe-") as scratch:
        measured = [run_job(job, Path(scratch)) for job in jobs]
        ended_at = time.time()  # the notebook stand-in is reported apart, not as process start-up
        notebook_s = notebook_seconds(Path(scratch))
    print(json.dumps({"jobs": measured, "ended_at": ended_at, "notebook_s": notebook_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
