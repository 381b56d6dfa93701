"""The GPU path checked: the offline default through both phases in bf16, then one phase under torchrun.

On a CUDA machine this runs what the CPU tests cannot: the ``gpu`` training profile
(`xlt_lib.training.settings`: lr 1e-5, batch 32, length 256, 2 epochs, selection on
English dev) in bf16 (`xlt_lib.training.device.check_precision`) on the offline
default encoder, at the full offline sizes:

1. phase 2: MNLI intermediate training (all 8,999 offline pairs, 2 epochs);
2. phase 3: XNLI transfer from that encoder (MNLI again, 2 epochs), evaluated
   zero-shot on the whole XNLI test set (15 languages x 5,010);
3. phase 3 again under ``torchrun --standalone --nproc_per_node=<GPUs>`` (Trainer's
   DDP; ``torch.cuda.device_count()`` processes).

It records, per step, training and evaluation examples/s, peak GPU memory
(``torch.cuda.max_memory_allocated``), the run's time breakdown
(`xlt_lib.training.timings`) and the scores, and judges each step: every number
finite and the run learned (above its majority class, loss off ln k:
`xlt_lib.training.learning`, the ``learning`` entry of the metrics).

Cost, estimated from FLOPs: the encoder has ~21 M parameters outside its embeddings;
an MNLI pair is ~45 tokens with length-grouped dynamic padding, so one epoch of
8,999 pairs is ~0.4 M tokens, 6 x 21 M x 0.4 M = 5e13 FLOP, well under a second of
an H200's bf16 throughput. The ~280 optimizer steps per epoch are bound by kernel
launches instead (~30-60 ms a step with AdamW over the 118 M parameters): ~20-40 s
per training phase. Evaluating 75,150 XNLI pairs is ~1.5e14 FLOP in ~1,200 batches of
64: ~20-40 s. With start-up, data and model loading, the three steps take ~3-5
minutes on one H200. ``--max-minutes`` (default 8) bounds it: a step that would
start past the budget is skipped and named in the verdict.

    .venv/bin/python benchmarks/gpu_check.py [--out DIR] [--max-minutes 8] [--train-examples N]
        [--eval-examples N] [--eval-batch-size N] [--no-torchrun]

Writes ``gpu_check.json`` and ``gpu_check.md`` under ``--out`` (default: ``$OUT`` if
set, else ``benchmarks/results/gpu_check/``); the last line of output is one JSON
object. Without CUDA it prints one line naming what is missing and exits 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
MODEL = "offline-default"
INTERMEDIATE_TASK = "mnli"
TARGET = "xnli"
#: Seconds a torchrun step needs beyond the in-process phase 3 it repeats (process start, NCCL).
TORCHRUN_STARTUP_S = 45.0


def parse_args(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> argparse.Namespace:
    environ = os.environ if environ is None else environ
    default_out = (
        Path(environ["OUT"]) if environ.get("OUT") else REPO / "benchmarks" / "results" / "gpu_check"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default_out, help="folder for gpu_check.json/.md")
    parser.add_argument("--max-minutes", type=float, default=8.0, help="skip steps that would start later")
    parser.add_argument("--train-examples", type=int, default=None, help="cap per phase (default: all)")
    parser.add_argument("--eval-examples", type=int, default=None, help="cap per language (default: all)")
    parser.add_argument("--eval-batch-size", type=int, default=None, help="default: the profile's")
    parser.add_argument("--no-torchrun", action="store_true", help="skip the DDP step")
    parser.add_argument("--data-dir", default=None, help="default: XLT_DATA_DIR or ../shared/data")
    parser.add_argument("--ddp-worker", type=Path, default=None, help=argparse.SUPPRESS)  # internal
    parser.add_argument("--encoder", default=None, help=argparse.SUPPRESS)  # internal: the worker's
    args = parser.parse_args(argv)
    for name in ("max_minutes", "train_examples", "eval_examples", "eval_batch_size"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    return args


def missing_cuda() -> str | None:
    """What stops this check from running here, in one line; ``None`` when a CUDA GPU is usable."""
    try:
        import torch
    except ImportError as exc:
        return f"torch is not importable ({exc}); run it with the project's .venv/bin/python"
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build (torch.version.cuda is None): install the CUDA build"
    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        hint = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
        return f"no CUDA device visible to torch {torch.__version__} (CUDA {torch.version.cuda}){hint}"
    if not torch.cuda.is_bf16_supported():
        return f"{torch.cuda.get_device_name(0)} does not support bfloat16, which the gpu profile uses here"
    return None


def settings_for(args: argparse.Namespace) -> Any:
    """The ``gpu`` profile in bf16, with the size flags applied."""
    from xlt_lib.training.settings import TrainingSettings

    overrides: dict[str, Any] = {"precision": "bf16"}
    if args.train_examples is not None:
        overrides["max_train_examples"] = args.train_examples
    if args.eval_examples is not None:
        overrides["max_eval_examples"] = args.eval_examples
    if args.eval_batch_size is not None:
        overrides["eval_batch_size"] = args.eval_batch_size
    return TrainingSettings.profile("gpu", **overrides)


# -- the verdict (pure: tested on CPU) -------------------------------------------------------


def _non_finite(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every non-finite float inside ``value``."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [path or "value"]
    if isinstance(value, Mapping):
        return [bad for key, item in value.items() for bad in _non_finite(item, f"{path}.{key}".lstrip("."))]
    if isinstance(value, list | tuple):
        return [bad for i, item in enumerate(value) for bad in _non_finite(item, f"{path}[{i}]")]
    return []


def step_summary(
    name: str, metrics: Mapping[str, Any], peak_bytes: int, timings: Mapping[str, Any]
) -> dict[str, Any]:
    """What one step records: scores, speed, memory, time, and its verdict with the reasons."""
    train = metrics.get("train") or {}
    evaluation = metrics.get("eval") or {}
    if metrics.get("phase") == "intermediate":
        scores = {"dev_accuracy": (metrics.get("dev") or {}).get("accuracy")}
    else:
        per_language = metrics.get("per_language") or {}
        scores = {
            "average_accuracy": (metrics.get("average") or {}).get("accuracy"),
            "en_accuracy": (per_language.get("en") or {}).get("accuracy"),
            "languages": len(per_language),
        }
    learning = metrics.get("learning") or {}
    problems = [f"non-finite {path}" for path in _non_finite(dict(metrics))]
    if not learning:
        problems.append("no learning check in the metrics")
    elif not learning.get("learned"):
        problems.append("did not learn: " + "; ".join(learning.get("reasons") or ["(no reason given)"]))
    return {
        "step": name,
        "ok": not problems,
        "problems": problems,
        "scores": scores,
        "train_examples_per_s": train.get("examples_per_s"),
        "train_loss": train.get("loss"),
        "train_steps": train.get("steps"),
        "eval_examples_per_s": evaluation.get("examples_per_s"),
        "eval_examples": evaluation.get("examples"),
        "peak_memory_gib": round(peak_bytes / 2**30, 3),
        "seconds": timings.get("total"),
        "timings": dict(timings.get("parts") or {}),
    }


def verdict(
    steps: Sequence[Mapping[str, Any]], skipped: Sequence[str], environment: Mapping[str, Any]
) -> dict[str, Any]:
    """The check's result: ``ok`` only when every planned step ran and passed (strict JSON: NaN as "nan")."""
    failed = [f"{step['step']}: {problem}" for step in steps for problem in step["problems"]]
    return {
        "ok": not failed and not skipped,
        "failed": failed,
        "skipped": list(skipped),
        "steps": [_strict(step) for step in steps],
        "environment": dict(environment),
    }


def _strict(value: Any) -> Any:
    """``value`` with non-finite floats as strings, so that the JSON it becomes is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(item) for item in value]
    return value


def _shown(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    return format(value, spec) if isinstance(value, float) else str(value)


def markdown(result: Mapping[str, Any]) -> str:
    """The human-readable page written beside the JSON."""
    env = result["environment"]
    lines = [
        "# GPU check (`benchmarks/gpu_check.py`)",
        "",
        f"Verdict: **{'pass' if result['ok'] else 'FAIL'}**. "
        f"{env.get('gpus')} x {env.get('gpu_name')}, torch {env.get('torch')}, CUDA {env.get('cuda')}, "
        f"bf16, profile gpu; {env.get('started')}.",
        "",
        "| step | ok | scores | train ex/s | eval ex/s | peak GiB | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in result["steps"]:
        scores = ", ".join(f"{k} {_shown(v, '.4f')}" for k, v in step["scores"].items())
        cells = [
            step["step"],
            "yes" if step["ok"] else "NO",
            scores or "-",
            _shown(step["train_examples_per_s"], ".0f"),
            _shown(step["eval_examples_per_s"], ".0f"),
            _shown(step["peak_memory_gib"], ".2f"),
            _shown(step["seconds"], ".0f"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for problem in result["failed"]:
        lines.append(f"\n- failed: {problem}")
    for name in result["skipped"]:
        lines.append(f"\n- skipped: {name}")
    return "\n".join(lines) + "\n"


# -- running (CUDA only) ---------------------------------------------------------------------


def _measured(run: Callable[[Any], Any]) -> tuple[Any, int, dict[str, Any]]:
    """Run a phase, returning its result, peak GPU memory (bytes) and its timing record."""
    import torch

    from xlt_lib.training.timings import RunTimings

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    timings = RunTimings()
    result = run(timings)
    torch.cuda.synchronize()
    return result, int(torch.cuda.max_memory_allocated()), timings.record()


def _transfer(encoder: str, settings: Any, output_dir: Path, data_dir: str | None) -> Callable[[Any], Any]:
    from xlt_lib.training import run_transfer

    return lambda timings: run_transfer(
        encoder, TARGET, settings, output_dir=output_dir, data_dir=data_dir, timings=timings
    )


def ddp_worker(args: argparse.Namespace) -> int:
    """One torchrun process: phase 3 under DDP; rank 0 writes its summary to ``--ddp-worker``."""
    result, peak, record = _measured(
        _transfer(args.encoder, settings_for(args), args.out / "work" / "ddp", args.data_dir)
    )
    if int(os.environ.get("RANK", "0")) == 0:
        summary = step_summary("transfer-ddp", result.metrics, peak, record)
        summary["world_size"] = int(os.environ.get("WORLD_SIZE", "1"))
        args.ddp_worker.write_text(json.dumps(summary))
    return 0


def environment_record() -> dict[str, Any]:
    import torch

    from xlt_lib.experiment.records import package_versions

    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "gpus": torch.cuda.device_count(),
        "gpu_name": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "packages": package_versions(("transformers", "accelerate", "datasets", "xlt")),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_cuda()
    if missing is not None:
        print(f"gpu_check: cannot run: {missing}", file=sys.stderr)
        return 2
    if args.ddp_worker is not None:
        return ddp_worker(args)

    import torch

    from xlt_lib.training import run_intermediate

    began = time.monotonic()
    budget = args.max_minutes * 60.0
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "work"
    settings = settings_for(args)
    environment = {**environment_record(), "settings": settings.to_dict(), "max_minutes": args.max_minutes}
    steps: list[dict[str, Any]] = []
    skipped: list[str] = []

    def left() -> float:
        return budget - (time.monotonic() - began)

    phase2, peak, record = _measured(
        lambda timings: run_intermediate(
            MODEL,
            INTERMEDIATE_TASK,
            settings,
            output_dir=work / "intermediate",
            data_dir=args.data_dir,
            timings=timings,
        )
    )
    steps.append(step_summary("intermediate", phase2.metrics, peak, record))
    estimate = 1.5 * float(record["total"])  # phase 3 trains as long as phase 2, then evaluates 75k pairs
    if left() < estimate:
        skipped.append(f"transfer: ~{estimate:.0f} s estimated, {max(left(), 0):.0f} s of --max-minutes left")
    else:
        phase3, peak, record = _measured(
            _transfer(str(phase2.encoder_dir), settings, work / "transfer", args.data_dir)
        )
        steps.append(step_summary("transfer", phase3.metrics, peak, record))
        estimate = float(record["total"]) + TORCHRUN_STARTUP_S
    if args.no_torchrun:
        skipped.append("transfer-ddp: --no-torchrun")
    elif len(steps) < 2 or left() < estimate:
        skipped.append(
            f"transfer-ddp: ~{estimate:.0f} s estimated, {max(left(), 0):.0f} s of --max-minutes left"
        )
    else:
        summary_path = work / "ddp-summary.json"
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={torch.cuda.device_count()}",
            str(Path(__file__).resolve()), "--out", str(args.out), "--ddp-worker", str(summary_path),
            "--encoder", str(phase2.encoder_dir), "--max-minutes", str(args.max_minutes),
        ]  # fmt: skip
        for flag, value in (
            ("--train-examples", args.train_examples),
            ("--eval-examples", args.eval_examples),
            ("--eval-batch-size", args.eval_batch_size),
            ("--data-dir", args.data_dir),
        ):
            if value is not None:
                command += [flag, str(value)]
        try:
            done = subprocess.run(command, timeout=max(left(), 1.0), capture_output=True, text=True)
            if done.returncode != 0 or not summary_path.is_file():
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                steps.append(
                    _failed_step("transfer-ddp", f"torchrun exited {done.returncode}: {' | '.join(tail)}")
                )
            else:
                steps.append(json.loads(summary_path.read_text()))
        except subprocess.TimeoutExpired:
            steps.append(_failed_step("transfer-ddp", "torchrun ran past --max-minutes"))
    environment["seconds"] = round(time.monotonic() - began, 1)
    result = verdict(steps, skipped, environment)
    (args.out / "gpu_check.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    (args.out / "gpu_check.md").write_text(markdown(result))
    print(markdown(result))
    print(json.dumps(result, allow_nan=False))
    return 0 if result["ok"] else 1


def _failed_step(name: str, problem: str) -> dict[str, Any]:
    return {
        "step": name,
        "ok": False,
        "problems": [problem],
        "scores": {},
        "train_examples_per_s": None,
        "train_loss": None,
        "train_steps": None,
        "eval_examples_per_s": None,
        "eval_examples": None,
        "peak_memory_gib": None,
        "seconds": None,
        "timings": {},
    }


if __name__ == "__main__":
    sys.exit(main())
