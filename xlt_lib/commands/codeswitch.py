"""``xlt codeswitch dictionaries``, ``xlt codeswitch preview`` and ``xlt codeswitch induce``.

Light at import (``xlt --help`` imports it): pandas is imported by the diagnostics that build
tables, torch only by `xlt_lib.codeswitch.dataset` (which these commands do not use) and by
the encoder that ``induce`` loads.
"""

from __future__ import annotations

import argparse
import json

from xlt_lib.codeswitch import diagnostics
from xlt_lib.codeswitch.candidates import CANDIDATE_SOURCES
from xlt_lib.codeswitch.config import DICTIONARY_CHOICES, XNLI_TARGET_LANGUAGES, CodeSwitchConfig
from xlt_lib.codeswitch.induced_store import read_meta
from xlt_lib.codeswitch.induction import DEFAULT_THRESHOLD, InductionSettings, build_induced
from xlt_lib.codeswitch.sources import load_configured_dictionaries
from xlt_lib.codeswitch.switcher import build_cosda_switcher, resolve_fields
from xlt_lib.model.identity import model_identity
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
    dictionaries.add_argument(
        "--source",
        choices=("default", *DICTIONARY_CHOICES),
        default="default",
        help="as codeswitch.dictionaries says: the defaults (MUSE, else dictionaries/extra), "
        "induced for all, or MUSE where present and induced elsewhere",
    )
    dictionaries.set_defaults(handler=_dictionaries)

    defaults = InductionSettings()
    induce = commands.add_parser(
        "induce",
        help="induce English->X dictionaries from the encoder (CSLS retrieval) into the xlt cache",
        description="Induce a dictionary per language from the encoder itself (no parallel data) and "
        "write it under <cache>/dictionaries/induced/ (what `codeswitch.dictionaries: induced` reads). "
        "Languages already built with the same settings and encoder are skipped unless --force.",
    )
    induce.add_argument("--languages", type=_languages, required=True, help="comma-separated, e.g. sw,ur")
    induce.add_argument(
        "--model", default=defaults.model, help="encoder to induce from (default: %(default)s)"
    )
    induce.add_argument(
        "--candidates",
        type=_languages,
        default=",".join(defaults.candidate_sources),
        help=f"candidate sources, some of {','.join(CANDIDATE_SOURCES)} (default: %(default)s)",
    )
    induce.add_argument(
        "--query-tasks", type=_languages, default=",".join(defaults.query_tasks),
        help="English tasks whose training split gives the words to translate (default: %(default)s)",
    )  # fmt: skip
    induce.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="CSLS score to keep a pair"
    )
    induce.add_argument("--layer", type=int, default=defaults.layer, help="hidden state pooled (-1: last)")
    induce.add_argument("--max-candidates", type=int, default=defaults.max_candidates)
    induce.add_argument("--max-queries", type=int, default=defaults.max_queries)
    induce.add_argument("--force", action="store_true", help="rebuild languages already built")
    induce.add_argument("--data-dir", default=None)
    induce.set_defaults(handler=_induce)

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
    preview.add_argument(
        "--source", choices=("default", *DICTIONARY_CHOICES), default="default", help="as for `dictionaries`"
    )
    preview.set_defaults(handler=_preview)


def _dictionaries(args: argparse.Namespace) -> int:
    import pandas as pd

    choice = None if args.source == "default" else args.source
    config = CodeSwitchConfig(languages=args.languages, dictionaries=choice)
    table = diagnostics.dictionary_table(load_configured_dictionaries(config, args.data_dir))
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
        dictionaries=None if args.source == "default" else args.source,
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


def _induce(args: argparse.Namespace) -> int:
    settings = InductionSettings(
        model=args.model,
        threshold=args.threshold,
        layer=args.layer,
        candidate_sources=args.candidates,
        query_tasks=args.query_tasks,
        max_candidates=args.max_candidates,
        max_queries=args.max_queries,
    )
    wanted = json.loads(json.dumps(settings.record()))
    identity = json.loads(json.dumps(model_identity(args.model)))
    todo = []
    for language in args.languages:
        meta = read_meta(language) or {}
        same = meta.get("settings") == wanted and meta.get("model_identity") == identity
        if same and not args.force:
            print(
                f"induction {language}: already built with these settings ({meta.get('pairs')} pairs); "
                "--force rebuilds"
            )
        else:
            todo.append(language)
    if todo:
        build_induced(todo, settings, args.data_dir)
    return 0
