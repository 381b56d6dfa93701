"""`xlt_lib.lab`: the JupyterLab command line of ``make lab`` and the headless server the browser tests use.

No browser here: these check the server over its REST API, in a few seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from xlt_lib.lab import KERNEL_NAME, LabError, free_port, kernel_is_registered, lab_command, start_lab

REPO = Path(__file__).resolve().parents[2]


def _flag(command: list[str], name: str) -> str | None:
    values = [arg.split("=", 1)[1] for arg in command if arg.startswith(f"--{name}=")]
    return values[-1] if values else None


def test_lab_command_opens_notebooks_with_the_project_kernel(tmp_path: Path) -> None:
    command = lab_command(tmp_path)
    assert Path(command[0]) == Path(sys.executable).parent / "jupyter" and command[1] == "lab"
    assert _flag(command, "ServerApp.root_dir") == str(tmp_path.resolve())
    assert _flag(command, "MappingKernelManager.default_kernel_name") == KERNEL_NAME == "xlt"
    assert _flag(command, "LabApp.default_url") == "/lab/tree/notebooks"
    assert "--no-browser" not in command, "make lab opens the user's browser"
    assert _flag(command, "ServerApp.ip") is None, "make lab keeps Jupyter's own (localhost) default"


def test_headless_lab_command_is_local_and_pinned_to_its_port(tmp_path: Path) -> None:
    command = lab_command(
        tmp_path, port=8999, token="abc", headless=True, open_dir=None, extra_args=["--debug"]
    )
    assert _flag(command, "ServerApp.ip") == "127.0.0.1"
    assert _flag(command, "ServerApp.port") == "8999" and _flag(command, "ServerApp.port_retries") == "0"
    assert _flag(command, "IdentityProvider.token") == "abc"
    assert _flag(command, "LabApp.news_url") == "None"
    assert _flag(command, "LabApp.default_url") is None
    assert "--no-browser" in command and command[-1] == "--debug"


def test_make_lab_runs_this_module() -> None:
    """``make lab`` must go through `xlt_lib.lab` (the command line the browser tests check)."""
    # Under `make test` this runs inside make: drop the parent's MAKEFLAGS/MAKELEVEL so
    # the child prints no "Entering directory" lines around the recipe.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "lab", "LAB_ARGS=--port=8890"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        pytest.skip(f"make is not usable here: {done.stderr.strip()[:200]}")
    assert done.stdout.strip().splitlines()[-1] == ".venv/bin/python -m xlt_lib.lab --port=8890"


def test_start_lab_serves_the_root_with_the_project_kernel(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "hello.txt").write_text("hi")
    with start_lab(tmp_path, state_dir=tmp_path / "state", timeout=120) as server:
        assert server.api("kernelspecs")["default"] == KERNEL_NAME
        listing = server.api("contents/notebooks")
        assert [item["name"] for item in listing["content"]] == ["hello.txt"]
        for url in (server.notebook_url("notebooks"), server.notebook_url("notebooks", workspace="mine")):
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200 and b"JupyterLab" in response.read()
        assert "/lab/workspaces/mine/tree/notebooks?token=" in server.notebook_url(
            "notebooks", workspace="mine"
        )
        with pytest.raises(urllib.error.HTTPError) as denied:  # the token is required
            urllib.request.urlopen(f"{server.base_url}/api/contents", timeout=10)
        assert denied.value.code == 403
        assert (server.state_dir / "user-settings").is_dir(), "the user's JupyterLab settings stay untouched"
    assert server.process.returncode is not None, "the server stopped with the context"


def test_start_lab_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="no such directory"):
        start_lab(tmp_path / "missing")
    with pytest.raises(LabError, match=r"kernel 'no-such-kernel' is not registered.*make setup"):
        start_lab(tmp_path, kernel_name="no-such-kernel")
    assert kernel_is_registered(KERNEL_NAME), "make setup registers the project's kernel"


def test_start_lab_reports_a_server_that_exits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A port already taken: the server exits at once (port_retries=0) and the error carries its log."""
    port = free_port()
    monkeypatch.setattr("xlt_lib.lab.free_port", lambda host="127.0.0.1": port)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(LabError, match=r"exited with status \d+ before it was ready"):
            start_lab(tmp_path, state_dir=tmp_path / "state", timeout=60)
