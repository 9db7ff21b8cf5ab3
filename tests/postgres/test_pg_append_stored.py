"""`PostgresEventLog.append_stored`: events copied verbatim from another store (`ictindex copy`)."""

from __future__ import annotations

import pytest

from events.interface import ConcurrencyError, LogIntegrityError, LogOpenError
from events.postgres import PostgresEventLog
from ictindex.app import Ictindex

SAMPLE_CHECKPOINT = "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba"


@pytest.fixture(scope="module")
def sample_rows(sample_db):
    with Ictindex.open(sample_db, read_only=True) as app:
        return list(app.store.stored_rows())


def test_the_sample_copied_in_two_calls_is_the_sqlite_rows(pg_url, sample_rows):
    with PostgresEventLog(pg_url) as store:
        first = store.append_stored([r.body for r in sample_rows[:100]], expected_last_seq=0)
        assert (first.first_seq, first.last_seq, first.appended) == (1, 100, 100)
        rest = store.append_stored((r.body for r in sample_rows[100:]), expected_last_seq=100)
        assert (rest.first_seq, rest.last_seq) == (101, 4175)
        assert list(store.stored_rows()) == sample_rows  # every column as SQLite derives it
        assert str(store.checkpoint()) == SAMPLE_CHECKPOINT
        assert store.stored_frontier() == store.checkpoint()
        assert store.has_key(next(r.key for r in sample_rows if r.key))


def test_what_does_not_continue_the_log_records_nothing(pg_url, sample_rows):
    bodies = [r.body for r in sample_rows[:10]]
    with PostgresEventLog(pg_url) as store:
        with pytest.raises(ConcurrencyError):
            store.append_stored(bodies, expected_last_seq=3)
        with pytest.raises(LogIntegrityError, match=r"event #1 cannot be appended as stored: the body is event seq 2"):
            store.append_stored(bodies[1:], expected_last_seq=0)
        with pytest.raises(LogIntegrityError, match=r"event #4 cannot be appended as stored: the body is event seq 5"):
            store.append_stored(bodies[:3] + bodies[4:], expected_last_seq=0)
        tampered = bodies[5].replace(b'"actor":"', b'"actor":"x')
        with pytest.raises(LogIntegrityError, match=r"event #7 cannot be appended as stored: its prev_hash"):
            store.append_stored(bodies[:5] + [tampered] + bodies[6:], expected_last_seq=0)
        with pytest.raises(LogIntegrityError, match=r"event #3 cannot be appended as stored: the body does not decode"):
            store.append_stored(bodies[:2] + [b"{}"], expected_last_seq=0)
        assert store.last_seq() == 0
        store.append_stored(bodies, expected_last_seq=0)
        assert store.last_seq() == 10


def test_a_key_already_in_the_log_is_refused_not_skipped(pg_url):
    import datetime as dt

    from events.canonical import encode_event, leaf_hash_hex
    from events.memory import MemoryEventLog
    from events.testing import submission

    source = MemoryEventLog()
    [first] = source.append([submission(1)], actor="a", keys=["k"])
    body1 = encode_event(first)
    # another history, in which the same key comes back: a copy must not skip it silently
    second = type(first)(seq=2, event_id="other", recorded_at=first.recorded_at, actor="a",
                         payload=submission(2), prev_hash=leaf_hash_hex(body1), key="k")
    body2 = encode_event(second)
    with PostgresEventLog(pg_url) as store:
        with pytest.raises(LogIntegrityError, match="nothing was recorded"):
            store.append_stored([body1, body2], expected_last_seq=0)
        assert store.last_seq() == 0
        store.append_stored([body1], expected_last_seq=0)
        with pytest.raises(LogIntegrityError, match=r"event #2 cannot be appended as stored: its key 'k' is "
                                                    r"already in the log"):
            store.append_stored([body2], expected_last_seq=1)
        assert store.last_seq() == 1


def test_read_only_refuses(pg_url, sample_rows):
    PostgresEventLog(pg_url).close()
    with PostgresEventLog(pg_url, read_only=True) as store:
        with pytest.raises(LogOpenError):
            store.append_stored([sample_rows[0].body], expected_last_seq=0)
