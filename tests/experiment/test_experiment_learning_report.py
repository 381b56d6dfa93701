"""Degenerate runs are said loudly: recorded in metrics.json, one warning line each, top of the index page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from experiment_fakes import FAKE_EXPERIMENT
from fake_notebooks import write_fake_notebooks

from xlt_lib.cli import main
from xlt_lib.experiment import execute, load_experiment, plan, records
from xlt_lib.report.build import build_report
from xlt_lib.report.learning import learning_warnings
from xlt_lib.report.results import LEARNING_COLUMNS, learning_runs

#: Phase 3 without intermediate training predicts class 0 everywhere; after intermediate training it
#: gets 80 % of 100 English items right. The verdict comes from the real check.
BODY = """\
from pathlib import Path
import pandas as pd
from xlt_lib.experiment import records
from xlt_lib.training.learning import check_transfer

run = Path(run_dir)
if target is None:
    (run / "encoder").mkdir()
    records.finish_run(run, {"phase": "intermediate", "task": task, "dev": {"accuracy": 0.5}})
else:
    learned = encoder is not None and "intermediate-" in str(encoder)
    rows = [
        {"id": f"{target}-test-{i:05d}", "language": lang, "gold": i % 3,
         "prediction": (i % 3 if i % 5 else (i + 1) % 3) if learned else 0}
        for lang in ("en", "de") for i in range(100)
    ]
    frame = pd.DataFrame(rows)
    per_language = {
        lang: {"accuracy": float((g["gold"] == g["prediction"]).mean()), "macro_f1": 0.3, "n": len(g)}
        for lang, g in frame.groupby("language")
    }
    metrics = {
        "phase": "transfer", "target": target, "eval_split": eval_split, "per_language": per_language,
        "average": {"accuracy": sum(s["accuracy"] for s in per_language.values()) / 2, "macro_f1": 0.3},
        "train": {"examples": 8},
        "learning": check_transfer(
            frame["gold"].tolist(), frame["prediction"].tolist(), frame["language"].tolist(),
            num_classes=3, train_loss=1.0986 if not learned else 0.6,
        ).to_dict(),
    }
    records.finish_run(run, metrics, predictions=frame)
"""


def test_a_constant_run_is_flagged_warned_about_and_named_at_the_top_of_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    notebooks = write_fake_notebooks(tmp_path / "notebooks", BODY)
    path = tmp_path / "fake.yaml"
    path.write_text(FAKE_EXPERIMENT)
    experiment = load_experiment(path)
    the_plan = plan(experiment)
    summary = execute(the_plan, notebooks_dir=notebooks, log=lambda line: None)
    assert [outcome.status for outcome in summary.outcomes] == ["complete"] * 3

    by_condition = {}
    for run in the_plan.runs:
        if run.spec.phase == "transfer":
            by_condition[run.spec.condition] = records.read_json(run.run_dir / records.METRICS)["learning"]
    assert by_condition["base"]["learned"] is False
    assert any("predicts one class (0)" in reason for reason in by_condition["base"]["reasons"])
    assert by_condition["mono"]["learned"] is True and by_condition["mono"]["reasons"] == []

    table = learning_runs(the_plan.directory)
    assert list(table.columns) == list(LEARNING_COLUMNS) and len(table) == 2  # phase 2 recorded none
    lines = learning_warnings(table)
    assert lines == [
        "xnli, no intermediate training (base): 1 of 1 runs did not learn (seed 1): "
        "it predicts one class (0) in every language"
    ]

    index = build_report(
        experiment, significance=False, reports_root=tmp_path / "reports", log=lambda _: None
    )
    page = index.read_text()
    assert "Runs that did not learn" in page and lines[0] in page
    assert page.index("Runs that did not learn") < page.index("<h2>Results</h2>")

    monkeypatch.setenv("XLT_REPORTS_DIR", str(tmp_path / "reports"))
    capsys.readouterr()
    assert main(["report", str(path), "--no-significance"]) == 0
    assert f"warning: did not learn: {lines[0]}" in capsys.readouterr().err


def test_a_target_on_which_no_run_learned_gets_one_line_saying_so() -> None:
    runs = pd.DataFrame(
        [
            {
                "run_id": f"transfer-{seed}{kind}",
                "phase": "transfer",
                "target": "pawsx",
                "intermediate": "mnli" if kind != "none" else "none",
                "condition": kind,
                "condition_kind": kind,
                "seed": seed,
                "learned": False,
                "reasons": ("it predicts one class (0) in every language",),
                "train_examples": 800,
            }
            for seed in (1, 2)
            for kind in ("none", "monolingual")
        ],
        columns=list(LEARNING_COLUMNS),
    )
    assert learning_warnings(runs) == [
        "pawsx: no run learned (all predict a single class, 4 runs); train on more examples or for longer "
        "(the runs trained on 800 examples) before comparing conditions"
    ]
    runs["learned"] = True
    assert learning_warnings(runs) == []


def test_the_measured_threshold_is_named_for_the_offline_default() -> None:
    runs = pd.DataFrame(
        [
            {
                "run_id": f"transfer-{seed}",
                "phase": "transfer",
                "target": "pawsx",
                "intermediate": "none",
                "condition": "none",
                "condition_kind": "none",
                "seed": seed,
                "learned": False,
                "reasons": ("it predicts one class (0) in every language",),
                "train_examples": 800,
                "model": "offline-default",
            }
            for seed in (1, 2)
        ],
        columns=list(LEARNING_COLUMNS),
    )
    assert learning_warnings(runs) == [
        "pawsx: no run learned (all predict a single class, 2 runs); train on at least 4,000 pairs (the runs "
        "trained on 800 examples), where the offline-default model was measured to learn it, before comparing "
        "conditions"
    ]
    runs["model"] = "xlm-roberta-base"  # nothing measured: the generic advice
    assert "train on more examples or for longer" in learning_warnings(runs)[0]
