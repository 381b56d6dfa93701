"""The notebooks as a person uses them: JupyterLab in headless Chromium, Run > Run All Cells.

One headless JupyterLab (the command line ``make lab`` runs, see `xlt_lib.lab`)
serves copies of the notebooks, their parameters made small the way papermill
would inject them. The kernel finds the offline default encoder in the project
cache; runs and reports go to temporary folders. Screenshots land in
``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BrowserPage
from jupyterlab_ui import (
    VISIBLE_PANEL,
    loaded_images,
    open_notebook,
    outputs,
    prepare_notebook,
    run_all_cells,
    stderr_texts,
    wait_for_run,
)

from xlt_lib.lab import LabServer, start_lab

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"

#: Tiny phase 3: 48 English training pairs on the first 2 layers, 16 evaluation pairs per language.
TRANSFER_SETTINGS = {
    "profile": "cpu",
    "max_train_examples": 48,
    "max_dev_examples": 16,
    "max_eval_examples": 16,
    "num_layers": 2,
    "max_length": 48,
}
#: Scripts the headless machine has fonts for (DejaVu: Latin, Cyrillic, Greek); CJK, Devanagari and
#: Thai would show as empty boxes in the screenshots unless fonts-noto-core / fonts-wqy-microhei are there.
EXPLORER_LANGUAGES = ["de", "fr", "ru"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the notebooks' runs, reports and the server's own state go."""
    return tmp_path_factory.mktemp("lab-scratch")


@pytest.fixture(scope="module")
def lab(
    offline_model_dir: Path, scratch: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab on a temporary root holding ``notebooks/`` copies with small parameters."""
    root = tmp_path_factory.mktemp("lab-root")
    prepare_notebook(
        NOTEBOOKS / "transfer.ipynb",
        root / "notebooks" / "transfer.ipynb",
        {
            "run_dir": str(scratch / "transfer-run"),
            "target": "xnli",
            "settings": TRANSFER_SETTINGS,
            "seed": 0,
        },
    )
    prepare_notebook(
        NOTEBOOKS / "codeswitch_explorer.ipynb",
        root / "notebooks" / "codeswitch_explorer.ipynb",
        {"languages": EXPLORER_LANGUAGES, "n_examples": 60, "n_show": 3},
    )
    env = {"XLT_RUNS_DIR": str(scratch / "runs"), "XLT_REPORTS_DIR": str(scratch / "reports")}
    with start_lab(root, env=env, state_dir=scratch / "jupyterlab") as server:
        yield server


def _screenshot_at(page: Any, locator: Any, path: Path) -> None:
    """Scroll ``locator`` into view and take what the window shows (JupyterLab scrolls inside its panel)."""
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


def test_transfer_notebook_runs_in_jupyterlab(
    lab: LabServer, scratch: Path, browser_page: BrowserPage, artifacts_dir: Path
) -> None:
    page = browser_page.page
    open_notebook(page, lab.notebook_url("notebooks/transfer.ipynb", workspace="transfer"))
    page.screenshot(path=str(artifacts_dir / "jupyterlab-transfer-opened.png"))
    kernel = page.locator(f"{VISIBLE_PANEL} .jp-KernelName").first.inner_text()
    assert "xlt" in kernel, f"the notebook opened on kernel {kernel!r}, not the project's"

    run_all_cells(page)
    wait_for_run(page, timeout_s=600)

    tables = outputs(page, "table")
    assert tables.count() >= 2, "the settings and per-language metrics tables should render"
    metrics_table = tables.filter(has_text="macro_f1").last
    header = metrics_table.locator("thead").inner_text()
    assert "accuracy" in header and "zero-shot" in header
    body = metrics_table.locator("tbody").inner_text()
    languages = {line.split("\t")[1].strip() for line in body.splitlines() if line.strip()}
    assert {"en", "de", "zh", "sw", "ur"} <= languages, languages

    images = loaded_images(page)
    assert images and all(i["complete"] and i["width"] > 0 for i in images), images
    plot = outputs(page, "img").last
    assert plot.is_visible()
    # Training progress is drawn as an HTML bar (transformers' notebook callback), not as text lines.
    progress = outputs(page, "progress")
    assert progress.count() >= 1, "no progress bar rendered in the notebook"
    _screenshot_at(page, progress.first, artifacts_dir / "jupyterlab-transfer-progress.png")
    stderr = stderr_texts(page)
    (artifacts_dir / "jupyterlab-transfer-stderr.txt").write_text("\n----\n".join(stderr), encoding="utf-8")
    assert not [t for t in stderr if "IProgress not found" in t], "tqdm fell back to text bars"

    _screenshot_at(page, metrics_table, artifacts_dir / "jupyterlab-transfer-metrics.png")
    _screenshot_at(page, plot, artifacts_dir / "jupyterlab-transfer-plot.png")
    plot.screenshot(path=str(artifacts_dir / "jupyterlab-transfer-plot-only.png"))

    # The values shown come from the run's own record, written last.
    metrics = json.loads((scratch / "transfer-run" / "metrics.json").read_text())
    assert set(metrics["per_language"]) == languages
    assert not browser_page.blocked, f"JupyterLab reached outside this machine: {browser_page.blocked}"


def test_codeswitch_explorer_renders_marked_examples(
    lab: LabServer, browser_page: BrowserPage, artifacts_dir: Path
) -> None:
    page = browser_page.page
    open_notebook(page, lab.notebook_url("notebooks/codeswitch_explorer.ipynb", workspace="explorer"))
    run_all_cells(page)
    wait_for_run(page, timeout_s=300)

    table = outputs(page, "table.xlt-codeswitch")
    assert table.count() == 1, "the side-by-side examples table should render once"
    rows = table.locator("tbody tr")
    assert rows.count() >= 3 * 2, "3 MNLI examples, premise and hypothesis each"
    marks = table.locator("mark")
    assert marks.count() >= 2
    titles = {marks.nth(i).get_attribute("title") for i in range(marks.count())}
    assert titles <= set(EXPLORER_LANGUAGES) and titles, titles
    # a switched word is marked on both sides: the English word and its translation
    first_row = rows.filter(has=page.locator("mark")).first
    cells = first_row.locator("td")
    assert cells.nth(2).locator("mark").count() == cells.nth(3).locator("mark").count() > 0
    assert cells.nth(2).inner_text() != cells.nth(3).inner_text()
    highlight = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert highlight not in ("rgba(0, 0, 0, 0)", "transparent"), "switched words should be highlighted"

    images = loaded_images(page)
    assert images and all(i["width"] > 0 for i in images), images
    _screenshot_at(page, table, artifacts_dir / "jupyterlab-codeswitch-explorer.png")
    table.screenshot(path=str(artifacts_dir / "jupyterlab-codeswitch-examples.png"))
    assert not browser_page.blocked, f"JupyterLab reached outside this machine: {browser_page.blocked}"


def test_lab_opens_on_the_notebooks_folder(
    lab: LabServer, browser_page: BrowserPage, artifacts_dir: Path
) -> None:
    """The server's front page (what `make lab` opens) lands in ``notebooks/`` in the file browser."""
    page = browser_page.page
    page.goto(lab.url(""))
    page.wait_for_url("**/lab/tree/notebooks**")
    listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    listing.first.wait_for()
    assert {"codeswitch_explorer.ipynb", "transfer.ipynb"} <= set(listing.all_inner_texts())
    assert "notebooks" in page.locator(".jp-BreadCrumbs").inner_text()
    page.screenshot(path=str(artifacts_dir / "jupyterlab-start.png"))
    assert not browser_page.blocked, f"JupyterLab reached outside this machine: {browser_page.blocked}"
