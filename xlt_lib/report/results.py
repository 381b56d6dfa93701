"""Reading an experiment's run records into tidy tables.

The significance notebook and the report read results only through this module,
and only from files the runs wrote (see "One run's record" in ARCHITECTURE.md):
``config.yaml`` says what a run was, ``metrics.json`` (written last, atomically)
says that it finished and what it scored, ``predictions.parquet`` holds its
per-example predictions. A run without ``metrics.json`` is incomplete and is
never read as a result; `incomplete_runs` lists such runs so that a report can
say what is missing. pandas is imported by the functions that return tables:
``xlt run`` imports this module through the report builder.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from xlt_lib.conditions import CONDITION_KINDS
from xlt_lib.errors import RunRecordError

if TYPE_CHECKING:
    import pandas as pd

#: Columns of `load_results`, in order (the contract in ARCHITECTURE.md).
RESULT_COLUMNS: tuple[str, ...] = (
    "experiment",
    "run_id",
    "target",
    "intermediate",
    "condition",
    "condition_kind",
    "seed",
    "language",
    "accuracy",
    "macro_f1",
    "n",
    "predictions_path",
)
#: Keys a phase-3 ``config.yaml`` must have for its run to be placed in a comparison.
REQUIRED_CONFIG_KEYS: tuple[str, ...] = ("target", "intermediate", "condition", "condition_kind", "seed")
PREDICTION_COLUMNS: tuple[str, ...] = ("id", "language", "gold", "prediction")

TRANSFER_PHASE = "transfer"
CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.parquet"


def _experiment_dir(experiment_dir: str | os.PathLike[str]) -> Path:
    path = Path(experiment_dir).expanduser()
    if not path.is_dir():
        raise RunRecordError(
            f"{path}: no such experiment directory (expected runs/<experiment>/ with one folder per run)"
        )
    return path


def _run_dirs(experiment_dir: Path) -> list[Path]:
    return sorted(p for p in experiment_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _read_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise RunRecordError(f"{path}: missing; every run folder records its settings in {CONFIG_FILE}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunRecordError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(config, dict):
        raise RunRecordError(f"{path}: expected a mapping of settings, got {type(config).__name__}")
    return config


def _read_metrics(path: Path) -> dict[str, Any]:
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunRecordError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(metrics, dict):
        raise RunRecordError(f"{path}: expected a JSON object, got {type(metrics).__name__}")
    return metrics


def _phase(config: dict[str, Any], metrics: dict[str, Any] | None) -> str | None:
    phase = config.get("phase")
    if phase is None and metrics is not None:
        phase = metrics.get("phase")
    return phase


def _string(config: dict[str, Any], key: str, path: Path) -> str:
    value = config[key]
    if key == "intermediate" and value is None:
        return "none"
    if not isinstance(value, str) or not value:
        raise RunRecordError(f"{path}: key '{key}' must be a non-empty string, got {value!r}")
    return value


def _run_identity(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    path = run_dir / CONFIG_FILE
    missing = [key for key in REQUIRED_CONFIG_KEYS if key not in config]
    if missing:
        raise RunRecordError(
            f"{path}: a phase-3 run needs key(s) {', '.join(missing)} "
            f"(expected all of {', '.join(REQUIRED_CONFIG_KEYS)})"
        )
    run_id = config.get("run_id", run_dir.name)
    if str(run_id) != run_dir.name:
        raise RunRecordError(f"{path}: run_id {run_id!r} does not match its folder name {run_dir.name!r}")
    seed = config["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RunRecordError(f"{path}: key 'seed' must be an integer, got {seed!r}")
    kind = _string(config, "condition_kind", path)
    if kind not in CONDITION_KINDS:
        raise RunRecordError(
            f"{path}: key 'condition_kind' is {kind!r}; expected one of {', '.join(CONDITION_KINDS)}"
        )
    intermediate = _string(config, "intermediate", path)
    if (kind == "none") != (intermediate == "none"):
        raise RunRecordError(
            f"{path}: condition_kind {kind!r} with intermediate {intermediate!r}; "
            "runs without intermediate training have intermediate 'none', and only they"
        )
    return {
        "experiment": str(config.get("experiment", run_dir.parent.name)),
        "run_id": run_dir.name,
        "target": _string(config, "target", path),
        "intermediate": intermediate,
        "condition": _string(config, "condition", path),
        "condition_kind": kind,
        "seed": seed,
    }


def _number(value: Any, where: str, *, integer: bool = False) -> float | int:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (integer and int(value) != value):
        kind = "an integer" if integer else "a finite number"
        raise RunRecordError(f"{where}: expected {kind}, got {value!r}")
    return int(value) if integer else float(value)


def _language_rows(metrics: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    per_language = metrics.get("per_language")
    if not isinstance(per_language, dict) or not per_language:
        raise RunRecordError(f"{path}: key 'per_language' must map each evaluated language to its metrics")
    rows = []
    for language, scores in per_language.items():
        where = f"{path}: per_language.{language}"
        if not isinstance(scores, dict) or "accuracy" not in scores or "n" not in scores:
            raise RunRecordError(f"{where}: expected an object with 'accuracy' and 'n' (and 'macro_f1')")
        accuracy = _number(scores["accuracy"], f"{where}.accuracy")
        if not 0 <= accuracy <= 1:
            raise RunRecordError(f"{where}.accuracy: expected a fraction in [0, 1], got {accuracy!r}")
        macro_f1 = scores.get("macro_f1")
        rows.append(
            {
                "language": str(language),
                "accuracy": accuracy,
                "macro_f1": float("nan") if macro_f1 is None else _number(macro_f1, f"{where}.macro_f1"),
                "n": _number(scores["n"], f"{where}.n", integer=True),
            }
        )
    return rows


def load_results(experiment_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """All completed phase-3 runs of an experiment, one row per (run, language).

    Reads ``<experiment_dir>/<run-id>/config.yaml`` and ``metrics.json`` of every
    run folder that has a ``metrics.json`` and whose phase is ``transfer``
    (phase-2 runs and incomplete runs are skipped). Columns: `RESULT_COLUMNS`;
    ``predictions_path`` is the run's ``predictions.parquet`` as a string, or
    None when the run did not write one. Sorted by target, intermediate,
    condition, seed, language. An experiment without completed phase-3 runs
    gives an empty table with these columns.

    Raises `RunRecordError`, naming the file and key, for a missing folder, a
    completed run without ``config.yaml``, a missing or ill-typed config key
    (`REQUIRED_CONFIG_KEYS`), or malformed metrics.
    """
    import pandas as pd

    root = _experiment_dir(experiment_dir)
    rows: list[dict[str, Any]] = []
    for run_dir in _run_dirs(root):
        metrics_path = run_dir / METRICS_FILE
        if not metrics_path.is_file():
            continue
        config = _read_config(run_dir)
        metrics = _read_metrics(metrics_path)
        if _phase(config, metrics) != TRANSFER_PHASE:
            continue
        identity = _run_identity(config, run_dir)
        predictions = run_dir / PREDICTIONS_FILE
        for language_row in _language_rows(metrics, metrics_path):
            rows.append(
                {
                    **identity,
                    **language_row,
                    "predictions_path": str(predictions) if predictions.is_file() else None,
                }
            )
    table = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    if table.empty:
        return table
    table["seed"] = table["seed"].astype("int64")
    table["n"] = table["n"].astype("int64")
    order = ["target", "intermediate", "condition", "seed", "language"]
    return table.sort_values(order, kind="stable").reset_index(drop=True)


#: Columns of `learning_runs`, in order.
LEARNING_COLUMNS: tuple[str, ...] = (
    "run_id",
    "phase",
    "target",
    "intermediate",
    "condition",
    "condition_kind",
    "seed",
    "learned",
    "reasons",
    "train_examples",
    "model",
)


def learning_runs(experiment_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Whether each completed run learned: one row per run with a ``learning`` record.

    Reads the ``learning`` entry that training writes into ``metrics.json``
    (`xlt_lib.training.learning`): ``learned`` and the ``reasons`` when it did not.
    ``target`` is the phase-3 target, or for phase 2 the intermediate task; ``train_examples`` the
    distinct training examples the run saw. Runs written before xlt recorded this,
    and formats it does not judge, have no row. Columns: `LEARNING_COLUMNS`.
    """
    import pandas as pd

    root = _experiment_dir(experiment_dir)
    rows = []
    for run_dir in _run_dirs(root):
        metrics_path = run_dir / METRICS_FILE
        if not metrics_path.is_file():
            continue
        metrics = _read_metrics(metrics_path)
        learning = metrics.get("learning")
        if not isinstance(learning, dict) or "learned" not in learning:
            continue
        config = _read_config(run_dir)
        rows.append(
            {
                "run_id": run_dir.name,
                "phase": _phase(config, metrics),
                "target": config.get("target") or config.get("intermediate"),
                "intermediate": config.get("intermediate") or "none",
                "condition": config.get("condition"),
                "condition_kind": config.get("condition_kind"),
                "seed": config.get("seed"),
                "learned": bool(learning["learned"]),
                "reasons": tuple(str(reason) for reason in learning.get("reasons", ())),
                "train_examples": (metrics.get("train") or {}).get("examples"),
                "model": config.get("model"),
            }
        )
    return pd.DataFrame(rows, columns=list(LEARNING_COLUMNS))


def incomplete_runs(experiment_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Run folders of an experiment without ``metrics.json`` (not finished, failed, or still running).

    Columns ``run_id, phase, target, intermediate, condition, seed, has_notebook``
    (None where ``config.yaml`` is absent or lacks the key); ``has_notebook``
    says whether papermill left an ``executed.ipynb`` to look at for the error.
    """
    import pandas as pd

    root = _experiment_dir(experiment_dir)
    rows = []
    for run_dir in _run_dirs(root):
        if (run_dir / METRICS_FILE).is_file():
            continue
        try:
            config = _read_config(run_dir)
        except RunRecordError:
            config = {}
        rows.append(
            {
                "run_id": run_dir.name,
                "phase": config.get("phase"),
                "target": config.get("target"),
                "intermediate": config.get("intermediate"),
                "condition": config.get("condition"),
                "seed": config.get("seed"),
                "has_notebook": (run_dir / "executed.ipynb").is_file(),
            }
        )
    columns = ["run_id", "phase", "target", "intermediate", "condition", "seed", "has_notebook"]
    return pd.DataFrame(rows, columns=columns)


def load_predictions(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A phase-3 run's per-example predictions: columns ``id, language, gold, prediction``.

    ``id`` and ``language`` come back as strings, ``gold`` and ``prediction`` as
    int64 label indices. Raises `RunRecordError` naming the file when it is
    missing or unreadable, lacks a column, has missing values, or holds
    non-integer labels.
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise RunRecordError(f"{file}: no such predictions file")
    try:
        frame = pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise RunRecordError(f"{file}: cannot be read as parquet ({exc})") from exc
    missing = [column for column in PREDICTION_COLUMNS if column not in frame.columns]
    if missing:
        raise RunRecordError(
            f"{file}: lacks column(s) {', '.join(missing)}; expected {', '.join(PREDICTION_COLUMNS)}"
        )
    frame = frame[list(PREDICTION_COLUMNS)]
    empty = frame.isna().any()
    if empty.any():
        columns = ", ".join(empty.index[empty])
        raise RunRecordError(f"{file}: missing values in column(s) {columns}")
    for column in ("gold", "prediction"):
        if not pd.api.types.is_integer_dtype(frame[column]):
            raise RunRecordError(
                f"{file}: column '{column}' must hold integer label indices, got dtype {frame[column].dtype}"
            )
    return pd.DataFrame(
        {
            "id": frame["id"].astype(str),
            "language": frame["language"].astype(str),
            "gold": frame["gold"].astype("int64"),
            "prediction": frame["prediction"].astype("int64"),
        }
    )
