"""Every index of the events table holds exactly the table's rows, checked by SQLite alone.

An index that misses a row, holds one the table does not, or holds other values for a row (a
hand edit with `writable_schema`, then `REINDEX` of a partial index, issue 13.1) makes the reads
that go through it (a year's replay, the unit registry, lookups by event id or key) see other
events than a full scan of the table.  For each index, in one read transaction (one snapshot,
whatever a writer appends meanwhile):

- the number of its entries (a covering scan) must be the number of the table's rows (a scan
  without any index);
- in the union of its (seq, columns) entries, read through the index alone, and the table's
  (seq, columns) rows, read without any index, every tuple must occur exactly twice.

The second test is exact, not a hash: the table's seqs are distinct (seq is its rowid), so the
two sides are equal multisets exactly when every tuple occurs once on each.  Both run inside
SQLite, which the `sqlite3` module lets work without holding the GIL: `verify` runs this check
in a thread beside its own pass over the bodies (`EventStore.check_storage`), where it costs no
wall time while a second core is free (docs/performance.md).

This replaced, in turn, SQLite's `PRAGMA integrity_check(events)` (it probes every index for
every row: random reads, 1.5-2 × verify's floor) and salted hash sums taken by a Python function
per index entry (which held the GIL against verify's pass, making the two slower together than
one after the other).  What `integrity_check` checked beyond the indexes, the pages themselves,
is read in full by verify's pass, and a page SQLite cannot read fails that pass.
"""

from __future__ import annotations

import sqlite3

from .schema import TABLE

__all__ = ["check", "indexes"]


def indexes(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """The plain indexes of the events table and their columns.  A partial index or one on an
    expression is not a log's: the schema check names it, and no full scan can go through it."""
    out = {}
    for _, name, _, _, partial in conn.execute(f"PRAGMA index_list({TABLE})"):
        columns = tuple(c for _, _, c in conn.execute(f"PRAGMA index_info('{name}')"))
        if not partial and columns and None not in columns:
            out[name] = columns
    return out


def check(conn: sqlite3.Connection) -> list[str]:
    """What is wrong with the events table's indexes (empty: nothing), read in one snapshot."""
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        return _problems(conn)
    finally:
        if began:
            conn.execute("ROLLBACK")


def _problems(conn: sqlite3.Connection) -> list[str]:
    out = []
    rows = conn.execute(f"SELECT count(*) FROM {TABLE} NOT INDEXED").fetchone()[0]
    for name, columns in indexes(conn).items():
        cols = ", ".join(("seq", *columns))
        # count(seq), not count(*): SQLite counts rows through whichever index is smallest,
        # whatever INDEXED BY says, unless the count reads a column
        entries = conn.execute(f'SELECT count(seq) FROM {TABLE} INDEXED BY "{name}"').fetchone()[0]
        if entries != rows:
            out.append(f"index {name} holds {entries} entries for the {rows} rows of the table "
                       f"{TABLE}: reads through it miss or add events")
            continue
        unmatched = conn.execute(
            f'SELECT 1 FROM (SELECT {cols} FROM {TABLE} INDEXED BY "{name}" '
            f"UNION ALL SELECT {cols} FROM {TABLE} NOT INDEXED) "
            f"GROUP BY {cols} HAVING count(*) != 2 LIMIT 1").fetchone()
        if unmatched is not None:
            out.append(f"index {name} holds other ({cols}) than the rows of the table {TABLE}: "
                       "reads through it find other events")
    return out
