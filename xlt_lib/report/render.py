"""Rendering an executed notebook to a stand-alone HTML page without its code.

Readers of a report want the narrative, tables and plots, not the driver code:
nbconvert's `HTMLExporter` with ``exclude_input=True`` (what ``jupyter nbconvert
--to html --no-input`` does) keeps markdown, outputs and error banners.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from xlt_lib.errors import RunRecordError
from xlt_lib.experiment.records import atomic_write_text


def render_notebook(
    notebook: str | os.PathLike[str], html: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write ``html`` from ``notebook`` (inputs hidden); skipped when ``html`` is newer, unless ``force``."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook, html = Path(notebook), Path(html)
    if not force and html.is_file() and html.stat().st_mtime >= notebook.stat().st_mtime:
        return html
    try:
        node = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError) as exc:
        raise RunRecordError(f"{notebook}: not a readable notebook: {exc}") from exc
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    quiet = logging.getLogger("xlt_lib.report.nbconvert")
    quiet.setLevel(logging.ERROR)  # "alternative text is missing" for every plot is noise in batch output
    exporter.log = quiet
    body, _ = exporter.from_notebook_node(node, resources={"metadata": {"name": notebook.parent.name}})
    return atomic_write_text(html, body)
