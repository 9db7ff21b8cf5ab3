"""`verify` beside a writer process: its index check runs on a connection of its own, in a thread,
while another process appends.  Every report must be clean: the check reads its counts and its
tuples in one snapshot (`events.indexcheck`), so rows committed between two of its queries can
never look like an index missing a row."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal

from events.store import EventStore
from events.types import IndicatorSubmitted, UnitRegistered
from events.verify import verify

ROUNDS = 12


def _writer(path: str, started, stop) -> None:
    with EventStore(path) as store:
        b = 0
        while not stop.is_set():
            store.append([IndicatorSubmitted(year=2020, unit_id="U1", indicator="computers_total",
                                             value=Decimal(b * 50 + j)) for j in range(50)],
                         actor="writer")
            b += 1
            started.set()


def test_verify_beside_a_writing_process_reports_nothing_but_growth(tmp_path):
    path = str(tmp_path / "log.db")
    with EventStore(path) as store:
        store.append([UnitRegistered(unit_id="U1", tier="department", name="Sở 1")], actor="t")
    ctx = multiprocessing.get_context("fork")
    started, stop = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_writer, args=(path, started, stop), daemon=True)
    writer.start()
    try:
        assert started.wait(30)
        sizes = []
        with EventStore(path, read_only=True) as store:
            for _ in range(ROUNDS):
                report = verify(store)
                assert report.ok and not report.storage, str(report)
                sizes.append(report.size)
    finally:
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # the log grew while it was checked
