"""The SQLite store: the shared contract, plus what only SQLite has (triggers, WAL, files)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from decimal import Decimal

import pytest

import events.store as store_module
from events.interface import ConcurrencyError
from events.interface import new_event_id
from events.store import EventStore
from events.verify import verify

from event_strategies import StepClock, counter_ids, submission
from events.testing import StoreContract


class TestSQLiteStore(StoreContract):
    def make_store(self, tmp_path, *, clock=None, new_event_id=None):
        return EventStore(
            tmp_path / "log.db",
            clock=clock or StepClock(),
            new_event_id=new_event_id or counter_ids(),
        )


class TestInMemorySQLiteStore(StoreContract):
    """`:memory:` works too (no WAL): handy for tests and what-if replays."""

    def make_store(self, tmp_path, *, clock=None, new_event_id=None):
        return EventStore(
            ":memory:", clock=clock or StepClock(), new_event_id=new_event_id or counter_ids()
        )


@pytest.fixture
def path(tmp_path):
    return tmp_path / "log.db"


def filled(path, n=5) -> EventStore:
    store = EventStore(path, clock=StepClock(), new_event_id=counter_ids())
    store.append([submission(i) for i in range(n)], actor="a")
    return store


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET actor = 'mallory' WHERE seq = 2",
        "UPDATE events SET body = body",
        "DELETE FROM events WHERE seq = 5",
        "DELETE FROM events",
        "INSERT OR REPLACE INTO events SELECT * FROM events WHERE seq = 2",
        "REPLACE INTO events (seq, event_id, recorded_at, actor, type, body, hash)"
        " VALUES (3, 'x', 't', 'a', 't', x'00', 'h')",
        "INSERT OR REPLACE INTO events (seq, event_id, recorded_at, actor, type, body, hash)"
        " VALUES (6, 'ev000001', 't', 'a', 't', x'00', 'h')",
    ],
)
def test_the_sqlite3_module_cannot_change_or_remove_events(path, sql):
    store = filled(path)
    before = [tuple(r) for r in store.stored_rows()]
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)
    conn.commit()
    conn.close()
    assert [tuple(r) for r in store.stored_rows()] == before
    assert verify(store).ok


def test_schema_wal_strict_indexes_triggers(path):
    store = filled(path)
    db = store.db
    assert db.journal_mode == "wal"
    assert db["events"].schema.rstrip().endswith("STRICT")
    assert {t.name for t in db["events"].triggers} >= {
        "events_no_update",
        "events_no_delete",
        "events_append_only",
    }
    indexes = {tuple(i.columns): i.unique for i in db["events"].indexes}
    assert indexes[("event_id",)] and indexes[("key",)]
    assert ("year", "unit_id", "indicator") in indexes
    plan = " ".join(
        str(r) for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT body FROM events WHERE year = 2020 AND unit_id = 'U001'"
        )
    )  # fmt: skip
    assert "idx_events_year_unit_id_indicator" in plan
    EventStore(path)  # opening again leaves the schema as it is


def test_bodies_are_canonical_bytes_with_decimal_strings(path):
    store = EventStore(path, clock=StepClock(), new_event_id=counter_ids())
    store.append([submission(1, value="84.030")], actor="a")
    conn = sqlite3.connect(path)
    body, kind, year = conn.execute("SELECT body, typeof(body), year FROM events").fetchone()
    assert kind == "blob" and year == 2020
    assert b'"value":"84.030"' in body
    assert b"84.03," not in body and b":84.03" not in body


def test_reopening_continues_the_chain(path):
    filled(path, 3).close()
    store = EventStore(path, clock=StepClock(), new_event_id=counter_ids("z"))
    store.append([submission(9)], actor="b")
    assert store.last_seq() == 4
    assert verify(store).ok


def test_two_connections_see_each_other_and_conflict_on_expected_seq(path):
    a = EventStore(path, new_event_id=counter_ids("a"))
    b = EventStore(path, new_event_id=counter_ids("b"))
    a.append([submission(1)], actor="a", expected_last_seq=0)
    with pytest.raises(ConcurrencyError):
        b.append([submission(2)], actor="b", expected_last_seq=0)
    b.append([submission(2)], actor="b", expected_last_seq=1)
    assert a.last_seq() == 2 and [e.actor for e in a.read()] == ["a", "b"]


def test_chunked_batches_stay_atomic_and_idempotent(path, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 3)
    store = EventStore(path, clock=StepClock(), new_event_id=counter_ids())
    keys = [f"k{i}" for i in range(10)]
    store.append([submission(i) for i in range(10)], actor="a", keys=keys)
    assert store.last_seq() == 10
    # a failure in the 3rd chunk undoes the first two
    with pytest.raises(TypeError):
        store.append([submission(i) for i in range(7)] + ["boom"], actor="a")
    assert store.last_seq() == 10
    # duplicates of keys that were in an earlier chunk of the same batch are skipped
    more = store.append([submission(0)] * 7, actor="a", keys=["x", "y", "z", "x", "y", "w", "x"])
    assert [e.key for e in more] == ["x", "y", "z", "w"]
    assert verify(store).ok



REPLACE_FIRST = ("INSERT OR REPLACE INTO events (seq, event_id, recorded_at, actor, type, body, hash)"
                 " VALUES (99, 'ev000001', 't', 'a', 't', x'00', 'h')")


def _guard_present(path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                            "AND name = 'events_append_only'").fetchone()[0] == 1
    finally:
        conn.close()


def test_bulk_batches_never_leave_the_append_only_guard_off(path, monkeypatch):
    """A bulk executemany runs without the INSERT trigger, inside its own write transaction:
    other connections see the guard throughout, and it is back after a success or a failure."""
    monkeypatch.setattr(store_module, "CHUNK", 4)
    monkeypatch.setattr(store_module, "_BULK_ROWS", 2)
    store = EventStore(path, clock=StepClock(), new_event_id=counter_ids())
    seen_by_others = []
    # a hook runs in the write transaction, right after each chunk's insert
    store.on_append.append(lambda conn, events: seen_by_others.append(_guard_present(path)))
    store.append([submission(i) for i in range(10)], actor="a")
    assert seen_by_others == [True, True, True] and _guard_present(path)
    with pytest.raises(TypeError):  # the 2nd chunk fails after the 1st went in without the guard
        store.append([submission(i) for i in range(5)] + ["boom"], actor="a")
    assert store.last_seq() == 10 and _guard_present(path)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(REPLACE_FIRST)
    conn.close()
    assert verify(store).ok and store.get(1).event_id == "ev000001"

def test_default_event_ids_are_uuid4_hex():
    import uuid

    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    for i in ids:
        u = uuid.UUID(i)
        assert u.hex == i and u.version == 4 and u.variant == uuid.RFC_4122


def _writer(path: str, worker: int, batches: int) -> None:
    store = EventStore(path, timeout=60)
    for b in range(batches):
        store.append(
            [submission(worker * 1000 + b * 10 + j) for j in range(5)],
            actor=f"worker-{worker}",
            keys=[f"w{worker}:b{b}:{j}" for j in range(5)],
        )
    store.close()


def test_concurrent_processes_append_gaplessly(path):
    EventStore(path).close()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 15)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = EventStore(path)
    assert store.last_seq() == 3 * 15 * 5
    assert verify(store).ok
    # each batch is contiguous: batches never interleave
    actors = [e.actor for e in store.read()]
    for i in range(0, len(actors), 5):
        assert len(set(actors[i : i + 5])) == 1
    # and importing the same keys again from another process records nothing
    p = ctx.Process(target=_writer, args=(str(path), 1, 15))
    p.start()
    p.join(60)
    assert EventStore(path).last_seq() == 3 * 15 * 5


def test_decimal_strings_survive_a_round_trip_through_sqlite(path):
    store = EventStore(path)
    store.append([submission(1, value="0.10")], actor="a")
    assert EventStore(path).get(1).payload.value.as_tuple() == Decimal("0.10").as_tuple()
