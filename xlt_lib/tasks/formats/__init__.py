"""Task formats: one module per format, each the one place that knows it.

- `get_format(name)` -> `TaskFormat`: columns and ``datasets`` features, row
  normalisation, encoding, collator, head class, whether the [CLS]-only last layer
  applies, selection metric, dev metrics and prediction decoding;
- `FORMATS`: the format names, in registry order.

`xlt_lib.tasks.formats.base` describes the interface and why it exists.
"""

from __future__ import annotations

from xlt_lib.errors import ConfigError
from xlt_lib.tasks.formats.base import IGNORE_INDEX, FormatName, FormatTask, Scored, TaskFormat
from xlt_lib.tasks.formats.classification import CLASSIFICATION
from xlt_lib.tasks.formats.extractive_qa import EXTRACTIVE_QA
from xlt_lib.tasks.formats.multiple_choice import MULTIPLE_CHOICE
from xlt_lib.tasks.formats.tagging import TAGGING

REGISTRY: dict[str, TaskFormat] = {
    fmt.name: fmt for fmt in (CLASSIFICATION, MULTIPLE_CHOICE, EXTRACTIVE_QA, TAGGING)
}
FORMATS: tuple[FormatName, ...] = tuple(fmt.name for fmt in REGISTRY.values())

#: Canonical columns per format (ARCHITECTURE.md, "Canonical data"); a task may
#: drop optional ones (single-sentence classification has no ``text_b``: `TaskSpec.columns`).
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    name: fmt.canonical_columns for name, fmt in REGISTRY.items()
}


def get_format(name: str) -> TaskFormat:
    """The format called ``name``; a `ConfigError` lists the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"task format {name!r}: unknown (known: {', '.join(REGISTRY)})") from None


__all__ = [
    "CANONICAL_COLUMNS",
    "FORMATS",
    "IGNORE_INDEX",
    "REGISTRY",
    "FormatName",
    "FormatTask",
    "Scored",
    "TaskFormat",
    "get_format",
]
