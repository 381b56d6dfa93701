"""Loading one split of one task, from local files or the hub, into canonical columns.

Whatever the source, rows go through the same normalisation (label names or
indices to indices, stable ids, carving of missing splits, checks) and become a
`datasets.Dataset` with the canonical features of the task's format.

The canonical dataset is written once to ``cache_dir()/datasets`` under a key
derived from the source content (SHA-256 of the files, or the hub dataset's
fingerprint) and read back memory-mapped. That gives it a stable fingerprint and
on-disk cache files, so `tokenize`'s ``Dataset.map`` is cached across runs
(an in-memory dataset is never cached by ``datasets``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from xlt_lib import paths
from xlt_lib.checksums import file_sha256
from xlt_lib.errors import ConfigError, DataError
from xlt_lib.tasks import hub
from xlt_lib.tasks.formats import get_format
from xlt_lib.tasks.formats.tagging import UNKNOWN_TAG
from xlt_lib.tasks.local import READERS, RawRow
from xlt_lib.tasks.registry import check_language, check_split, get_task
from xlt_lib.tasks.spec import Carve, LocalSplit, TaskSpec

log = logging.getLogger(__name__)

Source = Literal["auto", "local", "hub"]

#: Bump when the canonical rows a loader produces change, to invalidate caches.
LOADER_VERSION = "1"


def carve_part(key: str, dev_percent: int) -> Literal["train", "dev"]:
    """Which carved part an example with native id ``key`` belongs to (see `Carve`)."""
    bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % 100
    return "dev" if bucket < dev_percent else "train"


def local_root(task: TaskSpec, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The directory a task's local files are read from, or ``None`` when there is none.

    Most tasks read the shared data directory (`xlt_lib.paths.data_dir`). A task
    with ``local.root_env`` (CCG) reads ``data_dir`` if given, else that variable,
    and never the shared mirror.
    """
    if task.local is None:
        return None
    if task.local.root_env is not None:
        value = data_dir or os.environ.get(task.local.root_env)
        if not value:
            return None
        root = Path(value).expanduser().resolve()
        if not root.is_dir():
            raise DataError(
                f"task {task.name!r}: {task.local.root_env or 'data_dir'}={value}: no such directory"
            )
        return root
    return paths.data_dir(data_dir)


def local_split(task: TaskSpec, split: str, language: str) -> LocalSplit | None:
    """The local file entry for (split, language), or ``None`` when the files lack it."""
    if task.local is None:
        return None
    entry = task.local.splits.get(split)
    if entry is None or (entry.languages is not None and language not in entry.languages):
        return None
    return entry


def resolve_source(
    task: TaskSpec,
    split: str,
    language: str,
    source: Source = "auto",
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[Literal["local", "hub"], Path | None]:
    """Decide where (task, split, language) is read from: ``("local", root)`` or ``("hub", None)``.

    ``auto`` reads local files when a data directory is known and it holds this
    split and language, otherwise the hub. It does not look at whether the file
    exists: a missing file in a named data directory is an error, never a silent
    switch to the network.
    """
    if source not in ("auto", "local", "hub"):
        raise ConfigError(f"source={source!r}: expected 'auto', 'local' or 'hub'")
    entry = local_split(task, split, language)
    if source in ("auto", "local"):
        root = local_root(task, data_dir) if entry is not None else None
        if root is not None:
            return "local", root
        if source == "local":
            if entry is None:
                raise DataError(
                    f"task {task.name!r} has no local files for split {split!r}, language {language!r}"
                )
            where = task.local.root_env if task.local and task.local.root_env else "XLT_DATA_DIR or data_dir"
            raise DataError(f"task {task.name!r}: no local data directory; set {where}")
    if task.hub is None or split not in task.hub.splits:
        hint = ""
        if task.local is not None and task.local.root_env:
            hint = f"; set {task.local.root_env} to the folder with its files ({task.notes[0] if task.notes else ''})"
        raise DataError(f"task {task.name!r} split {split!r} is not on the Hugging Face hub{hint}")
    return "hub", None


def data_files(
    task: str | TaskSpec, split: str, language: str = "en", data_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """The local files (split, language) of a task reads; empty when it would read the hub."""
    spec = get_task(task)
    kind, root = resolve_source(spec, split, language, "auto", data_dir)
    if kind == "hub" or root is None:
        return []
    entry = local_split(spec, split, language)
    assert entry is not None  # resolve_source returned "local"
    files = [root / entry.path.format(language=language)]
    if spec.labels_from_train and split != "train":
        train = spec.local.splits["train"] if spec.local else None
        if train is not None:
            files.append(root / train.path.format(language=language))
    return files


def data_checksums(
    task: str | TaskSpec, split: str, language: str = "en", data_dir: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """``{path: sha256}`` of the local files a task's split reads, for a run's provenance."""
    return {str(path): file_sha256(path) for path in data_files(task, split, language, data_dir)}


def _file_sha256(task: TaskSpec, path: Path) -> str:
    if not path.is_file():
        raise DataError(f"task {task.name!r}: missing data file {path}")
    return file_sha256(path)


def _canonical_rows(
    task: TaskSpec,
    split: str,
    language: str,
    raw_rows: Iterable[RawRow],
    labels: tuple[str, ...],
    origin: str,
    carve: Carve | None,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    no_gold = 0
    task_format = get_format(task.format)
    for raw in raw_rows:
        if carve is not None and carve_part(raw.key, carve.dev_percent) != carve.part:
            continue
        fields = dict(raw.fields)
        if fields.get("label") in (-1, "-1"):  # the hub's marker for "no gold label" (SNLI, MNLI)
            no_gold += 1
            continue
        fields = task_format.canonical_fields(task, fields, labels, f"{origin}: {raw.where}")
        example_id = f"{task.name}-{split}-{raw.key}"
        if example_id in seen:
            raise DataError(f"task {task.name!r}: {origin}: {raw.where}: duplicate id {raw.key!r}")
        seen.add(example_id)
        rows.append({"id": example_id, "language": language, **fields})
    if no_gold:
        log.info("%s %s/%s: dropped %d rows without a gold label (-1)", task.name, split, language, no_gold)
    if not rows:
        raise DataError(f"task {task.name!r}: {origin}: split {split!r} ({language}) is empty")
    return rows


def train_tag_set(task: TaskSpec, root: Path) -> tuple[str, ...]:
    """A tagging task's label set, learnt from its training file: sorted tags plus `UNKNOWN_TAG`."""
    if task.local is None or "train" not in task.local.splits:
        raise DataError(f"task {task.name!r}: its tag set comes from a local training file, which it lacks")
    entry = task.local.splits["train"]
    path = root / entry.path
    tags = {tag for raw in READERS[entry.reader](path, task.name) for tag in raw.fields["tags"]}
    if not tags:
        raise DataError(f"task {task.name!r}: {path}: no tags found (expected `word<TAB>tag` lines)")
    return (*sorted(tags), UNKNOWN_TAG)


def resolved_task(task: str | TaskSpec, data_dir: str | os.PathLike[str] | None = None) -> TaskSpec:
    """The task's spec with its label set filled in where it comes from training data (CCG)."""
    spec = get_task(task)
    if not spec.labels_from_train:
        return spec
    root = local_root(spec, data_dir)
    if root is None:
        raise DataError(
            f"task {spec.name!r}: no data directory; set {spec.local.root_env if spec.local else 'data_dir'}"
        )
    return replace(spec, labels=train_tag_set(spec, root))


def _materialise(
    build_rows: Callable[[], list[dict[str, Any]]], features: Any, key: str, task: TaskSpec, split: str
) -> Any:
    """Write the canonical rows to the cache (once per content key) and read them back memory-mapped.

    ``build_rows`` runs only on a cache miss: the key already covers the source
    content (file SHA-256 or hub fingerprint), so a hit needs no parsing.
    """
    from datasets import Dataset, load_from_disk
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    target = paths.cache_dir() / "datasets" / task.name / f"{split}-{key[:16]}"
    if not (target / "state.json").is_file():
        rows = build_rows()
        dataset = Dataset.from_dict(
            {name: [row[name] for row in rows] for name in features}, features=features
        )
        dataset._fingerprint = key[:32]  # content-derived, so map caches survive across runs
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        quiet = are_progress_bars_disabled()
        disable_progress_bars()  # a "Saving the dataset" bar per split adds nothing
        try:
            dataset.save_to_disk(str(scratch / "data"))
            try:
                os.replace(scratch / "data", target)
            except OSError:
                if not (target / "state.json").is_file():  # not a concurrent writer that won the race
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            if not quiet:
                enable_progress_bars()
    return load_from_disk(str(target))


def load_split(
    task: str | TaskSpec,
    split: str,
    language: str = "en",
    *,
    source: Source = "auto",
    data_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """One split of one task in one language as a `datasets.Dataset` with canonical columns.

    ``source="auto"`` reads local files when a data directory is known (``data_dir``,
    ``XLT_DATA_DIR``, ``../shared/data``) and holds this split, else the hub.
    Labels are `datasets.ClassLabel` features whose names are ``TaskSpec.labels``
    (for CCG, the tag set of its training file). Rows whose label is -1 (the hub's
    "no gold label", in SNLI and MNLI) are dropped and the count is logged.
    """
    spec = get_task(task)
    check_split(spec, split)
    check_language(spec, language)
    kind, root = resolve_source(spec, split, language, source, data_dir)
    if spec.labels_from_train:
        if root is None:
            raise DataError(f"task {spec.name!r}: its label set comes from local training files")
        spec = replace(spec, labels=train_tag_set(spec, root))
    labels = spec.labels
    if kind == "local":
        assert root is not None
        entry = local_split(spec, split, language)
        assert entry is not None
        path = root / entry.path.format(language=language)
        origin = str(path)
        checksum = _file_sha256(spec, path)
        digest_parts: list[str] = [checksum]
        carve = entry.carve
        raw_rows: Iterable[RawRow] = READERS[entry.reader](path, spec.name)
    else:
        assert spec.hub is not None
        parts = [hub.fetch(spec.hub, hub_split, language) for hub_split in spec.hub.splits[split]]
        origin = f"{spec.hub.path}:{','.join(spec.hub.splits[split])}"
        digest_parts = [str(getattr(part, "_fingerprint", "")) for part in parts]
        carve = None
        adapter = hub.ADAPTERS[spec.hub.adapter]
        raw_rows = (row for part in parts for row in adapter(part, origin))
    key_material = json.dumps(
        [
            LOADER_VERSION,
            spec.name,
            split,
            language,
            kind,
            origin if kind == "hub" else "",
            digest_parts,
            labels,
        ],
        sort_keys=True,
    )
    key = hashlib.sha256(key_material.encode("utf-8")).hexdigest()
    return _materialise(
        lambda: _canonical_rows(spec, split, language, raw_rows, labels, origin, carve),
        get_format(spec.format).features(spec, labels),
        key,
        spec,
        f"{split}-{language}",
    )
