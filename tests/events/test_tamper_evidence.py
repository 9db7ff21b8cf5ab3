"""Tamper evidence: any single change made behind the store's back is found by `verify`.

Each test builds a generated log in a fresh SQLite file, checks that `verify` passes, then
changes the file through the plain sqlite3 module with the triggers and indexes dropped (as
anyone holding the file can), and checks that `verify` names the right seq, or that the
published checkpoint no longer matches.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from pathlib import Path

import msgspec
from hypothesis import given, strategies as st

from events.canonical import GENESIS_PREV_HASH, decode_event, encode_event, leaf_hash_hex, time_key
from events.schema import CREATE
from events.store import EventStore
from events.types import IndicatorSubmitted, payload_tag
from events.verify import verify

from event_strategies import StepClock, batches, counter_ids, examples, payloads

COLS = "event_id, recorded_at, actor, type, year, unit_id, indicator, key, body, hash"


# Hundreds of small SQLite files: on tmpfs when there is one, so fsync costs nothing.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None


@contextlib.contextmanager
def generated_log(log_batches):
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        path = Path(tmp) / "log.db"
        store = EventStore(path, clock=StepClock(), new_event_id=counter_ids())
        for i, batch in enumerate(log_batches):
            store.append(batch, actor=f"actor-{i}")
        report = verify(store)
        assert report.ok and report.first_bad_seq is None, report
        assert report.current == store.checkpoint()
        try:
            yield store, path
        finally:
            store.close()


class _Unguarded:
    """A plain connection to the file that runs each edit with every guard (trigger, index)
    removed and puts them back after it, as a careful forger does: a log whose guards are
    missing fails `verify` for that alone (tests/reliability/test_integrity_holes.py)."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def execute(self, sql: str, params=()):
        if sql.lstrip().upper().startswith("SELECT"):
            return self.conn.execute(sql, params)
        conn = self.conn
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall():
            conn.execute(f"DROP INDEX {name}")
        cursor = conn.execute(sql, params)
        for statement in CREATE[1:]:
            try:
                conn.execute(statement)
            except sqlite3.DatabaseError:  # e.g. a unique index over a duplicated event id
                pass
        return cursor


def raw(path) -> _Unguarded:
    """A plain connection to the file, each edit made past the guards (see `_Unguarded`)."""
    return _Unguarded(path)


def columns_for(event) -> tuple:
    body = encode_event(event)
    p = event.payload
    return (
        event.event_id, time_key(event.recorded_at), event.actor, payload_tag(p),
        getattr(p, "year", None), getattr(p, "unit_id", None), getattr(p, "indicator", None),
        event.key, body, leaf_hash_hex(body),
    )  # fmt: skip


def rewrite_from(conn, k: int, change) -> None:
    """Change event k with `change(event) -> event` and recompute every later hash: a
    rewrite that is consistent everywhere inside the file."""
    rows = conn.execute("SELECT seq, body FROM events WHERE seq >= ? ORDER BY seq", (k,)).fetchall()
    prev = (
        conn.execute("SELECT hash FROM events WHERE seq = ?", (k - 1,)).fetchone()[0]
        if k > 1
        else GENESIS_PREV_HASH
    )
    for seq, body in rows:
        event = decode_event(body)
        if seq == k:
            event = change(event)
        event = msgspec.structs.replace(event, prev_hash=prev)
        cols = columns_for(event)
        conn.execute(
            f"UPDATE events SET ({COLS}) = ({', '.join('?' * 10)}) WHERE seq = ?", (*cols, seq)
        )
        prev = cols[-1]


def expect_bad(store, seq: int, checkpoint=None):
    report = verify(store, checkpoint)
    assert not report.ok
    assert report.first_bad_seq == seq, report
    assert report.size == seq - 1
    return report


# -- the log itself -----------------------------------------------------------------------------


@examples(30)
@given(batches, st.data())
def test_a_flipped_byte_in_a_body_is_named(log_batches, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        k = data.draw(st.integers(1, n), label="seq")
        body = bytes(store.get(k) and next(store.stored_rows(k)).body)
        pos = data.draw(st.integers(0, len(body) - 1), label="byte")
        bit = data.draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64, 128]), label="bit")
        forged = body[:pos] + bytes([body[pos] ^ bit]) + body[pos + 1 :]
        raw(path).execute("UPDATE events SET body = ? WHERE seq = ?", (forged, k))
        expect_bad(store, k)


@examples(30)
@given(batches, st.data())
def test_a_deleted_row_is_named_or_breaks_the_checkpoint(log_batches, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        published = store.checkpoint()
        k = data.draw(st.integers(1, n), label="seq")
        raw(path).execute("DELETE FROM events WHERE seq = ?", (k,))
        if k < n:
            report = expect_bad(store, k)
            assert "missing" in report.reason
        else:  # the last event: what remains is a valid shorter log...
            assert verify(store).ok
        report = verify(store, published)  # ...which no longer extends the published checkpoint
        assert not report.ok and report.checkpoint_ok is False


@examples(30)
@given(batches.filter(lambda b: sum(map(len, b)) >= 2), st.data())
def test_two_swapped_rows_are_named(log_batches, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        i = data.draw(st.integers(1, n - 1), label="first")
        j = data.draw(st.integers(i + 1, n), label="second")
        conn = raw(path)
        a = conn.execute(f"SELECT {COLS} FROM events WHERE seq = ?", (i,)).fetchone()
        b = conn.execute(f"SELECT {COLS} FROM events WHERE seq = ?", (j,)).fetchone()
        update = f"UPDATE events SET ({COLS}) = ({', '.join('?' * 10)}) WHERE seq = ?"
        conn.execute(update, (*b, i))
        conn.execute(update, (*a, j))
        expect_bad(store, i)


def _shift_up_from(conn, k: int, n: int) -> None:
    for seq in range(n, k - 1, -1):
        conn.execute("UPDATE events SET seq = seq + 1 WHERE seq = ?", (seq,))


@examples(30)
@given(batches, payloads, st.data())
def test_a_forged_row_inserted_inside_the_log_is_named(log_batches, payload, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        published = store.checkpoint()
        k = data.draw(st.integers(1, n), label="position")
        careful = data.draw(st.booleans(), label="careful forger")
        prev = store.get(k - 1) if k > 1 else None
        conn = raw(path)
        _shift_up_from(conn, k, n)
        # A careful forger writes a perfectly valid event at k, chained to k - 1...
        template = store.get(k + 1)
        forged = msgspec.structs.replace(
            template,
            seq=k,
            event_id="forged",
            payload=payload,
            key=None,
            prev_hash=leaf_hash_hex(encode_event(prev)) if prev else GENESIS_PREV_HASH,
        )
        cols = columns_for(forged)
        if not careful:  # ...a careless one just puts some bytes there
            cols = (*cols[:8], b'{"seq":' + str(k).encode() + b"}", cols[9])
        conn.execute(
            f"INSERT INTO events (seq, {COLS}) VALUES (?, {', '.join('?' * 10)})", (k, *cols)
        )
        # The careful forgery passes at k, but the displaced event k no longer fits at k + 1.
        expect_bad(store, k + 1 if careful else k)
        assert verify(store, published).checkpoint_ok is False


@examples(30)
@given(batches, st.data())
def test_a_tail_cut_below_a_published_checkpoint_breaks_it(log_batches, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        size = data.draw(st.integers(1, n), label="published size")
        published = store.checkpoint(size)
        keep = data.draw(st.integers(0, size - 1), label="rows kept")
        raw(path).execute("DELETE FROM events WHERE seq > ?", (keep,))
        assert verify(store).ok  # a shorter log is still a valid log...
        report = verify(store, published)
        assert not report.ok and report.checkpoint_ok is False  # ...but not the published one
        assert "removed" in report.checkpoint_reason
        assert f"has {keep} events" in report.checkpoint_reason


@examples(30)
@given(batches, st.data())
def test_a_consistent_rewrite_is_caught_only_by_a_checkpoint_that_covers_it(log_batches, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        size = data.draw(st.integers(1, n), label="published size")
        published = store.checkpoint(size)
        k = data.draw(st.integers(1, n), label="rewritten seq")
        rewrite_from(raw(path), k, lambda e: msgspec.structs.replace(e, actor=e.actor + " (sửa)"))
        assert verify(store).ok  # everything inside the file is consistent again
        report = verify(store, published)
        if k <= size:
            assert not report.ok and report.checkpoint_ok is False
            assert "not the published" in report.checkpoint_reason
        else:
            assert report.ok and report.checkpoint_ok


COLUMN_CHANGES = {
    "event_id": "someone-else",
    "recorded_at": "1999-01-01T00:00:00.000000Z",
    "actor": "mallory",
    "type": "tampered",
    "year": 1066,
    "unit_id": "ELSEWHERE",
    "indicator": "i-99",
    "key": "stolen-key",
    "hash": "0" * 64,
}


@examples(40)
@given(batches, st.sampled_from(sorted(COLUMN_CHANGES)), st.data())
def test_an_indexed_column_that_disagrees_with_its_body_is_named(log_batches, column, data):
    with generated_log(log_batches) as (store, path):
        k = data.draw(st.integers(1, store.last_seq()), label="seq")
        raw(path).execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (COLUMN_CHANGES[column], k))
        report = expect_bad(store, k)
        assert column in report.reason or (column == "hash" and "hash" in report.reason)


# -- deterministic cases ------------------------------------------------------------------------


def test_a_non_canonical_body_is_named_even_with_recomputed_hashes(tmp_path):
    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    store.append([IndicatorSubmitted(year=2020, unit_id="U", indicator="I", value=True)] * 4, actor="a")
    conn = raw(tmp_path / "log.db")
    body = next(store.stored_rows(2)).body
    spaced = bytes(body).replace(b'","', b'", "', 1)  # same JSON, other bytes
    conn.execute("UPDATE events SET body = ?, hash = ? WHERE seq = 2", (spaced, leaf_hash_hex(spaced)))
    # re-chain the rest so that only the canonical-form check can notice
    rows = conn.execute("SELECT seq, body FROM events WHERE seq > 2 ORDER BY seq").fetchall()
    prev = leaf_hash_hex(spaced)
    for seq, b in rows:
        e = msgspec.structs.replace(decode_event(b), prev_hash=prev)
        cols = columns_for(e)
        conn.execute(f"UPDATE events SET ({COLS}) = ({', '.join('?' * 10)}) WHERE seq = ?", (*cols, seq))
        prev = cols[-1]
    report = expect_bad(store, 2)
    assert "canonical" in report.reason


def test_a_valid_forged_event_appended_at_the_end_is_indistinguishable_from_an_append(tmp_path):
    """The limit of what a log can prove: appending is what logs are for.  What protects a unit
    is that its events are *inside* a published checkpoint (inclusion proof), and that later
    checkpoints extend earlier ones (consistency proof)."""
    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    store.append([IndicatorSubmitted(year=2020, unit_id="U", indicator="I", value=True)] * 3, actor="a")
    published = store.checkpoint()
    last = store.get(3)
    forged = msgspec.structs.replace(last, seq=4, event_id="forged", prev_hash=leaf_hash_hex(encode_event(last)))
    raw(tmp_path / "log.db").execute(
        f"INSERT INTO events (seq, {COLS}) VALUES (4, {', '.join('?' * 10)})", columns_for(forged)
    )
    report = verify(store, published)
    assert report.ok and report.size == 4
    assert store.consistency_proof(3, 4).verify(published, store.checkpoint())


def test_the_first_of_several_problems_is_named_and_the_checkpoint_still_checked(tmp_path):
    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    store.append([IndicatorSubmitted(year=2020, unit_id="U", indicator="I", value=True)] * 10, actor="a")
    published = store.checkpoint(9)
    conn = raw(tmp_path / "log.db")
    conn.execute("UPDATE events SET actor = 'x' WHERE seq = 7")
    conn.execute("UPDATE events SET body = x'00' WHERE seq = 3")
    report = verify(store, published)
    assert report.first_bad_seq == 3 and report.checkpoint_ok is False
    assert "log BROKEN at seq 3" in str(report) and "checkpoint 9:" in str(report)


def _plain_log(tmp_path, n=6) -> EventStore:
    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    store.append(
        [IndicatorSubmitted(year=2020, unit_id=f"U{i}", indicator="I", value=True) for i in range(n)],
        actor="a",
    )
    return store


def test_an_event_changed_with_its_own_hash_recomputed_breaks_the_next_link(tmp_path):
    store = _plain_log(tmp_path)
    event = msgspec.structs.replace(store.get(3), actor="mallory")
    raw(tmp_path / "log.db").execute(
        f"UPDATE events SET ({COLS}) = ({', '.join('?' * 10)}) WHERE seq = 3", (*columns_for(event), )
    )
    # Row 3 is self-consistent now; event 4 still holds the old hash of event 3.
    report = expect_bad(store, 4)
    assert "event 3" in report.reason


def test_a_rewrite_that_reuses_an_event_id_is_named(tmp_path):
    store = _plain_log(tmp_path)
    rewrite_from(raw(tmp_path / "log.db"), 5, lambda e: msgspec.structs.replace(e, event_id="ev000002"))
    report = expect_bad(store, 5)
    assert "used twice" in report.reason


def test_a_rewrite_that_moves_time_backwards_is_named(tmp_path):
    store = _plain_log(tmp_path)
    store.append([IndicatorSubmitted(year=2020, unit_id="U", indicator="I", value=True)], actor="a")
    early = store.get(1).recorded_at.replace(year=2020)
    rewrite_from(raw(tmp_path / "log.db"), 7, lambda e: msgspec.structs.replace(e, recorded_at=early))
    report = expect_bad(store, 7)
    assert "earlier" in report.reason


def test_a_first_event_that_does_not_start_the_chain_is_named(tmp_path):
    store = _plain_log(tmp_path)
    rewrite_from(raw(tmp_path / "log.db"), 1, lambda e: e)  # re-chains from the genesis
    assert verify(store).ok
    event = msgspec.structs.replace(store.get(1), prev_hash="1" * 64)
    raw(tmp_path / "log.db").execute(
        f"UPDATE events SET ({COLS}) = ({', '.join('?' * 10)}) WHERE seq = 1", columns_for(event)
    )
    assert "64 zeros" in expect_bad(store, 1).reason


def test_a_body_that_is_not_a_blob_is_named(tmp_path):
    store = _plain_log(tmp_path)
    conn = raw(tmp_path / "log.db")
    # A STRICT table keeps a BLOB a BLOB; whoever owns the file can rebuild it without.
    conn.execute("CREATE TABLE loose AS SELECT * FROM events")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE loose RENAME TO events")
    conn.execute("UPDATE events SET body = CAST(body AS TEXT) WHERE seq = 4")
    conn.execute("UPDATE events SET body = NULL WHERE seq = 5")
    report = expect_bad(store, 4)
    assert "not as bytes" in report.reason
