"""`verify`'s chunked fast pass agrees with its row-by-row check on any log, tampered or not.

The fast pass may only ever say "no problem in this chunk"; everything else is decided row by
row.  So the report with the fast pass must equal the report of the row-by-row check alone
(`check_chunk` patched out), on logs changed behind the store's back in ways that each hit
one of the checks, with chunks of a few rows so that a small log spans several chunks,
aligned subtrees and a checkpoint inside a chunk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import sqlite3

import msgspec
import pytest
from hypothesis import given, strategies as st

from events.canonical import GENESIS_PREV_HASH, decode_event, leaf_hash_hex, time_key
from events.verify import verify

from event_strategies import batches, examples
from test_tamper_evidence import COLS, columns_for, generated_log, raw

# the module (`events.verify` as an attribute is the function the package re-exports)
verify_module = importlib.import_module("events.verify")

# The table without STRICT types or affinity, so that a forger can store any type anywhere.
_LOOSE = (
    "CREATE TABLE loose (seq INTEGER PRIMARY KEY, event_id, recorded_at, actor, type, year, "
    "unit_id, indicator, key, body, hash)"
)


@contextlib.contextmanager
def chunk_bits(bits: int):
    saved = verify_module.CHUNK_BITS, verify_module.CHUNK
    verify_module.CHUNK_BITS, verify_module.CHUNK = bits, 1 << bits
    try:
        yield
    finally:
        verify_module.CHUNK_BITS, verify_module.CHUNK = saved


@contextlib.contextmanager
def row_by_row():
    saved = verify_module.check_chunk
    verify_module.check_chunk = lambda *args: None
    try:
        yield
    finally:
        verify_module.check_chunk = saved


def loosen(conn: sqlite3.Connection) -> None:
    conn.execute(_LOOSE)
    conn.execute("INSERT INTO loose SELECT seq, event_id, recorded_at, actor, type, year, "
                 "unit_id, indicator, key, body, hash FROM events")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE loose RENAME TO events")


def _columns_of_raw(body: bytes) -> tuple | None:
    """The indexed columns a forger derives from a body that may not decode as an Event."""
    try:
        r = msgspec.json.decode(body)
        t = msgspec.json.decode(msgspec.json.encode(r["recorded_at"]), type=dt.datetime)
        p = r["payload"]
        when = t.astimezone(dt.timezone.utc) if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
        return (r["event_id"], time_key(when), r["actor"], p["type"], p.get("year"),
                p.get("unit_id"), p.get("indicator"), r.get("key"))  # fmt: skip
    except Exception:  # noqa: BLE001 -- not even JSON: keep the old columns
        return None


def rechain_after(conn: sqlite3.Connection, k: int) -> None:
    """Make row k consistent with its (maybe invalid) body: columns, hash, and the chain after."""
    body = conn.execute("SELECT body FROM events WHERE seq = ?", (k,)).fetchone()[0]
    data = bytes(body) if not isinstance(body, str) else body.encode()
    cols = _columns_of_raw(data)
    if cols is not None:
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"UPDATE events SET ({COLS.rsplit(', body', 1)[0]}) = ({', '.join('?' * 8)}) "
                         "WHERE seq = ?", (*cols, k))
    prev = leaf_hash_hex(data)
    conn.execute("UPDATE events SET hash = ? WHERE seq = ?", (prev, k))
    for seq, b in conn.execute("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq", (k,)).fetchall():
        e = msgspec.structs.replace(decode_event(b), prev_hash=prev)
        cols = columns_for(e)
        conn.execute(f"UPDATE events SET ({COLS}) = ({', '.join('?' * 10)}) WHERE seq = ?", (*cols, seq))
        prev = cols[-1]


def change_body(conn: sqlite3.Connection, k: int, data) -> None:
    """One of BODY_CHANGES at row k (drawn), re-chained after it or not (drawn)."""
    name = data.draw(st.sampled_from(sorted(BODY_CHANGES)), label="change")
    body = conn.execute("SELECT body FROM events WHERE seq = ?", (k,)).fetchone()[0]
    try:
        conn.execute("UPDATE events SET body = ? WHERE seq = ?", (BODY_CHANGES[name](body), k))
    except sqlite3.Error:
        return  # STRICT refuses a text body
    if data.draw(st.integers(0, 3), label="re-chain") > 0:
        rechain_after(conn, k)


def _replace_event(**changes):
    def change(body: bytes) -> bytes:
        event = decode_event(body)
        return columns_for(msgspec.structs.replace(event, **changes))[8]
    return change


def _raw_json(edit):
    def change(body: bytes) -> bytes:
        raw_event = msgspec.json.decode(body)
        edit(raw_event)
        return msgspec.json.encode(raw_event, order="sorted")
    return change


BODY_CHANGES = {
    "flip a byte": lambda b: b[:5] + bytes([b[5] ^ 1]) + b[6:],
    "spaces": lambda b: b.replace(b'","', b'", "', 1),
    "truncated": lambda b: b[:-1],
    "as text": lambda b: b.decode(),
    "unknown field": _raw_json(lambda r: r.update(extra=1)),
    "unknown tag": _raw_json(lambda r: r["payload"].update(type="unit_exploded")),
    "old schema": _raw_json(lambda r: r.update(schema=0)),
    "newer schema": _raw_json(lambda r: r.update(schema=99)),
    "not utc": _raw_json(lambda r: r.update(recorded_at=r["recorded_at"].replace("Z", "+07:00"))),
    # a later instant keeps recorded_at non-decreasing: only the UTC check can notice
    "west": _raw_json(lambda r: r.update(recorded_at=r["recorded_at"].replace("Z", "-07:00"))),
    "plus zero": _raw_json(lambda r: r.update(recorded_at=r["recorded_at"].replace("Z", "+00:00"))),
    "naive": _raw_json(lambda r: r.update(recorded_at=r["recorded_at"].replace("Z", ""))),
    "seq": _raw_json(lambda r: r.update(seq=r["seq"] + 1)),
    "event id": _raw_json(lambda r: r.update(event_id="ev000001")),
    "early": _raw_json(lambda r: r.update(recorded_at="2001-01-01T00:00:00Z")),
    "prev hash": _raw_json(lambda r: r.update(prev_hash="f" * 64)),
    "nan": _raw_json(lambda r: r["payload"].update(value="NaN") if "value" in r["payload"] else None),
    "empty choice": _raw_json(
        lambda r: r["payload"].update(value={"choice": ""}) if "value" in r["payload"] else None
    ),
    "new id": _replace_event(event_id="brand-new"),
}

# Each a function of the stored value: the interesting forgeries are the near misses.
COLUMN_VALUES = {
    "seq": [0, 10**6, 1.5],
    "event_id": ["x", b"ev000001", 1],
    "recorded_at": ["2021-03-01T08:00:00Z", "2021-3-01T08:00:00.000000Z", "2099-01-01T00:00:00.000000Z", 5, None],
    "actor": ["mallory", b"actor-0", None],
    "type": ["tampered", None],
    "year": [lambda v: float(v or 0), lambda v: str(v), 1066, None, lambda v: v == 1],
    "unit_id": [5, "ELSEWHERE", None, b"U"],
    "indicator": ["i-99", None, 1],
    "key": ["stolen", b"", 0],
    "hash": ["0" * 64, b"\0" * 32, None],
}


@examples(300)
@given(batches, st.data())
def test_fast_and_row_by_row_reports_agree(log_batches, data):
    with generated_log(log_batches) as (store, path):
        n = store.last_seq()
        size = data.draw(st.integers(0, n), label="checkpoint size")
        checkpoint = store.checkpoint(size) if data.draw(st.booleans(), label="with checkpoint") else None
        conn = raw(path)
        if data.draw(st.booleans(), label="loose types"):
            loosen(conn)
        k = data.draw(st.integers(1, n), label="seq")
        kind = data.draw(st.sampled_from(["body", "column", "none"]), label="kind")
        if kind == "body":
            change_body(conn, k, data)
        elif kind == "column":
            column = data.draw(st.sampled_from(sorted(COLUMN_VALUES)), label="column")
            value = data.draw(st.sampled_from(COLUMN_VALUES[column]), label="value")
            if callable(value):
                have = conn.execute(f"SELECT {column} FROM events WHERE seq = ?", (k,)).fetchone()[0]
                value = value(have)
            with contextlib.suppress(sqlite3.Error):  # STRICT refuses some types: fine
                conn.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (value, k))
        bits = data.draw(st.integers(0, 3), label="chunk bits")
        with chunk_bits(bits):
            fast = verify(store, checkpoint)
            with row_by_row():
                slow = verify(store, checkpoint)
        assert fast == slow


def test_a_big_log_uses_aligned_subtrees_and_agrees(tmp_path):
    from event_strategies import StepClock, counter_ids, submission
    from events.store import EventStore

    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    for b in range(7):
        store.append([submission(i + 10 * b) for i in range(10)], actor=f"a{b}")
    for size in (0, 1, 7, 8, 9, 16, 33, 70):
        with chunk_bits(2):
            fast = verify(store, store.checkpoint(size))
            with row_by_row():
                slow = verify(store, store.checkpoint(size))
        assert fast == slow and fast.ok and fast.current == store.checkpoint()
    assert GENESIS_PREV_HASH == "0" * 64


def _log_of_chunks(tmp_path, n=20):
    from event_strategies import StepClock, counter_ids, submission
    from events.store import EventStore

    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    for b in range(0, n, 5):
        store.append([submission(i) for i in range(b, b + 5)], actor=f"a{b}")
    return store


MUTATIONS = [("body", name) for name in sorted(BODY_CHANGES)] + [
    ("column", (column, i)) for column in sorted(COLUMN_VALUES) for i in range(len(COLUMN_VALUES[column]))
]


@pytest.mark.parametrize("k", [6, 8])  # inside a chunk of 4, and the last row of one
@pytest.mark.parametrize(("kind", "what"), MUTATIONS)
def test_each_forgery_is_left_to_the_row_by_row_check(tmp_path, kind, what, k):
    """A consistent forgery of one property at row k: the fast pass must not accept its chunk."""
    store = _log_of_chunks(tmp_path)
    published = store.checkpoint(10)
    conn = raw(tmp_path / "log.db")
    loosen(conn)
    if kind == "body":
        body = conn.execute("SELECT body FROM events WHERE seq = ?", (k,)).fetchone()[0]
        conn.execute("UPDATE events SET body = ? WHERE seq = ?", (BODY_CHANGES[what](body), k))
        rechain_after(conn, k)
    else:
        column, i = what
        value = COLUMN_VALUES[column][i]
        if callable(value):
            value = value(conn.execute(f"SELECT {column} FROM events WHERE seq = ?", (k,)).fetchone()[0])
        try:
            conn.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (value, k))
        except sqlite3.Error:
            pytest.skip("sqlite refuses this value even without types (an INTEGER PRIMARY KEY)")
    with chunk_bits(2):
        fast = verify(store, published)
        with row_by_row():
            slow = verify(store, published)
        before, rows = list(store.stored_rows())[:4], list(store.stored_rows())[4:8]
        accepted = verify_module.check_chunk(
            rows, 5, before[-1].hash, before[-1].recorded_at, {r.event_id for r in before},
            verify_module.TimesOfKeys(),
        )
    assert fast == slow
    if slow.first_bad_seq is not None and 5 <= slow.first_bad_seq <= 8:
        assert accepted is None, slow.reason

