"""What a task is: its format, labels, text fields, splits, languages and sources.

A `TaskSpec` is plain, frozen data. The registry (`xlt_lib.tasks.registry`) holds
one per task; loaders, tokenisation, code-switching and evaluation read it and
never hard-code a task's properties themselves.

Split names are canonical (``train``, ``dev``, ``test``) whatever the source
calls them; `HubSource.splits` and `LocalSource.splits` map them to what the
hub or the files provide.

What a task's *format* means (columns, encoding, head, metrics) is not here but in
its format module (`xlt_lib.tasks.formats`), which `TaskSpec.columns` asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlt_lib.tasks.formats import FormatName, get_format

Format = FormatName


@dataclass(frozen=True)
class Carve:
    """Keep only a deterministic part of a source split.

    Used where a split is missing (offline HellaSwag and Cosmos QA have only their
    validation split): an example goes to ``dev`` when the SHA-256 of its native id,
    read as an integer, modulo 100 is below ``dev_percent``, otherwise to ``train``.
    Hashing the id (not the row position) keeps the assignment stable when rows are
    reordered, added or removed.
    """

    part: Literal["train", "dev"]
    dev_percent: int = 10


@dataclass(frozen=True)
class LocalSplit:
    """One canonical split read from a file under the data directory.

    ``path`` is relative to the data directory and may contain ``{language}``:
    then the split's local languages are the files present (or ``languages``,
    where listed). A path without ``{language}`` serves ``languages`` (``None``:
    all the task's languages).
    ``reader`` names a function in `xlt_lib.tasks.local.READERS` that knows the
    file's layout, or is such a function itself (a task file's
    `xlt_lib.tasks.mapped.FieldMapReader`).
    """

    path: str
    reader: str | Callable[[Path, str], Iterable[Any]]
    carve: Carve | None = None
    languages: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LocalSource:
    """Where a task's files live in the offline mirror (or a directory like it).

    ``root_env`` names an environment variable that overrides the data directory for
    this task alone (CCG, which has no public copy, lives wherever the user puts it).
    ``root`` fixes the directory (a task file's ``data_dir``, relative to the file);
    ``None``: the data directory of the run.
    """

    splits: dict[str, LocalSplit]
    root_env: str | None = None
    root: str | None = None


@dataclass(frozen=True)
class HubSource:
    """Where a task lives on the Hugging Face hub and how to adapt its schema.

    ``config`` may contain ``{language}``. Each canonical split maps to one or more
    hub splits, concatenated in order (ANLI's three rounds). ``adapter`` names a
    function in `xlt_lib.tasks.hub.ADAPTERS` that turns the hub schema into the
    canonical columns.
    """

    path: str
    config: str | None
    splits: dict[str, tuple[str, ...]]
    adapter: str


@dataclass(frozen=True)
class TaskSpec:
    """Everything the project knows about one task.

    - ``labels``: label names; a canonical ``label`` (or ``tags`` entry) is an index
      into them. Empty for tasks whose label set comes from their training data
      (CCG); `xlt_lib.tasks.load_split` fills it in.
    - ``text_fields``: the canonical columns code-switching may rewrite.
    - ``train_task``: for a target, the task whose English training data it is
      fine-tuned on (XNLI trains on MNLI); ``None`` for intermediate tasks.
    - ``eval_split``: the split zero-shot transfer is scored on by default.
    - ``selection_split`` / ``selection_language``: the split used for model
      selection (English dev, as in XTREME).
    """

    name: str
    format: Format
    description: str
    labels: tuple[str, ...]
    text_fields: tuple[str, ...]
    languages: tuple[str, ...]
    splits: tuple[str, ...]
    hub: HubSource | None = None
    local: LocalSource | None = None
    train_task: str | None = None
    eval_split: str = "dev"
    selection_split: str = "dev"
    selection_language: str = "en"
    labels_from_train: bool = False
    num_choices: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def is_target(self) -> bool:
        """Whether the task is a cross-lingual transfer target (more than English)."""
        return self.train_task is not None

    @property
    def is_pair(self) -> bool:
        """Whether a classification task classifies sentence pairs (has ``text_b``)."""
        return self.format == "classification" and "text_b" in self.text_fields

    @property
    def columns(self) -> tuple[str, ...]:
        """The canonical columns `load_split` returns for this task (its format decides)."""
        return get_format(self.format).columns(self)
