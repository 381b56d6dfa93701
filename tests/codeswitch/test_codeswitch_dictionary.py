"""Dictionary loading: formats, malformed lines, duplicates, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt_lib.codeswitch import default_dictionary_path, load_dictionaries, load_dictionary
from xlt_lib.errors import DictionaryError


def _write(tmp_path: Path, text: str, name: str = "en-xx.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_muse_and_tab_formats(tmp_path: Path) -> None:
    path = _write(tmp_path, "house haus\nhouse heim\nHouse haus\n\npaternal uncle\tami\nthe   der\n")
    d = load_dictionary(path, "xx")
    assert d.lookup("HOUSE") == ("haus", "heim")
    assert d.n_duplicates == 1  # "House haus" repeats "house haus" once lowercased
    assert d.lookup("paternal  uncle") == ("ami",)
    assert d.max_words == 2
    assert d.summary()["phrase_entries"] == 1
    assert "the" in d and "dog" not in d


def test_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "house haus\ndog\ncat katze\n")
    with pytest.raises(DictionaryError, match=rf"{path.name}:2: malformed"):
        load_dictionary(path, "xx")


def test_three_fields_without_tab_are_malformed(tmp_path: Path) -> None:
    path = _write(tmp_path, "house haus\nice cream eis\n")
    with pytest.raises(DictionaryError, match=":2:"):
        load_dictionary(path, "xx")


def test_skip_mode_counts_skipped_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "house haus\ndog\ncat katze\nbad\tline\textra\n")
    d = load_dictionary(path, "xx", on_error="skip")
    assert d.n_skipped == 2 and d.skipped_lines == (2, 4)
    assert len(d) == 2 and d.n_lines == 4


def test_non_utf8_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "en-xx.txt"
    path.write_bytes(b"house haus\ncat k\xe4tze\n")
    with pytest.raises(DictionaryError, match=":2:"):
        load_dictionary(path, "xx")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DictionaryError, match="no such dictionary file"):
        load_dictionary(tmp_path / "nope.txt", "xx")


def test_defaults_muse_then_extra(data_dir: Path) -> None:
    assert default_dictionary_path("de", data_dir).parent.name == "muse"
    assert default_dictionary_path("sw", data_dir).parent.name == "extra"
    assert default_dictionary_path("ur", data_dir).parent.name == "extra"
    with pytest.raises(DictionaryError, match="no dictionary for language 'xx'"):
        default_dictionary_path("xx", data_dir)


def test_real_swahili_has_phrases(data_dir: Path, tmp_path: Path) -> None:
    override = _write(tmp_path, "house haus\n", "mine.txt")
    dicts = load_dictionaries(["sw", "de"], data_dir, paths={"de": override})
    sw = dicts["sw"]
    assert sw.lookup("paternal uncle") == ("ami",)
    assert sw.max_words > 1 and sw.n_skipped == 0 and sw.n_lines == 5325
    assert dicts["de"].lookup("house") == ("haus",)
