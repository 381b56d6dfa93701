"""docs/extending.md, followed literally: its files are written and its blocks run as they stand.

Every block marked ``<!-- file: PATH -->`` is written to PATH in a fresh project
folder, every block marked ``<!-- run -->`` is executed there (bash with the
venv's ``xlt`` on PATH, Python in this process). The data the guide assumes is made
here from a few rows of the offline mirror. The slow test then runs the guide's
two experiments for real, on the tiny test encoder instead of the offline default
(the only change to the guide's text).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xlt_lib.codeswitch import CodeSwitchConfig, build_switcher
from xlt_lib.experiment import load_experiment
from xlt_lib.experiment.grid import expand
from xlt_lib.tasks.local import READERS
from xlt_lib.tasks.registry import unregister_task

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "extending.md"
BLOCK = re.compile(r"<!-- (file: (?P<path>\S+)|run) -->\n```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


def guide_blocks() -> list[tuple[str, str | None, str]]:
    """``(language, file path or None for a run block, text)`` in guide order."""
    return [(m["lang"], m["path"], m["body"]) for m in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))]


def _head(source: Path, target: Path, lines: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8") as handle:
        target.write_text("".join(next(handle) for _ in range(lines)), encoding="utf-8")


def make_data(mirror: Path, data: Path) -> None:
    """The data directory the guide assumes: xcopa, PAWS-X with test-de/zh, pipe pairs."""
    rows = [json.loads(line) for line in (mirror / "hellaswag/validation.jsonl").open().readlines()[:24]]
    copa = []
    for i, row in enumerate(rows):
        right, wrong = row["endings"][row["label"]], row["endings"][(row["label"] + 1) % 4]
        choices = (right, wrong) if i % 2 == 0 else (wrong, right)
        copa.append(
            {
                "idx": i,
                "premise": row["ctx"],
                "choice1": choices[0],
                "choice2": choices[1],
                "question": "effect",
                "label": i % 2,
            }
        )
    lines = "".join(json.dumps(record) + "\n" for record in copa)
    (data / "xcopa").mkdir(parents=True)
    (data / "xcopa/train-en.jsonl").write_text(lines)
    (data / "xcopa/val-en.jsonl").write_text("".join(json.dumps(record) + "\n" for record in copa[:12]))
    for language in ("en", "et", "ht"):
        (data / f"xcopa/test-{language}.jsonl").write_text(lines)
    _head(mirror / "pawsx/train-en.tsv", data / "pawsx/train-en.tsv", 41)
    _head(mirror / "pawsx/dev-en.tsv", data / "pawsx/dev-en.tsv", 20)
    _head(mirror / "pawsx/test-en.tsv", data / "pawsx/test-en.tsv", 21)
    for language in ("de", "zh"):  # stand-ins for labelled test files: the English rows, reordered
        header, *body = (data / "pawsx/test-en.tsv").read_text().splitlines(keepends=True)
        (data / f"pawsx/test-{language}.tsv").write_text(header + "".join(reversed(body)))
    pairs = (data / "pawsx/dev-en.tsv").read_text().splitlines()[:5]
    (data / "pipe").mkdir()
    (data / "pipe/dev-en.txt").write_text("".join(" | ".join(p.split("\t")) + "\n" for p in pairs))


def xlt_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def project(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A user project folder with the guide's files and data; user tasks and readers forgotten after."""
    root = tmp_path / "project"
    root.mkdir()
    make_data(data_dir, root / "data")
    for _, path, body in guide_blocks():
        if path is not None:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(body, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XLT_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in ("xcopa", "pipe_paraphrase"):
        unregister_task(name)
    READERS.pop("pipe_pairs", None)
    sys.modules.pop("my_switchers", None)


def run_bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=xlt_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_run_block_of_the_guide_works_as_written(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for language, path, body in guide_blocks():
        if path is not None:
            continue
        if language == "bash":
            result = run_bash(body, project)
            assert result.returncode == 0, f"{body}\n{result.stdout}\n{result.stderr}"
            outputs.append(result.stdout)
        else:
            exec(compile(body, str(GUIDE), "exec"), {"__name__": "guide"})
    text = "\n".join(outputs)
    # 1: xcopa is listed by `xlt data` and planned with every language's test file, read locally
    assert re.search(r"^xcopa\s+multiple_choice", text, re.M)
    for language in ("en", "et", "ht"):
        assert f"xcopa test {language}: local {project}/data/xcopa/test-{language}.jsonl" in text
    # 2: the PAWS-X test files for en, de, zh
    for language in ("en", "de", "zh"):
        assert f"pawsx test {language}: local {project}/data/pawsx/test-{language}.tsv" in text
    # 3: the registered reader read the pipe file
    assert "'text_a':" in capsys.readouterr().out
    # 4: the project's method is used, and it is part of the run ids
    assert "uppercase" in text


def test_a_missing_language_file_fails_before_training_naming_it(project: Path) -> None:
    (project / "data/pawsx/test-zh.tsv").unlink()
    result = run_bash("xlt run params/pawsx-test.yaml --local --no-report", project)
    assert result.returncode != 0
    assert f"pawsx test zh: local {project}/data/pawsx/test-zh.tsv (missing)" in result.stderr
    assert "nothing was run" in result.stderr
    assert not (Path(os.environ["XLT_RUNS_DIR"]) / "pawsx-test").exists()
    dry = run_bash("xlt run params/pawsx-test.yaml --dry-run", project)
    assert dry.returncode == 1 and "test-zh.tsv (missing)" in dry.stdout


def test_task_file_content_and_switching_method_enter_run_ids(project: Path) -> None:
    first = {run.run_id for run in expand(load_experiment(project / "params/xcopa.yaml"))}
    task_file = project / "tasks/xcopa.yaml"
    task_file.write_text(task_file.read_text().replace("num_choices: 2", "num_choices: 2\nnotes: [edited]"))
    unregister_task("xcopa")
    second = {run.run_id for run in expand(load_experiment(project / "params/xcopa.yaml"))}
    assert first.isdisjoint(second)

    upper = project / "params/uppercase.yaml"
    with_method = {run.run_id for run in expand(load_experiment(upper))}
    upper.write_text(upper.read_text().replace(', method: "my_switchers:build"', ""))
    default = {run.run_id for run in expand(load_experiment(upper))}
    assert with_method.isdisjoint(default)

    config = CodeSwitchConfig(languages=("de",), token_ratio=1.0, method="my_switchers:build")
    switched = build_switcher(config).switch_example({"id": "x", "text_a": "a b"}, ["text_a"])
    assert switched["text_a"] == "A B"
    assert "method" not in CodeSwitchConfig(languages=("de",)).to_dict()  # default: ids unchanged


@pytest.mark.slow
def test_guide_experiments_train_and_evaluate_every_language(project: Path, tiny_model_dir: Path) -> None:
    for name, languages in (("xcopa", {"en", "et", "ht"}), ("pawsx-test", {"en", "de", "zh"})):
        path = project / f"params/{name}.yaml"
        path.write_text(path.read_text().replace("model: offline-default", f"model: {tiny_model_dir}"))
        result = run_bash(f"xlt run params/{name}.yaml --local --no-report", project)
        assert result.returncode == 0, result.stdout + result.stderr
        (metrics,) = (Path(os.environ["XLT_RUNS_DIR"]) / name).glob("transfer-*/metrics.json")
        per_language = json.loads(metrics.read_text())["per_language"]
        assert set(per_language) == languages
        assert all(scores["n"] > 0 for scores in per_language.values())
