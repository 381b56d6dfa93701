"""Reports: reading run records into tables (`xlt_lib.report.results`) and rendering them.

- `build_report(experiment)` -> ``reports/<experiment>/index.html`` (`xlt_lib.report.build`):
  results table (mean ± sd over seeds), plots, the significance report, failed runs,
  and every executed notebook rendered without code (`xlt_lib.report.render`).
"""

from xlt_lib.report.build import build_report, report_dir
from xlt_lib.report.render import render_notebook

__all__ = ["build_report", "render_notebook", "report_dir"]
