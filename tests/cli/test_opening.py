"""Issue 14, item 7: opening the log.

Commands that only read open it read-only (SQLite `mode=ro`): they never create a file, switch
it to WAL, add a table or write a derived one.  A missing file on such a command, a missing
folder, a file that is not SQLite and a SQLite database that is not a log (unless empty) are
each a one-line `Error:` and exit status 2, with the file left as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from events.interface import LogOpenError
from ictindex.app import Ictindex

# every command that reads the log, with arguments that suit the sample (BR-VT 2020)
READ_ONLY = [
    ("rank", "--year", 2020, "--tier", "district"),
    ("explain", "747", "--year", 2020),
    ("diff", "--year", 2020, "--tier", "district", "--from", "published"),
    ("log", "--year", 2020, "--unit", "747"),
    ("checkpoint",),
    ("verify",),
    ("prove", 5, "--checkpoint", "PUBLISHED"),
    ("export", "--year", 2020, "--tier", "district", "--out", "OUT/annex.xlsx"),
    ("site", "--year", 2020, "--out", "OUT/site"),
    ("projections", "check"),
]
WRITES = [
    ("init",),
    ("submit", "--year", 2020, "747", "leadership_score", "8"),
]


def _args(args, tmp_path, published="1:" + "0" * 64):
    return [published if a == "PUBLISHED" else str(a).replace("OUT", str(tmp_path / "out"))
            for a in args]


def one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], lines
    assert "Traceback" not in result.stderr + result.stdout


def objects(db: Path) -> list[tuple]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(map(str, a[:2])))
def test_a_missing_file_on_a_read_only_command_is_an_error_not_a_new_log(run, tmp_path, args):
    db = tmp_path / "mistyped.db"
    result = run(db, *_args(args, tmp_path))
    one_line_error(result, f"{db} does not exist")
    assert not db.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", READ_ONLY[:1] + WRITES, ids=lambda a: a[0])
def test_a_missing_folder_is_one_line(run, tmp_path, args):
    db = tmp_path / "no" / "such" / "folder.db"
    result = run(db, *_args(args, tmp_path))
    one_line_error(result, "does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("args", [READ_ONLY[0], READ_ONLY[5], *WRITES], ids=lambda a: a[0])
def test_a_file_that_is_not_sqlite_is_refused(run, tmp_path, args):
    db = tmp_path / "notes.db"
    db.write_bytes(b"year,unit_id\n2020,747\n" * 100)
    before = db.read_bytes()
    one_line_error(run(db, *_args(args, tmp_path)), f"{db} is not a SQLite database")
    assert db.read_bytes() == before and sorted(tmp_path.iterdir()) == [db]


@pytest.mark.parametrize("args", [*READ_ONLY[:6], *WRITES], ids=lambda a: a[0])
def test_a_foreign_sqlite_database_is_refused_and_left_alone(run, tmp_path, args):
    db = tmp_path / "hr.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO people VALUES (1, 'An')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    one_line_error(run(db, *_args(args, tmp_path)), f"{db} is not an ictindex log: it holds no "
                                                    "events table but people")
    assert db.read_bytes() == before and sorted(tmp_path.iterdir()) == [db]


def test_an_empty_database_becomes_a_log_but_is_not_read_as_one(run, tmp_path):
    db = tmp_path / "new.db"
    db.touch()
    one_line_error(run(db, "rank", "--year", 2020, "--tier", "district"), "is empty")
    assert db.read_bytes() == b""
    result = run(db, "init")
    assert result.exit_code == 0 and "(0 events)" in result.stdout
    assert ("table", "events") in {(t, n) for t, n, _ in objects(db)}
    assert run(db, "verify").exit_code == 0


def _rollback_journal_copy(sample_copy: Path) -> Path:
    conn = sqlite3.connect(sample_copy)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    conn.close()
    return sample_copy


def test_read_only_commands_create_and_change_nothing(run, sample_copy, tmp_path):
    """On a log in rollback-journal mode (as copied by hand or from a backup): no WAL switch, no
    -wal or -shm file, no table added (projections, frontier), the bytes identical."""
    db = _rollback_journal_copy(sample_copy)
    with sqlite3.connect(db) as conn:  # a derived table missing: it must not be re-created
        conn.execute("DROP TABLE merkle_frontier")
    published = run(db, "checkpoint").stdout.strip()
    (tmp_path / "out").mkdir()
    before, schema = db.read_bytes(), objects(db)
    for args in READ_ONLY:
        result = run(db, *_args(args, tmp_path, published))
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name)) \
            == [db.name], args
        assert db.read_bytes() == before and objects(db) == schema, args
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_wal_log_is_read_without_a_change(run, sample_copy, tmp_path):
    db = sample_copy
    before, schema = db.read_bytes(), objects(db)
    for args in (READ_ONLY[0], READ_ONLY[5], READ_ONLY[4]):
        assert run(db, *_args(args, tmp_path)).exit_code == 0
    assert db.read_bytes() == before and objects(db) == schema
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # nothing written, not even to the WAL


def test_a_log_opened_read_only_refuses_writes(sample_copy):
    before = sample_copy.read_bytes()
    with Ictindex.open(sample_copy, read_only=True) as app:
        with pytest.raises(LogOpenError, match="read-only"):
            app.adopt("local-ict@2020", 2021, actor="tester")
    assert sample_copy.read_bytes() == before
