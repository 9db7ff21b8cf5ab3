"""Issue 18 kept issue 13's guarantees with cheaper checks: proofs from the tiles trust the
tiles' seal (the size the last append wrote, with the schema cookie it left) instead of
counting the rows, and verify checks the indexes against the table with hash sums
(`events.indexcheck`) and the tiles inside its own pass (`events.tiles.Check`).

Every edit is made with Python's sqlite3 module on the file, never through the API.
"""

from __future__ import annotations

import importlib
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from events import merkle, tiles
from events.store import EventStore
from events.types import IndicatorSubmitted
from test_integrity_holes import edit
from test_sqlite3_tampering import cli, log  # noqa: F401  (fixtures)

verify_module = importlib.import_module("events.verify")


def _statements(store: EventStore, *calls) -> list[str]:
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        for call in calls:
            call()
    finally:
        store.db.conn.set_trace_callback(None)
    return [s.lower() for s in seen]


def _proofs(store: EventStore):
    return (lambda: store.inclusion_proof(12), lambda: store.consistency_proof(10))


def test_proofs_from_a_sealed_log_count_no_rows_and_read_no_leaves(log):
    db, _ = log
    with EventStore(db, read_only=True) as store:
        assert tiles.sealed_size(store.db.conn) == 15
        statements = _statements(store, *_proofs(store))
        leaves = store.leaf_hashes()
        assert store.inclusion_proof(12).path == [
            p.hex() for p in merkle.inclusion_proof(leaves, 11)]
        assert store.consistency_proof(10).path == [
            p.hex() for p in merkle.consistency_proof(leaves, 10)]
    assert statements and not [s for s in statements if "count(" in s]
    assert not [s for s in statements if "from events" in s and "where" not in s
                and "min(" not in s and "max(" not in s]


def test_a_schema_changed_since_the_last_append_makes_proofs_count_the_rows(log):
    db, _ = log
    edit(db)  # the append-only triggers dropped and put back: nothing else changed
    with EventStore(db, read_only=True) as store:
        assert tiles.sealed_size(store.db.conn) is None
        statements = _statements(store, *_proofs(store))
        assert [s for s in statements if "count(" in s]
        leaves = store.leaf_hashes()
        assert store.inclusion_proof(12).path == [
            p.hex() for p in merkle.inclusion_proof(leaves, 11)]


def test_a_row_deleted_before_an_append_still_makes_checkpoint_and_prove_refuse(log, cli):
    db, published = log
    edit(db, "DELETE FROM events WHERE seq = 9")
    with EventStore(db) as store:  # the next append does not seal rows that are not 1..N
        store.append([IndicatorSubmitted(year=2020, unit_id="D2", indicator="leadership_score",
                                          value=Decimal("5"))], actor="tester")
        assert store.last_seq() == 16
        assert tiles.sealed_size(store.db.conn) is None
    proof = cli(db, "prove", 12, "--checkpoint", published.replace("10:", "15:"))
    assert proof.exit_code == 2 and "not numbered 1.." in proof.stderr
    checkpoint = cli(db, "checkpoint")
    assert checkpoint.exit_code == 2 and "not numbered 1.." in checkpoint.stderr
    assert "log BROKEN at seq 9: seq 9 is missing" in cli(db, "verify").stdout


def stale_value(db: Path, index: str, seq: int, column: str, forged: str) -> str:
    """The index keeps `forged` as row `seq`'s `column` while the table keeps its own value:
    the value is changed, the index forgotten (`writable_schema`), the value put back, the
    index declared again over its untouched pages.  Returns the row's true value."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        (true,) = conn.execute(f"SELECT {column} FROM events WHERE seq = ?", (seq,)).fetchone()
        entry = conn.execute("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master "
                             "WHERE name = ?", (index,)).fetchone()
    finally:
        conn.close()
    edit(db, f"UPDATE events SET {column} = ? WHERE seq = {seq}", params=(forged,))
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("DELETE FROM sqlite_master WHERE name = ?", (index,))
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()
    edit(db, f"UPDATE events SET {column} = ? WHERE seq = {seq}", params=(true,))
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
                     "VALUES (?, ?, ?, ?, ?)", entry)
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()
    return true


def test_an_index_holding_another_value_for_a_row_fails_verify(log, cli):
    """As many entries as rows, one of them with a forged key: only the hash sums see it."""
    db, _ = log
    with EventStore(db, read_only=True) as store:
        seq = next(r.seq for r in store.stored_rows() if r.key is not None)
    true = stale_value(db, "idx_events_key", seq, "key", "forged-key")
    with EventStore(db, read_only=True) as store:  # the attack is real: the key looks unused
        assert not store.has_key(true) and store.has_key("forged-key")
        assert store.get(seq).key == true
    result = cli(db, "verify")
    assert result.exit_code == 1, result.stdout
    assert ("log BROKEN: storage: index idx_events_key holds other (seq, key) than the rows of "
            "the table events") in result.stdout
    with EventStore(db, read_only=True) as store:
        assert any("idx_events_key holds other" in p for p in store.check_storage())


TAMPERINGS = {
    "a full leaf tile": "UPDATE merkle_tiles SET hashes = CAST(zeroblob(32) || substr(hashes, 33) AS BLOB) "
                        "WHERE level = 0 AND idx = 3",
    "the partial leaf tile": "UPDATE merkle_tiles SET hashes = substr(hashes, 33) "
                             "WHERE level = 0 AND idx = 16",
    "a level-1 tile": "UPDATE merkle_tiles SET hashes = CAST(substr(hashes, 33) || zeroblob(32) AS BLOB) "
                      "WHERE level = 1",
    "a missing tile": "DELETE FROM merkle_tiles WHERE level = 0 AND idx = 5",
    "an extra tile": "INSERT INTO merkle_tiles VALUES (0, 99, zeroblob(64))",
    "nothing": "SELECT 1",
}


@pytest.mark.parametrize("chunk_bits", [8, 2])
@pytest.mark.parametrize("what", sorted(TAMPERINGS))
def test_the_tiles_checked_in_the_pass_read_as_the_stand_alone_check(sample_db, tmp_path,
                                                                      monkeypatch, what,
                                                                      chunk_bits):
    monkeypatch.setattr(verify_module, "CHUNK_BITS", chunk_bits)
    monkeypatch.setattr(verify_module, "CHUNK", 1 << chunk_bits)
    db = tmp_path / "log.db"
    db.write_bytes(sample_db.read_bytes())
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(TAMPERINGS[what])
    conn.close()
    with EventStore(db, read_only=True) as store:
        check = store.tile_check()
        assert verify_module.verify(store, tiles=check).ok
        expected = tiles.problems(store.db.conn, store.leaf_hashes())
        assert check.problems() == expected
    assert bool(expected) is (what != "nothing")
