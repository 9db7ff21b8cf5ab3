"""`append_stored` beyond the shared contract (`events.testing`): read-only stores, SQLite's
write path (chunks, projectors, the schema check under the write lock), old schema versions
stored verbatim, and the property that any log's bodies give the same log in any store."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given

import events.store as store_module
from events.canonical import leaf_hash_hex
from events.interface import LogIntegrityError, LogOpenError
from events.memory import MemoryEventLog
from events.store import EventStore
from events.testing import StoreContract
from events.upcast import UPCASTERS
from events.verify import verify
from ictindex.app import Ictindex

from event_strategies import StepClock, batches, counter_ids, examples
from test_upcasters import V0_BODY, v0_registry


def sample_bodies() -> list[bytes]:
    log = MemoryEventLog(clock=StepClock(), new_event_id=counter_ids())
    StoreContract.sample_log(log)
    return [r.body for r in log.stored_rows()]


def rows(store) -> list[tuple]:
    return [tuple(r) for r in store.stored_rows()]


def test_a_read_only_store_refuses(tmp_path):
    path = tmp_path / "log.db"
    EventStore(path).close()
    for store in (EventStore(path, read_only=True), MemoryEventLog(read_only=True)):
        with pytest.raises(LogOpenError, match="read-only"):
            store.append_stored(sample_bodies(), expected_last_seq=0)
        assert store.last_seq() == 0


def test_sqlite_streams_in_chunks_and_keeps_derived_tables_current(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 3)
    bodies = sample_bodies()
    store = EventStore(tmp_path / "log.db")
    seen: list[list[int]] = []
    commits = []

    class Counter:
        def on_events(self, conn, events):
            seen.append([e.seq for e in events])

        def before_commit(self, conn):
            commits.append(conn.execute("SELECT max(seq) FROM events").fetchone()[0])

    store.add_projector(Counter())
    store.append_stored(iter(bodies), expected_last_seq=0)
    assert seen == [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert commits == [8]
    # the Merkle frontier and tiles went forward with the rows: proofs and checkpoints agree
    assert store.stored_frontier() == store.checkpoint() and store.tile_problems() == []
    assert verify(store).ok


def test_sqlite_checks_the_schema_under_the_write_lock(tmp_path):
    path = tmp_path / "log.db"
    store = EventStore(path)
    other = sqlite3.connect(path)
    other.execute("CREATE TRIGGER planted AFTER INSERT ON events BEGIN SELECT 1; END")
    other.commit()
    other.close()
    with pytest.raises(LogOpenError, match="planted"):
        store.append_stored(sample_bodies(), expected_last_seq=0)
    assert store.last_seq() == 0


def test_a_batch_refused_in_a_later_chunk_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 3)
    bodies = sample_bodies()
    store = EventStore(tmp_path / "log.db")
    with pytest.raises(LogIntegrityError, match="#7"):
        store.append_stored(bodies[:6] + bodies[7:], expected_last_seq=0)
    assert store.last_seq() == 0 and store.stored_frontier() in (None, store.checkpoint())
    assert verify(store).ok


@pytest.mark.parametrize("make", [lambda p: EventStore(p / "a.db"), lambda p: MemoryEventLog()],
                         ids=["sqlite", "memory"])
def test_an_old_schema_version_is_stored_verbatim(tmp_path, monkeypatch, make):
    store = make(tmp_path)
    with pytest.raises(LogIntegrityError, match="#1 .*does not decode"):
        store.append_stored([V0_BODY], expected_last_seq=0)  # no upcaster for schema 0 yet
    monkeypatch.setattr(UPCASTERS, "upcast", v0_registry().upcast)
    store.append_stored([V0_BODY], expected_last_seq=0)
    [row] = store.stored_rows()
    assert bytes(row.body) == V0_BODY and row.hash == leaf_hash_hex(V0_BODY)
    # the indexed columns are the upcast event's
    assert (row.unit_id, row.year, row.indicator, row.key) == ("DATDO", 2019, "I01", None)
    assert verify(store).ok
    # and a copy of the copy still holds those bytes
    again = MemoryEventLog()
    again.append_stored((r.body for r in store.stored_rows()), expected_last_seq=0)
    assert rows(again) == [tuple(row)[:-2] + (V0_BODY, row.hash)]
    store.close()


@examples(30)
@given(batches)
def test_any_log_copied_into_an_empty_store_is_the_same_log(log):
    """Whatever the events, SQLite → memory → SQLite gives the same rows and checkpoint."""
    source = EventStore(":memory:", clock=StepClock(), new_event_id=counter_ids())
    for batch in log:
        source.append(batch, actor="a")
    middle = MemoryEventLog()
    bodies = [r.body for r in source.stored_rows()]
    half = len(bodies) // 2
    middle.append_stored(bodies[:half], expected_last_seq=0)
    middle.append_stored(iter(bodies[half:]), expected_last_seq=half)
    target = EventStore(":memory:")
    target.append_stored((r.body for r in middle.stored_rows()), expected_last_seq=0)
    assert rows(middle) == rows(source) == rows(target)
    assert middle.checkpoint() == source.checkpoint() == target.checkpoint()
    assert target.latest_checkpoint() == source.checkpoint()



def test_verify_holds_only_the_current_version_to_canonical_form(tmp_path, monkeypatch):
    """An old version's body re-encodes differently once upcast: verify accepts it as stored
    (a log written before an upcaster existed), as copying one needs."""
    monkeypatch.setattr(UPCASTERS, "upcast", v0_registry().upcast)
    path = tmp_path / "old.db"
    EventStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO events VALUES (1, 'e0', '2020-01-02T03:04:05.000000Z', 'import', "
                 "'indicator_submitted', 2019, 'DATDO', 'I01', NULL, ?, ?)",
                 (V0_BODY, leaf_hash_hex(V0_BODY)))
    conn.commit()
    conn.close()
    with EventStore(path, read_only=True) as store:
        report = verify(store)
        assert report.ok, str(report)


def test_ictindex_copy_keeps_an_old_schema_version_verbatim(tmp_path, monkeypatch):
    """`copy` verifies the source, copies and proves an event of schema 0 as stored."""
    monkeypatch.setattr(UPCASTERS, "upcast", v0_registry().upcast)
    old = MemoryEventLog()
    old.append_stored([V0_BODY], expected_last_seq=0)
    target = tmp_path / "copy.db"
    result = Ictindex.copy(old, target)
    assert result.copied == 1 and result.checkpoint == old.checkpoint()
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT body, hash FROM events").fetchall() == [(V0_BODY, leaf_hash_hex(V0_BODY))]
    conn.close()
    with Ictindex.open(target, read_only=True) as app:
        assert app.verify().ok
        assert app.prove(1, result.checkpoint).ok
