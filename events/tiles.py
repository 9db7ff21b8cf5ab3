"""Stored Merkle subtree hashes, as the tiles of C2SP tlog-tiles: proofs in O(log n).

A tile of level L holds up to 256 consecutive hashes of the tree at height 8·L: level 0 holds
the leaf hashes, level L+1 the roots of level L's full tiles (C2SP tlog-tiles, "Merkle
tree").  Every tile, the partial ones at the right edge too, is a row of the derived table
`merkle_tiles` (level, index, the hashes concatenated), written in the append's transaction by
a `Writer` the store feeds with the leaf hashes it computes anyway.  The hash of any perfect
subtree is then one row read and at most 127 SHA-256 calls, so an inclusion proof, a
consistency proof or the root at any past size reads O(log n) hashes (`Reader`), and is byte
for byte what `events.merkle` computes from every leaf (`merkle.inclusion_path`).

Derived data: it can be dropped (the next append rebuilds it from the stored leaf hashes; until
then proofs read every leaf) and `verify` recomputes it from the leaves (`problems`, or `Check`
inside verify's own pass).

The table `merkle_tiles_seal` records, in the same transaction, the size the tiles were written
for and SQLite's schema cookie as that transaction leaves it (`sealed_size`): the store serves a
proof from the tiles without counting the log's rows when the log still ends there and nobody
changed the schema since (dropping the append-only triggers to delete or rewrite a row does).
"""

from __future__ import annotations

import sqlite3
from hashlib import sha256
from typing import Iterable, Iterator, Sequence

from .merkle import HASH_SIZE, hash_children, subtree_root
from .schema import declare_derived

TABLE = "merkle_tiles"
HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile
_EVENTS = "events"
SCHEMA = (f"CREATE TABLE IF NOT EXISTS {TABLE} (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
          " hashes BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID")
declare_derived(SCHEMA)
_PUT = f"INSERT OR REPLACE INTO {TABLE} (level, idx, hashes) VALUES (?, ?, ?)"
SEAL = "merkle_tiles_seal"
SEAL_SCHEMA = (f"CREATE TABLE IF NOT EXISTS {SEAL} (id INTEGER PRIMARY KEY CHECK (id = 1),"
               " size INTEGER NOT NULL, schema_version INTEGER NOT NULL)")
declare_derived(SEAL_SCHEMA)


def ensure(conn: sqlite3.Connection) -> None:
    conn.execute(SCHEMA)
    conn.execute(SEAL_SCHEMA)


def _seal(conn: sqlite3.Connection, size: int, unbroken: bool) -> None:
    """Record `size` with the schema cookie, last in the append's transaction (a table created
    after it in the same transaction only makes the next proof count the rows once).

    `unbroken`: the seal stood at the log's end when the append began.  Otherwise the schema
    changed since the last append (or there was no seal): the rows are counted once here, and a
    log whose rows are not numbered 1..N gets no seal, so that its proofs keep counting and
    refusing after appends made on top of a deletion."""
    if conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                    (SEAL, _EVENTS)).fetchone()[0] != 2:
        return  # not a log's file, or `ensure` never ran: no seal, proofs count the rows
    if not unbroken:
        n, lo, hi = conn.execute(f"SELECT count(*), min(seq), max(seq) FROM {_EVENTS}").fetchone()
        if n != size or (n and (lo, hi) != (1, size)):
            conn.execute(f"DELETE FROM {SEAL}")
            return
    (version,) = conn.execute("PRAGMA schema_version").fetchone()
    conn.execute(f"INSERT OR REPLACE INTO {SEAL} (id, size, schema_version) VALUES (1, ?, ?)",
                 (size, version))


def sealed_size(conn: sqlite3.Connection) -> int | None:
    """The size the tiles were last written for, if the schema is still as that append left
    it and the tiles still end there; None otherwise (the caller then counts the rows).  O(log n):
    a schema change is one integer in the file's header, the tiles' end one index probe."""
    try:
        row = conn.execute(f"SELECT size, schema_version FROM {SEAL} WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # no seal table: a log written before it existed
        return None
    if row is None or conn.execute("PRAGMA schema_version").fetchone()[0] != row[1]:
        return None
    return row[0] if stored_size(conn) == row[0] else None


def _present(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (TABLE,)).fetchone() is not None


def stored_size(conn: sqlite3.Connection) -> int | None:
    """The number of leaves the stored tiles cover (None: no tiles table)."""
    if not _present(conn):
        return None
    row = conn.execute(f"SELECT idx, length(hashes) FROM {TABLE} WHERE level = 0 "
                       "ORDER BY idx DESC LIMIT 1").fetchone()
    return 0 if row is None else row[0] * WIDTH + row[1] // HASH_SIZE


def split(blob: bytes) -> list[bytes]:
    return [blob[i:i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


class Writer:
    """The tiles of a tree growing from `size` leaves: feed it leaf hashes, then `flush`."""

    def __init__(self, size: int, pending: list[list[bytes]]) -> None:
        self.size = size
        self.sealed = False  # `resume` found the seal standing at `size` (see `_seal`)
        self._pending = pending  # per level, the hashes of its partial (rightmost) tile
        self._full: list[tuple[int, int, bytes]] = []

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        self.size += len(leaf_hashes)
        self._add(0, leaf_hashes)

    def _add(self, level: int, hashes: Sequence[bytes]) -> None:
        pending = self._pending
        while len(pending) <= level:
            pending.append([])
        tail = pending[level]
        tail.extend(hashes)
        if len(tail) < WIDTH:
            return
        first = ((self.size >> (HEIGHT * level)) - len(tail)) // WIDTH  # tails start aligned
        roots = []
        whole = len(tail) - len(tail) % WIDTH
        for i in range(0, whole, WIDTH):
            tile = tail[i:i + WIDTH]
            self._full.append((level, first + i // WIDTH, b"".join(tile)))
            roots.append(subtree_root(tile))
        pending[level] = tail[whole:]
        self._add(level + 1, roots)

    def take(self) -> list[tuple[int, int, bytes]]:
        """The tiles (level, index, hashes) completed since the last `take`, and every partial
        tile as it stands."""
        rows = self._full
        for level, tail in enumerate(self._pending):
            if tail:
                rows.append((level, (self.size >> (HEIGHT * level)) // WIDTH, b"".join(tail)))
        self._full = []
        return rows

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany(_PUT, self.take())


def resume(conn: sqlite3.Connection, size: int) -> Writer | None:
    """A writer continuing the stored tiles of a `size`-leaf tree; None if they do not stand
    exactly there (absent, dropped, or behind): `advance` then rebuilds them."""
    if stored_size(conn) != size:
        return None
    pending: list[list[bytes]] = []
    level = 0
    while (count := size >> (HEIGHT * level)) > 0:
        width = count % WIDTH
        blob = b""
        if width:
            row = conn.execute(f"SELECT hashes FROM {TABLE} WHERE level = ? AND idx = ?",
                               (level, count // WIDTH)).fetchone()
            if row is None or len(row[0]) != width * HASH_SIZE:
                return None
            blob = row[0]
        pending.append(split(blob))
        level += 1
    writer = Writer(size, pending)
    writer.sealed = sealed_size(conn) == size
    return writer


def advance(conn: sqlite3.Connection, writer: Writer | None) -> None:
    """Store the tiles up to the log's last event (inside the caller's transaction): the
    writer's, or, without one, all of them rebuilt from the stored leaf hashes."""
    if writer is None:
        conn.execute(f"DELETE FROM {TABLE}")
        writer = Writer(0, [])
        writer.extend(_leaf_hashes(conn))
    writer.flush(conn)
    _seal(conn, writer.size, writer.sealed)


def _leaf_hashes(conn: sqlite3.Connection) -> list[bytes]:
    return [bytes.fromhex(h) for (h,) in conn.execute(f"SELECT hash FROM {_EVENTS} ORDER BY seq")]


def expected(leaf_hashes: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """Every tile (level, index, hashes) of the tree of these leaves, full and partial."""
    writer = Writer(0, [])
    writer.extend(list(leaf_hashes))
    return iter(sorted(writer.take()))


def problems(conn: sqlite3.Connection, leaf_hashes: Sequence[bytes]) -> list[str]:
    """How the stored tiles differ from those of `leaf_hashes` (empty: they agree, or there
    are none: dropped or emptied, they are rebuilt by the next append), one line per tile,
    naming it as its tlog-tiles path."""
    if not stored_size(conn):
        return []
    return differences(conn.execute(f"SELECT level, idx, hashes FROM {TABLE} ORDER BY level, idx"),
                       leaf_hashes)


def differences(stored: Iterable[tuple[int, int, bytes]], leaf_hashes: Sequence[bytes]
                ) -> list[str]:
    """`problems` of the tiles `stored` (level, index, hashes), in (level, index) order, read
    from whichever database holds them."""
    want = {(lv, i): h for lv, i, h in expected(leaf_hashes)}
    out = []
    seen = set()
    for level, idx, blob in stored:
        seen.add((level, idx))
        good = want.get((level, idx))
        if good is None:
            out.append(f"merkle tile {path(level, idx, len(blob) // HASH_SIZE)}: the log has no "
                       "such tile")
        elif bytes(blob) != good:
            out.append(f"merkle tile {path(level, idx, len(good) // HASH_SIZE)}: its hashes are "
                       "not those recomputed from the leaves")
    for level, idx in sorted(want.keys() - seen):
        out.append(f"merkle tile {path(level, idx, len(want[level, idx]) // HASH_SIZE)} is "
                   "missing")
    if out:
        out.append(f"(the table {TABLE} is derived: drop it and the next append rebuilds it)")
    return out


class Check:
    """`problems` inside verify's own pass: fed the leaf hashes it recomputes from the bodies,
    in order, it compares each level-0 tile as it completes and keeps the tile's root (the pass
    hands it over when it hashed that very subtree), so the levels above cost one hash per 256
    leaves and no leaf hash is read a second time.  Meaningful once every row checked out."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.active = bool(stored_size(conn))  # no tiles (dropped, or none yet): nothing to say
        self._tail = bytearray()
        self._roots: list[bytes] = []  # level 1: the roots of the full level-0 tiles
        self._wrong: set[int] = set()  # level-0 tiles whose stored hashes differ

    def extend(self, blob: bytes, root: bytes | None = None) -> None:
        """`blob`: the next leaf hashes, concatenated; `root`: their Merkle root when they are
        exactly one whole tile (the caller hashed it anyway)."""
        if not self.active:
            return
        full = WIDTH * HASH_SIZE
        if root is not None and not self._tail and len(blob) == full:
            self._tile(blob, root)
            return
        self._tail += blob
        while len(self._tail) >= full:
            tile = bytes(self._tail[:full])
            del self._tail[:full]
            self._tile(tile, subtree_root(split(tile)))

    def _tile(self, blob: bytes, root: bytes) -> None:
        idx = len(self._roots)
        self._roots.append(root)
        if self._stored(0, idx) not in (None, blob):
            self._wrong.add(idx)

    def _stored(self, level: int, idx: int) -> bytes | None:
        row = self._conn.execute(f"SELECT hashes FROM {TABLE} WHERE level = ? AND idx = ?",
                                 (level, idx)).fetchone()
        return None if row is None else bytes(row[0])

    def problems(self) -> list[str]:
        """What `problems` says of the leaves fed, in the same words and order."""
        if not self.active:
            return []
        widths = {(0, i): WIDTH for i in range(len(self._roots))}
        if self._tail:
            idx = len(self._roots)
            widths[0, idx] = len(self._tail) // HASH_SIZE
            if self._stored(0, idx) not in (None, bytes(self._tail)):
                self._wrong.add(idx)
        upper = {(level + 1, i): h for level, i, h in expected(self._roots)}
        widths.update({k: len(h) // HASH_SIZE for k, h in upper.items()})
        out = []
        seen = set()
        for level, idx, length in self._conn.execute(
                f"SELECT level, idx, length(hashes) FROM {TABLE} ORDER BY level, idx"):
            seen.add((level, idx))
            if (level, idx) not in widths:
                out.append(f"merkle tile {path(level, idx, length // HASH_SIZE)}: the log has no "
                           "such tile")
            elif (idx in self._wrong) if level == 0 else self._stored(level, idx) != upper[level, idx]:
                out.append(f"merkle tile {path(level, idx, widths[level, idx])}: its hashes are "
                           "not those recomputed from the leaves")
        for level, idx in sorted(widths.keys() - seen):
            out.append(f"merkle tile {path(level, idx, widths[level, idx])} is missing")
        if out:
            out.append(f"(the table {TABLE} is derived: drop it and the next append rebuilds it)")
        return out


def path(level: int, index: int, width: int = WIDTH) -> str:
    """The tile's path in C2SP tlog-tiles: tile/<L>/<N>[.p/<W>], N in groups of three digits
    (x001/x234/067)."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    name = "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])
    return f"tile/{level}/{name}" + ("" if width == WIDTH else f".p/{width}")


_PAIR = 2 * HASH_SIZE
_DIGEST = type(sha256()).digest
_NODE = b"\x01".__add__


def _blob_root(blob: bytes) -> bytes:
    """`subtree_root` of the hashes concatenated in `blob` (a power of two of them), the first
    level hashed straight from the blob's 64-byte slices: most of a proof's work."""
    if len(blob) == HASH_SIZE:
        return blob
    pairs = [blob[i:i + _PAIR] for i in range(0, len(blob), _PAIR)]
    return subtree_root(list(map(_DIGEST, map(sha256, map(_NODE, pairs)))))


class Reader:
    """Merkle hashes of the first `size` leaves from the stored tiles."""

    # a subclass reading another database's table names it, in that database's placeholders
    TILE_QUERY = f"SELECT hashes FROM {TABLE} WHERE level = ? AND idx = ?"

    def __init__(self, conn: sqlite3.Connection, size: int) -> None:
        self.conn = conn
        self.size = size
        self._cache: dict[tuple[int, int], bytes] = {}

    def tile(self, level: int, idx: int) -> bytes:
        """The stored hashes of tile (level, idx), read once."""
        blob = self._cache.get((level, idx))
        if blob is None:
            row = self.conn.execute(self.TILE_QUERY, (level, idx)).fetchone()
            if row is None:
                raise LookupError(f"merkle tile {path(level, idx)} is not stored")
            blob = self._cache[level, idx] = bytes(row[0])
        return blob

    def node(self, height: int, index: int) -> bytes:
        """The root of the perfect subtree of 2**height leaves starting at leaf index·2**height."""
        level, rest = divmod(height, HEIGHT)
        first = index << rest
        blob = self.tile(level, first // WIDTH)
        off = (first % WIDTH) * HASH_SIZE
        count = 1 << rest
        if len(blob) < off + count * HASH_SIZE:
            raise LookupError(f"merkle tile {path(level, first // WIDTH)} is shorter than stored")
        return _blob_root(blob[off:off + count * HASH_SIZE])

    def range_root(self, lo: int, hi: int) -> bytes:
        """MTH of leaves lo..hi-1; `lo` a multiple of the largest power of two <= hi - lo."""
        if not 0 <= lo < hi <= self.size:
            raise ValueError(f"leaves {lo}..{hi - 1} are not in a tree of {self.size}")
        parts = []
        pos = lo
        while pos < hi:
            height = (hi - pos).bit_length() - 1
            if pos & ((1 << height) - 1):
                raise ValueError(f"leaves {lo}..{hi - 1} are not a Merkle tree's range")
            parts.append(self.node(height, pos >> height))
            pos += 1 << height
        h = parts.pop()
        while parts:
            h = hash_children(parts.pop(), h)
        return h


def reader(conn: sqlite3.Connection, size: int) -> Reader | None:
    """A reader of the first `size` leaves if the stored tiles cover them, else None."""
    covered = stored_size(conn)
    return Reader(conn, size) if covered is not None and covered >= size else None


__all__ = ["HEIGHT", "SCHEMA", "SEAL", "SEAL_SCHEMA", "TABLE", "WIDTH", "Check", "Reader",
           "Writer", "advance", "differences", "ensure", "expected", "path", "problems", "reader", "resume",
           "sealed_size", "split", "stored_size"]
