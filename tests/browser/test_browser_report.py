"""The experiment report as a person opens it: ``reports/<experiment>/index.html`` in headless Chromium.

``params/smoke.yaml`` cut to XNLI on the tiny test encoder (two phase-2 and three
phase-3 runs: the significance notebook needs a baseline, a monolingual and a
code-switched condition, and refuses less) goes
through ``xlt run`` like any experiment, with runs and reports in temporary
folders; the pages are then served by a ``http.server`` on 127.0.0.1 and checked
for tables, loaded images and links that lead to pages which render.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest
import yaml
from browser_support import BrowserPage

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

#: JavaScript: every <img> with its decoded width (0: broken or not loaded) and its alt text.
IMAGES_JS = "() => [...document.images].map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth}))"


@pytest.fixture(scope="module")
def report_index(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run a five-run cut of the smoke experiment through ``xlt run``; return its ``index.html``."""
    work = tmp_path_factory.mktemp("report-e2e")
    smoke = yaml.safe_load((REPO / "params" / "smoke.yaml").read_text(encoding="utf-8"))
    smoke["model"] = str(tiny_model_dir)
    smoke["targets"] = ["xnli"]
    smoke["executor"] = {"workers": 2}  # the two phase-2 runs, then the phase-3 runs, two at a time
    experiment = work / "smoke-browser.yaml"
    experiment.write_text(yaml.safe_dump(smoke), encoding="utf-8")
    env = {**os.environ, "XLT_RUNS_DIR": str(work / "runs"), "XLT_REPORTS_DIR": str(work / "reports")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "xlt"), "run", str(experiment)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (
        f"xlt run failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    index = work / "reports" / smoke["name"] / "index.html"
    assert index.is_file(), f"xlt run wrote no report:\n{done.stdout[-2000:]}"
    return index


@pytest.fixture(scope="module")
def report_server(report_index: Path) -> Iterator[str]:
    """The reports folder over HTTP on a free 127.0.0.1 port (as a person would serve or host it)."""
    handler = functools.partial(_QuietHandler, directory=str(report_index.parent.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{report_index.parent.name}/index.html"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _check_page_renders(page: Any, url: str) -> dict[str, Any]:
    """Open ``url``; it must answer 200, have visible text, and every image in it must have loaded."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"
    page.wait_for_load_state("load")
    text = page.locator("body").inner_text()
    assert len(text.strip()) > 50, f"{url}: the page is (nearly) empty"
    images = page.evaluate(IMAGES_JS)
    broken = [i for i in images if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"{url}: images that did not load: {broken}"
    return {"text": text, "images": images}


def test_report_index_renders_with_working_links(
    report_server: str, report_index: Path, browser_page: BrowserPage, artifacts_dir: Path
) -> None:
    page = browser_page.page
    index = _check_page_renders(page, report_server)
    page.screenshot(path=str(artifacts_dir / "report-index.png"), full_page=True)
    assert not browser_page.blocked, f"the index page should be self-contained: {browser_page.blocked}"

    assert page.locator("h1").inner_text() == "smoke"
    assert page.locator("h3", has_text="xnli").count() == 1
    results = page.locator("table").first
    header = results.locator("tr").first.inner_text()
    assert "condition" in header and "en" in header and "avg" in header
    assert results.locator("tr").count() == 1 + 3, "one row per condition"
    assert [i["alt"] for i in index["images"]] == ["accuracy per language for xnli"]
    assert page.locator("table").count() >= 2, "results and runs tables"
    assert "5 of 5 runs complete" in index["text"]

    links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    run_links = [link for link in links if link.startswith("runs/")]
    assert len(run_links) == 5, links
    significance = [link for link in links if "significance" in link]
    assert significance == ["significance.html"], links
    assert all(not urlparse(link).scheme for link in links), f"links should be relative: {links}"

    for number, link in enumerate(run_links + significance):
        url = urljoin(report_server, link)
        rendered = _check_page_renders(page, url)
        assert "Traceback" not in rendered["text"], f"{link} shows a traceback"
        if link in run_links:
            assert "import " not in rendered["text"], f"{link}: code cells should be hidden"
            name = f"report-run-{number}.png"
        else:
            assert page.locator("table").count() >= 1, "the significance report should show its tables"
            name = "report-significance.png"
        page.screenshot(path=str(artifacts_dir / name), full_page=True)

    # Kept as an artefact: any request the pages tried to send off this machine (expected: none).
    (artifacts_dir / "report-external-requests.txt").write_text("\n".join(sorted(set(browser_page.blocked))))

    transfer_pages = [link for link in run_links if "transfer-" in link]
    assert len(transfer_pages) == 3
    _check_page_renders(page, urljoin(report_server, transfer_pages[0]))
    assert page.locator("table").count() >= 1 and page.locator("img").count() >= 1, (
        "a phase-3 run's page shows its metrics table and per-language plot"
    )
