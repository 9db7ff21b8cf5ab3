"""`ictindex copy` through PostgreSQL: SQLite → PostgreSQL → SQLite gives the very events table
and checkpoint it started from (issue 16), and a province's file moved into a shared database
that already holds another log is refused with the database unchanged."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from events.postgres import PostgresEventLog
from events.testing import submission
from ictindex.cli import build_cli

SAMPLE_CHECKPOINT = "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba"


def events_table(path) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        db.close()


def ictindex(*args: str):
    return CliRunner().invoke(build_cli(), list(map(str, args)), catch_exceptions=False)


def test_sqlite_to_postgresql_to_sqlite_is_byte_identical(sample_db, pg_url, tmp_path):
    there = ictindex("copy", "--from", sample_db, "--to", pg_url)
    assert there.exit_code == 0, there.stderr
    assert there.stdout == f"copied 4175 events: checkpoint {SAMPLE_CHECKPOINT}\n"
    back = tmp_path / "back.db"
    again = ictindex("copy", "--from", pg_url, "--to", back)
    assert again.exit_code == 0, again.stderr
    assert again.stdout == there.stdout
    assert events_table(back) == events_table(sample_db)
    for db in (pg_url, back):
        assert ictindex("--db", db, "checkpoint").stdout.strip() == SAMPLE_CHECKPOINT
    checked = ictindex("--db", pg_url, "verify")
    assert checked.exit_code == 0, checked.stdout
    assert "does not reproduce" not in checked.stdout


def test_a_database_holding_another_log_is_refused_and_left_unchanged(sample_db, pg_url):
    with PostgresEventLog(pg_url) as store:
        store.append([submission(1)], actor="another province")
        before = (store.checkpoint(), store.last_seq())
    refused = ictindex("copy", "--from", sample_db, "--to", pg_url)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: ") and "Traceback" not in refused.output
    with PostgresEventLog(pg_url, read_only=True) as store:
        assert (store.checkpoint(), store.last_seq()) == before
