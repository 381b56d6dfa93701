"""``reports/<experiment>/index.html``: results, plots, significance, failures, every run's report.

Everything shown comes from files runs wrote: the results table from
`xlt_lib.report.results.load_results`, failures from each run's ``error.json``,
per-run pages from each ``executed.ipynb`` (rendered without code). The
significance report is ``notebooks/significance.ipynb`` executed by papermill
into the report folder and rendered the same way.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlt_lib.conditions import CONDITION_KINDS
from xlt_lib.errors import XltError
from xlt_lib.experiment import records
from xlt_lib.experiment.config import Experiment
from xlt_lib.experiment.runner import KERNEL_NAME, Plan, default_notebooks_dir, plan
from xlt_lib.paths import reports_dir
from xlt_lib.report.learning import learning_warnings
from xlt_lib.report.render import render_notebook
from xlt_lib.report.results import learning_runs, load_results
from xlt_lib.report.template import INDEX_TEMPLATE

Log = Callable[[str], None]
SIGNIFICANCE_NOTEBOOK = "significance.ipynb"


def report_dir(experiment: Experiment, reports_root: Path | None = None) -> Path:
    return (reports_root or reports_dir()) / experiment.name


def _what(spec: Any) -> str:
    if spec.phase == "intermediate":
        return f"{spec.intermediate} / {spec.condition}"
    return f"{spec.target}:{spec.eval_split} ← {spec.intermediate} / {spec.condition}"


def _mean_sd(values: Any) -> str:
    values = [float(v) * 100 for v in values]
    if not values:
        return ""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return f"{mean:.1f}"
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5  # sample sd over seeds
    return f"{mean:.1f} ± {sd:.1f}"


_CONDITION_KEYS = ["condition_kind", "condition", "intermediate"]


def _ordered_conditions(frame: Any) -> list[tuple[Any, Any]]:
    """``((kind, condition, intermediate), rows)`` per condition, baseline → monolingual → code-switched."""
    rank = {kind: i for i, kind in enumerate(CONDITION_KINDS)}  # the baseline first
    return sorted(
        frame.groupby(_CONDITION_KEYS), key=lambda item: (rank.get(item[0][0], len(rank)), *item[0][1:])
    )


def _condition_label(condition: str, intermediate: str) -> str:
    """A condition's name in the plot legend; the intermediate task tells apart same-named conditions."""
    return condition if intermediate == "none" else f"{intermediate} / {condition}"


def results_tables(results: Any, splits: dict[str, str]) -> list[dict[str, Any]]:
    """One table per target: rows are conditions, cells mean ± sd of accuracy over seeds."""
    tables = []
    for target, frame in results.groupby("target", sort=True):
        languages = sorted(frame["language"].unique(), key=lambda lang: (lang != "en", lang))
        per_run_avg = frame.groupby("run_id")["accuracy"].mean()
        rows = []
        for (kind, condition, intermediate), group in _ordered_conditions(frame):
            cells = [_mean_sd(group.loc[group["language"] == lang, "accuracy"]) for lang in languages]
            cells.append(_mean_sd(per_run_avg.loc[group["run_id"].unique()]))
            rows.append(
                {
                    "condition": condition,
                    "kind": kind,
                    "intermediate": intermediate,
                    "n": group["seed"].nunique(),
                    "cells": cells,
                }
            )
        tables.append(
            {
                "target": target,
                "split": splits.get(str(target), ""),
                "languages": [*languages, "avg"],
                "rows": rows,
                "plot": _plot(frame, str(target), languages),
            }
        )
    return tables


def accuracy_figure(frame: Any, target: str, languages: list[str]) -> Any:
    """Accuracy per language and condition (mean over seeds, sd error bars): a matplotlib figure.

    Bars and legend follow the table's row order (baseline, monolingual, code-switched).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = frame.assign(
        accuracy=frame["accuracy"] * 100,
        label=[
            _condition_label(c, i) for c, i in zip(frame["condition"], frame["intermediate"], strict=True)
        ],
    )
    order = [_condition_label(c, i) for (_, c, i), _ in _ordered_conditions(frame)]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(languages) + 2), 3.4))
    sns.barplot(
        data=data,
        x="language",
        y="accuracy",
        hue="label",
        hue_order=order,
        order=languages,
        errorbar="sd",
        ax=ax,
    )
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{target}: zero-shot accuracy per language (mean ± sd over seeds)")
    # Entries left to right in the table's order (matplotlib fills columns first beyond 4 entries).
    ax.legend(title=None, fontsize="small", ncols=min(len(order), 4), loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def _plot(frame: Any, target: str, languages: list[str]) -> str:
    """`accuracy_figure` as an embedded PNG (``data:`` URL), so the page needs no image files."""
    buffer = io.BytesIO()
    accuracy_figure(frame, target, languages).savefig(buffer, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


#: Beside ``significance.html``: the notebook's conclusions (`xlt_lib.stats.conclusions`), for the index page.
SIGNIFICANCE_CONCLUSIONS = "significance.conclusions.json"


def significance_conclusions(out_dir: Path) -> list[str]:
    """The conclusion sentences the significance notebook wrote into ``out_dir`` (none if it wrote none).

    The index page states exactly these, so that it never words a result
    differently from the significance report it links to.
    """
    path = out_dir / SIGNIFICANCE_CONCLUSIONS
    if not path.is_file():
        return []
    return [str(record["sentence"]) for record in records.read_json(path)]


def run_significance(
    experiment: Experiment, experiment_dir: Path, out_dir: Path, notebooks_dir: Path
) -> tuple[str | None, str]:
    """Execute the significance notebook into ``out_dir`` and render it: (link, message).

    The notebook also writes its conclusions to `SIGNIFICANCE_CONCLUSIONS`
    (removed first, so that a failed run leaves no stale ones).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = notebooks_dir / SIGNIFICANCE_NOTEBOOK
    if not source.is_file():
        return None, f"No significance report: {source} is not there yet."
    executed = out_dir / SIGNIFICANCE_NOTEBOOK
    page = out_dir / "significance.html"
    settings = experiment.significance
    inputs = _significance_inputs(experiment, experiment_dir, source)
    stamp = out_dir / SIGNIFICANCE_STAMP
    if page.is_file() and stamp.is_file():
        previous = records.read_json(stamp)
        # Same runs, same settings, same notebook, and it succeeded (a failure is retried).
        if previous.get("inputs") == inputs and not previous.get("message"):
            return page.name, ""
    logging.getLogger("papermill").setLevel(logging.WARNING)
    message = ""
    conclusions = out_dir / SIGNIFICANCE_CONCLUSIONS
    conclusions.unlink(missing_ok=True)
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters={
                "experiment_dir": str(experiment_dir),
                **dataclasses.asdict(settings),  # every SignificanceSettings field is a notebook parameter
                "conclusions_file": str(conclusions),
            },
            kernel_name=KERNEL_NAME,
            cwd=str(notebooks_dir),
            progress_bar=False,
            log_output=False,
            # as for the phase notebooks (`runner.execute_run`): no kernel start-up warning on the
            # terminal; a cell's error still travels as its output
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as exc:
        message = f"the significance notebook failed: {exc.ename}: {exc.evalue} (cell {exc.exec_count})"
    except Exception as exc:  # kernel could not start or died
        return None, f"The significance notebook could not run: {type(exc).__name__}: {exc}"
    if not executed.is_file():
        return None, message or "The significance notebook wrote no output."
    render_notebook(executed, page, force=True)
    records.atomic_write_json(stamp, {"inputs": inputs, "message": message})
    return page.name, message


#: Beside ``significance.html``: what it was computed from, so an unchanged experiment is not re-tested.
SIGNIFICANCE_STAMP = "significance.inputs.json"


def _significance_inputs(experiment: Experiment, experiment_dir: Path, notebook: Path) -> dict[str, Any]:
    """What the significance report depends on: its settings, its notebook, every run's records.

    Re-running the notebook takes tens of seconds; a rerun of a finished grid (all
    runs skipped) should take seconds, so the report is rebuilt only when one of
    these changed. Files are identified by size and modification time, as make does.
    """
    files = {}
    for name in (records.METRICS, "predictions.parquet"):
        for path in sorted(experiment_dir.glob(f"*/{name}")):
            stat = path.stat()
            files[str(path.relative_to(experiment_dir))] = [stat.st_size, stat.st_mtime_ns]
    return {
        "settings": dataclasses.asdict(experiment.significance),
        "notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        "files": files,
    }


def build_report(
    experiment: Experiment,
    *,
    significance: bool = True,
    runs_root: Path | None = None,
    reports_root: Path | None = None,
    notebooks_dir: Path | None = None,
    log: Log = print,
    problems: list[str] | None = None,
) -> Path:
    """Render every executed notebook and write the experiment's ``index.html``; returns its path.

    ``problems``, when given, receives one line per failure of the report itself (the
    significance notebook failed or could not run), for the command's exit status.
    """
    import jinja2

    the_plan: Plan = plan(experiment, runs_root=runs_root)
    out = report_dir(experiment, reports_root)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    notebooks_dir = Path(notebooks_dir or default_notebooks_dir())

    runs, failed = [], []
    counts = {"total": len(the_plan.runs), "complete": 0, "failed": 0, "pending": 0}
    for run in the_plan.runs:
        spec = run.spec
        link = None
        executed = run.run_dir / records.EXECUTED
        if executed.is_file():
            try:
                render_notebook(executed, out / "runs" / f"{spec.run_id}.html")
                link = f"runs/{spec.run_id}.html"
            except XltError as exc:
                log(f"report: cannot render {executed}: {exc}")
        average = ""
        if run.state == "complete" and spec.phase == "transfer":
            metrics = records.read_json(run.run_dir / records.METRICS)
            average = f"{100 * float(metrics['average']['accuracy']):.1f}"
        counts[
            "complete" if run.state == "complete" else "failed" if run.state == "failed" else "pending"
        ] += 1
        row = {
            "run_id": spec.run_id,
            "phase": spec.phase,
            "what": _what(spec),
            "seed": spec.seed,
            "parent": spec.parent,
            "state": run.state,
            "average": average,
            "link": link,
        }
        runs.append(row)
        if run.state == "failed" and run.error is not None:
            failed.append(
                {
                    **row,
                    "error": f"{run.error.get('ename')}: {run.error.get('evalue')}",
                    "cell": run.error.get("cell"),
                }
            )

    results = load_results(the_plan.directory) if the_plan.directory.is_dir() else None
    tables = (
        []
        if results is None or results.empty
        else results_tables(results, {t.task: t.eval_split for t in experiment.targets})
    )

    learning = learning_warnings(learning_runs(the_plan.directory)) if the_plan.directory.is_dir() else []
    link, message = None, "Significance tests were not requested (--no-significance)."
    if significance:
        if not tables:
            message = "No significance report: no completed phase-3 runs yet."
        else:
            link, message = run_significance(experiment, the_plan.directory, out, notebooks_dir)
            if message and problems is not None and not message.startswith("No significance report"):
                problems.append(f"report: {message}")
    page = (
        jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        .from_string(INDEX_TEMPLATE)
        .render(
            experiment=experiment,
            runs_dir=the_plan.directory,
            generated=dt.datetime.now().isoformat(timespec="seconds"),
            counts=counts,
            tables=tables,
            significance={
                "link": link,
                "message": message,
                "conclusions": significance_conclusions(out) if link else [],
            },
            failed=failed,
            runs=runs,
            learning=learning,
        )
    )
    index = records.atomic_write_text(out / "index.html", page)
    log(f"report: {index} ({counts['complete']}/{counts['total']} runs complete, {len(failed)} failed)")
    return index


__all__ = [
    "accuracy_figure",
    "build_report",
    "report_dir",
    "results_tables",
    "run_significance",
    "significance_conclusions",
]
