"""The task registry and data layer: one place that knows each task.

- `get_task(name)` -> `TaskSpec` (format, labels, text fields, splits, languages, sources)
- `load_split(task, split, language)` -> `datasets.Dataset` with canonical columns
  (see ARCHITECTURE.md), from local files or the Hugging Face hub
- `encode_batch` / `tokenize` -> model inputs per format; `collator_for` -> dynamic padding
- `subsample(ds, n, seed)` -> deterministic, label-balanced, language-aligned subsets

Heavy libraries (``datasets``, ``transformers``) are imported inside functions, so
importing this package (and ``xlt --help``) stays fast.
"""

from xlt_lib.tasks.loading import data_checksums, data_files, load_split, resolve_source, resolved_task
from xlt_lib.tasks.registry import TASKS, get_task, task_names
from xlt_lib.tasks.sampling import subsample
from xlt_lib.tasks.spec import CANONICAL_COLUMNS, FORMATS, Carve, HubSource, LocalSource, LocalSplit, TaskSpec
from xlt_lib.tasks.tokenization import (
    IGNORE_INDEX,
    collator_for,
    encode_batch,
    tokenize,
    tokenizer_fingerprint,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "FORMATS",
    "IGNORE_INDEX",
    "TASKS",
    "Carve",
    "HubSource",
    "LocalSource",
    "LocalSplit",
    "TaskSpec",
    "collator_for",
    "data_checksums",
    "data_files",
    "encode_batch",
    "get_task",
    "load_split",
    "resolve_source",
    "resolved_task",
    "subsample",
    "task_names",
    "tokenize",
    "tokenizer_fingerprint",
]
