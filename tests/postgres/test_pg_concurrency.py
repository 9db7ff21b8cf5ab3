"""Many processes on one PostgreSQL log: 8 writers and 4 readers at once, and a writer killed
in the middle of a batch.  Real processes (fork), each with its own connection."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from events.postgres import PostgresEventLog
from events.testing import submission
from events.verify import verify

WRITERS, READERS, BATCHES = 8, 4, 12


def _size(writer: int, batch: int) -> int:
    return 1 + (writer * 7 + batch * 3) % 23


def _writer(url: str, writer: int, errors) -> None:
    try:
        with PostgresEventLog(url) as store:
            for b in range(BATCHES):
                n = _size(writer, b)
                store.append([submission(writer * 1000 + i) for i in range(n)], actor=f"w{writer}",
                             keys=[f"w{writer}:b{b}:{i}" for i in range(n)])
    except BaseException as e:  # reported to the test, which fails with it
        errors.put(f"writer {writer}: {e!r}")
        raise


def _check(rows) -> str | None:
    """None if the rows are whole batches, gapless and each batch's rows consecutive."""
    batches: dict[str, list[int]] = {}
    for r in rows:
        w, b, _ = r.key.split(":")
        batches.setdefault(f"{w}:{b}", []).append(r.seq)
    if [r.seq for r in rows] != list(range(1, len(rows) + 1)):
        return "the seqs are not 1..N"
    for name, seqs in batches.items():
        w, b = int(name.split(":")[0][1:]), int(name.split(":")[1][1:])
        if len(seqs) != _size(w, b):
            return f"batch {name} has {len(seqs)} of its {_size(w, b)} events"
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            return f"batch {name} is not consecutive"
    return None


def _reader(url: str, done, errors, rounds) -> None:
    try:
        n = 0
        while True:
            finished = done.is_set()
            with PostgresEventLog(url, read_only=True) as store:
                problem = _check(list(store.stored_rows()))
                if problem is None and not verify(store).ok:
                    problem = "verify failed"
            if problem:
                errors.put(f"reader: {problem}")
                return
            n += 1
            if finished:
                break
        rounds.put(n)
    except BaseException as e:
        errors.put(f"reader: {e!r}")


def test_eight_writers_and_four_readers(pg_url):
    PostgresEventLog(pg_url).close()  # the schema, before anyone races to create it
    ctx = multiprocessing.get_context("fork")
    errors, rounds, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    readers = [ctx.Process(target=_reader, args=(pg_url, done, errors, rounds))
               for _ in range(READERS)]
    writers = [ctx.Process(target=_writer, args=(pg_url, w, errors)) for w in range(WRITERS)]
    for p in readers + writers:
        p.start()
    for p in writers:
        p.join(300)
    done.set()
    for p in readers:
        p.join(300)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert [p.exitcode for p in writers + readers] == [0] * (WRITERS + READERS)
    assert sorted(rounds.get() for _ in readers)[0] >= 1
    with PostgresEventLog(pg_url, read_only=True) as store:
        rows = list(store.stored_rows())
        assert _check(rows) is None
        assert len(rows) == sum(_size(w, b) for w in range(WRITERS) for b in range(BATCHES))
        report = verify(store)
        assert report.ok and store.stored_frontier() == store.checkpoint()


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from events.postgres import PostgresEventLog
    from events.testing import submission

    def payloads():
        for i in range(25_000):
            if i == 15_000:  # the first 10,000 are copied in, inside the open transaction
                print("midway", flush=True)
                time.sleep(600)
            yield submission(i)

    with PostgresEventLog(sys.argv[1]) as store:
        store.extend(payloads(), actor="killed")
""")


def test_a_writer_killed_mid_batch_leaves_no_trace(pg_url, pg_cluster):
    with PostgresEventLog(pg_url) as store:
        store.append([submission(i) for i in range(5)], actor="a")
        before = store.checkpoint()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, pg_url], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout.readline() == b"midway\n"
        with pg_cluster.admin(pg_url.split("/")[3].split("?")[0]) as conn:
            # the batch is in the server, uncommitted: its writer holds the append lock
            assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND granted").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM ictindex.events").fetchone()[0] == 5
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with PostgresEventLog(pg_url) as store:
        assert store.checkpoint() == before and verify(store).ok
        store.append([submission(9)], actor="after")  # the lock went with the dead writer
        assert store.last_seq() == 6 and verify(store).ok
