"""`ictindex copy --from A --to B`: the same bytes, hashes and checkpoint in the copy, verified
as it goes; a refused copy leaves the target as it was; an interrupted one is completed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from events.memory import MemoryEventLog
from events.schema import TRIGGERS
from events.store import EventStore
from ictindex.app import Ictindex

SAMPLE_CHECKPOINT = "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba"
ROOT = Path(__file__).resolve().parents[2]


def events_table(path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


def copy(run, source, target):
    # --db names neither log: copy opens only --from and --to
    return run("/nonexistent/unused.db", "copy", "--from", source, "--to", target)


@pytest.fixture
def small_log(tmp_path, run) -> Path:
    path = tmp_path / "small.db"
    units = tmp_path / "units.csv"
    units.write_text("unit_id,tier,name,parent_id\nD1,district,UBND huyện Một,\n"
                     "D2,district,UBND huyện Hai,\n", encoding="utf-8")
    assert run(path, "units", "import", units).exit_code == 0
    assert run(path, "adopt", "local-ict@2020", "--year", 2020).exit_code == 0
    return path


def test_sqlite_to_sqlite_to_sqlite_is_byte_identical(sample_db, tmp_path, run):
    b, c = tmp_path / "b.db", tmp_path / "c.db"
    first = copy(run, sample_db, b)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == f"copied 4175 events: checkpoint {SAMPLE_CHECKPOINT}\n"
    assert copy(run, b, c).stdout == first.stdout
    assert events_table(sample_db) == events_table(b) == events_table(c)
    for db in (b, c):
        assert run(db, "checkpoint").stdout.strip() == SAMPLE_CHECKPOINT
    # the copy verifies, and every publication reproduces from it
    checked = run(c, "verify")
    assert checked.exit_code == 0, checked.stdout
    assert "reproduces" in checked.stdout and "does not reproduce" not in checked.stdout
    # copying again adds nothing
    assert copy(run, sample_db, c).stdout == f"copied 0 events: checkpoint {SAMPLE_CHECKPOINT}\n"
    assert events_table(c) == events_table(sample_db)


def test_copy_through_memory(small_log, tmp_path, run):
    memory = MemoryEventLog()
    into = Ictindex.copy(small_log, memory)
    back = Ictindex.copy(memory, tmp_path / "back.db")
    assert into.copied == back.copied == memory.last_seq() > 0
    assert into.checkpoint == back.checkpoint == memory.checkpoint()
    assert events_table(tmp_path / "back.db") == events_table(small_log)
    # named on the command line, a memory log is this process's only: useful for a dry run
    dry = copy(run, small_log, "memory:")
    assert dry.exit_code == 0 and dry.stdout == f"copied {into.copied} events: checkpoint {into.checkpoint}\n"


def test_a_partial_copy_is_resumed(sample_db, tmp_path, run):
    target = tmp_path / "partial.db"
    with EventStore(sample_db, read_only=True) as source, EventStore(target) as partial:
        bodies = [r.body for r in source.stored_rows()]
        partial.append_stored(bodies[:1234], expected_last_seq=0)
    result = copy(run, sample_db, target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"copied {4175 - 1234} events: checkpoint {SAMPLE_CHECKPOINT}\n"
    assert events_table(target) == events_table(sample_db)


KILLED_COPY = """
import os, signal, sys
import ictindex.copying
from events.store import EventStore
from ictindex.app import Ictindex

ictindex.copying.CHUNK = 500
append_stored = EventStore.append_stored
calls = []

def dying(self, bodies, *, expected_last_seq):
    calls.append(1)
    def stream():
        for i, body in enumerate(bodies):
            if len(calls) == 4 and i == 100:  # inside the fourth chunk's write transaction
                os.kill(os.getpid(), signal.SIGKILL)
            yield body
    return append_stored(self, stream(), expected_last_seq=expected_last_seq)

EventStore.append_stored = dying
Ictindex.copy(sys.argv[1], sys.argv[2])
"""


def test_a_copy_killed_midway_leaves_a_prefix_that_a_rerun_completes(sample_db, tmp_path, run):
    target = tmp_path / "killed.db"
    killed = subprocess.run([sys.executable, "-c", KILLED_COPY, str(sample_db), str(target)],
                            cwd=ROOT, capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rows = events_table(target)
    assert len(rows) == 1500 and rows == events_table(sample_db)[:1500]
    assert run(target, "verify").exit_code == 0
    result = copy(run, sample_db, target)
    assert result.stdout == f"copied {4175 - 1500} events: checkpoint {SAMPLE_CHECKPOINT}\n"
    assert events_table(target) == events_table(sample_db)


def tamper(path, sql, *args, restore: bool = True):
    """Edit the log with SQLite itself, as someone with the file would: the guard triggers
    dropped and (`restore`) put back."""
    conn = sqlite3.connect(path)
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql, args)
    if restore:
        for statement in TRIGGERS.values():
            conn.execute(statement)
    conn.commit()
    conn.close()


def test_a_tampered_source_is_refused_and_the_target_left_unchanged(sample_copy, tmp_path, run):
    body = events_table(sample_copy)[99][9]
    assert body.startswith(b'{"actor":"')
    tamper(sample_copy, "UPDATE events SET body = ? WHERE seq = 100",
           body.replace(b'{"actor":"', b'{"actor":"x', 1))
    new = tmp_path / "new.db"
    result = copy(run, sample_copy, new)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: the source {sample_copy} does not verify, nothing was copied")
    assert "seq 100" in result.stderr and "Traceback" not in result.stderr
    assert not new.exists()
    # an earlier copy of its untampered prefix is left as it was too
    earlier = tmp_path / "earlier.db"
    with EventStore(sample_copy, read_only=True) as source, EventStore(earlier) as partial:
        partial.append_stored([r.body for r in source.stored_rows()][:50], expected_last_seq=0)
    before = events_table(earlier)
    assert copy(run, sample_copy, earlier).exit_code == 2
    assert events_table(earlier) == before
    # without its guard triggers the source is not even opened
    tamper(sample_copy, "SELECT 1", restore=False)
    result = copy(run, sample_copy, new)
    assert result.exit_code == 2 and "trigger events_no_update is missing" in result.stderr
    assert not new.exists() and events_table(earlier) == before


def test_a_target_holding_another_log_is_refused(sample_db, small_log, tmp_path, run):
    before = events_table(small_log)
    result = copy(run, sample_db, small_log)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: the target {small_log} holds another log than the source")
    assert events_table(small_log) == before
    # a longer log is not a prefix either: the sample's first events, then more
    longer = tmp_path / "longer.db"
    assert copy(run, small_log, longer).exit_code == 0
    assert run(longer, "adopt", "local-ict@2020", "--year", 2021).exit_code == 0
    before = events_table(longer)
    refused = copy(run, small_log, longer)
    assert refused.exit_code == 2 and "holds another log" in refused.stderr
    assert events_table(longer) == before


def test_what_is_not_a_log_is_refused_with_one_line(sample_db, tmp_path, run):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    content = other.read_bytes()
    result = copy(run, sample_db, other)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --to: {other} is not an ictindex log")
    assert other.read_bytes() == content
    missing = copy(run, tmp_path / "missing.db", tmp_path / "new.db")
    assert missing.exit_code == 2
    assert missing.stderr.startswith(f"Error: --from: {tmp_path / 'missing.db'} does not exist")
    assert not (tmp_path / "new.db").exists()
    same = copy(run, sample_db, sample_db)
    assert same.exit_code == 2 and same.stderr == "Error: --from and --to name the same log\n"
    usage = run("unused.db", "copy", "--from", sample_db)
    assert usage.exit_code == 2 and "--to" in usage.stderr



def test_a_copy_holds_one_chunk_at_a_time(tmp_path):
    """Bounded memory: what copying holds in Python objects is a chunk, not the log's bodies.
    (The final comparison then reads the target's checkpoint as `ictindex checkpoint` does:
    the peak is taken before it.)"""
    import tracemalloc

    from events.testing import submission
    from ictindex.copying import copy_log

    n = 20_000
    with EventStore(tmp_path / "big.db") as big:
        big.extend((submission(i % 500, year=2020 + i % 3) for i in range(n)), actor="bulk")
        want = big.checkpoint()
        size = sum(len(r.body) for r in big.stored_rows())
    peaks = []
    with EventStore(tmp_path / "big.db", read_only=True) as source, \
            EventStore(tmp_path / "copy.db") as target:
        checkpoint = target.checkpoint

        def peak_then_checkpoint(*args):
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            return checkpoint(*args)

        target.checkpoint = peak_then_checkpoint
        tracemalloc.start()
        try:
            result = copy_log(source, target, want, source_name="big", target_name="copy",
                              chunk=500)
        finally:
            tracemalloc.stop()
    assert result.copied == n and result.checkpoint == want
    assert peaks[0] < size / 4, (peaks, size)
