"""Issue 13: a split's languages are its files, ids are the data's own, languages must align."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.errors import DataError
from xlt_lib.tasks import get_task, load_split
from xlt_lib.tasks.loading import split_languages


def _head(source: Path, target: Path, lines: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8") as handle:
        target.write_text("".join(next(handle) for _ in range(lines)), encoding="utf-8")


@pytest.fixture
def pawsx_dir(data_dir: Path, tmp_path: Path) -> Path:
    """English PAWS-X test (header + 6 rows) and a 'German' copy with its rows in another order."""
    root = tmp_path / "data"
    _head(data_dir / "pawsx/test-en.tsv", root / "pawsx/test-en.tsv", 7)
    header, *rows = (root / "pawsx/test-en.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    (root / "pawsx/test-de.tsv").write_text(header + "".join(reversed(rows)), encoding="utf-8")
    _head(data_dir / "pawsx/dev-en.tsv", root / "pawsx/dev-en.tsv", 5)
    return root


def test_local_split_languages_are_the_files_present(pawsx_dir: Path) -> None:
    pawsx = get_task("pawsx")
    assert split_languages(pawsx, "test", pawsx_dir) == ("de", "en")
    assert split_languages(pawsx, "dev", pawsx_dir) == ("en",)
    assert split_languages(pawsx, "train", pawsx_dir) == ("en",)  # one English file, listed
    (pawsx_dir / "pawsx/test-it.tsv").write_text((pawsx_dir / "pawsx/test-en.tsv").read_text())
    assert split_languages(pawsx, "test", pawsx_dir) == ("de", "en", "it")  # a language outside the list
    assert len(load_split("pawsx", "test", "it", data_dir=pawsx_dir)) == 6


def test_ids_are_the_files_own_so_reordered_languages_pair(pawsx_dir: Path) -> None:
    en = load_split("pawsx", "test", "en", data_dir=pawsx_dir)
    de = load_split("pawsx", "test", "de", data_dir=pawsx_dir)
    first_id = (pawsx_dir / "pawsx/test-en.tsv").read_text().splitlines()[1].split("\t")[0]
    assert en["id"][0] == f"pawsx-test-{first_id}"
    assert de["id"] == list(reversed(en["id"]))  # same items, other order: paired by id
    assert dict(zip(de["id"], de["text_a"], strict=True)) == dict(zip(en["id"], en["text_a"], strict=True))


def test_a_language_whose_ids_differ_from_english_fails_naming_the_file(pawsx_dir: Path) -> None:
    path = pawsx_dir / "pawsx/test-de.tsv"
    header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[0] = "999999\t" + rows[0].split("\t", 1)[1]
    path.write_text(header + "".join(rows), encoding="utf-8")
    with pytest.raises(DataError, match=r"test-de\.tsv: not aligned with .*test-en\.tsv: 1 id\(s\) not in"):
        load_split("pawsx", "test", "de", data_dir=pawsx_dir)


def test_row_aligned_files_must_have_as_many_rows(pawsx_dir: Path, data_dir: Path) -> None:
    _head(data_dir / "pawsx/dev-de.tsv", pawsx_dir / "pawsx/dev-de.tsv", 4)
    with pytest.raises(DataError, match=r"dev-de\.tsv: not aligned .*1 en id\(s\) missing"):
        load_split("pawsx", "dev", "de", data_dir=pawsx_dir)


def test_a_missing_language_file_is_an_error_never_the_hub(pawsx_dir: Path) -> None:
    with pytest.raises(DataError, match=r"missing data file .*pawsx/test-zh\.tsv"):
        load_split("pawsx", "test", "zh", data_dir=pawsx_dir)
