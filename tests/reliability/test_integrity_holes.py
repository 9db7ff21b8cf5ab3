"""Issue 13, items 1-5: whoever can write the file must not make `verify`/`prove` certify a log
that replays differently, nor make a command print a checkpoint the log does not have.

Every edit is made with Python's sqlite3 module on the file, never through the API; the log is
the 15-event log of tests/reliability/test_sqlite3_tampering.py (its checkpoint after 10 events
published), edited as a careful forger would: guard triggers dropped and put back.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from events import store as store_module
from events.interface import LogIntegrityError
from events.schema import TRIGGERS, YEAR_INDEX
from events.store import EventStore
from events.schema import differences
from events.types import IndicatorSubmitted, UnitRegistered
from test_sqlite3_tampering import cli, log  # noqa: F401  (fixtures)
from tests.reliability.tampering import hide_from_index

def edit(db: Path, *statements: str, params=()) -> None:
    """Run statements on the file with the guard triggers dropped, then put them back."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for name in TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in statements:
            conn.execute(sql, params) if params else conn.execute(sql)
        for sql in TRIGGERS.values():
            conn.execute(sql)
    finally:
        conn.close()


# -- 1. stale index ---------------------------------------------------------------------------

@pytest.mark.parametrize("seq, what", [(4, "the year's first event (an adoption)"),
                                       (1, "a unit registration")])
def test_a_row_hidden_from_the_year_index_fails_verify(log, cli, seq, what):
    db, _ = log
    hide_from_index(db, YEAR_INDEX, seq)
    with EventStore(db, read_only=True) as store:  # the attack is real: replay misses the row
        assert seq in {e.seq for e in store.read()}
        assert seq not in {e.seq for e in store.read_years([2020])}
    result = cli(db, "verify")
    assert result.exit_code == 1, result.stdout
    assert "log BROKEN: storage: " in result.stdout and YEAR_INDEX in result.stdout
    rows = len(list(EventStore(db, read_only=True).stored_rows()))
    assert f"holds {rows - 1} entries for the {rows} rows of the table events" in result.stdout


def test_a_row_hidden_from_the_event_id_index_fails_verify(log, cli):
    db, _ = log
    hide_from_index(db, "idx_events_event_id", 7)
    result = cli(db, "verify")
    assert result.exit_code == 1 and "idx_events_event_id" in result.stdout


# -- 2. planted triggers, views, indexes ------------------------------------------------------

LOOK_ALIKE = """CREATE TRIGGER events_no_delete BEFORE DELETE ON events WHEN 0
        BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE is refused'); END"""
EATER = """CREATE TRIGGER zz_after AFTER INSERT ON events WHEN NEW.type = 'indicator_corrected'
        BEGIN DELETE FROM events WHERE seq = NEW.seq; END"""


def plant(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER events_no_delete")
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


def test_planted_triggers_are_refused_by_every_opening_and_named_by_verify(log, cli):
    db, _ = log
    plant(db, LOOK_ALIKE, EATER)
    before = db.read_bytes()
    result = cli(db, "correct", 7, "97", "--reason", "recount")
    assert result.exit_code == 2 and "Recorded" not in result.stdout
    assert "trigger events_no_delete is not the expected one" in result.stderr
    assert "trigger zz_after (on events) is not part of a log" in result.stderr
    assert db.read_bytes() == before
    for args in (("rank", "--year", 2020, "--tier", "district"), ("checkpoint",), ("log",)):
        refused = cli(db, *args)
        assert refused.exit_code == 2 and "zz_after" in refused.stderr, args
    verified = cli(db, "verify")
    assert verified.exit_code == 1
    assert "log BROKEN: schema: trigger events_no_delete is not the expected one" in verified.stdout
    assert "log BROKEN: schema: trigger zz_after" in verified.stdout


@pytest.mark.parametrize("statement, named", [
    ("CREATE VIEW v AS SELECT * FROM events WHERE seq <> 7", "view v"),
    ("CREATE INDEX idx_planted ON events (seq) WHERE seq <> 7", "index idx_planted"),
    ("CREATE TABLE notes (x)", "table notes"),
    ("CREATE TRIGGER on_frontier AFTER INSERT ON merkle_frontier BEGIN SELECT 1; END",
     "trigger on_frontier"),
])
def test_any_other_object_fails_verify_and_is_named(log, cli, statement, named):
    db, _ = log
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(statement)
    conn.close()
    result = cli(db, "verify")
    assert result.exit_code == 1 and f"log BROKEN: schema: {named}" in result.stdout


def test_derived_tables_are_declared_and_may_be_absent(log, cli):
    db, _ = log
    assert cli(db, "publish", "--year", 2020, "--tier", "district", "--decision", "1/QĐ",
               "--allow-missing").exit_code == 0
    assert cli(db, "projections", "rebuild").exit_code == 0
    assert cli(db, "verify").exit_code == 0  # every derived table, as declared
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TABLE merkle_frontier")
    conn.execute("DROP TABLE proj_meta")
    conn.execute("ALTER TABLE published_results ADD COLUMN extra TEXT")
    conn.close()
    result = cli(db, "verify")
    assert result.exit_code == 1
    assert "log BROKEN: schema: table published_results is not the expected one" in result.stdout
    assert "merkle_frontier" not in result.stdout and "proj_meta" not in result.stdout


def test_the_writer_confirms_the_seqs_it_committed(log, monkeypatch):
    """Should a trigger slip past the schema check, "Recorded #N" is still never a lie."""
    db, _ = log
    plant(db, LOOK_ALIKE, EATER.replace("'indicator_corrected'", "'indicator_submitted'"))
    monkeypatch.setattr(store_module, "_check_schema", lambda conn, name: None)
    with EventStore(db) as store:
        payload = IndicatorSubmitted(year=2020, unit_id="C1", indicator="official_email_ratio",
                                     value=Decimal("0.5"))
        with pytest.raises(LogIntegrityError, match="#16..#16 were committed but the file does "
                                                      "not hold them"):
            store.append([payload], actor="tester")


def test_the_bulk_append_puts_back_the_exact_guard(tmp_path):
    """A batch of 1,000 rows or more drops the append-only trigger inside its transaction; what
    it re-creates is exactly the expected trigger (a look-alike would fail every later opening)."""
    with EventStore(tmp_path / "bulk.db") as store:
        store.append([UnitRegistered(unit_id=f"u{i}", tier="commune", name=f"Xã {i}")
                      for i in range(1_200)], actor="tester")
    conn = sqlite3.connect(tmp_path / "bulk.db")
    try:
        assert differences(conn) == []
    finally:
        conn.close()


# -- 3. prove hashes the bytes it shows --------------------------------------------------------

def test_prove_does_not_verify_a_body_edited_with_its_hash_kept(log, cli):
    db, published = log
    assert cli(db, "prove", 7, "--checkpoint", published).exit_code == 0
    edit(db, """UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '"value":"95"',
                '"value":"59"') AS BLOB) WHERE seq = 7""")
    result = cli(db, "prove", 7, "--checkpoint", published)
    assert result.exit_code == 1, result.stdout
    assert "VERIFIED: event #7 is in" not in result.stdout
    assert "NOT VERIFIED" in result.stdout
    assert "PROBLEM: the stored hash" in result.stdout
    as_json = json.loads(cli(db, "prove", 7, "--checkpoint", published, "--format", "json").stdout)
    assert as_json["ok"] is False and '"value":"59"' in as_json["event"]


def test_prove_does_not_verify_a_non_canonical_body(log, cli):
    db, published = log
    edit(db, """UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '{"actor"',
                '{ "actor"') AS BLOB) WHERE seq = 7""")
    result = cli(db, "prove", 7, "--checkpoint", published)
    assert result.exit_code == 1
    assert "PROBLEM: the stored bytes are not the canonical encoding" in result.stdout


# -- 4. rows outside 1..N ----------------------------------------------------------------------

COPY_ROW_1 = ("INSERT INTO events SELECT {seq}, event_id || 'x', recorded_at, actor, type, year, "
              "unit_id, indicator, NULL, body, hash FROM events WHERE seq = 1")


@pytest.mark.parametrize("statement, first_bad", [
    (COPY_ROW_1.format(seq=0), "log BROKEN at seq 1: row 1 in storage order has seq 0"),
    (COPY_ROW_1.format(seq=-3), "log BROKEN at seq 1: row 1 in storage order has seq -3"),
    ("DELETE FROM events WHERE seq = 9", "log BROKEN at seq 9: seq 9 is missing"),
])
def test_rows_outside_1_to_n_fail_verify_and_are_never_counted(log, cli, statement, first_bad):
    db, published = log
    edit(db, statement)
    result = cli(db, "verify")
    assert result.exit_code == 1 and first_bad in result.stdout
    checkpoint = cli(db, "checkpoint")
    assert checkpoint.exit_code == 2 and checkpoint.stdout == ""
    assert checkpoint.stderr.startswith("Error: the log's rows are not numbered 1..")
    proof = cli(db, "prove", 12, "--checkpoint", published.replace("10:", "15:"))
    assert proof.exit_code == 2 and "not numbered 1.." in proof.stderr


# -- 5. a checkpoint shown is computed from the leaves ---------------------------------------

def forge_frontier(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        (stack,) = conn.execute("SELECT stack FROM merkle_frontier").fetchone()
        stored = json.loads(stack)
        stored["stack"][0][1] = "ab" * 32
        conn.execute("UPDATE merkle_frontier SET stack = ?", (json.dumps(stored),))
    finally:
        conn.close()


def test_rank_annex_and_site_show_the_logs_checkpoint_not_the_frontiers(log, cli, tmp_path):
    db, _ = log
    true = cli(db, "checkpoint").stdout.strip()
    forge_frontier(db)
    ranked = json.loads(cli(db, "rank", "--year", 2020, "--tier", "district", "--format",
                            "json").stdout)
    assert f"{ranked['checkpoint']['size']}:{ranked['checkpoint']['root']}" == true
    annex = cli(db, "export", "--year", 2020, "--tier", "district", "--out", tmp_path / "a.xlsx")
    assert annex.exit_code == 0 and f"checkpoint {true}" in annex.stdout
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").properties.identifier == true
    site = cli(db, "site", "--year", 2020, "--out", tmp_path / "site")
    assert site.exit_code == 0 and f"checkpoint {true}" in site.stdout
    assert f"verify --checkpoint {true}" in (tmp_path / "site" / "verify.html").read_text(encoding="utf-8")
    # and verify names the forged frontier
    assert "merkle frontier: gives" in cli(db, "verify").stdout
