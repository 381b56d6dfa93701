"""Safe loading: no shell from parameters, safe YAML, safetensors only, names that stay in the runs folder.

The static checks walk the syntax tree of every module in ``xlt_lib`` and of the
phase notebooks' sources (a grep would also match docstrings that explain the rule);
the behavioural checks plant a pickle that would create a file if it were ever
unpickled, and a YAML document that would run a command if it were ever constructed.
"""

from __future__ import annotations

import ast
import pickle
import re
import shutil
from pathlib import Path

import pytest

from xlt_lib.errors import ConfigError, ModelError, RunRecordError

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(REPO / "xlt_lib").rglob("*.py"), *(REPO / "notebooks").glob("*.py")])
#: A command written as one string (literal, f-string, concatenation, %-formatting) rather than a list.
STRING_NODES = (ast.Constant, ast.JoinedStr, ast.BinOp)
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "_Loader"}  # _Loader: yamlio's SafeLoader subclass


def _name(node: ast.AST) -> str:
    """Dotted name of a call target (``yaml.load``, ``subprocess.run``), or ``""``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _violations(path: Path) -> list[str]:
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name, where = _name(node.func), f"{path.relative_to(REPO)}:{node.lineno}"
        shell = _keyword(node, "shell")
        if isinstance(shell, ast.Constant) and shell.value is True:
            out.append(f"{where}: shell=True")
        if name in ("os.system", "os.popen", "os.execl", "os.execlp", "os.spawnl", "eval", "exec"):
            out.append(f"{where}: {name}()")
        if name.startswith("subprocess.") and node.args and isinstance(node.args[0], STRING_NODES):
            out.append(f"{where}: {name} with a command line built as a string")
        if name in ("yaml.unsafe_load", "yaml.full_load", "yaml.unsafe_load_all", "yaml.full_load_all"):
            out.append(f"{where}: {name}()")
        if name in ("yaml.load", "yaml.load_all"):
            loader = _keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
            if loader is None or _name(loader).split(".")[-1] not in SAFE_YAML_LOADERS:
                out.append(f"{where}: {name} without a safe loader")
        if name.endswith("torch.load"):
            flag = _keyword(node, "weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                out.append(f"{where}: torch.load without weights_only=True")
        if name in (
            "pickle.load",
            "pickle.loads",
            "marshal.loads",
            "shelve.open",
            "dill.load",
            "joblib.load",
        ):
            out.append(f"{where}: {name}()")
        if name.endswith("np.load") or name.endswith("numpy.load"):
            flag = _keyword(node, "allow_pickle")
            if isinstance(flag, ast.Constant) and flag.value is True:
                out.append(f"{where}: {name}(allow_pickle=True)")
        if name.endswith("from_pretrained") and _keyword(node, "trust_remote_code") is not None:
            out.append(f"{where}: trust_remote_code")
    return out


def test_no_unsafe_calls_in_the_library() -> None:
    assert len(SOURCES) > 40
    problems = [problem for path in SOURCES for problem in _violations(path)]
    assert not problems, "\n".join(problems)


def test_the_checker_catches_what_it_looks_for(tmp_path: Path) -> None:
    """The static check is not vacuous: each forbidden form is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os, pickle, subprocess, torch, yaml\n"
        "subprocess.run(f'git {x}', shell=True)\n"
        "subprocess.run('git ' + x)\n"
        "os.system('ls')\n"
        "yaml.load(text)\n"
        "yaml.load(text, Loader=yaml.Loader)\n"
        "torch.load(path)\n"
        "pickle.loads(b)\n"
    )
    global REPO
    saved, REPO = REPO, tmp_path
    try:
        found = _violations(bad)
    finally:
        REPO = saved
    assert sorted({int(f.split(":")[1]) for f in found}) == [2, 3, 4, 5, 6, 7, 8] and len(found) == 8, found


class _Plant:
    """Unpickling this creates ``marker``: proof that a pickle was (not) loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_pickled_weights_are_never_unpickled(tiny_model_dir: Path, tmp_path: Path) -> None:
    from xlt_lib.model import load_model
    from xlt_lib.training import TrainingSettings
    from xlt_lib.training.heads import load_with_head

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Plant(marker)))
    with pytest.raises(ModelError, match=r"safetensors"):
        load_model(str(folder))
    with pytest.raises(ModelError, match=r"safetensors"):
        load_with_head(folder, "classification", ["a", "b"], TrainingSettings())
    assert not marker.exists()


def test_yaml_tags_never_construct_objects(tmp_path: Path) -> None:
    from xlt_lib.experiment import load_experiment, records

    marker = tmp_path / "ran"
    payload = f"!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{marker}']]"
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(f"name: x\ndescription: {payload}\n")
    with pytest.raises(ConfigError, match=r"exp\.yaml:2: description: .*not allowed"):
        load_experiment(experiment)
    run = tmp_path / "run"
    run.mkdir()
    (run / records.CONFIG).write_text(f"identity: {payload}\n")
    with pytest.raises(RunRecordError, match=r"config\.yaml: unreadable"):
        records.read_config(run)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../../etc", "..", "../x", "a/b", "/abs", ".hidden", "x\\y", "ok\n"])
def test_experiment_names_cannot_leave_the_runs_folder(name: str, tmp_path: Path) -> None:
    from xlt_lib.experiment import load_experiment

    path = tmp_path / "exp.yaml"
    path.write_text(
        f"name: {name!r}\nmodel: offline-default\nconditions: {{b: {{kind: none}}}}\ntargets: [pawsx]\nseeds: [0]\n"
    )
    with pytest.raises(ConfigError, match=r"exp\.yaml: name: expected letters"):
        load_experiment(path)


def test_run_folders_stay_inside_the_experiment_folder(tmp_path: Path) -> None:
    from xlt_lib.experiment import load_experiment, plan

    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: inside\nmodel: offline-default\nintermediate_tasks: [mnli]\n"
        "conditions: {b: {kind: none}, m: {kind: monolingual}}\ntargets: [pawsx, xnli]\nseeds: [0, 1]\n"
    )
    runs = tmp_path / "runs"
    the_plan = plan(load_experiment(path), runs_root=runs)
    for run in the_plan.runs:
        assert re.fullmatch(r"(intermediate|transfer)-[0-9a-f]{12}", run.spec.run_id)
        assert run.run_dir.resolve().parent == (runs / "inside").resolve()
