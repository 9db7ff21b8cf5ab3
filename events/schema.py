"""The `events` table: its columns, indexes and append-only triggers (see `events.store`).

Table `events` (created through sqlite-utils, STRICT):

    seq INTEGER PRIMARY KEY   gapless from 1, assigned by the store
    event_id TEXT UNIQUE      uuid4 hex unless another factory is injected
    recorded_at TEXT          canonical.time_key (fixed-width UTC, sorts like time)
    actor, type, year, unit_id, indicator    copies of body fields, for indexed queries
    key TEXT UNIQUE NULL      idempotency key
    body BLOB                 the canonical bytes: the only source of truth
    hash TEXT                 leaf hash (hex) of body
"""

from __future__ import annotations

import sqlite_utils

__all__ = ["COLUMNS", "GUARD", "INSERT", "SELECT_ROWS", "TABLE", "TRIGGERS", "YEAR_INDEX",
           "ensure_schema"]

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


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the events table, its indexes and triggers if missing (idempotent)."""
    if TABLE not in db.table_names():
        db[TABLE].create(
            {
                "seq": int,
                "event_id": str,
                "recorded_at": str,
                "actor": str,
                "type": str,
                "year": int,
                "unit_id": str,
                "indicator": str,
                "key": str,
                "body": bytes,
                "hash": str,
            },
            pk="seq",
            not_null=["event_id", "recorded_at", "actor", "type", "body", "hash"],
            if_not_exists=True,
            strict=True,
        )
    table = db.table(TABLE)
    table.create_index(["event_id"], unique=True, if_not_exists=True)
    table.create_index(["key"], unique=True, if_not_exists=True)
    table.create_index(["year", "unit_id", "indicator"], if_not_exists=True)
    for sql in TRIGGERS.values():
        db.execute(sql)
