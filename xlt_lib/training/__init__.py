"""The three phases of the study as library functions, built on `transformers.Trainer`.

- `TrainingSettings` (``from_dict``, ``profile("cpu" | "gpu")``, ``to_dict``): how to train;
- `run_intermediate(model, task, settings, codeswitch, output_dir, data_dir)` -> `IntermediateResult`:
  phase 2, saves ``output_dir/encoder`` (encoder only, plus ``xlt_encoder.json``); ``task`` may be
  a `MultiTaskSpec` (several tasks at once, one shared encoder: `xlt_lib.training.multitask`);
- `run_transfer(encoder, target, settings, codeswitch, output_dir, data_dir)` -> `TransferResult`:
  phase 3, fine-tunes on the target's English training data, selects on English dev and
  evaluates every language of the target's eval split.

Heavy imports (torch, transformers) happen on first use of these names, so that
importing `xlt_lib.training.settings` alone (for validating an experiment file) stays fast.
Multi-GPU use is described in `xlt_lib.training.phases`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlt_lib.training.multitask_spec import MultiTaskSpec
from xlt_lib.training.settings import TrainingSettings

if TYPE_CHECKING:
    from xlt_lib.training.phases import IntermediateResult, TransferResult, run_intermediate, run_transfer

__all__ = [
    "IntermediateResult",
    "MultiTaskSpec",
    "TrainingSettings",
    "TransferResult",
    "run_intermediate",
    "run_transfer",
]

_LAZY = {"IntermediateResult", "TransferResult", "run_intermediate", "run_transfer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from xlt_lib.training import phases

        return getattr(phases, name)
    raise AttributeError(f"module 'xlt_lib.training' has no attribute {name!r}")
