"""`verify` on two cores: a forked process runs the fast pass over the second half of a log kept
in a SQLite file while `verify` checks the first half.

The second half is speculative.  The child starts from the *stored* hash and time of the row
before its range and returns, per chunk, the leaf digests and the Merkle subtree root (none for
a chunk that is not whole or that holds the checkpoint size), the event ids it saw, and where
it stopped: at the end of the log, or at the first chunk its fast pass did not accept.  `verify`
takes that work only if the first half checked out up to exactly where the child started,
with the values the child assumed, and no event id of the first half appears in the second;
then it goes on by itself from where the child stopped (row by row where needed), else from
the middle.  Every row is thus checked exactly as in one pass, and the report is the same
(`tests/events/test_verify_parallel.py` holds the two to it on tampered logs).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sqlite3
from typing import Any

import msgspec

# the module, read at call time (`events.verify` as an attribute is the function the package
# re-exports; tests shrink its CHUNK)
_v = importlib.import_module(".verify", __package__)

# Below this many rows the fork costs more than the half it saves.
MIN_ROWS = 64 * 1024


class Result(msgspec.Struct, frozen=True):
    """What the child checked: rows `start .. stop - 1`."""

    start: int
    stop: int  # the first seq it did not accept (or the end)
    assumed_prev: str  # the stored hash and recorded_at of row start - 1
    assumed_time: str
    prev: str  # the leaf hash and recorded_at of row stop - 1
    last_time: str
    chunks: list[tuple[bytes | None, bytes]]  # (subtree root or None, the digests concatenated)
    ids: list[str]


class Speculation:
    """The child process checking rows `start ..`; `take()` waits for its `Result`."""

    def __init__(self, path: str, start: int, want: int) -> None:
        self.start = start
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(send, path, start, want), daemon=True)
        self._proc.start()
        send.close()

    def take(self) -> Result | None:
        """The child's result; None if it could not run (the caller then checks alone)."""
        try:
            data = self._recv.recv_bytes()
        except (EOFError, OSError):
            data = b""
        self._proc.join()
        self._recv.close()
        return msgspec.msgpack.decode(data, type=Result) if data else None

    def cancel(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._recv.close()


def start(store: Any, size: int, want: int) -> Speculation | None:
    """A speculation over the second half of `store`'s `size` rows, when it pays: a file on
    disk, two cores, a log of at least `MIN_ROWS` rows, and `fork` available."""
    path = getattr(store, "path", None)
    if (not path or size < MIN_ROWS or (os.cpu_count() or 1) < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        return None
    middle = (size // 2) >> _v.CHUNK_BITS << _v.CHUNK_BITS  # chunk-aligned: whole subtrees
    return Speculation(path, middle + 1, want)


def _child(send, path: str, start: int, want: int) -> None:
    try:
        send.send_bytes(msgspec.msgpack.encode(_check_from(path, start, want)))
    except BaseException:  # noqa: BLE001 -- any trouble: the parent checks this half itself
        send.send_bytes(b"")
    finally:
        send.close()


def _check_from(path: str, start: int, want: int) -> Result:
    from .schema import SELECT_ROWS

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        before = conn.execute("SELECT hash, recorded_at FROM events WHERE seq = ?",
                              (start - 1,)).fetchone()
        if before is None or type(before[0]) is not str or type(before[1]) is not str:
            raise LookupError("the row before the second half is not as verify expects")
        prev, last_time = before
        chunks: list[tuple[bytes | None, bytes]] = []
        seen: set[str] = set()
        times_of = _v.TimesOfKeys()
        cursor = conn.execute(f"{SELECT_ROWS} WHERE seq >= ? ORDER BY seq", (start,))
        first = start
        chunk = _v.CHUNK
        while rows := cursor.fetchmany(chunk):
            fast = _v.check_chunk(rows, first, prev, last_time, seen, times_of)
            if fast is None:
                break
            digests, prev, last_time = fast
            whole = len(rows) == chunk and not first <= want < first + chunk
            chunks.append((_v.subtree_root(digests) if whole else None, b"".join(digests)))
            first += len(rows)
        return Result(start, first, before[0], before[1], prev, last_time, chunks, list(seen))
    finally:
        conn.close()
