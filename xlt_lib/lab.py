"""JupyterLab for xlt: one command line for ``make lab`` and for the browser tests.

``make lab`` runs ``python -m xlt_lib.lab``, which starts JupyterLab from this
environment with the project's kernel (``xlt``, registered by ``make setup``)
as the default for new notebooks, the checkout as the server's root (so
``params/`` and ``reports/`` are one click away) and the file browser opened on
``notebooks/``. The browser tests start the *same* command line headless on a
free localhost port with a token (`start_lab`), so what they check is what a
person gets.

JupyterLab has no "start, wait until ready, stop" API for a child process; the
few lines here poll ``/api/status`` and shut the server down through
``/api/shutdown`` (which also stops its kernels), falling back to killing the
process group this module started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xlt_lib.errors import XltError
from xlt_lib.paths import repo_root

#: The project's Jupyter kernel (the name `xlt_lib.experiment.runner` passes to papermill).
KERNEL_NAME = "xlt"
#: The folder the file browser opens on, relative to the server's root.
NOTEBOOKS_SUBDIR = "notebooks"


class LabError(XltError):
    """JupyterLab cannot be started here (kernel missing, port taken, server exited)."""


def jupyter_executable() -> Path:
    """``jupyter`` from the environment running this Python (the project's ``.venv``)."""
    return Path(sys.executable).parent / "jupyter"


def kernel_is_registered(kernel_name: str = KERNEL_NAME) -> bool:
    """Whether Jupyter finds ``kernel_name`` from this environment (``--sys-prefix`` kernels included)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return kernel_name in KernelSpecManager().find_kernel_specs()


def lab_command(
    root_dir: str | os.PathLike[str],
    *,
    kernel_name: str = KERNEL_NAME,
    open_dir: str | None = NOTEBOOKS_SUBDIR,
    port: int | None = None,
    token: str | None = None,
    headless: bool = False,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The ``jupyter lab`` command line: root, default kernel, opening folder; headless for tests.

    ``headless`` binds 127.0.0.1 only, opens no browser, refuses to move to
    another port (``port_retries=0``: the caller chose a free one and must know
    where the server is) and turns off the announcement feed and update checks,
    which would only wait on the network here.
    """
    command = [
        str(jupyter_executable()),
        "lab",
        f"--ServerApp.root_dir={Path(root_dir).resolve()}",
        f"--MappingKernelManager.default_kernel_name={kernel_name}",
    ]
    if open_dir:
        command.append(f"--LabApp.default_url=/lab/tree/{open_dir.strip('/')}")
    if port is not None:
        command.append(f"--ServerApp.port={port}")
    if token is not None:
        command.append(f"--IdentityProvider.token={token}")
    if os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root; Jupyter refuses it otherwise
    if headless:
        command += [
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    return [*command, *extra_args]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    """A running headless JupyterLab: where it is, how to reach it, how to stop it."""

    process: subprocess.Popen[bytes]
    root_dir: Path
    port: int
    token: str
    log_path: Path
    state_dir: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        """An authenticated URL (``?token=``) for ``path`` under the server, e.g. ``lab/tree/x.ipynb``."""
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def notebook_url(self, notebook: str | os.PathLike[str], workspace: str | None = None) -> str:
        """The JupyterLab URL that opens ``notebook`` (absolute, or relative to the root).

        With ``workspace``, the notebook opens in that named workspace
        (``lab/workspaces/<name>/tree/...``), so tabs left open in the default one are
        not restored beside it.
        """
        path = Path(notebook)
        relative = path.resolve().relative_to(self.root_dir) if path.is_absolute() else path
        prefix = f"lab/workspaces/{workspace}" if workspace else "lab"
        return self.url(f"{prefix}/tree/{relative.as_posix()}")

    def api(self, path: str, method: str = "GET") -> object:
        """Call the server's REST API (``/api/...``) with the token; returns the decoded JSON."""
        request = urllib.request.Request(
            f"{self.base_url}/api/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        """Shut the server and its kernels down; kill this server's process group if it hangs."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(OSError, urllib.error.URLError, json.JSONDecodeError):
                self.api("shutdown", method="POST")
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_until_ready(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LabError(
                f"JupyterLab exited with status {server.process.returncode} before it was ready "
                f"(log {server.log_path}):\n{server.log_tail()}"
            )
        with contextlib.suppress(OSError, urllib.error.URLError, json.JSONDecodeError):
            server.api("status")
            return
        time.sleep(0.25)
    server.stop()
    raise LabError(
        f"JupyterLab did not answer on {server.base_url} within {timeout:.0f} s (log {server.log_path})"
    )


def start_lab(
    root_dir: str | os.PathLike[str],
    *,
    kernel_name: str = KERNEL_NAME,
    open_dir: str | None = NOTEBOOKS_SUBDIR,
    env: Mapping[str, str] | None = None,
    state_dir: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
) -> LabServer:
    """Start JupyterLab headless on a free 127.0.0.1 port with a fresh token; return once it answers.

    ``env`` is added to this process's environment (the kernels inherit it: set
    ``XLT_RUNS_DIR`` and friends there). The server's own state (runtime files,
    user settings, workspaces, log) goes to ``state_dir`` (a new temporary folder
    by default), so a test neither reads nor changes the user's JupyterLab
    settings. Use the result as a context manager, or call `LabServer.stop`.
    """
    root = Path(root_dir).resolve()
    if not root.is_dir():
        raise LabError(f"root_dir={root}: no such directory")
    if not kernel_is_registered(kernel_name):
        raise LabError(
            f"Jupyter kernel {kernel_name!r} is not registered in {sys.prefix}: run `make setup` "
            f"(it runs `python -m ipykernel install --sys-prefix --name {kernel_name}`)"
        )
    state = Path(state_dir) if state_dir is not None else Path(tempfile.mkdtemp(prefix="xlt-lab-"))
    state.mkdir(parents=True, exist_ok=True)
    child_env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        **(env or {}),
    }
    # A headless server asks nobody whether to fetch Jupyter news: answer "no" in its own settings.
    notification = (
        state / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    )
    if not notification.exists():
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
        )
    port, token = free_port(), secrets.token_hex(16)
    log_path = state / "jupyterlab.log"
    command = lab_command(
        root, kernel_name=kernel_name, open_dir=open_dir, port=port, token=token, headless=True
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so `stop` can take its kernels down too
        )
    server = LabServer(
        process=process, root_dir=root, port=port, token=token, log_path=log_path, state_dir=state
    )
    _wait_until_ready(server, timeout)
    return server


def main(argv: Sequence[str] | None = None) -> int:
    """``make lab``: JupyterLab on the checkout, ``notebooks/`` open, kernel ``xlt`` by default.

    Any arguments go to ``jupyter lab`` unchanged (e.g. ``--port=8890 --no-browser``).
    """
    if not kernel_is_registered():
        print(f"xlt lab: kernel {KERNEL_NAME!r} is not registered: run `make setup` first", file=sys.stderr)
        return 2
    command = lab_command(repo_root(), extra_args=list(sys.argv[1:] if argv is None else argv))
    print(" ".join(command), flush=True)
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
