"""The Merkle frontier: the log's current root in O(log n), kept beside the log.

The frontier is the compact range of `merkle.RootAccumulator` — one hash per set bit of the
log's size — stored in the table `merkle_frontier` and advanced inside every append's write
transaction, so naming the checkpoint of the whole log (what every replay's provenance does)
costs a few hashes instead of a pass over every leaf.

It is derived data, like the projections: it can be dropped (it is rebuilt from the stored leaf
hashes on the next append or read) and `verify` checks it against the root it recomputes from
the event bodies.  What is *published* — `ictindex checkpoint`, a publication's checkpoint —
is computed from the leaves, never taken from the frontier.
"""

from __future__ import annotations

import sqlite3

import msgspec

from .merkle import Checkpoint, RootAccumulator
from .schema import declare_derived

TABLE = "merkle_frontier"
_EVENTS = "events"
SCHEMA = (f"CREATE TABLE IF NOT EXISTS {TABLE} ("
          " id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, stack TEXT NOT NULL)")
declare_derived(SCHEMA)


class _Stored(msgspec.Struct, frozen=True):
    size: int
    stack: list[tuple[int, str]]  # (height, hex hash) of perfect subtrees, left to right


def ensure(conn: sqlite3.Connection) -> None:
    conn.execute(SCHEMA)


def _load(conn: sqlite3.Connection) -> RootAccumulator | None:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (TABLE,)).fetchone() is None:
        return None  # a log opened read-only before any append created it
    row = conn.execute(f"SELECT size, stack FROM {TABLE} WHERE id = 1").fetchone()
    if row is None:
        return None
    try:
        stored = msgspec.json.decode(row[1], type=_Stored)
        acc = RootAccumulator()
        acc._stack = [(h, bytes.fromhex(x)) for h, x in stored.stack]
        acc.size = stored.size
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None
    if acc.size != row[0] or sum(1 << h for h, _ in acc._stack) != acc.size:
        return None  # not a compact range of its size: rebuild
    return acc


def resume(conn: sqlite3.Connection, size: int) -> RootAccumulator | None:
    """The stored frontier if it stands at `size` (the log's last seq before an append), for the
    writer to feed the new leaf hashes as it computes them; None if it must be rebuilt."""
    acc = _load(conn)
    return acc if acc is not None and acc.size == size else None


def advance(conn: sqlite3.Connection, acc: RootAccumulator | None = None) -> RootAccumulator:
    """Bring the stored frontier up to the log's last event (inside the caller's transaction).

    `acc`: a frontier the writer already advanced over the leaves it appended (see `resume`);
    only the leaves it lacks are read back from the table; it is then always stored."""
    stored_size = None
    if acc is None:
        acc = _load(conn)
        stored_size = None if acc is None else acc.size
    last = conn.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {_EVENTS}").fetchone()[0]
    if acc is None or acc.size > last:
        acc = RootAccumulator()
    if acc.size < last:
        fromhex = bytes.fromhex
        append = acc.append
        for (h,) in conn.execute(f"SELECT hash FROM {_EVENTS} WHERE seq > ? ORDER BY seq", (acc.size,)):
            append(fromhex(h))
    if acc.size != stored_size:
        stack = [(h, x.hex()) for h, x in acc._stack]
        conn.execute(
            f"INSERT OR REPLACE INTO {TABLE} (id, size, stack) VALUES (1, ?, ?)",
            (acc.size, msgspec.json.encode(_Stored(acc.size, stack)).decode()),
        )
    return acc


def current(conn: sqlite3.Connection) -> Checkpoint:
    """The checkpoint of the whole log from the frontier (advancing it first if it lags)."""
    acc = _load(conn)
    last = conn.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {_EVENTS}").fetchone()[0]
    if acc is None or acc.size != last:
        in_txn = conn.in_transaction
        if not in_txn:
            conn.execute("BEGIN IMMEDIATE")
        try:
            acc = advance(conn)
            if not in_txn:
                conn.execute("COMMIT")
        except BaseException:
            if not in_txn and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return Checkpoint(acc.size, acc.root().hex())


def stored(conn: sqlite3.Connection) -> Checkpoint | None:
    """The checkpoint the stored frontier gives, as it is (for `verify` to compare)."""
    acc = _load(conn)
    return None if acc is None else Checkpoint(acc.size, acc.root().hex())
