"""What a task is: its format, labels, text fields, splits, languages and sources.

A `TaskSpec` is plain, frozen data. The registry (`xlt_lib.tasks.registry`) holds
one per task; loaders, tokenisation, code-switching and evaluation read it and
never hard-code a task's properties themselves.

Split names are canonical (``train``, ``dev``, ``test``) whatever the source
calls them; `HubSource.splits` and `LocalSource.splits` map them to what the
hub or the files provide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Format = Literal["classification", "multiple_choice", "extractive_qa", "tagging"]
FORMATS: tuple[Format, ...] = ("classification", "multiple_choice", "extractive_qa", "tagging")

#: Canonical columns per format (ARCHITECTURE.md, "Canonical data"). Single-sentence
#: classification tasks have no ``text_b``.
CANONICAL_COLUMNS: dict[Format, tuple[str, ...]] = {
    "classification": ("id", "language", "text_a", "text_b", "label"),
    "multiple_choice": ("id", "language", "context", "question", "choices", "label"),
    "extractive_qa": ("id", "language", "question", "context", "answers"),
    "tagging": ("id", "language", "tokens", "tags"),
}


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

    ``path`` is relative to the data directory and may contain ``{language}``.
    ``reader`` names a function in `xlt_lib.tasks.local.READERS` that knows the
    file's layout. ``languages`` restricts the languages available from this file
    (``None``: all the task's languages).
    """

    path: str
    reader: str
    carve: Carve | None = None
    languages: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LocalSource:
    """Where a task's files live in the offline mirror (or a directory like it).

    ``root_env`` names an environment variable that overrides the data directory for
    this task alone (CCG, which has no public copy, lives wherever the user puts it).
    """

    splits: dict[str, LocalSplit]
    root_env: str | None = None


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
        """The canonical columns `load_split` returns for this task."""
        columns = CANONICAL_COLUMNS[self.format]
        if self.format == "classification" and not self.is_pair:
            columns = tuple(c for c in columns if c != "text_b")
        return columns
