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
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from xlt_lib import paths
from xlt_lib.checksums import file_sha256
from xlt_lib.errors import ConfigError, DataError, XltError
from xlt_lib.tasks import hub
from xlt_lib.tasks.formats import get_format
from xlt_lib.tasks.formats.tagging import UNKNOWN_TAG
from xlt_lib.tasks.local import RawRow, reader_for
from xlt_lib.tasks.registry import check_language, check_split, get_task
from xlt_lib.tasks.spec import Carve, LocalSplit, TaskSpec

log = logging.getLogger(__name__)

Source = Literal["auto", "local", "hub"]

#: Bump when the canonical rows a loader produces change, to invalidate caches.
LOADER_VERSION = "2"  # 2: PAWS-X test ids are the files' own ids


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
    if task.local.root is not None:
        root = Path(task.local.root).expanduser().resolve()
        if not root.is_dir():
            raise DataError(f"task {task.name!r}: its data_dir {root} does not exist")
        return root
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
    """The local file entry for (split, language), or ``None`` when the files lack it.

    A path with ``{language}`` serves any language (its file may or may not be
    present) unless the entry lists ``languages``; a path without it serves only
    ``languages`` (default: the task's languages).
    """
    if task.local is None:
        return None
    entry = task.local.splits.get(split)
    if entry is None:
        return None
    if entry.languages is not None:
        return entry if language in entry.languages else None
    if "{language}" in entry.path or language in task.languages:
        return entry
    return None


def local_path(root: Path, entry: LocalSplit, language: str) -> Path:
    """The file ``entry`` expects for ``language`` under ``root``."""
    return root / entry.path.format(language=language)


def _hub_or_error(task: TaskSpec, split: str) -> tuple[Literal["hub"], None]:
    if task.hub is None or split not in task.hub.splits:
        hint = ""
        if task.local is not None and task.local.root_env:
            hint = f"; set {task.local.root_env} to the folder with its files ({task.notes[0] if task.notes else ''})"
        raise DataError(f"task {task.name!r} split {split!r} is not on the Hugging Face hub{hint}")
    return "hub", None


def resolve_source(
    task: TaskSpec,
    split: str,
    language: str,
    source: Source = "auto",
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[Literal["local", "hub"], Path | None]:
    """Decide where (task, split, language) is read from: ``("local", root)`` or ``("hub", None)``.

    ``hub`` reads the hub. ``auto`` reads local files whenever a data directory is
    known and the task has local files at all; it does not look at whether the
    file exists: a missing file in a data directory is an error naming that file
    (`load_split`, the preflight of `xlt run`), never a silent switch to the
    network. ``auto`` reads the hub only for a task that has no local files (its
    spec says it lives on the hub) or when there is no data directory. A split or
    language the task's local files do not provide is an error saying how to read
    it from the hub (``source: hub``).
    """
    if source not in ("auto", "local", "hub"):
        raise ConfigError(f"source={source!r}: expected 'auto', 'local' or 'hub'")
    if source == "hub":
        return _hub_or_error(task, split)
    if task.local is None:
        if source == "local":
            raise DataError(f"task {task.name!r} has no local files (it is read from the hub)")
        return _hub_or_error(task, split)
    root = local_root(task, data_dir)
    if root is None:
        if source == "local":
            where = task.local.root_env or "XLT_DATA_DIR or data_dir"
            raise DataError(f"task {task.name!r}: no local data directory; set {where}")
        return _hub_or_error(task, split)
    if local_split(task, split, language) is None:
        entry = task.local.splits.get(split)
        what = (
            f"split {split!r}"
            if entry is None
            else f"split {split!r}, language {language!r} (local languages: {', '.join(entry.languages or ())})"
        )
        hub = (
            " (use `source: hub` to read it from the Hugging Face hub)"
            if task.hub and split in task.hub.splits
            else ""
        )
        raise DataError(f"task {task.name!r} has no local files for {what} in {root}{hub}")
    return "local", root


def split_languages(
    task: TaskSpec, split: str, data_dir: str | os.PathLike[str] | None = None, source: Source = "auto"
) -> tuple[str, ...]:
    """The languages a split offers: for local data the files present (or listed), else the task's.

    A path with ``{language}`` offers each language whose file exists (a labelled
    test file added to the data directory adds its language); an entry with
    ``languages`` offers those. Sorted, except that the task's own language order
    comes first. Raises like `resolve_source` where the split cannot be read.
    """
    probe = task.selection_language if task.selection_language in task.languages else task.languages[0]
    entry = task.local.splits.get(split) if task.local is not None else None
    kind, root = resolve_source(
        task, split, entry.languages[0] if entry and entry.languages else probe, source, data_dir
    )
    if kind == "hub" or root is None or entry is None:
        return task.languages
    if entry.languages is not None:
        return entry.languages
    if "{language}" not in entry.path:
        return task.languages
    pattern = local_path(root, entry, "*")
    prefix, _, suffix = pattern.name.partition("*")
    found = {
        path.name[len(prefix) : len(path.name) - len(suffix)]
        for path in pattern.parent.glob(pattern.name)
        if path.is_file()
    }
    found = {code for code in found if _LANGUAGE_CODE.fullmatch(code)}
    return tuple(lang for lang in task.languages if lang in found) + tuple(
        sorted(found - set(task.languages))
    )


def evaluation_languages(
    task: TaskSpec,
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    requested: tuple[str, ...] | list[str] | None = None,
    source: Source = "auto",
) -> tuple[str, ...]:
    """The languages a target evaluates: those ``requested`` (a target's ``languages``), else all the split offers."""
    if requested is not None:
        return tuple(requested)
    return split_languages(task, split, data_dir, source)


#: What a language code in a file name looks like (``de``, ``zh``, ``yue``, ``zh-Hant``).
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


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
    files = [local_path(root, entry, language)]
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
    tags = {tag for raw in reader_for(entry.reader)(path, task.name) for tag in raw.fields["tags"]}
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
    kind, root = resolve_source(spec, split, language, source, data_dir)
    entry = local_split(spec, split, language) if kind == "local" else None
    path = local_path(root, entry, language) if root is not None and entry is not None else None
    if language not in spec.languages and (path is None or not path.is_file()):
        check_language(spec, language)  # a language outside the task's list needs its own local file
    if spec.labels_from_train:
        if root is None:
            raise DataError(f"task {spec.name!r}: its label set comes from local training files")
        spec = replace(spec, labels=train_tag_set(spec, root))
    labels = spec.labels
    reader_key = ""
    if kind == "local":
        assert path is not None and entry is not None
        origin = str(path)
        checksum = _file_sha256(spec, path)
        digest_parts: list[str] = [checksum]
        carve = entry.carve
        reader_key = entry.reader if isinstance(entry.reader, str) else repr(entry.reader)
        raw_rows: Iterable[RawRow] = reader_for(entry.reader)(path, spec.name)
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
            reader_key,
        ],
        sort_keys=True,
    )
    key = hashlib.sha256(key_material.encode("utf-8")).hexdigest()
    dataset = _materialise(
        lambda: _canonical_rows(spec, split, language, raw_rows, labels, origin, carve),
        get_format(spec.format).features(spec, labels),
        key,
        spec,
        f"{split}-{language}",
    )
    if kind == "local":
        _check_alignment(spec, split, language, dataset, origin, data_dir)
    return dataset


def _ids(dataset: Any) -> list[str]:
    """The ``id`` column as a list, read in one batch (``dataset["id"]`` decodes row by row: 0.3 s for XNLI)."""
    return dataset.select_columns(["id"])[:]["id"]


def _check_alignment(
    spec: TaskSpec,
    split: str,
    language: str,
    dataset: Any,
    origin: str,
    data_dir: str | os.PathLike[str] | None,
) -> None:
    """A target's examples pair across languages by id: every language must hold the reference's ids.

    The reference is the selection language's file of the same split (English). Ids
    are the files' own where they have an id column (PAWS-X test), else row numbers,
    so for row-aligned files this checks that every language has as many rows. A
    split without a reference file (English-only test sets) has nothing to align to.
    """
    reference = spec.selection_language
    if not spec.is_target or language == reference:
        return
    try:
        kind, root = resolve_source(spec, split, reference, "auto", data_dir)
        entry = local_split(spec, split, reference)
    except XltError:
        return
    if kind != "local" or root is None or entry is None or not local_path(root, entry, reference).is_file():
        return
    theirs = set(_ids(load_split(spec, split, reference, data_dir=data_dir)))
    ours = set(_ids(dataset))
    if ours == theirs:
        return
    extra, missing = sorted(ours - theirs), sorted(theirs - ours)

    def some(ids: list[str]) -> str:
        return ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")

    problems = []
    if extra:
        problems.append(f"{len(extra)} id(s) not in the {reference} file ({some(extra)})")
    if missing:
        problems.append(f"{len(missing)} {reference} id(s) missing ({some(missing)})")
    raise DataError(
        f"task {spec.name!r}: {origin}: not aligned with {local_path(root, entry, reference)}: "
        f"{'; '.join(problems)}. Examples pair across languages by id (the file's own id column, "
        "else the row number): every language needs the same items."
    )
