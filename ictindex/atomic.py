"""Writing a file the tool produces all at once or not at all.

The bytes go to a temporary file beside the target, are flushed to the disk (fsync) and only
then renamed over it (`os.replace`, atomic on POSIX and Windows): a full disk, a kill or a
power cut leaves the previous file or the new one, never a cut one, and never a stray
temporary file when the failure is an error the process sees.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ictindex.errors import UsageError, file_problem

__all__ = ["write_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace `path` by `data` atomically; a failure is a `UsageError` naming the file."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as e:
        raise UsageError(file_problem(path, e, "write")) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); the file is as readable as any other
        # the user creates (a site is meant to be served).
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise UsageError(file_problem(path, e, "write") + f"; {path} was left as it was") from None
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a folder to sync it)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
