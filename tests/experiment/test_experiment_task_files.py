"""Task files (issue 13): a user-defined task declared in YAML, validated with file, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.errors import ConfigError
from xlt_lib.experiment.task_files import load_task_file, register_task_files, task_identity
from xlt_lib.tasks import load_split
from xlt_lib.tasks.registry import unregister_task

TASK = """\
name: tsvmc
format: multiple_choice
labels: ["0", "1"]
languages: [en]
splits:
  dev: "mc/dev-{language}.tsv"
reader:
  layout: tsv
  columns: [premise, a, b, gold]
  fields: {context: premise, question: {value: ""}, choices: [a, b], label: gold}
"""


@pytest.fixture
def task_file(tmp_path: Path):
    (tmp_path / "data/mc").mkdir(parents=True)
    (tmp_path / "data/mc/dev-en.tsv").write_text("It rained.\tWet.\tDry.\t0\nSun.\tDark.\tBright.\t1\n")
    path = tmp_path / "task.yaml"
    path.write_text(TASK)
    yield path
    unregister_task("tsvmc")


def test_a_headerless_tsv_task_loads_with_constants_and_list_columns(task_file: Path, tmp_path: Path) -> None:
    register_task_files([task_file])
    ds = load_split("tsvmc", "dev", "en", data_dir=tmp_path / "data")
    assert ds[1] == {
        "id": "tsvmc-dev-00001",
        "language": "en",
        "context": "Sun.",
        "question": "",
        "choices": ["Dark.", "Bright."],
        "label": 1,
    }
    assert task_identity("tsvmc")["name"] == "tsvmc" and task_identity("xnli") == "xnli"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('question: {value: ""}, ', "", r"reader\.fields: format multiple_choice needs column\(s\) question"),
        ("layout: tsv\n", "layout: csv\n", r"reader\.layout: .*tsv, tsv_header, jsonl, json \(line 8\)"),
        ("  columns: [premise, a, b, gold]\n", "", r"layout tsv \(no header\) needs `columns`"),
        ("name: tsvmc", "name: xnli", r"name: 'xnli' is a built-in task"),
        ("languages: [en]", "languages: [English]", r"languages\[0\]: expected a language code"),
    ],
)
def test_task_file_errors_name_the_key(task_file: Path, old: str, new: str, message: str) -> None:
    task_file.write_text(TASK.replace(old, new))
    with pytest.raises(ConfigError, match=message):
        load_task_file(task_file)
