"""Phase notebooks for runner tests that write records but train nothing.

They take exactly the parameters of the real ``intermediate`` and ``transfer``
notebooks (so the runner injects the same values), with a body each test module
chooses: `experiment_fakes` (failures, sleeps, SLURM job ids) and
`reliability_support` (disk faults through the real record calls).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

#: The ``parameters`` cell: every name the runner may inject into either phase notebook.
PARAMETERS = """\
run_dir = None
model = None
task = None
encoder = None
target = None
eval_split = None
codeswitch = None
settings = {}
seed = 0
data_dir = None
languages = None
source = "auto"
task_files = []
"""


def write_fake_notebooks(folder: Path, body: str) -> Path:
    """``intermediate.ipynb`` and ``transfer.ipynb`` in ``folder``: the parameters cell, then ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("intermediate.ipynb", "transfer.ipynb"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "xlt", "display_name": "Python (xlt)", "language": "python"}
        params = nbformat.v4.new_code_cell(PARAMETERS)
        params.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell("# fake phase"), params, nbformat.v4.new_code_cell(body)]
        nbformat.write(nb, folder / name)
    return folder
