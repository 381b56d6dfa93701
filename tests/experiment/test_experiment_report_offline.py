"""Report pages that open offline: no CDN scripts unless needed, and plots ordered like their tables."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from xlt_lib.report.build import accuracy_figure, results_tables
from xlt_lib.report.render import page_needs, render_notebook

#: Where a page would fetch from: script/img/iframe src, link href, CSS url()/@import, JS import().
_SOURCES = re.compile(
    r"""<(?:script|img|iframe|link)\b[^>]*?\b(?:src|href)\s*=\s*["']?([^"'\s>]+)"""
    r"""|url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)|import\(\s*["']([^"']+)""",
    re.IGNORECASE,
)


def external_sources(page: str) -> list[str]:
    """Every http(s) address the page would load a script, style, image or module from."""
    found = [next(g for g in match.groups() if g) for match in _SOURCES.finditer(page)]
    return [address for address in found if re.match(r"(?i)(https?:)?//", address)]


def test_external_sources_finds_what_nbconvert_pages_used_to_load() -> None:
    page = (
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/x.css"><style>@import "http://a/b.css";</style>'
        '<script type="module">await import("https://cdn/mermaid.mjs")</script><img src="data:image/png;base64,AA">'
    )
    assert external_sources(page) == [
        "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js",
        "//fonts.example/x.css",
        "http://a/b.css",
        "https://cdn/mermaid.mjs",
    ]


def _executed_notebook(path: Path, *cells: nbformat.NotebookNode, widgets: bool = False) -> Path:
    notebook = new_notebook(cells=list(cells))
    notebook.metadata["kernelspec"] = {"name": "xlt", "display_name": "Python (xlt)", "language": "python"}
    if widgets:
        notebook.metadata["widgets"] = {
            "application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2, "version_minor": 0}
        }
    nbformat.write(notebook, path)
    return path


def _table_and_plot_cell() -> nbformat.NotebookNode:
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    return new_code_cell(
        "show(table); plot()",
        outputs=[
            new_output("display_data", data={"text/html": "<table><tr><td>57.1</td></tr></table>"}),
            new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        ],
    )


def test_report_page_loads_nothing_from_the_network(tmp_path: Path) -> None:
    progress = new_code_cell(
        "trainer.train()",
        outputs=[
            new_output(
                "display_data",
                data={
                    "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
                    "text/plain": "train: 100%|##########| 8/8",
                },
            )
        ],
    )
    notebook = _executed_notebook(
        tmp_path / "executed.ipynb",
        new_markdown_cell("# Transfer\nAccuracy in points, α = 0.05, costs $5 a run."),
        progress,
        _table_and_plot_cell(),
        widgets=True,
    )
    page = render_notebook(notebook, tmp_path / "page.html").read_text(encoding="utf-8")
    assert external_sources(page) == []
    assert "MathJax" not in page and "require.js" not in page and "mermaid" not in page
    assert "train: 100%|##########| 8/8" in page, "a progress widget shows its text fallback"
    assert "<td>57.1</td>" in page and "data:image/png;base64," in page
    assert "trainer.train()" not in page, "code is hidden"


def test_math_and_javascript_keep_their_scripts(tmp_path: Path) -> None:
    math = _executed_notebook(tmp_path / "math.ipynb", new_markdown_cell(r"The loss is $\sum_i \ell_i$."))
    assert page_needs(nbformat.read(math, as_version=4)) == {
        "mathjax": True,
        "mermaid": False,
        "requirejs": False,
    }
    page = render_notebook(math, tmp_path / "math.html", mathjax_url="mathjax/tex-chtml.js").read_text()
    assert '<script src="mathjax/tex-chtml.js">' in page and external_sources(page) == []
    assert "MathJax" in render_notebook(math, tmp_path / "cdn.html").read_text()  # nbconvert's default URL

    script = new_code_cell("", outputs=[new_output("display_data", data={"application/javascript": "1"})])
    javascript = _executed_notebook(tmp_path / "js.ipynb", script)
    assert page_needs(nbformat.read(javascript, as_version=4))["requirejs"]
    assert "require.min.js" in render_notebook(javascript, tmp_path / "js.html").read_text()


@pytest.mark.parametrize(
    ("text", "math"),
    [
        ("costs $5 and $10", False),
        ("a $ sign", False),
        ("plain Markdown, α = 0.05", False),
        ("$x^2$", True),
        ("$$\\sum_i x_i$$", True),
        ("\\(a + b\\)", True),
        ("\\begin{align} a \\end{align}", True),
    ],
)
def test_math_is_told_from_dollar_signs(text: str, math: bool) -> None:
    assert page_needs(new_notebook(cells=[new_markdown_cell(text)]))["mathjax"] is math


def test_rendered_significance_page_is_offline(tmp_path: Path) -> None:
    """The committed significance notebook's markdown, rendered: no math, so no MathJax."""
    from xlt_lib.paths import repo_root

    source = nbformat.read(repo_root() / "notebooks" / "significance.ipynb", as_version=4)
    assert not any(page_needs(source).values())
    notebook = tmp_path / "significance.ipynb"
    nbformat.write(source, notebook)
    assert external_sources(render_notebook(notebook, tmp_path / "significance.html").read_text()) == []


def _results() -> pd.DataFrame:
    rows = []
    conditions = [
        ("cs", "codeswitched", "mnli"),
        ("mono", "monolingual", "mnli"),
        ("baseline", "none", "none"),
    ]
    for k, (condition, kind, intermediate) in enumerate(conditions):
        for language in ("en", "de"):
            rows.append(
                {
                    "run_id": f"transfer-{k}",
                    "target": "xnli",
                    "condition": condition,
                    "condition_kind": kind,
                    "intermediate": intermediate,
                    "seed": 0,
                    "language": language,
                    "accuracy": 0.5 + 0.05 * k,
                }
            )
    return pd.DataFrame(rows)


def test_index_plot_legend_follows_the_table_order() -> None:
    results = _results()
    (table,) = results_tables(results, {"xnli": "test"})
    assert [row["kind"] for row in table["rows"]] == ["none", "monolingual", "codeswitched"]
    figure = accuracy_figure(results, "xnli", ["en", "de"])
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["baseline", "mnli / mono", "mnli / cs"]
    assert table["plot"].startswith("data:image/png;base64,")
