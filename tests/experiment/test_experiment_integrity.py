"""Issue 19 on the runner: damaged records are redone by a plain run and set aside, never deleted."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from experiment_fakes import FAKE_EXPERIMENT, write_fake_notebooks

from xlt_lib.cli import main
from xlt_lib.commands import experiment as experiment_commands
from xlt_lib.errors import ConfigError
from xlt_lib.experiment import execute, executors, load_experiment, manifest, plan, records
from xlt_lib.model import load_tokenizer, model_identity
from xlt_lib.report import build
from xlt_lib.training import TrainingSettings
from xlt_lib.training.encoder_io import save_encoder
from xlt_lib.training.heads import load_with_head


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    notebooks = write_fake_notebooks(tmp_path / "notebooks")
    monkeypatch.setenv("XLT_TEST_MARKERS", str(tmp_path / "markers"))
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    path = tmp_path / "fake.yaml"
    path.write_text(FAKE_EXPERIMENT)
    return load_experiment(path), notebooks


def test_a_damaged_record_is_set_aside_and_redone(setup) -> None:
    experiment, notebooks = setup
    assert execute(plan(experiment), notebooks_dir=notebooks, log=lambda _: None).ok
    first = plan(experiment)
    assert not first.to_execute
    baseline = first.runs[1]
    listed = json.loads((baseline.run_dir / records.MANIFEST).read_text())["files"]
    assert records.EXECUTED in listed, "the runner adds the executed notebook once papermill saved it"

    predictions = baseline.run_dir / records.PREDICTIONS
    damaged_bytes = predictions.read_bytes()[:50]
    predictions.write_bytes(damaged_bytes)
    second = plan(experiment)
    assert [run.state for run in second.runs] == ["complete", "damaged", "complete"]
    assert [run.execute for run in second.runs] == [False, True, False]

    lines: list[str] = []
    summary = execute(second, notebooks_dir=notebooks, log=lines.append)
    assert {o.run_id: o.status for o in summary.outcomes}[baseline.spec.run_id] == "complete"
    kept = list((second.directory / records.SET_ASIDE).glob(f"{baseline.spec.run_id}-*"))
    assert len(kept) == 1 and (kept[0] / records.PREDICTIONS).read_bytes() == damaged_bytes
    assert any("set aside damaged record" in line for line in lines)
    assert not plan(experiment).to_execute, "the redone record is whole; the set-aside one is not a run"


def _failing_significance(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "xlt", "display_name": "Python (xlt)", "language": "python"}
    params = nbformat.v4.new_code_cell(
        "experiment_dir = None\nalpha = 0.05\ncorrection = None\nn_resamples = 0\nseed = 0"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("raise ValueError('planned significance failure')")]
    nbformat.write(nb, folder / "significance.ipynb")


def test_run_and_report_exit_nonzero_naming_what_failed(
    setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19 case 5: a failed significance notebook used to leave `xlt run` and `xlt report` at 0."""
    experiment, notebooks = setup
    _failing_significance(notebooks)
    monkeypatch.setattr(executors, "default_notebooks_dir", lambda: notebooks)
    monkeypatch.setattr(build, "default_notebooks_dir", lambda: notebooks)
    monkeypatch.setenv("XLT_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["run", str(experiment.path), "--local"]) == 1
    err = capsys.readouterr().err
    assert "xlt run fake: FAILED: report: the significance notebook failed: ValueError" in err
    assert main(["report", str(experiment.path)]) == 1
    assert "xlt report fake: FAILED: report: the significance notebook failed" in capsys.readouterr().err
    assert main(["report", str(experiment.path), "--no-significance"]) == 0

    (tmp_path / "markers").mkdir()
    (tmp_path / "markers" / f"fail-{plan(experiment).runs[0].spec.run_id}").touch()
    assert main(["run", str(experiment.path), "--local", "--force", "--no-report"]) == 1
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith("xlt run fake: FAILED: failed intermediate-") and "blocked transfer-" in summary


def test_check_lists_every_problem_with_its_fix(setup, capsys: pytest.CaptureFixture[str]) -> None:
    experiment, notebooks = setup
    assert main(["check", str(experiment.path)]) == 0  # nothing recorded yet is not a problem
    assert execute(plan(experiment), notebooks_dir=notebooks, log=lambda _: None).ok
    assert main(["check", str(experiment.path)]) == 0
    assert "3 record(s) whole, 0 problem(s)" in capsys.readouterr().out

    runs = plan(experiment).runs
    parent, baseline, child = runs
    shutil.rmtree(parent.run_dir / records.ENCODER)  # the README says encoders are large: users delete them
    (baseline.run_dir / records.METRICS).write_text("{}")
    assert main(["check", str(experiment.path)]) == 1
    out = capsys.readouterr().out
    assert f"{parent.spec.run_id}: damaged: encoder/" in out and "redoes it" in out
    assert f"{baseline.spec.run_id}: damaged: metrics.json" in out
    assert f"{child.spec.run_id}: its parent {parent.spec.run_id}" in out and "redoes the parent" in out


def test_check_reports_an_encoder_whose_base_model_is_gone(
    setup, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An encoder that references its base's frozen tensors is only whole while that base is."""
    experiment, notebooks = setup
    assert execute(plan(experiment), notebooks_dir=notebooks, log=lambda _: None).ok
    parent = plan(experiment).runs[0]
    base = Path(shutil.copytree(tiny_model_dir, tmp_path / "base"))
    model = load_with_head(base, "classification", ("a", "b"), TrainingSettings(freeze_word_embeddings=True))
    encoder = parent.run_dir / records.ENCODER
    record = {"parent_model": model_identity(str(base)), "task": "mnli"}
    save_encoder(model, load_tokenizer(str(base)), encoder, record, storage="changed")
    for path in sorted(encoder.iterdir()):  # as if the run had written them
        records.add_to_manifest(parent.run_dir, f"{records.ENCODER}/{path.name}")
    assert main(["check", str(experiment.path)]) == 0
    capsys.readouterr()

    shutil.rmtree(base)
    assert main(["check", str(experiment.path)]) == 1
    out = capsys.readouterr().out
    assert f"{parent.spec.run_id}: " in out and f"its base model {str(base)!r} is missing" in out
    assert "re-run the parent" in out and "its parent" in out  # the child is named too


def test_check_reads_every_byte_where_a_plan_reads_heads(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large files (encoder weights) are verified by size and first MiB per plan, in full by `xlt check`."""
    experiment, notebooks = setup
    monkeypatch.setattr(manifest, "QUICK_HASH_LIMIT", 16)
    assert execute(plan(experiment), notebooks_dir=notebooks, log=lambda _: None).ok
    baseline = plan(experiment).runs[1]
    path = baseline.run_dir / records.PREDICTIONS
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF  # a flipped byte past the head, same size
    path.write_bytes(bytes(data))
    assert plan(experiment).runs[1].state == "complete"
    assert manifest.verify(baseline.run_dir, full=True) == [
        "predictions.parquet is not the file the run wrote (sha256 differs)"
    ]


def test_a_max_length_too_short_for_qa_windows_is_refused_by_validation(tmp_path: Path) -> None:
    """Issue 19: ``max_length: 48`` used to start the run and panic in the QA tokenizer (stride vs. max_len)."""
    document = yaml.safe_load(FAKE_EXPERIMENT)
    document["intermediate_tasks"] = [{"multitask": {"name": "mt", "tasks": ["mnli", "tydiqa_en"]}}]
    document["settings"]["max_length"] = 48
    path = tmp_path / "fake.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(
        ConfigError, match=r"settings.max_length: max_length=48 cannot work for .*'tydiqa_en'.* 64"
    ):
        load_experiment(path)
    document["settings"]["max_length"] = (
        64  # params/multitask.yaml's value: enough for every mirrored question
    )
    path.write_text(yaml.safe_dump(document))
    load_experiment(path)
    document["settings"]["doc_stride"] = 30
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="smallest value that works is 73"):
        load_experiment(path)


def test_a_full_disk_while_saving_the_executed_notebook_names_it_and_records_the_failure(
    setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: papermill's plain writes left half a notebook, no file name and no error.json."""
    experiment, notebooks = setup
    monkeypatch.setenv(records.FAULT_ENOSPC_VARIABLE, records.EXECUTED)  # as a full disk, for that file
    the_plan = plan(experiment)
    summary = execute(the_plan, notebooks_dir=notebooks, log=lambda _: None)
    assert {o.status for o in summary.outcomes} == {"failed", "blocked"}
    phase2 = the_plan.runs[0].run_dir
    error = records.read_error(phase2)
    assert "No space left on device" in error["evalue"] and str(phase2 / records.EXECUTED) in error["evalue"]
    assert not (phase2 / records.EXECUTED).exists() and not list(phase2.glob(".*.tmp"))


def test_a_truncated_phase_notebook_is_named_even_by_dry_run(
    setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment, notebooks = setup
    broken = tmp_path / "broken-notebooks"
    shutil.copytree(notebooks, broken)
    text = (broken / "transfer.ipynb").read_text()
    (broken / "transfer.ipynb").write_text(text[: len(text) // 2])
    monkeypatch.setattr(experiment_commands, "default_notebooks_dir", lambda: broken)
    assert main(["run", str(experiment.path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{broken / 'transfer.ipynb'}: not a valid notebook" in err and "git checkout" in err


@pytest.mark.parametrize("command", ["run", "report"])
def test_a_read_only_runs_or_reports_folder_is_a_named_error(
    setup, command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment, _notebooks = setup
    where = "/mnt/ro/runs/fake" if command == "run" else "/mnt/ro/reports/fake/index.html"

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), where)

    target = experiment_commands.execute if command == "run" else experiment_commands.build_report
    monkeypatch.setattr(experiment_commands, target.__name__, refuse)
    assert main([command, str(experiment.path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {where}: read-only file system" in err and "Traceback" not in err


_INTERRUPTIBLE = """\
import sys
from pathlib import Path
from xlt_lib.cli import main
from xlt_lib.experiment import executors, runner
runner.default_notebooks_dir = executors.default_notebooks_dir = lambda: Path(sys.argv[1])
sys.exit(main(sys.argv[2:]))
"""


def test_ctrl_c_leaves_one_line_and_no_kernel_traceback(setup, tmp_path: Path) -> None:
    """Issue 19: Ctrl-C during a run printed a ZMQError traceback from the notebook kernel."""
    experiment, notebooks = setup
    markers = tmp_path / "markers"
    markers.mkdir()
    run_dir = plan(experiment).runs[0].run_dir
    (markers / f"sleep-{run_dir.name}").touch()
    env = {
        **os.environ,
        "XLT_TEST_MARKERS": str(markers),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _INTERRUPTIBLE,
            str(notebooks),
            "run",
            str(experiment.path),
            "--local",
            "--no-report",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell's foreground job
    )
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / "started").exists():
            assert runner.poll() is None and time.monotonic() < deadline, "the run never started"
            time.sleep(0.2)
        time.sleep(1.0)
        os.killpg(runner.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        _out, err = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 130
    assert err.strip() == "xlt run: interrupted", err
