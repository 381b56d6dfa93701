"""Bad input: corrupted copies of real data files are reported with file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xlt_lib.errors import DataError
from xlt_lib.tasks import load_split


def _copy_head(data_dir: Path, tmp_path: Path, relative: str, lines: int) -> Path:
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with (data_dir / relative).open(encoding="utf-8") as handle:
        target.write_text("".join(next(handle) for _ in range(lines)), encoding="utf-8")
    return target


def test_truncated_row_names_file_and_line(data_dir, tmp_path) -> None:
    path = _copy_head(data_dir, tmp_path, "xnli/test-sw.tsv", 6)
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[3] = rows[3].rsplit("\t", 1)[0] + "\n"  # line 4 loses its label field
    path.write_text("".join(rows), encoding="utf-8")
    with pytest.raises(
        DataError, match=r"xnli.*test-sw\.tsv: line 4: expected 3 tab-separated fields .*found 2"
    ):
        load_split("xnli", "test", "sw", data_dir=tmp_path)


def test_bad_label_names_file_line_and_valid_labels(data_dir, tmp_path) -> None:
    path = _copy_head(data_dir, tmp_path, "xnli/dev-fr.tsv", 5)
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[2] = rows[2].rsplit("\t", 1)[0] + "\tentails\n"
    path.write_text("".join(rows), encoding="utf-8")
    with pytest.raises(
        DataError, match=r"dev-fr\.tsv: line 3: unknown label 'entails' \(expected one of entailment"
    ):
        load_split("xnli", "dev", "fr", data_dir=tmp_path)


def test_corrupted_copy_loads_when_repaired(data_dir, tmp_path) -> None:
    _copy_head(data_dir, tmp_path, "pawsx/dev-ja.tsv", 7)
    ds = load_split("pawsx", "dev", "ja", data_dir=tmp_path)
    assert len(ds) == 7 and ds[6]["id"] == "pawsx-dev-00006"


def test_missing_file(tmp_path) -> None:
    (tmp_path / "xnli").mkdir()
    with pytest.raises(DataError, match=r"task 'xnli': missing data file .*xnli/test-de\.tsv"):
        load_split("xnli", "test", "de", data_dir=tmp_path)


def test_missing_header_column(data_dir, tmp_path) -> None:
    path = _copy_head(data_dir, tmp_path, "glue/sst2/test.tsv", 4)
    path.write_text(path.read_text(encoding="utf-8").replace("label", "polarity", 1), encoding="utf-8")
    with pytest.raises(DataError, match=r"sst2/test\.tsv: line 1: header lacks column\(s\) label"):
        load_split("sst2", "test", data_dir=tmp_path)


def test_missing_json_key_names_the_key(data_dir, tmp_path) -> None:
    rows = json.loads((data_dir / "glue/qqp/dev.json").read_text(encoding="utf-8"))
    subset = {key: rows[key] for key in list(rows)[:5]}
    del subset["3"]["text_b"]
    (tmp_path / "glue/qqp").mkdir(parents=True)
    (tmp_path / "glue/qqp/dev.json").write_text(json.dumps(subset), encoding="utf-8")
    with pytest.raises(DataError, match=r"qqp/dev\.json: JSON key '3': missing key\(s\) text_b"):
        load_split("qqp", "dev", data_dir=tmp_path)


def test_undecodable_bytes_name_the_line(data_dir, tmp_path) -> None:
    path = _copy_head(data_dir, tmp_path, "xnli/test-en.tsv", 4)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\n\xff\xfe", 2).replace(b"\n\xff\xfe", b"\n", 1))
    with pytest.raises(DataError, match=r"test-en\.tsv: line 3: undecodable bytes"):
        load_split("xnli", "test", "en", data_dir=tmp_path)


def test_empty_split(tmp_path) -> None:
    (tmp_path / "xnli").mkdir()
    (tmp_path / "xnli/dev-el.tsv").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"dev-el\.tsv: split 'dev' \(el\) is empty"):
        load_split("xnli", "dev", "el", data_dir=tmp_path)


def test_wrong_number_of_choices(data_dir, tmp_path) -> None:
    path = _copy_head(data_dir, tmp_path, "hellaswag/validation.jsonl", 40)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["endings"] = row["endings"][:3]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with pytest.raises(DataError, match=r"validation\.jsonl: line \d+: expected 4 choices, found 3"):
        load_split("hellaswag", "train", data_dir=tmp_path)


def test_blanked_squad_answers_are_rejected(data_dir, tmp_path) -> None:
    """The offline TyDiQA dev file has its answers blanked: loading it as labelled data must fail."""
    target = tmp_path / "qa/tydiqa-goldp-en-train.json"
    target.parent.mkdir(parents=True)
    shutil.copy(data_dir / "qa/tydiqa-goldp-en-dev.json", target)
    with pytest.raises(DataError, match=r"JSON data\[0\]\.paragraphs\[0\]\.qas\[0\]: empty answer text"):
        load_split("tydiqa_en", "train", data_dir=tmp_path)


def test_cosmosqa_short_row(data_dir, tmp_path) -> None:
    import csv

    with (data_dir / "cosmosqa/valid.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for _, row in zip(range(30), csv.reader(handle), strict=False)]
    rows[5] = rows[5][:-1]
    target = tmp_path / "cosmosqa/valid.csv"
    target.parent.mkdir(parents=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(DataError, match=r"valid\.csv: line \d+: expected 8 comma-separated fields"):
        load_split("cosmosqa", "train", data_dir=tmp_path)
