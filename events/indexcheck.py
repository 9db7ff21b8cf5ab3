"""Every index of the events table holds exactly the table's rows: a check in two halves.

An index that misses a row, holds one the table does not, or holds other values for a row (a
hand edit with `writable_schema`, then `REINDEX` of a partial index, issue 13.1) makes the reads
that go through it (a year's replay, the unit registry, lookups by event id or key) see other
events than a full scan of the table.  Per index, the number of entries and the sum of the
salted hashes (`hash`, randomised per process; 32 bits of each, so that SQLite's 64-bit `sum`
cannot overflow) of its (seq, columns) tuples are computed twice:

- through the index alone (`Check.scan`: a covering scan per index, the hash applied by a
  function registered on a connection of its own, so it can run in a thread);
- from the table's rows as `verify`'s pass reads them anyway (`Check.add_columns`, C-level
  maps over the chunk's columns; `add_rows` for the rows the pass checks one by one).

A forger cannot aim at the sums without the process's hash secret.  This replaces SQLite's
`PRAGMA integrity_check(events)`, which probes every index for every row (random reads, 1.5-2 ×
verify's floor on its own): what it checked beyond the indexes, the pages themselves, is read in
full by verify's pass, and a page SQLite cannot read fails that pass.  `check` runs both halves
by itself, for a caller without a pass (`EventStore.check_storage`).
"""

from __future__ import annotations

import sqlite3
from typing import Sequence

from .schema import COLUMNS, TABLE

MASK = 0xFFFFFFFF
_CHUNK = 4096  # rows per fetch of the stand-alone table scan


def _entry_hash(*values: object) -> int:
    return hash(values) & MASK


def indexes(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """The plain indexes of the events table and their columns.  A partial index or one on an
    expression is not a log's: the schema check names it, and no full scan can go through it."""
    out = {}
    for _, name, _, _, partial in conn.execute(f"PRAGMA index_list({TABLE})"):
        columns = tuple(c for _, _, c in conn.execute(f"PRAGMA index_info('{name}')"))
        if not partial and columns and None not in columns:
            out[name] = columns
    return out


class Check:
    """The table's half, fed by the caller's pass over every row, and `problems` comparing it
    with the indexes' half (`scan`)."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self._picks = {name: [COLUMNS.index(c) for c in cs] for name, cs in columns.items()}
        self.rows = 0
        self.sums = dict.fromkeys(columns, 0)

    def add_columns(self, cols: Sequence[Sequence[object]]) -> None:
        """The rows of a chunk as columns, in `schema.COLUMNS` order (seq first)."""
        seqs = cols[0]
        self.rows += len(seqs)
        sums = self.sums
        for name, pick in self._picks.items():
            sums[name] += sum(map(MASK.__and__, map(hash, zip(seqs, *[cols[i] for i in pick]))))

    def add_rows(self, rows: Sequence[Sequence[object]]) -> None:
        if rows:
            self.add_columns(list(zip(*rows)))

    def merge(self, rows: int, sums: dict[str, int]) -> None:
        """Another process's half of the table (forked: the same hash secret)."""
        self.rows += rows
        for name, s in sums.items():
            self.sums[name] += s

    def scan(self, conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
        """(entries, sum) of each index, read through that index alone."""
        conn.create_function("ictindex_entry_hash", -1, _entry_hash, deterministic=True)
        out = {}
        for name, cs in self.columns.items():
            out[name] = conn.execute(
                f"SELECT count(*), coalesce(sum(ictindex_entry_hash(seq, {', '.join(cs)})), 0) "
                f"FROM {TABLE} INDEXED BY \"{name}\"").fetchone()
        return out

    def problems(self, through: dict[str, tuple[int, int]]) -> list[str]:
        out = []
        for name, cs in self.columns.items():
            entries, total = through[name]
            if entries != self.rows:
                out.append(f"index {name} holds {entries} entries for the {self.rows} rows of "
                           f"the table {TABLE}: reads through it miss or add events")
            elif total != self.sums[name]:
                out.append(f"index {name} holds other ({', '.join(('seq', *cs))}) than the rows "
                           f"of the table {TABLE}: reads through it find other events")
        return out


def check(conn: sqlite3.Connection) -> list[str]:
    """Both halves on `conn`: the table read once without any index, then each index."""
    c = Check(indexes(conn))
    cursor = conn.execute(f"SELECT {', '.join(COLUMNS[:9])} FROM {TABLE} NOT INDEXED")
    while chunk := cursor.fetchmany(_CHUNK):
        c.add_rows(chunk)
    return c.problems(c.scan(conn))


__all__ = ["MASK", "Check", "check", "indexes"]
