"""Writing a file so that a reader sees the old version or the new one, never half of one.

Run records (``metrics.json`` means "complete"), reports and the significance
notebook's tables are all written through here: the content goes to a temporary
file in the same folder, is flushed to disk, and is moved into place with
`os.replace`, which is atomic on POSIX. A bottom-layer module (it imports only the
standard library), so that every layer can use the one writer.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _process_umask() -> int:
    """The umask, read once: reading it means setting it, which would race with other threads."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()

#: Fault injection for tests of disk failures in processes a test cannot patch (notebook kernels,
#: workers): ``XLT_FAULT_ENOSPC=<file name>[,<file name>...]`` makes writing those files fail
#: as on a full disk. Unset in normal use; nothing else reads it.
FAULT_ENOSPC_VARIABLE = "XLT_FAULT_ENOSPC"


def _injected_fault(path: Path) -> None:
    names = os.environ.get(FAULT_ENOSPC_VARIABLE)
    if names and path.name in {name.strip() for name in names.split(",")}:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then move it into place.

    If ``write`` raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates 0600; records and reports are shared (a web server, a colleague), so
    # they get the mode an ordinary open() would give them under the user's umask.
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _injected_fault(path)
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
