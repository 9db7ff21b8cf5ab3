"""The `events` table: its columns, indexes and append-only triggers (see `events.store`).

Table `events` (STRICT; `CREATE` spells out its statements exactly):

    seq INTEGER PRIMARY KEY   gapless from 1, assigned by the store
    event_id TEXT UNIQUE      uuid4 hex unless another factory is injected
    recorded_at TEXT          canonical.time_key (fixed-width UTC, sorts like time)
    actor, type, year, unit_id, indicator    copies of body fields, for indexed queries
    key TEXT UNIQUE NULL      idempotency key
    body BLOB                 the canonical bytes: the only source of truth
    hash TEXT                 leaf hash (hex) of body

`differences` compares a file's tables, indexes, triggers and views with exactly these and the
derived tables declared with `declare_derived`: every opening of a log and `verify` do.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from typing import Iterable

from .interface import LogOpenError

__all__ = ["COLUMNS", "CREATE", "GUARD", "INSERT", "SELECT_ROWS", "SchemaError", "TABLE",
           "TRIGGERS", "YEAR_INDEX", "declare_derived", "declared_derived", "differences",
           "ensure_schema", "is_empty"]

TABLE = "events"
COLUMNS = (
    "seq", "event_id", "recorded_at", "actor", "type", "year", "unit_id", "indicator",
    "key", "body", "hash",
)  # fmt: skip
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
YEAR_INDEX = f"idx_{TABLE}_year_unit_id_indicator"  # sqlite-utils' name for that index
SELECT_ROWS = f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"
GUARD = "events_append_only"

TRIGGERS = {
    "events_no_update": f"""
        CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused'); END""",
    "events_no_delete": f"""
        CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE is refused'); END""",
    "events_append_only": f"""
        CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE INSERT ON {TABLE}
        WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE seq = NEW.seq)
          OR EXISTS (SELECT 1 FROM {TABLE} WHERE event_id = NEW.event_id)
          OR (NEW.key IS NOT NULL AND EXISTS (SELECT 1 FROM {TABLE} WHERE key = NEW.key))
        BEGIN SELECT RAISE(ABORT,
          'events are append-only: an insert must not replace an event (seq, event_id or key)');
        END""",
}


# The exact statements, as sqlite-utils first wrote them: SQLite keeps each object's SQL as
# written (minus IF NOT EXISTS), and `differences` compares the file's with these, so they are
# spelled out rather than left to a library whose formatting may change between versions.
CREATE = (
    f"""CREATE TABLE IF NOT EXISTS "{TABLE}" (
   "seq" INTEGER PRIMARY KEY,
   "event_id" TEXT NOT NULL,
   "recorded_at" TEXT NOT NULL,
   "actor" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "year" INTEGER,
   "unit_id" TEXT,
   "indicator" TEXT,
   "key" TEXT,
   "body" BLOB NOT NULL,
   "hash" TEXT NOT NULL
) STRICT""",
    f"""CREATE UNIQUE INDEX IF NOT EXISTS "idx_{TABLE}_event_id"
    ON "{TABLE}" ("event_id")""",
    f"""CREATE UNIQUE INDEX IF NOT EXISTS "idx_{TABLE}_key"
    ON "{TABLE}" ("key")""",
    f"""CREATE INDEX IF NOT EXISTS "{YEAR_INDEX}"
    ON "{TABLE}" ("year", "unit_id", "indicator")""",
    *TRIGGERS.values(),
)


class SchemaError(LogOpenError):
    """The database's tables, indexes, triggers or views are not exactly an ictindex log's."""


_DERIVED: list[str] = []


def declare_derived(*statements: str) -> None:
    """Declare the CREATE statements of a derived table (and its indexes) kept in the log's file.

    A derived table may be absent; present, it must be exactly as declared (`differences`).
    Modules that keep one declare it when imported (`events.frontier`, `ictindex.replay`,
    `ictindex.projections`)."""
    for sql in statements:
        if sql not in _DERIVED:
            _DERIVED.append(sql)


def declared_derived() -> tuple[str, ...]:
    return tuple(_DERIVED)


def ensure_schema(db: sqlite3.Connection) -> None:
    """Create the events table, its indexes and triggers if missing (idempotent)."""
    conn = getattr(db, "conn", db)  # a sqlite_utils.Database or a connection
    for sql in CREATE:
        conn.execute(sql)


def is_empty(conn: sqlite3.Connection) -> bool:
    """Whether the database holds no table, index, trigger or view at all."""
    return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


Object = tuple[str, str]  # (type, name)


@lru_cache(maxsize=8)
def _expected(derived: tuple[str, ...]) -> tuple[dict[Object, tuple[str, str | None]], frozenset[Object]]:
    """Every object a log may hold, as SQLite stores it, and which of them it must hold.

    Computed by running the very statements in an empty database: the stored text is whatever
    SQLite makes of them (IF NOT EXISTS dropped, automatic indexes of UNIQUE columns added)."""
    mem = sqlite3.connect(":memory:")
    try:
        ensure_schema(mem)
        required = _objects(mem)
        for sql in derived:
            mem.execute(sql)
        return _objects(mem), frozenset(required)
    finally:
        mem.close()


def _objects(conn: sqlite3.Connection) -> dict[Object, tuple[str, str | None]]:
    # sqlite_stat*: ANALYZE's statistics, which change query plans but never results
    return {(t, n): (tbl, sql) for t, n, tbl, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_stat%' "
        "ESCAPE '\\'")}


def differences(conn: sqlite3.Connection, derived: Iterable[str] | None = None) -> list[str]:
    """How the database's schema differs from a log's, one line per object (empty: none).

    A log holds exactly the events table with its indexes and triggers, and may hold the
    derived tables that `derived` (CREATE statements; default: every one declared with
    `declare_derived`) declare, each exactly as declared: any
    other table, index, trigger or view, or any of these with other SQL, is a difference (a
    trigger can delete what an append just recorded, a view or index can hide rows from a
    query)."""
    expected, required = _expected(tuple(_DERIVED if derived is None else derived))
    found = _objects(conn)
    out = []
    for obj in sorted(required - found.keys()):
        out.append(f"{obj[0]} {obj[1]} is missing")
    for obj in sorted(found.keys() - expected.keys()):
        out.append(f"{obj[0]} {obj[1]} (on {found[obj][0]}) is not part of a log: {_one_line(found[obj][1])}")
    for obj in sorted(found.keys() & expected.keys()):
        if found[obj] != expected[obj]:
            out.append(f"{obj[0]} {obj[1]} is not the expected one: {_one_line(found[obj][1])}")
    return out


def _one_line(sql: str | None) -> str:
    text = " ".join((sql or "(no SQL)").split())
    return text if len(text) <= 200 else text[:199] + "…"
