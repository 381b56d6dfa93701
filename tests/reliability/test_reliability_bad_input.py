"""Bad input, table-driven, through the real ``xlt`` command line.

Each case breaks one thing a researcher can get wrong (experiment YAML, data
files, dictionaries, model folders, run directories) and expects: exit status 2,
one ``xlt <command>: error: ...`` line naming the file/key/row and what was
expected, no Python traceback on the command line, and the traceback of the named
`XltError` subclass in the log file. Most cases call `xlt_lib.cli.main` in-process
(a fresh interpreter per case costs seconds of imports); a handful run the console
script as a subprocess to prove that nothing reaches stderr but the one line.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from reliability_support import TRACEBACK, run_xlt, xlt_environment

from xlt_lib.cli import main


@dataclass
class Workspace:
    """Scratch copies of real inputs that a case may break."""

    root: Path
    data: Path  # a small data directory in the mirror's layout
    model: Path  # the tiny model (read-only: cases copy it before breaking it)
    runs: Path

    def experiment(self, name: str = "bad", **changes: object) -> dict:
        doc: dict = {
            "name": name,
            "model": str(self.model),
            "intermediate_tasks": ["mnli"],
            "conditions": {"baseline": {"kind": "none"}, "mono": {"kind": "monolingual"}},
            "targets": ["pawsx"],
            "seeds": [0],
            "settings": {"profile": "cpu", "max_train_examples": 16},
        }
        doc.update(changes)
        return doc

    def write(self, text: str, name: str = "bad.yaml") -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    def write_doc(self, doc: dict, name: str = "bad.yaml") -> Path:
        return self.write(yaml.safe_dump(doc, sort_keys=False), name)

    def model_copy(self) -> Path:
        target = self.root / "model-copy"
        shutil.copytree(self.model, target)
        return target

    def complete_run(self, experiment: Path) -> Path:
        """Record the experiment's first run as complete (as a real run would), return its folder."""
        from xlt_lib.experiment import load_experiment, plan, records

        the_plan = plan(load_experiment(experiment), runs_root=self.runs)
        run = the_plan.runs[0]
        run.run_dir.mkdir(parents=True)
        records.write_config(run.run_dir, run.spec.config())
        records.finish_run(run.run_dir, {"phase": run.spec.phase})
        return run.run_dir


@dataclass(frozen=True)
class Case:
    name: str
    error: str  # the XltError subclass
    expect: tuple[str, ...]  # substrings the one-line message must contain
    argv: Callable[[Workspace], list[str]]


def run_cmd(path: Path, *extra: str) -> list[str]:
    return ["run", str(path), "--dry-run", *extra]


def preview(ws: Workspace, task: str = "pawsx", split: str = "dev") -> list[str]:
    return ["codeswitch", "preview", task, "--split", split, "--languages", "de", "-n", "5", "--show", "0",
            "--data-dir", str(ws.data)]  # fmt: skip


def _edit_lines(path: Path, line: int, edit: Callable[[str], str]) -> None:
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[line - 1] = edit(rows[line - 1])
    path.write_text("".join(rows), encoding="utf-8")


# -- experiment files ----------------------------------------------------------------------
def _yaml(text: str) -> Callable[[Workspace], list[str]]:
    return lambda ws: run_cmd(ws.write(text.replace("MODEL", str(ws.model))))


def _doc(**changes: object) -> Callable[[Workspace], list[str]]:
    return lambda ws: run_cmd(ws.write_doc(ws.experiment(**changes)))


BASE = """\
name: bad
model: MODEL
intermediate_tasks: [mnli]
conditions: {baseline: {kind: none}, mono: {kind: monolingual}}
targets: [pawsx]
seeds: [0]
"""

CASES: list[Case] = [
    Case("unknown top-level key", "ConfigError", ("bad.yaml", "learning_rate", "line 7"), _yaml(BASE + "learning_rate: 0.1\n")),
    Case("misspelt setting", "ConfigError", ("bad.yaml", "settings", "lerning_rate"), _doc(settings={"lerning_rate": 0.1})),
    Case("wrong type: seeds", "ConfigError", ("bad.yaml", "seeds", "expected"), _doc(seeds="one")),
    Case("wrong type: batch size", "ConfigError", ("settings.batch_size", "integer"), _doc(settings={"batch_size": "16x"})),
    Case("wrong type: learning rate", "ConfigError", ("settings.learning_rate", "number"), _doc(settings={"learning_rate": "fast"})),
    Case("YAML 1.1 trap: language no", "ConfigError", ("conditions.cs.codeswitch.languages[1]", "quote it"),
         _yaml(BASE.replace("mono: {kind: monolingual}", "cs: {kind: codeswitched, codeswitch: {languages: [de, no]}}"))),
    Case("YAML 1.1 trap: name yes", "ConfigError", ("name", "YAML reads yes as true"), _yaml(BASE.replace("name: bad", "name: yes"))),
    Case("duplicate key", "ConfigError", ("bad.yaml:7", "seeds", "duplicate key"), _yaml(BASE + "seeds: [1]\n")),
    Case("not YAML", "ConfigError", ("bad.yaml", "not valid YAML"), _yaml(BASE + "targets: [pawsx\n")),
    Case("python tag", "ConfigError", ("bad.yaml:7", "tag", "not allowed"), _yaml(BASE + "description: !!python/object:os.system ls\n")),
    Case("unknown intermediate task", "ConfigError", ("intermediate_tasks[0]", "unknown task 'mlni'"), _doc(intermediate_tasks=["mlni"])),
    Case("intermediate task as target", "ConfigError", ("targets[0]", "'mnli' is not a cross-lingual target"), _doc(targets=["mnli"])),
    Case("unknown target task", "ConfigError", ("targets[0]", "unknown task 'xnlii'"), _doc(targets=["xnlii"])),
    Case("unknown language", "ConfigError", ("conditions.cs.codeswitch.languages", "'xx'"),
         _doc(conditions={"cs": {"kind": "codeswitched", "codeswitch": {"languages": ["xx"]}}})),
    Case("not a language code", "ConfigError", ("languages[0]", "expected a language code"),
         _doc(conditions={"cs": {"kind": "codeswitched", "codeswitch": {"languages": ["German"]}}})),
    Case("missing dictionary file", "ConfigError", ("codeswitch.dictionaries.de", "no such dictionary file"),
         _doc(conditions={"cs": {"kind": "codeswitched", "codeswitch": {"languages": ["de"], "dictionaries": {"de": "/nonexistent/en-de.txt"}}}})),
    Case("ratio out of range", "ConfigError", ("codeswitch.token_ratio", "1.5"),
         _doc(conditions={"cs": {"kind": "codeswitched", "codeswitch": {"languages": ["de"], "token_ratio": 1.5}}})),
    Case("unknown condition kind", "ConfigError", ("conditions.mono.kind", "monolingal"), _doc(conditions={"mono": {"kind": "monolingal"}})),
    Case("empty grid", "ConfigError", ("bad.yaml", "seeds", "non-empty"), _doc(seeds=[])),
    Case("no conditions", "ConfigError", ("conditions", "at least one condition"), _doc(conditions={})),
    Case("duplicate runs", "ConfigError", ("conditions.mono2", "conditions.mono", "same run"),
         _doc(conditions={"mono": {"kind": "monolingual"}, "mono2": {"kind": "monolingual"}})),
    Case("duplicate seed", "ConfigError", ("seeds[1]", "listed twice"), _doc(seeds=[1, 1])),
    Case("name escapes the runs folder", "ConfigError", ("name", "'../../etc'"), _doc(name="../../etc")),
    Case("name is a path", "ConfigError", ("name", "'a/b'"), _doc(name="a/b")),
    Case("condition name is a path", "ConfigError", ("conditions.../x", "condition names"), _doc(conditions={"../x": {"kind": "none"}})),
    Case("zero workers", "ConfigError", ("executor.workers", "1"), _doc(executor={"workers": 0})),
    Case("missing model folder", "ConfigError", ("model", "does not exist"), _doc(model="/nonexistent/model")),
    Case("missing experiment file", "ConfigError", ("nope.yaml", "no such experiment file"),
         lambda ws: run_cmd(ws.root / "nope.yaml")),
    Case("experiment file not UTF-8", "ConfigError", ("latin.yaml", "cannot read"),
         lambda ws: run_cmd(_write_bytes(ws.root / "latin.yaml", "name: caf\xe9\n".encode("latin-1")))),
]  # fmt: skip


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- data files ----------------------------------------------------------------------------
def _break_pawsx(edit: Callable[[Path], None]) -> Callable[[Workspace], list[str]]:
    def argv(ws: Workspace) -> list[str]:
        edit(ws.data / "pawsx" / "dev-en.tsv")
        return preview(ws)

    return argv


def _mnli_not_json(ws: Workspace) -> list[str]:
    path = ws.data / "glue" / "mnli" / "train.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"0": {"text_a": "a", "text_b": "b", "label": "neutral"},\n "1": {', encoding="utf-8")
    return preview(ws, "mnli", "train")


CASES += [
    Case("missing data file", "DataError", ("missing data file", "dev-en.tsv"), _break_pawsx(lambda p: p.unlink())),
    Case("truncated row", "DataError", ("dev-en.tsv", "line 4", "expected 3 tab-separated fields"),
         _break_pawsx(lambda p: _edit_lines(p, 4, lambda row: row.rsplit("\t", 1)[0] + "\n"))),
    Case("bad label", "DataError", ("dev-en.tsv", "line 3", "unknown label '7'"),
         _break_pawsx(lambda p: _edit_lines(p, 3, lambda row: row.rsplit("\t", 1)[0] + "\t7\n"))),
    Case("empty split", "DataError", ("dev-en.tsv", "empty"), _break_pawsx(lambda p: p.write_text(""))),
    Case("wrong encoding", "DataError", ("dev-en.tsv", "line 2", "undecodable bytes"),
         _break_pawsx(lambda p: p.write_bytes(p.read_bytes().replace(b"\n", "\ncaf\xe9 ".encode("latin-1"), 1)))),
    Case("invalid JSON data", "DataError", ("train.json", "line 2", "invalid JSON"), _mnli_not_json),
    Case("data directory missing", "DataError", ("/nonexistent/data", "no such directory"),
         lambda ws: [*preview(ws)[:-1], "/nonexistent/data"]),
]  # fmt: skip


# -- dictionaries --------------------------------------------------------------------------
def _break_dictionary(edit: Callable[[Path], None]) -> Callable[[Workspace], list[str]]:
    def argv(ws: Workspace) -> list[str]:
        edit(ws.data / "dictionaries" / "muse" / "en-de.txt")
        return ["codeswitch", "dictionaries", "--languages", "de", "--data-dir", str(ws.data)]

    return argv


CASES += [
    Case("dictionary: malformed line", "DictionaryError", ("en-de.txt:5", "malformed dictionary line"),
         _break_dictionary(lambda p: _edit_lines(p, 5, lambda row: row.split()[0] + "\n"))),
    Case("dictionary: not UTF-8", "DictionaryError", ("en-de.txt:3", "not UTF-8"),
         _break_dictionary(lambda p: p.write_bytes(b"a b\nc d\ncaf\xe9 x\n"))),
    Case("dictionary: missing", "DictionaryError", ("de",), _break_dictionary(lambda p: p.unlink())),
    Case("dictionary: empty", "DictionaryError", ("en-de.txt", "no dictionary entries"), _break_dictionary(lambda p: p.write_text(""))),
]  # fmt: skip


# -- model folders -------------------------------------------------------------------------
def _model_case(edit: Callable[[Path], None]) -> Callable[[Workspace], list[str]]:
    def argv(ws: Workspace) -> list[str]:
        folder = ws.model_copy()
        edit(folder)
        return ["model", "info", str(folder)]

    return argv


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)


def _shrink_vocab(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["vocab_size"] = 1000
    (folder / "config.json").write_text(json.dumps(config))


def _pickled_only(folder: Path) -> None:
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")


CASES += [
    Case("model: missing folder", "ModelError", ("./no-such-model", "no such folder"), lambda ws: ["model", "info", "./no-such-model"]),
    Case("model: corrupt weights", "ModelError", ("model.safetensors", "corrupt or truncated"),
         _model_case(lambda f: _truncate(f / "model.safetensors", 100_000))),
    Case("model: garbage weights", "ModelError", ("model.safetensors", "corrupt or truncated"),
         _model_case(lambda f: (f / "model.safetensors").write_bytes(b"\x00" * 64))),
    Case("model: tokenizer mismatch", "ModelError", ("tokenizer.json", "tokenizer mismatch", "vocab_size=1000"), _model_case(_shrink_vocab)),
    Case("model: pickled weights only", "ModelError", ("safetensors only", "pytorch_model.bin"), _model_case(_pickled_only)),
    Case("model: config not JSON", "ModelError", ("config.json", "unreadable"),
         _model_case(lambda f: (f / "config.json").write_text("{vocab_size: 5"))),
]  # fmt: skip


# -- run directories -----------------------------------------------------------------------
def _run_dir_case(edit: Callable[[Path], None]) -> Callable[[Workspace], list[str]]:
    def argv(ws: Workspace) -> list[str]:
        experiment = ws.write_doc(ws.experiment())
        edit(ws.complete_run(experiment))
        return run_cmd(experiment)

    return argv


def _foreign(run_dir: Path) -> None:
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["identity"]["settings"]["learning_rate"] = 1.0
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))


CASES += [
    Case("run dir: foreign record", "RunRecordError", ("config.yaml", "records a different run", "--force"), _run_dir_case(_foreign)),
    Case("run dir: metrics without config", "RunRecordError", ("has metrics.json but no config.yaml",),
         _run_dir_case(lambda d: (d / "config.yaml").unlink())),
    Case("run dir: tampered metrics", "RunRecordError", ("metrics.json", "unreadable"),
         _run_dir_case(lambda d: (d / "metrics.json").write_text('{"phase": "interm'))),
    Case("run dir: metrics not an object", "RunRecordError", ("metrics.json", "expected a JSON object"),
         _run_dir_case(lambda d: (d / "metrics.json").write_text("[1, 2]"))),
    Case("run dir: config not a mapping", "RunRecordError", ("config.yaml", "expected a mapping"),
         _run_dir_case(lambda d: (d / "config.yaml").write_text("- just\n- a list\n"))),
]  # fmt: skip


@pytest.fixture
def workspace(
    tmp_path: Path, data_dir: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    data = tmp_path / "data"
    (data / "pawsx").mkdir(parents=True)
    with (data_dir / "pawsx" / "dev-en.tsv").open(encoding="utf-8") as handle:
        (data / "pawsx" / "dev-en.tsv").write_text("".join(next(handle) for _ in range(8)), encoding="utf-8")
    (data / "dictionaries" / "muse").mkdir(parents=True)
    with (data_dir / "dictionaries" / "muse" / "en-de.txt").open(encoding="utf-8") as handle:
        head = "".join(next(handle) for _ in range(200))
    (data / "dictionaries" / "muse" / "en-de.txt").write_text(head, encoding="utf-8")
    runs = tmp_path / "runs"
    monkeypatch.setenv("XLT_RUNS_DIR", str(runs))
    monkeypatch.setenv("XLT_CACHE_DIR", str(tmp_path / "cache"))  # the error log goes here
    return Workspace(tmp_path, data, tiny_model_dir, runs)


def _check(case: Case, code: int, stderr: str, log: Path) -> list[str]:
    """What is wrong with how the command failed (empty: it failed as it should)."""
    problems = []
    if code != 2:
        problems.append(f"exit status {code}, expected 2")
    if TRACEBACK in stderr:
        problems.append("a traceback reached the command line")
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    if len(errors) != 1:
        problems.append(f"expected one error line, got: {lines}")
    else:
        problems += [f"message lacks {text!r}: {errors[0]}" for text in case.expect if text not in errors[0]]
    logged = log.read_text(encoding="utf-8") if log.is_file() else ""
    if f"xlt_lib.errors.{case.error}: " not in logged:
        last = logged.strip().splitlines()[-1:] or ["no log"]
        problems.append(f"log does not end in {case.error}: {last}")
    return problems


def _case_workspace(workspace: Workspace, name: str) -> Workspace:
    """A fresh copy of the inputs for one case (cases break them)."""
    root = workspace.root / name
    root.mkdir()
    shutil.copytree(workspace.data, root / "data")
    return Workspace(root, root / "data", workspace.model, root / "runs")


def test_bad_input_table(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(CASES) >= 30
    log = workspace.root / "cache" / "logs" / "xlt-last-error.log"
    failures: dict[str, list[str]] = {}
    for i, case in enumerate(CASES):
        ws = _case_workspace(workspace, f"case-{i:02d}")
        monkeypatch.setenv("XLT_RUNS_DIR", str(ws.runs))
        argv = case.argv(ws)
        log.unlink(missing_ok=True)
        capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        problems = _check(case, code, capsys.readouterr().err, log)
        if problems:
            failures[case.name] = problems
    with capsys.disabled():
        print(
            f"\nbad input (in-process CLI): {len(CASES)} cases tried, "
            f"{len(CASES) - len(failures)} gave the expected named error, exit 2 and no traceback"
        )
    assert not failures, json.dumps(failures, indent=1)


SUBPROCESS_CASES = (
    "unknown top-level key",
    "YAML 1.1 trap: language no",
    "truncated row",
    "dictionary: malformed line",
    "model: corrupt weights",
    "run dir: foreign record",
)


def test_bad_input_via_the_console_script(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    """The real ``xlt`` executable: stderr holds the one error line and the log path, nothing else."""
    chosen = [case for case in CASES if case.name in SUBPROCESS_CASES]
    assert len(chosen) == len(SUBPROCESS_CASES)
    failures: dict[str, list[str]] = {}
    for i, case in enumerate(chosen):
        ws = _case_workspace(workspace, f"sub-{i}")
        cache = ws.root / "cache"
        done = run_xlt(case.argv(ws), xlt_environment(ws.runs, XLT_CACHE_DIR=str(cache)), timeout=300)
        problems = _check(case, done.returncode, done.stderr, cache / "logs" / "xlt-last-error.log")
        noise = [line for line in done.stderr.splitlines() if line.strip() and ": error: " not in line]
        if any(not line.startswith("(traceback in ") for line in noise):
            problems.append(f"stderr has more than the error: {noise}")
        if problems:
            failures[case.name] = problems
    with capsys.disabled():
        print(
            f"\nbad input (xlt subprocess): {len(chosen)} cases tried, "
            f"{len(chosen) - len(failures)} gave the expected named error, exit 2 and stderr of one line"
        )
    assert not failures, json.dumps(failures, indent=1)
