"""Issue 7, part 3: 4 writer processes and 2 reader processes on one log at the same time.

Writers append 250 batches of 10 events each (2,500 events per writer, 10,000 in all) through
the library API (`Ictindex.open(path)`, `app.store.append`): writers 0 and 1 append plainly,
writers 2 and 3 with `expected_last_seq` and retry on `ConcurrencyError` (optimistic
concurrency).  Every event names its batch in `evidence` ("w2-b17") and its place in `note`
("3/10"), and carries an idempotency key.

Readers poll the log while the writers run, each read a fresh `store.read(start=...)` from
where the previous one ended, and check every read: each batch they see is whole (its 10
events, in order, on consecutive seqs), seqs continue without a gap.  Afterwards: every event
of every writer is there exactly once, seqs are 1..10,000 without a gap, batches are
contiguous, and `verify` passes.
"""

from __future__ import annotations

import multiprocessing
import time
from decimal import Decimal

from events.interface import ConcurrencyError
from events.store import EventStore
from events.types import IndicatorSubmitted
from events.verify import verify
from ictindex.app import Ictindex

WRITERS = 4
READERS = 2
BATCHES = 250
SIZE = 10


def _batch(w: int, b: int) -> tuple[list[IndicatorSubmitted], list[str]]:
    payloads = [IndicatorSubmitted(year=2020, unit_id=f"W{w}", indicator="computers_total",
                                   value=Decimal(b * SIZE + j), evidence=f"w{w}-b{b}",
                                   note=f"{j + 1}/{SIZE}") for j in range(SIZE)]
    return payloads, [f"w{w}:b{b}:{j}" for j in range(SIZE)]


def _reporting(kind: str):
    """Run the child's body; an exception is reported (so the parent never waits forever)."""
    def wrap(f):
        def run(path, i, start, *rest):
            results = rest[-1]
            try:
                f(path, i, start, *rest)
            except BaseException:
                import traceback

                results.put((kind, i, "FAILED: " + traceback.format_exc()))
                raise
        return run
    return wrap


@_reporting("writer")
def _writer(path: str, w: int, start, results) -> None:
    start.wait()
    retries = 0
    with Ictindex.open(path) as app:
        for b in range(BATCHES):
            payloads, keys = _batch(w, b)
            if w < 2:
                events = app.store.append(payloads, actor=f"writer-{w}", keys=keys)
            else:
                while True:
                    try:
                        events = app.store.append(payloads, actor=f"writer-{w}", keys=keys,
                                                  expected_last_seq=app.store.last_seq())
                        break
                    except ConcurrencyError:
                        retries += 1
            assert len(events) == SIZE
    results.put(("writer", w, retries))


def _check_read(events, expect_seq: int) -> int:
    """Raise AssertionError unless `events` are whole batches on consecutive seqs."""
    i = 0
    while i < len(events):
        e = events[i]
        assert e.seq == expect_seq, f"seq {e.seq} where {expect_seq} was expected"
        batch = e.payload.evidence
        group = events[i:i + SIZE]
        assert [x.payload.evidence for x in group] == [batch] * SIZE, f"half of batch {batch} seen"
        assert [x.payload.note for x in group] == [f"{j + 1}/{SIZE}" for j in range(SIZE)]
        assert [x.seq for x in group] == list(range(expect_seq, expect_seq + SIZE))
        expect_seq += SIZE
        i += SIZE
    return expect_seq


@_reporting("reader")
def _reader(path: str, r: int, start, total: int, results) -> None:
    start.wait()
    reads = nonempty = seen = 0
    next_seq = 1
    with EventStore(path) as store:
        while next_seq <= total:
            events = list(store.read(start=next_seq))
            reads += 1
            if events:
                nonempty += 1
                seen += len(events)
                next_seq = _check_read(events, next_seq)
            else:
                time.sleep(0.001)
    results.put(("reader", r, (reads, nonempty, seen)))


def test_four_writers_and_two_readers_lose_nothing_and_never_see_half_a_batch(tmp_path):
    path = str(tmp_path / "log.db")
    EventStore(path).close()
    total = WRITERS * BATCHES * SIZE
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, w, start, results)) for w in range(WRITERS)]
    procs += [ctx.Process(target=_reader, args=(path, r, start, total, results))
              for r in range(READERS)]
    for p in procs:
        p.start()
    start.set()
    reports = [results.get() for _ in procs]  # each process reports once, when done
    failures = [data for _, _, data in reports if isinstance(data, str)]
    assert not failures, "\n".join(failures)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    stats = {(kind, i): data for kind, i, data in reports}

    with EventStore(path) as store:
        events = list(store.read())
        report = verify(store)
    assert report.ok and report.size == total
    assert [e.seq for e in events] == list(range(1, total + 1))
    _check_read(events, 1)  # batches contiguous and whole in the final log too
    batches = [e.payload.evidence for e in events[::SIZE]]
    assert sorted(batches) == sorted(f"w{w}-b{b}" for w in range(WRITERS) for b in range(BATCHES))
    for w in range(WRITERS):  # each writer's batches in the order it wrote them
        mine = [b for b in batches if b.startswith(f"w{w}-")]
        assert mine == [f"w{w}-b{b}" for b in range(BATCHES)]
    for r in range(READERS):
        reads, nonempty, seen = stats[("reader", r)]
        assert seen == total
    print(f"\n{total} events from {WRITERS} writers; retries (optimistic writers): "
          f"{[stats[('writer', w)] for w in range(WRITERS)]}; reader reads "
          f"(all, non-empty): {[stats[('reader', r)][:2] for r in range(READERS)]}")
