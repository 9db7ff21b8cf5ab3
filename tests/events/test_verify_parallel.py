"""`verify` with its second half checked by a forked process gives the report of one pass.

The thresholds are shrunk (any log is "big", chunks of 1–8 rows) so that small generated logs
split in two, and the logs are tampered with as in `test_verify_fast_path`: before, at and
after the middle, with and without a checkpoint, consistently re-chained or not.
"""

from __future__ import annotations

import contextlib
import importlib

import pytest
from hypothesis import given, strategies as st

from events.verify import verify

from event_strategies import StepClock, counter_ids, examples, submission, batches
from test_tamper_evidence import generated_log, raw
from test_verify_fast_path import BODY_CHANGES, change_body, chunk_bits, rechain_after, row_by_row

verify_parallel = importlib.import_module("events.verify_parallel")


@pytest.fixture
def split_any_log(monkeypatch):
    monkeypatch.setattr(verify_parallel, "MIN_ROWS", 0)
    taken = []
    take = verify_parallel.Speculation.take

    def recording_take(self):
        got = take(self)
        taken.append(got)
        return got

    monkeypatch.setattr(verify_parallel.Speculation, "take", recording_take)
    return taken


def test_a_clean_log_is_checked_in_two_halves(tmp_path, split_any_log):
    from events.store import EventStore

    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    for b in range(7):
        store.append([submission(i + 10 * b) for i in range(10)], actor=f"a{b}")
    for size in (0, 9, 36, 37, 50, 70):
        with chunk_bits(2):
            both = verify(store, store.checkpoint(size))
            with row_by_row():
                one = verify(store, store.checkpoint(size), parallel=False)
        assert both == one and both.ok and both.current == store.checkpoint()
    # the child checked rows 33..70 (the middle of 70 rounded down to a chunk of 4) every time
    assert [(got.start, got.stop) for got in split_any_log] == [(33, 71)] * 6


@examples(60)
@given(batches, st.data())
def test_two_halves_and_one_pass_report_the_same(log_batches, data):
    with contextlib.ExitStack() as stack:
        mp = stack.enter_context(pytest.MonkeyPatch.context())
        mp.setattr(verify_parallel, "MIN_ROWS", 0)
        store, path = stack.enter_context(generated_log(log_batches))
        n = store.last_seq()
        size = data.draw(st.integers(0, n), label="checkpoint size")
        checkpoint = store.checkpoint(size) if data.draw(st.booleans(), label="with checkpoint") else None
        conn = raw(path)
        k = data.draw(st.integers(1, n), label="seq")
        if data.draw(st.booleans(), label="tamper"):
            change_body(conn, k, data)
        bits = data.draw(st.integers(0, 3), label="chunk bits")
        with chunk_bits(bits):
            both = verify(store, checkpoint)
            with row_by_row():
                one = verify(store, checkpoint, parallel=False)
        assert both == one


@pytest.mark.parametrize("k", [8, 9, 15])  # the last row of the first half, the first of the second
def test_a_forgery_across_the_middle_is_named_as_in_one_pass(tmp_path, split_any_log, k):
    """Consistent forgeries (re-chained) whose only trace is a relation between the halves."""
    from events.store import EventStore

    store = EventStore(tmp_path / "log.db", clock=StepClock(), new_event_id=counter_ids())
    for b in range(4):
        store.append([submission(i + 5 * b) for i in range(5)], actor=f"a{b}")
    conn = raw(tmp_path / "log.db")
    body = conn.execute("SELECT body FROM events WHERE seq = ?", (k,)).fetchone()[0]
    conn.execute("UPDATE events SET body = ? WHERE seq = ?", (BODY_CHANGES["event id"](body), k))
    rechain_after(conn, k)
    with chunk_bits(2):  # 20 rows: the child checks 9..20
        both = verify(store)
        one = verify(store, parallel=False)
    assert both == one
    assert both.first_bad_seq == k and both.reason == "event id ev000001 is used twice"
