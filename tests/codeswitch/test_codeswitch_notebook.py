"""The exploration notebook runs under papermill on the offline data (MNLI into all 14 languages)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "codeswitch_explorer.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)] == []
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


@pytest.mark.slow
def test_notebook_runs_under_papermill(tmp_path: Path, data_dir: Path) -> None:
    import papermill

    out = tmp_path / "explorer.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"task": "mnli", "n_examples": 300, "n_show": 3, "data_dir": str(data_dir)},
        kernel_name="xlt",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "<mark" in html and "xlt-codeswitch" in html
    assert any("image/png" in o.get("data", {}) for o in outputs)
    text = "".join(o.get("text", "") for o in outputs)
    assert "switched" in text and "expected" in text
    # Swahili and Urdu come from the extra dictionaries and appear in the tables.
    assert "sw" in html and "ur" in html
