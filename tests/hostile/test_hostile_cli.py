"""Issue 14 (8, 10, 12) and 13 (11): arguments and conditions the command line refuses cleanly.

Each case runs the real CLI in-process (exceptions not caught: a traceback fails the test)
against a copy of the hostile template log and checks: exit status 2, exactly one line with
the exact prefix (`Error: `) and the expected text, no traceback, the log byte-identical.
The conditions that are not arguments (a locked log, a full disk) are made with SQLite itself.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hostile_kit import snapshot
from test_hostile_inputs import Case

ROOT_HEX = "a" * 64
HUGE = "99999999999999999999999"


def _out(tmp: Path, name: str) -> str:
    return str(tmp / name)


def _file_in_the_way(tmp: Path) -> str:
    (tmp / "a-file").write_text("not a folder", encoding="utf-8")
    return str(tmp / "a-file" / "site")


# args(seqs, tmp_path) -> the command's arguments
CASES = [
    Case("as-of-before-year-1-in-utc", "", [("Error: ", "outside the years 1..9999")],
         args=lambda s, t: ("rank", "--year", 2020, "--tier", "district",
                            "--as-of", "0001-01-01T00:00:00+01:00")),
    Case("as-of-after-year-9999-in-utc", "", [("Error: ", "outside the years 1..9999")],
         args=lambda s, t: ("explain", "D1", "--year", 2020, "--as-of", "9999-12-31T23:00:00-05:00")),
    Case("as-of-seq-beyond-any-log", "", [("Error: ", "larger than any log can be")],
         args=lambda s, t: ("diff", "--year", 2020, "--tier", "district", "--from", f"seq:{HUGE}")),
    Case("as-of-other-script-digits", "", [("Error: ", "cannot read as-of point '২০২১-০১-০১'")],
         args=lambda s, t: ("rank", "--year", 2020, "--tier", "district", "--as-of", "২০২১-০১-০১")),
    Case("year-huge", "", [("Error: ", f"Invalid value for '--year': {HUGE}")],
         args=lambda s, t: ("rank", "--year", HUGE, "--tier", "district")),
    Case("year-huge-on-log", "", [("Error: ", "Invalid value for '--year'")],
         args=lambda s, t: ("log", "--year", HUGE)),
    Case("year-negative-on-submit", "", [("Error: ", "Invalid value for '--year': -2020")],
         args=lambda s, t: ("submit", "--year", -2020, "D1", "computers_total", "5")),
    Case("seq-huge-on-prove", "", [("Error: ", f"no event with seq {HUGE}")],
         args=lambda s, t: ("prove", HUGE, "--checkpoint", f"3:{ROOT_HEX}")),
    Case("seq-huge-on-correct", "", [("Error: ", f"no event with seq {HUGE}")],
         args=lambda s, t: ("correct", HUGE, "5", "--reason", "x")),
    Case("seq-huge-on-retract", "", [("Error: ", f"no event with seq {HUGE}")],
         args=lambda s, t: ("retract", f"#{HUGE}", "--reason", "x")),
    Case("value-huge-exponent", "", [("Error: ", "'1e999999' is not a number")],
         args=lambda s, t: ("correct", s["S"], "1e999999", "--reason", "x")),
    Case("publish-date-not-a-date", "", [("Error: ", "--date 'garbage' is not a date (YYYY-MM-DD)")],
         args=lambda s, t: ("publish", "--year", 2020, "--tier", "district", "--decision", "1/QĐ",
                            "--date", "garbage")),
    Case("export-into-a-missing-folder", "", [("Error: ", "annex.csv: No such file or directory")],
         args=lambda s, t: ("export", "--year", 2020, "--tier", "district",
                            "--out", _out(t, "missing/annex.csv"))),
    Case("site-under-a-file", "", [("Error: ", "cannot create the folder")],
         args=lambda s, t: ("site", "--year", 2020, "--out", _file_in_the_way(t))),
]


def _check(result, case: Case, db: Path, before: dict) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    for prefix, text in case.expect:
        hits = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
        assert len(hits) == 1 and text in hits[0], (prefix, text, result.stderr)
    assert snapshot(db) == before


def test_at_least_8_kinds():
    assert len({c.id for c in CASES}) == len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_hostile_argument_is_refused_cleanly_and_the_log_is_untouched(case, hostile_log, run,
                                                                          tmp_path):
    db, seqs = hostile_log
    before = snapshot(db)
    _check(run(db, *case.args(seqs, tmp_path)), case, db, before)


# -- conditions made with SQLite itself ------------------------------------------------------


def _connect_with(monkeypatch, setup) -> None:
    """Every connection the command opens runs `setup` first (SQLite's own limits)."""
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        setup(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)


def test_a_log_locked_by_another_writer_is_refused_and_nothing_is_recorded(
        hostile_log, run, monkeypatch):
    db, _ = hostile_log
    before = snapshot(db)
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        # Wait 50 ms for the lock instead of the store's 30 s.
        _connect_with(monkeypatch, lambda conn: conn.execute("PRAGMA busy_timeout = 50"))
        result = run(db, "submit", "--year", 2020, "D2", "computers_total", "5")
    finally:
        holder.rollback()
        holder.close()
        monkeypatch.undo()
    case = Case("locked", "", [("Error: ", "the log is locked: another process")])
    _check(result, case, db, before)
    assert "nothing was recorded" in result.stderr


def test_a_full_disk_is_refused_and_nothing_is_recorded(hostile_log, run, monkeypatch, tmp_path):
    """SQLite's page limit makes SQLITE_FULL exactly as a full disk does."""
    db, _ = hostile_log
    before = snapshot(db)
    units = tmp_path / "units.csv"
    units.write_text("unit_id,tier,name,parent_id\n" + "".join(
        f"N{i},district,{'UBND huyện ' * 150}{i},\n" for i in range(200)), encoding="utf-8")

    def no_room(conn):
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")

    _connect_with(monkeypatch, no_room)
    try:
        result = run(db, "units", "import", units)
    finally:
        monkeypatch.undo()
    _check(result, Case("full", "", [("Error: ", "the disk holding the log is full")]), db, before)
    assert "nothing was recorded" in result.stderr
