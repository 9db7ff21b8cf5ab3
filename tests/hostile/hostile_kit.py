"""What a refused command must leave as it was (used by test_hostile_inputs.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from ictindex.app import Ictindex


def snapshot(db: Path) -> dict:
    """Everything a refused command must leave as it was: file bytes, rows, checkpoint."""
    wal = Path(f"{db}-wal")
    db_sha256 = hashlib.sha256(db.read_bytes()).hexdigest()  # before anything opens it
    # An empty write-ahead log holds nothing: SQLite leaves one beside a WAL log that a
    # read-only command opened (mode=ro cannot delete it on close), the log itself unchanged.
    wal_bytes = wal.read_bytes() if wal.exists() else b""
    wal_sha256 = hashlib.sha256(wal_bytes).hexdigest() if wal_bytes else None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
        objects = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()
    with Ictindex.open(db) as app:
        checkpoint = str(app.store.checkpoint())
    return {
        "db_sha256": db_sha256,
        "wal_sha256": wal_sha256,
        "rows": rows,
        "schema": objects,
        "checkpoint": checkpoint,
    }
