"""What the command line and the configuration layer load at start-up: never torch.

``xlt --help``, ``xlt run --dry-run`` and validating an experiment file import the
command modules and the configuration modules. torch (and the libraries that pull
it in) costs seconds there, so those modules import only light modules at their
top, and heavy libraries inside the functions that use them. Each check runs in a
fresh interpreter, since this test session has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "datasets", "pandas", "matplotlib", "papermill", "nbconvert", "submitit")


def _heavy_modules_after(code: str, **env: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(set({HEAVY!r}) & set(sys.modules))))"
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, **env},
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_building_the_command_line_loads_no_heavy_library() -> None:
    # What `xlt --help` does: import xlt_lib.cli and register every command group.
    assert _heavy_modules_after("import xlt_lib.cli as cli\ncli.build_parser()") == []


def test_the_configuration_modules_load_no_heavy_library() -> None:
    code = (
        "import xlt_lib.experiment.config, xlt_lib.experiment.grid, xlt_lib.training.settings, "
        "xlt_lib.training.multitask_spec, xlt_lib.codeswitch.config, xlt_lib.tasks"
    )
    assert _heavy_modules_after(code) == []


def test_a_dry_run_loads_no_heavy_library(tmp_path: Path) -> None:
    # Plans params/demo.yaml against an empty runs directory: expansion, validation, cost estimate.
    code = "from xlt_lib.cli import main\nassert main(['run', 'params/demo.yaml', '--dry-run']) == 0"
    assert _heavy_modules_after(code, XLT_RUNS_DIR=str(tmp_path / "runs")) == []
