"""The derived Merkle frontier gives the same root as the leaves, and verify catches a bad one."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import given, settings, strategies as st

from events import frontier
from events.store import EventStore
from events.types import UnitRegistered


def _units(n: int, start: int = 0):
    return [UnitRegistered(unit_id=f"U{i}", tier="commune", name=f"Xã {i}") for i in range(start, start + n)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=8))
def test_frontier_equals_the_root_of_the_leaves_after_any_batches(batches):
    store = EventStore(":memory:")
    done = 0
    for n in batches:
        store.append(_units(n, done), actor="t")
        done += n
        # the append itself left the stored frontier current (reading it does not advance it)
        assert frontier.stored(store.db.conn) == store.checkpoint()
        assert store.latest_checkpoint() == store.checkpoint()


def test_a_dropped_frontier_is_rebuilt(tmp_path):
    store = EventStore(tmp_path / "log.db")
    store.append(_units(13), actor="t")
    expected = store.checkpoint()
    store.db.execute(f"DROP TABLE {frontier.TABLE}")
    frontier.ensure(store.db.conn)
    assert store.latest_checkpoint() == expected
    store.append(_units(3, 13), actor="t")
    assert store.latest_checkpoint() == store.checkpoint()


def test_verify_reports_a_tampered_frontier(tmp_path, run):
    db = tmp_path / "log.db"
    store = EventStore(db)
    store.append(_units(5), actor="t")
    store.close()
    assert run(db, "verify").exit_code == 0
    conn = sqlite3.connect(db)
    [(stack,)] = conn.execute(f"SELECT stack FROM {frontier.TABLE}").fetchall()
    data = json.loads(stack)
    first = data["stack"][0][1]
    data["stack"][0][1] = ("0" if first[0] != "0" else "1") + first[1:]
    conn.execute(f"UPDATE {frontier.TABLE} SET stack = ?", (json.dumps(data),))
    conn.commit()
    conn.close()
    result = run(db, "verify")
    assert result.exit_code == 1 and "merkle frontier" in result.stdout
