"""Attacks on a log's SQLite file that more than one test makes."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def hide_from_index(db: Path, index: str, seq: int) -> None:
    """The stale-index attack: with writable_schema, the index is made partial (WHERE seq <>
    `seq`), rebuilt, and its SQL put back: the table is intact, the index misses the row."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        original = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?",
                     (f"{original} WHERE seq <> {seq}", index))
        conn.execute("PRAGMA writable_schema = OFF")
        conn.close()
        conn = sqlite3.connect(db, isolation_level=None)  # a fresh schema: the partial index
        conn.execute(f"REINDEX {index}")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (original, index))
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()
