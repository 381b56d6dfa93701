"""``xlt model prepare`` and ``xlt model info`` (through the command module's own ``register``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xlt_lib.commands import model as cli


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="xlt")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_prepare_reports_an_existing_folder(offline_model_dir: Path, capsys) -> None:
    assert _run(["model", "prepare", "--dir", str(offline_model_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"already there: {offline_model_dir}"


def test_info_prints_the_identity_as_json(offline_model_dir: Path, tiny_model_dir: Path, capsys) -> None:
    assert _run(["model", "info"]) == 0
    offline = json.loads(capsys.readouterr().out)
    assert offline["kind"] == "offline-default" and offline["path"] == str(offline_model_dir)
    assert _run(["model", "info", str(tiny_model_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "local"
    assert _run(["model", "info", "xlm-roberta-large"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "xlm-roberta-large"
