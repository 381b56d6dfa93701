"""``xlt_model.json``: the file in which a prepared model folder records what it is.

The converter writes it last, as the mark of a complete folder, and
`xlt_lib.model.identity` reads it back for a run's provenance. It lives apart
from both so that the converter (below model resolution) and the identity
(above it) share it without importing each other.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

IDENTITY_FILE = "xlt_model.json"


def write_identity(model_dir: Path, identity: dict[str, Any]) -> Path:
    """Write ``identity`` as ``<model_dir>/xlt_model.json`` atomically (it marks completion)."""
    target = model_dir / IDENTITY_FILE
    fd, tmp = tempfile.mkstemp(prefix=f".{IDENTITY_FILE}.", dir=model_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(identity, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
