"""``xlt codeswitch dictionaries`` and ``xlt codeswitch preview``.

Light at import (``xlt --help`` imports it): pandas is imported by the diagnostics that build
tables, torch only by `xlt_lib.codeswitch.dataset`, which these commands do not use.
"""

from __future__ import annotations

import argparse

from xlt_lib.codeswitch import diagnostics
from xlt_lib.codeswitch.config import XNLI_TARGET_LANGUAGES, CodeSwitchConfig
from xlt_lib.codeswitch.dictionary import load_dictionaries
from xlt_lib.codeswitch.switcher import build_cosda_switcher, resolve_fields
from xlt_lib.tasks import get_task, load_split


def _languages(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(",") if x.strip())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``codeswitch`` command group to the ``xlt`` parser."""
    parser = subparsers.add_parser("codeswitch", help="inspect dictionaries; preview code-switched examples")
    commands = parser.add_subparsers(dest="codeswitch_command", metavar="SUBCOMMAND", required=True)
    default_languages = ",".join(XNLI_TARGET_LANGUAGES)

    dictionaries = commands.add_parser(
        "dictionaries",
        help="size, phrases and duplicates of each bilingual dictionary",
        description="Load the default (or given) dictionaries and print one row per language.",
    )
    dictionaries.add_argument(
        "--languages", type=_languages, default=default_languages, help="comma-separated"
    )
    dictionaries.add_argument(
        "--data-dir", default=None, help="data directory (default: XLT_DATA_DIR or mirror)"
    )
    dictionaries.set_defaults(handler=_dictionaries)

    preview = commands.add_parser(
        "preview",
        help="switch a few examples of a task and print coverage, switch rates and the texts",
        description="Code-switch the first N examples of TASK's split and print what happened.",
    )
    preview.add_argument("task")
    preview.add_argument("--split", default="train")
    preview.add_argument("-n", "--n-examples", type=int, default=1000, help="examples measured")
    preview.add_argument("--show", type=int, default=3, help="examples printed side by side")
    preview.add_argument("--languages", type=_languages, default=default_languages, help="comma-separated")
    preview.add_argument("--sentence-ratio", type=float, default=1.0)
    preview.add_argument("--token-ratio", type=float, default=0.4)
    preview.add_argument("--mode", choices=("per_word", "per_sentence"), default="per_word")
    preview.add_argument("--seed", type=int, default=42)
    preview.add_argument("--epoch", type=int, default=0)
    preview.add_argument("--data-dir", default=None)
    preview.set_defaults(handler=_preview)


def _dictionaries(args: argparse.Namespace) -> int:
    import pandas as pd

    table = diagnostics.dictionary_table(load_dictionaries(args.languages, args.data_dir))
    with pd.option_context("display.width", 160, "display.max_columns", None, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    return 0


def _preview(args: argparse.Namespace) -> int:
    import pandas as pd

    config = CodeSwitchConfig(
        languages=args.languages,
        sentence_ratio=args.sentence_ratio,
        token_ratio=args.token_ratio,
        mode=args.mode,
        seed=args.seed,
    )
    ds = load_split(args.task, args.split, data_dir=args.data_dir)
    ds = ds.select(range(min(args.n_examples, len(ds))))
    switcher = build_cosda_switcher(config, args.data_dir)  # the diagnostics analyse CoSDA-ML's switches
    corpus = switcher.analyse(ds, resolve_fields(config, get_task(args.task).text_fields))
    decisions = corpus.decide(args.epoch)
    with pd.option_context("display.width", 160, "display.max_columns", None, "display.max_colwidth", 100):
        print(diagnostics.coverage(corpus).to_string(index=False), end="\n\n")
        print(diagnostics.switch_rates(corpus, decisions).to_string(index=False), end="\n\n")
        for row in diagnostics.side_by_side(corpus, decisions, args.show).itertuples():
            print(f"{row.id} {row.field}\n  en: {row.original}\n  cs: {row.switched}")
    return 0
