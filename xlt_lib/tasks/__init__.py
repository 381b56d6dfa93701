"""The task registry and data layer: one place that knows each task.

- `get_task(name)` -> `TaskSpec` (format, labels, text fields, splits, languages, sources)
- `load_split(task, split, language)` -> `datasets.Dataset` with canonical columns
  (see ARCHITECTURE.md), from local files or the Hugging Face hub
- `encode_batch` / `tokenize` -> model inputs per format; `collator_for` -> dynamic padding
- `get_format(name)` -> `TaskFormat`: everything a task format means (columns, encoding,
  collator, head, metrics, prediction decoding), one module per format (`xlt_lib.tasks.formats`)
- `subsample(ds, n, seed)` -> deterministic, label-balanced, language-aligned subsets

Heavy libraries (``datasets``, ``transformers``, ``torch``, and ``numpy``) are imported
inside functions, so importing this package (and ``xlt --help``, and validating an
experiment file) stays fast.
"""

from xlt_lib.tasks.formats import CANONICAL_COLUMNS, FORMATS, IGNORE_INDEX, TaskFormat, get_format
from xlt_lib.tasks.loading import (
    data_checksums,
    data_files,
    evaluation_languages,
    load_split,
    resolve_source,
    resolved_task,
    split_languages,
)
from xlt_lib.tasks.registry import TASKS, get_task, task_names
from xlt_lib.tasks.sampling import subsample
from xlt_lib.tasks.spec import Carve, HubSource, LocalSource, LocalSplit, TaskSpec
from xlt_lib.tasks.tokenization import collator_for, encode_batch, tokenize, tokenizer_fingerprint

__all__ = [
    "CANONICAL_COLUMNS",
    "FORMATS",
    "IGNORE_INDEX",
    "TASKS",
    "Carve",
    "HubSource",
    "LocalSource",
    "LocalSplit",
    "TaskFormat",
    "TaskSpec",
    "collator_for",
    "data_checksums",
    "data_files",
    "encode_batch",
    "evaluation_languages",
    "get_format",
    "get_task",
    "load_split",
    "resolve_source",
    "resolved_task",
    "split_languages",
    "subsample",
    "task_names",
    "tokenize",
    "tokenizer_fingerprint",
]
