"""File checksums: hashing one file, verifying a directory against its ``SHA256SUMS``.

A run records the SHA-256 of every data file it read (``env.json``), so a result
can be traced to the exact bytes; `verify_checksums` checks a data directory
against the ``sha256sum`` listing shipped with it (the offline mirror has one).
This module sits below the task layer and knows no task: which files a task's
split reads, and their checksums, are `xlt_lib.tasks.loading.data_files` and
`xlt_lib.tasks.loading.data_checksums`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from xlt_lib.errors import DataError

_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise DataError(f"missing file {path}") from None
    return digest.hexdigest()


@dataclass
class ChecksumReport:
    """The outcome of `verify_checksums`; paths are relative to ``directory``."""

    directory: Path
    ok: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No listed file is missing or changed (unlisted files are reported, not failures)."""
        return not self.missing and not self.changed

    def raise_for_problems(self) -> None:
        """Raise a `DataError` naming every missing or changed file."""
        if self.passed:
            return
        problems = [f"missing: {name}" for name in self.missing] + [
            f"changed: {name}" for name in self.changed
        ]
        raise DataError(f"{self.directory}: checksum verification failed: " + "; ".join(problems))


def _parse_sums(path: Path) -> dict[str, str]:
    """Parse ``sha256sum`` output: ``<64 hex><space><space or *><relative path>`` per line."""
    expected: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest) or not name:
            raise DataError(f"{path}: line {number}: expected '<sha256>  <path>', found {line!r}")
        expected[os.path.normpath(name)] = digest.lower()
    return expected


def verify_checksums(directory: str | os.PathLike[str], sums_file: str = "SHA256SUMS") -> ChecksumReport:
    """Check every file listed in ``directory/sums_file``; also list files it does not name."""
    root = Path(directory)
    sums = root / sums_file
    if not sums.is_file():
        raise DataError(f"{root}: no checksum file {sums_file}")
    expected = _parse_sums(sums)
    report = ChecksumReport(root)
    for name, digest in sorted(expected.items()):
        path = root / name
        if not path.is_file():
            report.missing.append(name)
        elif file_sha256(path) != digest:
            report.changed.append(name)
        else:
            report.ok.append(name)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path != sums:
            name = os.path.normpath(path.relative_to(root).as_posix())
            if name not in expected:
                report.unlisted.append(name)
    return report
