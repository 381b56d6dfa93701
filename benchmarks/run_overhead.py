"""Where the runs of a completed experiment spent their wall time, per phase and target.

Reads every run's timing record (``timings.json``, else ``metrics.json``'s
``timings``; `xlt_lib.training.timings`) under an experiment's run folder and
prints, per phase/target, the median seconds of each part (kernel start, imports,
provenance, data loading and tokenisation, model load, training, evaluation,
saving, closing the notebook, other), the median total, and the fixed overhead:
everything except training, as a share of the run.

    .venv/bin/python benchmarks/run_overhead.py runs/smoke

The markdown table goes to stdout; the last line is one JSON object with the same figures.
Runs without a timing record (written before runs recorded one) are counted and skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from xlt_lib.errors import RunRecordError
from xlt_lib.experiment import records
from xlt_lib.training.timings import OVERHEAD_PARTS, PARTS, read_timings


def group_of(config: dict[str, Any]) -> str:
    """``intermediate/<task>`` for phase 2, ``transfer/<target>`` for phase 3."""
    if config.get("phase") == "intermediate":
        return f"intermediate/{config.get('intermediate')}"
    return f"transfer/{config.get('target')}"


def collect(runs_dir: Path) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Timing records of the complete runs under ``runs_dir``, by group; and how many lacked one."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    missing = 0
    for run_dir in sorted(path for path in runs_dir.iterdir() if path.is_dir()):
        if run_dir.name.startswith(("_", ".")) or not (run_dir / records.METRICS).is_file():
            continue
        try:
            config = records.read_config(run_dir)
        except RunRecordError:
            config = None
        record = read_timings(run_dir)
        if config is None or record is None:
            missing += 1
            continue
        groups[group_of(config)].append(record)
    return dict(groups), missing


def summarise(records_: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of each part and of the total, and the fixed overhead's share (median over runs)."""
    parts = {
        part: round(statistics.median(float(r["parts"].get(part, 0.0)) for r in records_), 3)
        for part in PARTS
    }
    overhead = [
        100.0 * sum(float(r["parts"].get(part, 0.0)) for part in OVERHEAD_PARTS) / float(r["total"])
        for r in records_
        if float(r["total"]) > 0
    ]
    return {
        "runs": len(records_),
        "parts": parts,
        "total": round(statistics.median(float(r["total"]) for r in records_), 3),
        "overhead_seconds": round(sum(parts[part] for part in OVERHEAD_PARTS), 3),
        "overhead_percent": round(statistics.median(overhead), 1) if overhead else None,
    }


def markdown(summary: dict[str, dict[str, Any]]) -> str:
    """One row per phase/target: median seconds per part, total, and the fixed overhead."""
    shown = [part for part in PARTS if any(s["parts"][part] for s in summary.values())]
    header = ["phase/target", "runs", *shown, "total", "overhead", "overhead %"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group, s in sorted(summary.items()):
        cells = [group, str(s["runs"]), *(f"{s['parts'][part]:.2f}" for part in shown)]
        cells += [f"{s['total']:.1f}", f"{s['overhead_seconds']:.1f}", f"{s['overhead_percent']}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_dir", type=Path, help="an experiment's run folder, e.g. runs/smoke")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.runs_dir.is_dir():
        print(
            f"{args.runs_dir}: no such folder (expected an experiment's runs, e.g. runs/smoke)",
            file=sys.stderr,
        )
        return 2
    groups, missing = collect(args.runs_dir)
    summary = {group: summarise(runs) for group, runs in groups.items()}
    if not summary:
        print(
            f"{args.runs_dir}: no complete run with a timing record ({missing} without one)", file=sys.stderr
        )
        return 1
    print("Median seconds per part; overhead = every part except training (median share of each run).\n")
    print(markdown(summary))
    if missing:
        print(f"\n{missing} complete run(s) without a timing record were skipped.")
    print(json.dumps({"runs_dir": str(args.runs_dir), "skipped": missing, "groups": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
