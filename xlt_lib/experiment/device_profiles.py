"""Recorded device profiles: throughput for a device that is not on this machine, NOT measured.

A plan for GPUs made on a machine without one (``params/phang2020.yaml`` here) cannot
time a probe. Its estimate is derived instead from the device's published peak
(dense tensor throughput, vendor spec sheet), an assumed share of that peak a
fine-tuning run reaches (``UTILISATION``), and the standard count of ~6 FLOPs per
parameter per token for a training step (forward + backward) and ~2 for inference,
counting the parameters that multiply (Kaplan et al. 2020's non-embedding count: a
word-embedding row is looked up, not multiplied; it is 82 % of the offline default
and 46 % of XLM-R Large).
Every number here is labelled "not measured" wherever it is shown, together with
its source; a completed run on the device replaces it (its recorded throughput,
`xlt_lib.experiment.throughput`).

This table is the one place such numbers live. SLURM's ``constraint`` picks a row
when it names one (``constraint: a100``); otherwise `DEFAULT_GPU` is assumed and
the plan says so.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Share of the peak an encoder fine-tuning run is assumed to reach (mixed precision, dynamic
#: padding, small batches): an assumption, typical of published MFU figures for BERT-size models.
UTILISATION = 0.30
#: Tokens per example assumed on a GPU, as a share of ``max_length`` (padding-minimal batches of
#: XNLI/MNLI pairs fill roughly a quarter to a half of 256 tokens): an assumption.
FILL = 0.5
#: Seconds per run outside training and evaluation (kernel start, imports, CUDA context, reading
#: and tokenising the data; 11-14 s measured on CPU here), plus seconds per GB of fp32 weights
#: (loading the encoder, saving phase 2's): an assumption until a run on the device records its
#: own (~75 s for XLM-R Large, ~40 s for the offline default).
OVERHEAD_S = 30.0
OVERHEAD_S_PER_GB = 20.0
#: The shortest time one optimizer step (forward, backward, AdamW) and one evaluation batch take,
#: whatever the FLOPs: a small encoder at batch 16 is bound by kernel launches, not by the tensor
#: cores (assumed, for a 12-layer encoder; deeper ones scale by layers/12).
TRAIN_STEP_FLOOR_S = 0.030
EVAL_BATCH_FLOOR_S = 0.010
#: Non-embedding parameters of hub encoders the plans name: the model cards' totals less the
#: word-embedding matrix (vocabulary x hidden size of their configs).
KNOWN_PARAMETERS = {
    "xlm-roberta-base": 278_000_000 - 250_002 * 768,
    "FacebookAI/xlm-roberta-base": 278_000_000 - 250_002 * 768,
    "xlm-roberta-large": 560_000_000 - 250_002 * 1024,
    "FacebookAI/xlm-roberta-large": 560_000_000 - 250_002 * 1024,
    "bert-base-multilingual-cased": 178_000_000 - 119_547 * 768,
    "google-bert/bert-base-multilingual-cased": 178_000_000 - 119_547 * 768,
}


@dataclass(frozen=True)
class DeviceProfile:
    """A GPU's published dense peak per precision (TFLOP/s) and where the numbers come from."""

    name: str
    peak_tflops: dict[str, float]
    source: str

    def train_examples_per_s(
        self, parameters: int, tokens: float, precision: str, *, batch: int = 16, layers: int = 12
    ) -> float:
        """Training examples per second under the module's assumptions (6 FLOPs per parameter per token).

        At most ``batch`` examples per `TRAIN_STEP_FLOOR_S` (scaled by ``layers``/12).
        """
        by_flops = self._flops(precision) / (6.0 * parameters * tokens)
        return min(by_flops, batch / (TRAIN_STEP_FLOOR_S * layers / 12))

    def eval_examples_per_s(
        self, parameters: int, tokens: float, precision: str, *, batch: int = 32, layers: int = 12
    ) -> float:
        """Inference examples per second (2 FLOPs per parameter per token), at most ``batch`` per floor."""
        by_flops = self._flops(precision) / (2.0 * parameters * tokens)
        return min(by_flops, batch / (EVAL_BATCH_FLOOR_S * layers / 12))

    def _flops(self, precision: str) -> float:
        return self.peak_tflops.get(precision, self.peak_tflops["fp32"]) * 1e12 * UTILISATION

    def label(self, precision: str) -> str:
        peak = self.peak_tflops.get(precision, self.peak_tflops["fp32"])
        return (
            f"{self.name} profile, not measured: {peak:g} TFLOP/s {precision} peak ({self.source}) x assumed "
            f"{UTILISATION:.0%} utilisation, {FILL:.0%} of max_length per example, steps of at least "
            f"{1000 * TRAIN_STEP_FLOOR_S:.0f} ms (evaluation batches {1000 * EVAL_BATCH_FLOOR_S:.0f} ms), "
            f"{OVERHEAD_S:.0f} s + {OVERHEAD_S_PER_GB:.0f} s per GB of weights per run"
        )


#: fp32 is the TF32 tensor-core rate where the card has one (PyTorch's default for matmuls there).
DEVICE_PROFILES: dict[str, DeviceProfile] = {
    "a100": DeviceProfile(
        "NVIDIA A100 80GB SXM",
        {"bf16": 312.0, "fp16": 312.0, "fp32": 156.0},
        "NVIDIA A100 datasheet, dense",
    ),
    "h100": DeviceProfile(
        "NVIDIA H100 SXM",
        {"bf16": 989.0, "fp16": 989.0, "fp32": 494.0},
        "NVIDIA H100 datasheet, dense",
    ),
    "h200": DeviceProfile(
        "NVIDIA H200 SXM",
        {"bf16": 989.0, "fp16": 989.0, "fp32": 494.0},
        "NVIDIA H200 datasheet, dense (the H100's compute, more memory)",
    ),
    "v100": DeviceProfile(
        "NVIDIA V100 SXM2",
        {"fp16": 125.0, "bf16": 15.7, "fp32": 15.7},
        "NVIDIA V100 datasheet (no bf16 tensor cores)",
    ),
}
DEFAULT_GPU = "a100"


def gpu_profile(constraint: str | None) -> tuple[DeviceProfile, bool]:
    """The profile a SLURM ``constraint`` names, else `DEFAULT_GPU`; and whether it was named."""
    text = (constraint or "").lower()
    for key, profile in DEVICE_PROFILES.items():
        if key in text:
            return profile, True
    return DEVICE_PROFILES[DEFAULT_GPU], False
