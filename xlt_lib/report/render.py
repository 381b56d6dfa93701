"""Rendering an executed notebook to a stand-alone HTML page without its code, that needs no network.

Readers of a report want the narrative, tables and plots, not the driver code:
nbconvert's `HTMLExporter` with ``exclude_input=True`` (what ``jupyter nbconvert
--to html --no-input`` does) keeps markdown, outputs and error banners.

nbconvert's ``lab`` template also loads require.js and MathJax from a CDN (and
names Mermaid's), so an offline reader gets outside requests that fail. Reports
must open from disk, so the page is rendered with `OFFLINE_TEMPLATE`, which
extends that template and keeps each script only when the notebook uses it:

- MathJax only when a markdown cell or a Markdown/LaTeX output contains TeX math
  (from ``mathjax_url``; offline the TeX source shows as written);
- Mermaid only when there is a Mermaid diagram;
- require.js only when an output carries JavaScript (which may call ``require``).

Widget outputs (progress bars) would need the widget manager from unpkg.com:
they are rendered from their plain-text fallback instead, and the notebook's
saved widget state is dropped.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from pathlib import Path
from typing import Any

from xlt_lib.atomic import atomic_write_text
from xlt_lib.errors import RunRecordError

#: nbconvert's ``lab/index.html.j2`` with its CDN scripts kept only where the notebook needs them.
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
{%- if resources.xlt_needs.requirejs -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
{%- if resources.xlt_needs.mathjax -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}
{%- if resources.xlt_needs.mermaid -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mermaidjs -%}
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: TeX math as MathJax would find it: $...$ (on one line), $$...$$, \(...\), \[...\], \begin{...}.
_MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?!\s)[^$\n]+?(?<!\s)\$|\\\(|\\\[|\\begin\{", re.DOTALL)
_MERMAID = re.compile(r"^```mermaid", re.MULTILINE)


def _outputs(node: Any) -> list[Any]:
    return [output for cell in node.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def page_needs(node: Any) -> dict[str, bool]:
    """Which of MathJax, Mermaid and require.js the notebook's rendered page needs."""
    markdown = [_text(cell.source) for cell in node.cells if cell.cell_type == "markdown"]
    data = [output.get("data", {}) for output in _outputs(node)]
    markdown += [_text(d[kind]) for d in data for kind in ("text/markdown", "text/latex") if kind in d]
    return {
        "mathjax": any(_MATH.search(text) for text in markdown),
        "mermaid": any("text/vnd.mermaid" in d for d in data) or any(_MERMAID.search(t) for t in markdown),
        "requirejs": any("application/javascript" in d for d in data),
    }


def _without_widgets(node: Any) -> Any:
    """A copy of ``node`` whose widget outputs fall back to their other representations (text)."""
    node = copy.deepcopy(node)
    node.metadata.pop("widgets", None)
    for cell in node.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None and WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
                if not data:
                    continue  # a widget without a fallback shows nothing offline
            kept.append(output)
        cell.outputs = kept
    return node


def render_notebook(
    notebook: str | os.PathLike[str],
    html: str | os.PathLike[str],
    *,
    force: bool = False,
    mathjax_url: str | None = None,
) -> Path:
    """Write ``html`` from ``notebook`` (inputs hidden); skipped when ``html`` is newer, unless ``force``.

    The page loads nothing from the network unless the notebook needs it (see
    the module docstring); ``mathjax_url`` replaces nbconvert's MathJax CDN for
    pages with math (e.g. a local copy).
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook, html = Path(notebook), Path(html)
    if not force and html.is_file() and html.stat().st_mtime >= notebook.stat().st_mtime:
        return html
    try:
        node = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError) as exc:
        raise RunRecordError(f"{notebook}: not a readable notebook: {exc}") from exc
    node = _without_widgets(node)
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.raw_template = OFFLINE_TEMPLATE
    if mathjax_url is not None:
        exporter.mathjax_url = mathjax_url
    quiet = logging.getLogger("xlt_lib.report.nbconvert")
    quiet.setLevel(logging.ERROR)  # "alternative text is missing" for every plot is noise in batch output
    exporter.log = quiet
    resources = {"metadata": {"name": notebook.parent.name}, "xlt_needs": page_needs(node)}
    body, _ = exporter.from_notebook_node(node, resources=resources)
    return atomic_write_text(html, body)
