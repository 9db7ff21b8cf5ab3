"""The SQL forms that `bench_verify_bound.py` times are complete checks, not cheaper stand-ins:
a bound built from a check that misses what verify catches would prove nothing."""

from __future__ import annotations

import sqlite3

import pytest

from events.schema import TRIGGERS, YEAR_INDEX
from events.store import EventStore
from events.verify import verify
from tests.events.bench_verify_bound import build, columns_in_sql, indexes_in_sql, measure
from tests.reliability.tampering import hide_from_index


@pytest.fixture(scope="module")
def good_log(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bound"), 12)


@pytest.fixture
def log(good_log, tmp_path):
    copy = tmp_path / "log.db"
    src, dst = sqlite3.connect(good_log), sqlite3.connect(copy)
    src.backup(dst)
    src.close(), dst.close()
    return copy


def sql(db, *statements):
    conn = sqlite3.connect(db, isolation_level=None)
    for s in statements:
        conn.execute(s)
    return conn


@pytest.mark.parametrize("which", ["synthetic", "sample"])
def test_good_logs_pass_both_forms_and_verify(log, sample_db, which):
    """The sample holds every kind of event, and times without a fraction."""
    db = log if which == "synthetic" else sample_db
    conn = sqlite3.connect(db)
    assert (columns_in_sql(conn), indexes_in_sql(conn)) == (0, 0)
    with EventStore(db, read_only=True) as store:
        assert verify(store).ok


@pytest.mark.parametrize("column, value", [("year", "2019"), ("unit_id", "'X0001'"),
                                           ("indicator", "NULL"), ("recorded_at", "'2000'"),
                                           ("key", "NULL")])
def test_a_column_edited_away_from_its_body_is_counted(log, column, value):
    seq = sqlite3.connect(log).execute(
        "SELECT max(seq) FROM events WHERE type = 'indicator_submitted'").fetchone()[0]
    conn = sql(log, "DROP TRIGGER events_no_update",
               f"UPDATE events SET {column} = {value} WHERE seq = {seq}",
               TRIGGERS["events_no_update"])
    assert columns_in_sql(conn) == 1
    assert indexes_in_sql(conn) == 0  # the UPDATE kept the indexes in step with the table
    with EventStore(log, read_only=True) as store:  # what verify says of the same file
        assert verify(store).first_bad_seq == seq


@pytest.mark.parametrize("index", [YEAR_INDEX, "idx_events_event_id", "idx_events_key"])
def test_a_row_hidden_from_an_index_is_counted(log, index):
    hide_from_index(log, index, 5)
    assert indexes_in_sql(sqlite3.connect(log)) == 1
    with EventStore(log, read_only=True) as store:
        assert not verify(store).ok


def test_the_measurement_reports_every_component_and_bound(good_log):
    got = measure(good_log, 1)
    bounds = {k: v for k, v in got.items() if k.startswith("bound:")}
    assert len(bounds) == 4 and got["least of the bounds"] == min(bounds.values())
    assert all(v >= 1 for v in bounds.values())  # each includes the floor's own work
