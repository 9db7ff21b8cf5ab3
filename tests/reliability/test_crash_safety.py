"""Issue 7, part 2: imports killed with SIGKILL leave the whole batch or none of it.

50 imports of a 3,280-row file (80 districts × 41 indicators) are killed after a random delay
drawn over the whole length of an import (calibrated on an import run to completion), so kills
land while the process starts, folds the log, reads and checks the file, and inside the write
transaction.  After each kill the log is opened afresh (SQLite rolls a torn WAL back) and:

- the events of the batch are all there or none is (count, and the exact (unit, indicator,
  value) set compared with the file);
- `verify` recomputes every hash and finds nothing wrong.

A trial whose batch was committed restores the pristine log for the next one; a trial killed
before its commit leaves the crashed log in place, so later trials also start from a log that
has just recovered from a crash.  The imports are forked from a process that imported the CLI
once (import_zygote.py), so the test costs 50 imports, not 50 interpreter start-ups.

`test_a_kill_inside_the_write_transaction_records_nothing` adds kills at a known moment: after
some rows of the batch have been inserted and before the commit.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from events.store import EventStore
from events.types import UnitRegistered
from events.verify import verify
from ictindex.app import Ictindex

ROOT = Path(__file__).resolve().parents[2]
ZYGOTE = Path(__file__).with_name("import_zygote.py")
TRIALS = 50
UNITS = 80
VALUES = {"yes_no": "yes", "percentage": "50", "count": "3", "number": "2", "points": "5",
          "ratio": "0.5"}


@pytest.fixture(scope="module")
def crash_template(tmp_path_factory) -> tuple[Path, Path, set]:
    """(pristine log, the file to import, the (unit, indicator, value) rows it holds)."""
    base = tmp_path_factory.mktemp("crash")
    db = base / "template.db"
    with Ictindex.open(db) as app:
        app.store.append([UnitRegistered(unit_id=f"U{i:03d}", tier="district", name=f"Huyện {i}")
                          for i in range(UNITS)], actor="setup")
        app.adopt("local-ict@2020", 2020, actor="setup")
        m = app.registry.edition("local-ict@2020").methodology
        used = {c for comp in m.tiers["district"].components for cr in comp.criteria
                for c in cr.indicators}
        indicators = [i for i in m.indicators if i.code in used]
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = base / "batch.csv"
    rows = set()
    with open(path, "w", encoding="utf-8") as f:
        f.write("year,unit_id,indicator,value,evidence,note\n")
        for u in range(UNITS):
            for ind in indicators:
                value = ind.categories[0] if ind.type == "category" else VALUES[ind.type]
                f.write(f"2020,U{u:03d},{ind.code},{value},CV {u}/BC-UBND,\n")
                rows.add((f"U{u:03d}", ind.code, value))
    return db, path, rows


class Zygote:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ZYGOTE)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def start(self, db: Path, path: Path) -> int:
        self.proc.stdin.write(f"{db}\t{path}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def status(self) -> int:
        self.proc.stdin.write("reap\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def _batch(db: Path, base_size: int) -> tuple[int, set, bool]:
    """(events after the template's, their (unit, indicator, value), verify ok)."""
    with EventStore(db) as store:
        report = verify(store)
        events = list(store.read(start=base_size + 1))
    seen = {(e.payload.unit_id, e.payload.indicator, _text(e.payload.value)) for e in events}
    return len(events), seen, report.ok


def _text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return getattr(value, "choice", None) or format(value, "f")


def test_fifty_imports_killed_at_random_moments_leave_all_or_nothing(crash_template, tmp_path):
    template, path, rows = crash_template
    with EventStore(template) as store:
        base_size = store.last_seq()
    db = tmp_path / "log.db"
    shutil.copy(template, db)
    zygote = Zygote()
    try:
        # Calibration: imports run to completion (the first one warms the page cache), the
        # last one timed, give the range of kill delays.
        for _ in range(2):
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.copy(template, db)
            t0 = time.perf_counter()
            zygote.start(db, path)
            status = zygote.status()
            duration = time.perf_counter() - t0
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            n, seen, ok = _batch(db, base_size)
            assert ok and n == len(rows) and seen == rows

        rng = random.Random(20260701)
        outcomes = {"complete": 0, "absent": 0, "killed": 0}
        for trial in range(TRIALS):
            if n:  # the last batch was committed: start again from the pristine log
                for suffix in ("-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                shutil.copy(template, db)
            delay = rng.uniform(0, 1.1 * duration)
            pid = zygote.start(db, path)
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)  # not reaped yet: the PID is still that child's
            status = zygote.status()
            if os.WIFSIGNALED(status):
                outcomes["killed"] += 1
            else:
                assert os.WEXITSTATUS(status) == 0, f"trial {trial}: exit {os.WEXITSTATUS(status)}"
            n, seen, ok = _batch(db, base_size)
            assert ok, f"trial {trial} (killed after {delay:.3f}s): verify failed"
            assert n in (0, len(rows)), f"trial {trial}: {n} of {len(rows)} events recorded"
            assert seen == (rows if n else set())
            outcomes["complete" if n else "absent"] += 1
    finally:
        zygote.close()
    print(f"\n{TRIALS} kills, import ≈ {duration:.2f}s: {outcomes}")
    assert outcomes["complete"] + outcomes["absent"] == TRIALS
    assert outcomes["killed"] > 0


_MID_WRITE = """
import os, sys
import events.store as store
store.CHUNK = 100  # the batch goes in by chunks of 100 rows
original = store.EventStore._write_locked
calls = {"n": 0}
stop_at = int(sys.argv[-1])

class Conn:
    def __init__(self, conn):
        self.conn = conn
    def execute(self, *a):
        return self.conn.execute(*a)
    def executemany(self, *a):
        result = self.conn.executemany(*a)
        calls["n"] += 1
        if calls["n"] == stop_at:
            print("INSIDE", flush=True)  # rows inserted, not committed: wait for the kill
            sys.stdin.read()
        return result

def write_locked(self, conn, *a, **k):
    return original(self, Conn(conn), *a, **k)

store.EventStore._write_locked = write_locked
from ictindex.cli import main
sys.argv = ["ictindex", *sys.argv[1:-1]]
main()
"""


@pytest.mark.parametrize("chunks", [1, 7, 30])
def test_a_kill_inside_the_write_transaction_records_nothing(crash_template, tmp_path, chunks):
    template, path, rows = crash_template
    with EventStore(template) as store:
        base_size = store.last_seq()
    db = tmp_path / "log.db"
    shutil.copy(template, db)
    proc = subprocess.Popen(
        [sys.executable, "-c", _MID_WRITE, "--db", str(db), "import", str(path), str(chunks)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env=dict(os.environ, ICTINDEX_ACTOR="crash-test"))
    assert proc.stdout.readline().strip() == "INSIDE"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    n, seen, ok = _batch(db, base_size)
    assert ok and n == 0 and not seen
    # and the log takes the same import afterwards, whole
    with Ictindex.open(db) as app:
        app.import_submissions(path, actor="after-crash")
    n, seen, ok = _batch(db, base_size)
    assert ok and n == len(rows) and seen == rows
