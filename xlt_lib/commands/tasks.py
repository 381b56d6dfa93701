"""``xlt data``: what tasks exist, where each would be read from now, and how many rows.

Counting is cheap (lines or JSON records; nothing is tokenised or converted), so
the listing is quick even over the whole mirror. ``--verify`` also checks the data
directory against its ``SHA256SUMS`` and exits non-zero naming each problem.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from xlt_lib.checksums import verify_checksums
from xlt_lib.errors import DataError
from xlt_lib.experiment.task_files import register_task_files
from xlt_lib.paths import data_dir as resolve_data_dir
from xlt_lib.tasks.loading import local_root, local_split, split_languages
from xlt_lib.tasks.local import count_rows
from xlt_lib.tasks.registry import all_tasks


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "data",
        help="list tasks, their sources, splits, languages and local row counts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="local data directory (default: XLT_DATA_DIR)"
    )
    parser.add_argument("--verify", action="store_true", help="also check the data directory's SHA256SUMS")
    parser.add_argument(
        "--tasks",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a task file of user-defined tasks to list too (repeatable; see docs/extending.md)",
    )
    parser.set_defaults(handler=run)


def _source_label(task: Any, data_dir: Path | None) -> tuple[str, Path | None]:
    try:
        root = local_root(task, data_dir if task.local and not task.local.root_env else None)
    except DataError as exc:
        return f"error: {exc}", None
    if root is not None:
        return str(root), root
    if task.hub is not None:
        return f"hub:{task.hub.path}", None
    env = task.local.root_env if task.local else None
    return f"unavailable (set {env})" if env else "unavailable", None


def _counts(task: Any, root: Path | None) -> str:
    """``split n`` per split, summed over languages; carved splits show their expected share."""
    if root is None or task.local is None:
        return "-"
    parts = []
    for split in task.splits:
        total, files, carve = 0, 0, None
        try:
            languages = split_languages(task, split, root)
        except DataError:
            continue
        for language in languages:
            entry = local_split(task, split, language)
            rows = count_rows(root / entry.path.format(language=language), entry.reader) if entry else None
            if entry is None or rows is None:
                continue
            total, files, carve = total + rows, files + 1, entry.carve
        if not files:
            continue
        if carve is not None:
            share = carve.dev_percent if split == "dev" else 100 - carve.dev_percent
            parts.append(f"{split} ~{round(total * share / 100):,} ({share}% carved)")
        else:
            parts.append(f"{split} {total:,}" + (f" ({files} langs)" if files > 1 else ""))
    return ", ".join(parts) or "no files"


def run(args: argparse.Namespace) -> int:
    register_task_files(args.tasks)
    root = resolve_data_dir(args.data_dir)
    print(f"data directory: {root if root is not None else '(none: tasks read the Hugging Face hub)'}")
    rows = [("task", "format", "source", "splits", "languages", "local rows")]
    for task in all_tasks().values():
        label, task_root = _source_label(task, args.data_dir)
        languages = (
            ",".join(task.languages)
            if len(task.languages) <= 3
            else f"{len(task.languages)}: {','.join(task.languages)}"
        )
        rows.append(
            (task.name, task.format, label, ",".join(task.splits), languages, _counts(task, task_root))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    if not args.verify:
        return 0
    if root is None:
        print("verify: no data directory to verify")
        return 1
    report = verify_checksums(root)
    print(
        f"verify {root}: {len(report.ok)} ok, {len(report.missing)} missing, "
        f"{len(report.changed)} changed, {len(report.unlisted)} unlisted"
    )
    for name in report.unlisted:
        print(f"  unlisted: {name}")
    report.raise_for_problems()
    return 0
