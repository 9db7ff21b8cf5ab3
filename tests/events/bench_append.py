"""Append rate of EventStore vs a raw executemany of the very same rows (not a test).

    .venv/bin/python tests/events/bench_append.py [N] [BATCH] [ROUNDS]

Both write into a fresh file with the same schema (indexes and triggers included); the raw
baseline inserts precomputed tuples, the store also builds, type-checks, encodes and hashes
every event (default random uuid4 event ids).  Rounds alternate store and raw runs and the
best of each is kept, so that load from other processes skews both alike.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from events.schema import INSERT  # noqa: E402
from events.store import EventStore  # noqa: E402
from events.types import IndicatorSubmitted  # noqa: E402


def payloads(n: int) -> list[IndicatorSubmitted]:
    return [
        IndicatorSubmitted(
            year=2020,
            unit_id=f"{26000 + i // 40}",
            indicator=f"I{i % 40:02d}",
            value=Decimal(i % 1000) / 10,
            evidence="1018/QĐ-UBND",
        )
        for i in range(n)
    ]


def run_store(path: Path, ps: list, batch: int) -> tuple[float, list]:
    clock = lambda: dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)  # noqa: E731
    store = EventStore(path, clock=clock)
    n = len(ps)
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        keys = [f"import:9f2c:{j}" for j in range(i, min(n, i + batch))]
        store.extend(ps[i : i + batch], actor="bench", keys=keys)
    elapsed = time.perf_counter() - t0
    rows = list(store.db.execute("SELECT * FROM events ORDER BY seq"))
    store.close()
    return elapsed, rows


def run_raw(path: Path, rows: list, batch: int) -> float:
    raw = EventStore(path)  # same schema, indexes, triggers
    conn = raw.db.conn
    t0 = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, rows[i : i + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    raw.close()
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    ps = payloads(n)
    best_store = best_raw = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            t_store, rows = run_store(Path(tmp) / f"store{r}.db", ps, batch)
            t_raw = run_raw(Path(tmp) / f"raw{r}.db", rows, batch)
            best_store, best_raw = min(best_store, t_store), min(best_raw, t_raw)
    print(f"{n} events, batches of {batch}, best of {rounds}")
    print(f"raw executemany  : {n / best_raw:10.0f} rows/s")
    print(f"EventStore.extend: {n / best_store:10.0f} rows/s")
    print(f"ratio            : {best_raw / best_store:.2f}")


if __name__ == "__main__":
    main()
