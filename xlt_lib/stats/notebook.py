"""What the significance notebook needs besides the tests: checked parameters, saved outputs, compact HTML.

papermill passes parameters through YAML 1.1 (``-f params.yaml`` or ``-p``),
where ``1e-5`` stays a string and ``no`` becomes False, so the notebook hands
its parameters here to be checked before anything runs. Its tables are saved as
files (written atomically), because a report must show what a file holds, not
what a kernel remembered. Long detail tables are shown folded (`collapsed_table`)
so that the rendered report stays a few screens tall.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xlt_lib.atomic import atomic_write_text
from xlt_lib.stats.conclusions import Conclusion
from xlt_lib.stats.errors import StatsError
from xlt_lib.stats.settings import (
    DEFAULT_ALPHA,
    DEFAULT_CORRECTION,
    DEFAULT_N_RESAMPLES,
    DEFAULT_PER_SEED,
    DEFAULT_SEED,
    DEFAULT_TEST,
    check_significance_settings,
)


@dataclass(frozen=True)
class SignificanceParameters:
    """The significance notebook's parameters, checked."""

    experiment_dir: Path
    alpha: float
    correction: str
    n_resamples: int
    seed: int
    test: str
    require_baseline: bool
    output_dir: Path | None
    per_seed: bool = True
    conclusions_file: Path | None = None


def check_parameters(
    *,
    experiment_dir: object,
    alpha: object = DEFAULT_ALPHA,
    correction: object = DEFAULT_CORRECTION,
    n_resamples: object = DEFAULT_N_RESAMPLES,
    seed: object = DEFAULT_SEED,
    test: object = DEFAULT_TEST,
    require_baseline: object = False,
    output_dir: object = "",
    per_seed: object = DEFAULT_PER_SEED,
    conclusions_file: object = "",
) -> SignificanceParameters:
    """Check types and ranges of the notebook's parameters; `StatsError` names the parameter.

    The significance settings are checked by `xlt_lib.stats.settings.check_significance_settings`,
    the same function the experiment file's ``significance:`` block goes through.
    """
    if not isinstance(experiment_dir, str | os.PathLike) or not str(experiment_dir):
        raise StatsError(
            f"parameter experiment_dir={experiment_dir!r}: expected the path of runs/<experiment>/ "
            "(papermill -p experiment_dir runs/demo)"
        )
    try:
        values = check_significance_settings(
            alpha=alpha,
            correction=correction,
            n_resamples=n_resamples,
            seed=seed,
            test=test,
            per_seed=per_seed,
        )
    except StatsError as exc:
        raise StatsError(f"parameter {exc}") from None
    if not isinstance(require_baseline, bool):
        raise StatsError(f"parameter require_baseline={require_baseline!r}: expected true or false")
    if not isinstance(output_dir, str | os.PathLike):
        raise StatsError(f"parameter output_dir={output_dir!r}: expected a folder path or ''")
    if not isinstance(conclusions_file, str | os.PathLike):
        raise StatsError(f"parameter conclusions_file={conclusions_file!r}: expected a file path or ''")
    return SignificanceParameters(
        experiment_dir=Path(experiment_dir).expanduser(),
        alpha=values.alpha,
        correction=values.correction,
        n_resamples=values.n_resamples,
        seed=values.seed,
        test=values.test,
        require_baseline=require_baseline,
        output_dir=Path(output_dir).expanduser() if str(output_dir) else None,
        per_seed=values.per_seed,
        conclusions_file=Path(conclusions_file).expanduser() if str(conclusions_file) else None,
    )


def save_outputs(output_dir: Path, tables: dict[str, pd.DataFrame], summary: str) -> list[Path]:
    """Write each table as ``<name>.csv`` and the summary as ``summary.md``, each atomically.

    ``summary.md`` is written last, so its presence means the other files are complete.
    """
    written = []
    for name, table in tables.items():
        path = output_dir / f"{name}.csv"
        atomic_write_text(path, table.to_csv(index=False))
        written.append(path)
    path = output_dir / "summary.md"
    atomic_write_text(path, summary)
    written.append(path)
    return written


def save_conclusions(path: Path, found: list[Conclusion]) -> Path:
    """Write the conclusions as a JSON list (`Conclusion.as_record`), atomically.

    The experiment's index page shows their ``sentence`` fields, so that it says
    exactly what the significance report says.
    """
    records = [conclusion.as_record() for conclusion in found]
    text = json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def collapsed_table(frame: pd.DataFrame, title: str) -> str:
    """``frame`` as an HTML table inside a closed ``<details>`` element titled ``title``.

    Plain HTML folds without JavaScript, so the same output folds in JupyterLab
    and in the nbconvert-rendered report; the row count is in the title so a
    reader knows what opening it shows.
    """
    table = frame.to_html(index=False, border=0, na_rep="", classes="xlt-details")
    return (
        f"<details><summary>{html.escape(title)} ({len(frame)} rows)</summary>"
        f'<div style="max-height: 32em; overflow: auto">{table}</div></details>'
    )
