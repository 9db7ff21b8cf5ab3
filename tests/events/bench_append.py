"""Append rate of EventStore vs a raw executemany of the very same rows (not a test).

    .venv/bin/python tests/events/bench_append.py [N] [BATCH]

Both write into a fresh file with the same schema (indexes and triggers included); the raw
baseline inserts precomputed tuples, the store also builds, encodes, checks and hashes every
event.  Prints rows/s for each and the ratio.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from events.store import _INSERT, EventStore  # noqa: E402
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else n
    ps = payloads(n)
    clock = lambda: dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        store = EventStore(Path(tmp) / "store.db", clock=clock)  # random uuid4 event ids
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            store.extend(ps[i : i + batch], actor="bench", keys=[f"import:9f2c:{j}" for j in range(i, min(n, i + batch))])
        t_store = time.perf_counter() - t0
        rows = list(
            store.db.execute(
                "SELECT seq, event_id, recorded_at, actor, type, year, unit_id, indicator, key,"
                " body, hash FROM events ORDER BY seq"
            )
        )
        store.close()

        raw = EventStore(Path(tmp) / "raw.db")  # same schema, indexes, triggers
        conn = raw.db.conn
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, rows[i : i + batch])
            conn.execute("COMMIT")
        t_raw = time.perf_counter() - t0
        raw.close()
    print(f"{n} events, batches of {batch}")
    print(f"raw executemany : {n / t_raw:10.0f} rows/s")
    print(f"EventStore.extend: {n / t_store:10.0f} rows/s")
    print(f"ratio           : {t_raw / t_store:.2f}")


if __name__ == "__main__":
    main()
