"""Import a script of ``benchmarks/`` as a module (the folder is not a package).

Benchmarks set environment variables when imported (``XLT_PROGRESS=0``,
``OMP_NUM_THREADS=1``, ...) because that is where a script must set them, before
the libraries that read them load. In the test process those settings would leak
into every later test and into the processes it starts (a JupyterLab kernel started
with ``XLT_PROGRESS=0`` draws no progress bar), so the loader restores the
environment as it found it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    environment = dict(os.environ)
    try:
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return module
