"""Which device training runs on, and which precision flags that device allows.

One place for both, so that the early check of a phase (fail before any data is
read) and the Trainer's arguments agree on the device and on what bf16/fp16 mean.
"""

from __future__ import annotations

import torch

from xlt_lib.errors import ConfigError, TrainingError


def training_device() -> torch.device:
    """The device this process trains on: the GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def check_precision(precision: str, device: torch.device) -> dict[str, bool]:
    """TrainingArguments flags for ``precision`` on ``device``, or a clear error.

    bf16 runs on CUDA devices that support it and on CPU (autocast); fp16 needs
    CUDA (its gradient scaler has no CPU path in the Trainer).
    """
    if precision == "fp32":
        return {"bf16": False, "fp16": False}
    if precision == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise TrainingError(
                f"precision=bf16: {torch.cuda.get_device_name(device)} does not support bfloat16"
            )
        if device.type not in ("cuda", "cpu"):
            raise TrainingError(f"precision=bf16: not supported on device {device.type}")
        return {"bf16": True, "fp16": False}
    if precision == "fp16":
        if device.type != "cuda":
            raise TrainingError(
                f"precision=fp16: needs a CUDA GPU, this run is on {device.type}; use fp32 or bf16"
            )
        return {"bf16": False, "fp16": True}
    raise ConfigError(f"precision: expected fp32, bf16 or fp16, got {precision!r}")
