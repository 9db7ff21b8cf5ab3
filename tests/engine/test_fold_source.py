"""A state folded from the store keeps no decoded event and decodes indicator bodies lean (that
is what bounds a national replay's memory and time), and still traces every value to the same
events as an in-memory fold of the full events."""

from __future__ import annotations

from engine.cells import Submitted, ValueHistory
from engine.fold import fold
from events.store import EventStore


def test_a_store_backed_fold_keeps_no_event_and_traces_the_same(sample_db):
    with EventStore(sample_db) as store:
        full = fold(store.read())
        # as a replay reads it: indicator bodies decoded lean, events read back for traces
        lean = fold(store.read_years(full.years(), lean=True), source=store.events_by_seq)
        assert lean.last_seq == full.last_seq and lean.years() == full.years()
        corrected = 0
        for year in lean.years():
            a, b = lean.year_state(year), full.year_state(year)
            assert a.cells.keys() == b.cells.keys()
            for uid, cells in a.cells.items():
                assert all(type(c) in (Submitted, ValueHistory) for c in cells.values())
                assert a.traces(cells.values()) == b.traces(b.cells[uid].values())
                for code, cell in cells.items():
                    assert a.value(uid, code) == b.value(uid, code)
                    assert a.statuses(uid, code) == b.statuses(uid, code)
                    corrected += type(cell) is ValueHistory
        assert corrected  # the sample's correction is among them
        every = store.events_by_seq(range(lean.last_seq, 0, -1))  # many IN (...) chunks
        assert list(every) == list(range(1, lean.last_seq + 1))
        # the in-memory fold kept its events; the store-backed one read them back
        assert full._kept and lean._kept is None

