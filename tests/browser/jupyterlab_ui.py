"""Driving JupyterLab's UI the way a person does: open a notebook, Run > Run All Cells, wait, look.

Parameters are overridden the way papermill does it in batch runs
(`papermill.parameterize.parameterize_notebook` adds an ``injected-parameters``
cell after the ``parameters`` cell), on a copy, before the notebook is opened:
the notebook a person sees then shows both the defaults and the overrides.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

#: CSS for the notebook on screen. Lumino hides an inactive tab either with ``lm-mod-hidden``
#: (display: none) or, in a dock area holding several tabs, with ``transform: scale(0)`` and
#: ``aria-hidden="true"``; both must be excluded or a restored tab can be picked instead.
VISIBLE_PANEL = '.jp-NotebookPanel:not(.lm-mod-hidden):not([aria-hidden="true"])'

#: JavaScript: the state of the open notebook's run. JupyterLab shows ``[*]:`` for queued or
#: running cells and ``[n]:`` once done; when a cell raises, the queued cells are cleared back to
#: ``[ ]:``, so "no ``[*]``, kernel idle, something executed" means the run is over either way.
RUN_STATE_JS = """
(selector) => {
  const panel = document.querySelector(selector);
  if (!panel) return null;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent.trim());
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const errors = [...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent).filter(t => /Error|Traceback/.test(t));
  return {
    status: indicator ? indicator.getAttribute('data-status') : null,
    prompts: prompts,
    running: prompts.filter(p => p === '[*]:').length,
    executed: prompts.filter(p => /^\\[\\d+\\]:$/.test(p)).length,
    errors: errors,
  };
}
"""

#: The display name ``make setup`` registers the ``xlt`` kernel under.
KERNEL_DISPLAY_NAME = "Python (xlt)"
#: JavaScript: the notebook's cells are rendered, and the toolbar names the kernel and shows it idle
#: (the indicator says "idle" while no kernel is attached yet, hence the name check).
KERNEL_READY_JS = """
([selector, name]) => {
  const panel = document.querySelector(selector);
  if (!panel || !panel.querySelector('.jp-CodeCell')) return false;
  const kernel = panel.querySelector('.jp-KernelName');
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return !!kernel && kernel.textContent.trim() === name
    && !!indicator && indicator.getAttribute('data-status') === 'idle';
}
"""


def prepare_notebook(source: Path, destination: Path, parameters: dict[str, Any]) -> Path:
    """Copy ``source`` to ``destination`` with ``parameters`` injected after its ``parameters`` cell."""
    notebook = load_notebook_node(str(source))  # as papermill reads it (every cell gets metadata.tags)
    notebook = parameterize_notebook(notebook, parameters, kernel_name="xlt", language="python")
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, destination)
    return destination


def open_notebook(page: Any, url: str, kernel_display_name: str = KERNEL_DISPLAY_NAME) -> None:
    """Open a notebook and wait until its cells show and its kernel (the project's) is idle."""
    page.goto(url)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            KERNEL_READY_JS, arg=[VISIBLE_PANEL, kernel_display_name], timeout=120_000, polling=500
        )
    except PlaywrightTimeout:
        shown = page.locator(".jp-NotebookPanel .jp-KernelName").all_inner_texts()
        raise AssertionError(
            f"{url}: kernel {kernel_display_name!r} not ready in 120 s (toolbar shows {shown})"
        ) from None


def run_all_cells(page: Any, attempts: int = 3, start_timeout_s: float = 20.0) -> None:
    """Menu bar: Run > Run All Cells, then see that the run started.

    "Run All Cells" acts on the notebook that has focus; under load a click can land while
    JupyterLab is still settling focus after opening, and then nothing runs (CI saw a notebook
    sit idle with every prompt ``[ ]:``). So the notebook is focused first, and the menu is used
    again if no cell was queued within ``start_timeout_s``, as a person would click again.
    """
    state: dict[str, Any] | None = None
    for _ in range(attempts):
        page.keyboard.press("Escape")  # close a menu or dialog left open by an earlier attempt
        page.locator(f"{VISIBLE_PANEL} .jp-Cell").first.click()
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline:
            state = page.evaluate(RUN_STATE_JS, VISIBLE_PANEL)
            if state and (state["running"] or state["executed"] or state["status"] == "busy"):
                return
            page.wait_for_timeout(500)
    raise AssertionError(f"Run > Run All Cells started nothing after {attempts} attempts: {state}")


def wait_for_run(page: Any, timeout_s: float) -> dict[str, Any]:
    """Poll until the run is over; fail with the notebook's own error text if a cell raised."""
    deadline = time.monotonic() + timeout_s
    state: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE_JS, VISIBLE_PANEL)
        if state and state["status"] == "idle" and state["running"] == 0 and state["executed"] > 0:
            break
        page.wait_for_timeout(1000)
    else:
        raise AssertionError(f"the notebook did not finish within {timeout_s:.0f} s: {state}")
    assert not state["errors"], "a cell raised:\n" + "\n".join(e[-2000:] for e in state["errors"])
    assert state["executed"] == len(state["prompts"]), f"not every code cell ran: {state['prompts']}"
    return state


def outputs(page: Any, selector: str) -> Any:
    """A locator for ``selector`` inside the open notebook's output areas."""
    return page.locator(f"{VISIBLE_PANEL} .jp-OutputArea-output {selector}")


def loaded_images(page: Any) -> list[dict[str, Any]]:
    """Every ``<img>`` in the notebook's outputs with its decoded size (0 where it failed to load)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' .jp-OutputArea-output img')]
             .map(i => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))""",
        VISIBLE_PANEL,
    )


def stderr_texts(page: Any) -> list[str]:
    """The text of every stderr output (warnings, logging) in the open notebook, in order."""
    return page.locator(
        f'{VISIBLE_PANEL} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_inner_texts()
