"""Session-wide fixtures: the offline data mirror, the offline model, a tiny model.

Tests are fast by default: tiny models built from a config (with the real
tokenizer of the offline model), a handful of rows of the real data. The offline
model itself is converted once per session into a temporary cache (seconds).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach the hub, and never print a progress bar per update.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# A dry-run with nothing calibrated would probe the machine (a minute of training per workload):
# tests that plan ask for a probe explicitly (tests/experiment/test_experiment_timing.py).
os.environ.setdefault("XLT_AUTO_CALIBRATE", "0")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline data mirror (``../shared/data`` or ``XLT_DATA_DIR``)."""
    from xlt_lib.paths import data_dir as resolve

    path = resolve()
    if path is None:
        pytest.fail("no offline data: set XLT_DATA_DIR or put shared/data next to the checkout")
    return path


@pytest.fixture(scope="session")
def offline_model_dir() -> Path:
    """The real offline default encoder, prepared once (idempotent) in the project cache."""
    from xlt_lib.model import prepare_offline_model

    return prepare_offline_model()


@pytest.fixture(scope="session")
def tiny_model_dir(offline_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide random encoder with the offline model's real tokenizer.

    Its vocabulary is the full 250k XLM-R vocabulary, so every task tokenises
    exactly as with the real model; only the network is tiny.
    """
    from xlt_lib.model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), tokenizer_source=offline_model_dir)
