"""The ``xlt`` command line.

Each command group is a module of `xlt_lib.commands` with a
``register(subparsers)`` function; they import no heavy library at their top
(torch, transformers, pandas are imported inside the functions that use them),
so that ``xlt --help`` stays fast.

Errors caused by input (`XltError`) are printed as one line naming what is wrong,
with exit status 2; the full traceback goes to a log file whose path is printed.
Any other exception is a bug and is shown with its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from xlt_lib import __version__
from xlt_lib.errors import XltError
from xlt_lib.paths import cache_dir

# Modules whose ``register`` adds a command group, in the order --help lists them.
COMMAND_MODULES = (
    "xlt_lib.commands.model",
    "xlt_lib.commands.tasks",
    "xlt_lib.commands.codeswitch",
    "xlt_lib.commands.experiment",
    "xlt_lib.commands.planning",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlt",
        description="Code-switched intermediate-task training for zero-shot cross-lingual transfer.",
    )
    parser.add_argument("--version", action="version", version=f"xlt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _log_traceback(exc: BaseException) -> Path | None:
    try:
        log_dir = cache_dir() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "xlt-last-error.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None


@contextlib.contextmanager
def _quiet_on_interrupt() -> Iterator[None]:
    """On Ctrl-C, silence logging before anything unwinds, so the user sees one line.

    Ctrl-C reaches the notebook kernel too; while the runner unwinds, papermill and
    asyncio log the kernel's death ("Kernel died while waiting for execute reply",
    "Task exception was never retrieved") with tracebacks. Python's own handler raises
    `KeyboardInterrupt` at once, so logging must be switched off inside the handler,
    before the first of those messages; `main` then prints ``xlt <command>: interrupted``.
    Only in the main thread, and the previous handler is restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: FrameType | None) -> None:
        logging.disable(logging.CRITICAL)
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 1
    try:
        with _quiet_on_interrupt():
            result = args.handler(args)
    except XltError as exc:
        log = _log_traceback(exc)
        print(f"xlt {args.command}: error: {exc}", file=sys.stderr)
        if log is not None:
            print(f"(traceback in {log})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xlt {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
