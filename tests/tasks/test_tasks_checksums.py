"""Checksums of data directories and of the files a task reads; the `xlt data` command."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from xlt_lib.checksums import file_sha256, verify_checksums
from xlt_lib.cli import main
from xlt_lib.errors import DataError
from xlt_lib.tasks.loading import data_checksums, data_files


def _mirror_subset(data_dir, tmp_path, names):
    sums = []
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / name, tmp_path / name)
        sums.append(f"{file_sha256(data_dir / name)}  ./{name}\n")
    (tmp_path / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    return tmp_path


def test_mirror_checksums_match(data_dir) -> None:
    report = verify_checksums(data_dir)
    assert report.passed and not report.missing and not report.changed
    assert "xnli/test-en.tsv" in report.ok


def test_missing_changed_and_unlisted(data_dir, tmp_path) -> None:
    root = _mirror_subset(data_dir, tmp_path, ["pawsx/dev-ko.tsv", "pawsx/dev-ja.tsv", "glue/sst2/test.tsv"])
    (root / "pawsx/dev-ja.tsv").unlink()
    with (root / "glue/sst2/test.tsv").open("a", encoding="utf-8") as handle:
        handle.write("an extra row\t1\n")
    (root / "notes.txt").write_text("mine", encoding="utf-8")
    report = verify_checksums(root)
    assert (report.ok, report.missing, report.changed, report.unlisted) == (
        ["pawsx/dev-ko.tsv"], ["pawsx/dev-ja.tsv"], ["glue/sst2/test.tsv"], ["notes.txt"],
    )  # fmt: skip
    with pytest.raises(DataError, match=r"missing: pawsx/dev-ja\.tsv; changed: glue/sst2/test\.tsv"):
        report.raise_for_problems()


def test_file_sha256_matches_hashlib(tmp_path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert file_sha256(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_malformed_sums_file(tmp_path) -> None:
    (tmp_path / "SHA256SUMS").write_text("not-a-digest  file\n", encoding="utf-8")
    with pytest.raises(DataError, match="SHA256SUMS: line 1: expected '<sha256>  <path>'"):
        verify_checksums(tmp_path)


def test_data_files_for_provenance(data_dir) -> None:
    assert data_files("xnli", "test", "hi", data_dir) == [data_dir / "xnli/test-hi.tsv"]
    assert data_files("anli", "train", "en", data_dir) == []  # read from the hub
    sums = data_checksums("pawsx", "dev", "ko", data_dir)
    expected = (data_dir / "SHA256SUMS").read_text(encoding="utf-8")
    assert f"{sums[str(data_dir / 'pawsx/dev-ko.tsv')]}  ./pawsx/dev-ko.tsv" in expected


def test_cli_lists_tasks_and_verifies(data_dir, tmp_path, capsys) -> None:
    root = _mirror_subset(data_dir, tmp_path, ["xnli/dev-de.tsv", "pawsx/dev-de.tsv"])
    assert main(["data", "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "xnli" in out and "dev 2,490" in out and "hub:facebook/anli" in out
    assert main(["data", "--data-dir", str(root), "--verify"]) == 0
    (root / "pawsx/dev-de.tsv").write_text("changed\t\t1\n", encoding="utf-8")
    assert main(["data", "--data-dir", str(root), "--verify"]) == 2
    assert "changed: pawsx/dev-de.tsv" in capsys.readouterr().err
