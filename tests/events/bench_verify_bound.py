"""The least a complete `verify` can cost, against its floor (not a test; issue 18, item 4).

    .venv/bin/python tests/events/bench_verify_bound.py [UNITS] [REPEAT] [--db FILE]

Issue 18 asked for `verify` in one process at ≤ 2 × its floor: read every body, hash every leaf
and every interior node (`ictindex.bench.bench.floor_verify_tree`).  This script measures, on
one synthetic log (`ictindex.bench.synthetic.build_log`, UNITS units, one year) and in one run,
the two checks without which a read path could see other events than the Merkle tree covers:

- **the indexed columns equal the body's fields** (a year's replay selects its rows by the
  `year`, `unit_id` and `indicator` columns, an as-of replay by `recorded_at`): in Python,
  whatever the comparison, every column must become a Python object (`columns read`) and so
  must the body's copy of it (`fields decoded`: msgspec decoding into `msgspec.Raw`, which
  checks no type and builds no string, the least any decoding does); in SQL, the cheapest form
  found is one multi-path `json_extract` per body against a `json_array` of the columns
  (`columns in SQL`, a complete check, run by the test beside this script);
- **each index holds exactly the table's rows** (the reads above go through the indexes): in
  Python, every entry of every index must become a Python object (`index entries read`, the
  covering scans alone, nothing hashed) and so must the table's side (`index columns read`);
  in SQL, verify's own check (`events.indexcheck`: one `GROUP BY` per index over the union of
  its entries and the table's rows, every (seq, columns) occurring exactly twice; `indexes in
  SQL`).

Each is timed paired with the floor (alternating order; medians of the per-pair ratios).  The
bounds then allow the best case: the SQLite module releases the GIL while SQLite works, so the
SQL forms may run in a second thread of the same process for free while a core is idle (the
wall time is then the larger of the two threads', never their sum).  Everything else `verify`
checks (well-typed, canonical bodies, the prev_hash chain, seq, stored hashes, unique ids, time
order, tiles, the schema) is left out, so the bounds are below any complete verify's cost.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Union

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import msgspec  # noqa: E402

from events import indexcheck  # noqa: E402
from events.indexcheck import indexes  # noqa: E402
from events.schema import COLUMNS, TABLE  # noqa: E402
from events.store import EventStore  # noqa: E402
from events.types import PAYLOAD_TAGS  # noqa: E402
from events.verify import verify  # noqa: E402
from ictindex.bench.bench import floor_verify_tree, paired  # noqa: E402

INDEXED = ("event_id", "recorded_at", "actor", "type", "year", "unit_id", "indicator", "key")
_TOP = ("event_id", "recorded_at", "actor", "key")
_IN_PAYLOAD = ("type", "year", "unit_id", "indicator")


def _fields_struct() -> type:
    """The body's copies of the indexed fields, each as `msgspec.Raw` (the other fields are
    skipped): what a decoding must at least produce to compare them with anything."""
    tags = sorted(set(PAYLOAD_TAGS.values()))
    payloads = [msgspec.defstruct(f"Fields_{tag}", [(f, msgspec.Raw, msgspec.Raw())
                                                    for f in _IN_PAYLOAD[1:]],
                                  tag=tag, tag_field="type") for tag in tags]
    union = payloads[0] if len(payloads) == 1 else Union[tuple(payloads)]
    return msgspec.defstruct("Fields", [("payload", union), *[(f, msgspec.Raw, msgspec.Raw())
                                                               for f in _TOP]])


def read(db: str, columns: str) -> int:
    conn = sqlite3.connect(db)
    n = len(conn.execute(f"SELECT {columns} FROM {TABLE} ORDER BY seq").fetchall())
    conn.close()
    return n


def fields_decoded(bodies: list[bytes]) -> Callable[[], int]:
    decode = msgspec.json.Decoder(_fields_struct()).decode
    return lambda: len(list(map(decode, bodies)))


def columns_in_sql(conn: sqlite3.Connection) -> int:
    """Rows whose indexed columns differ from their body's fields (0 for a good log).  Only
    bodies of the current schema qualify: older ones would be upcast first."""
    paths = ", ".join([f"'$.{f}'" for f in _TOP] + [f"'$.payload.{f}'" for f in _IN_PAYLOAD])
    # the column's time is fixed-width (`canonical.time_key`); the body omits a zero fraction
    cols = ", ".join([*_TOP, *_IN_PAYLOAD]).replace(
        "recorded_at", "replace(recorded_at, '.000000Z', 'Z')")
    return conn.execute(
        f"SELECT count(*) FROM {TABLE} NOT INDEXED WHERE "
        f"json_extract(CAST(body AS TEXT), {paths}) IS NOT json_array({cols})").fetchone()[0]


def index_entries_read(conn: sqlite3.Connection) -> int:
    n = 0
    for name, cs in indexes(conn).items():
        n += len(conn.execute(
            f"SELECT seq, {', '.join(cs)} FROM {TABLE} INDEXED BY \"{name}\"").fetchall())
    return n


def indexes_in_sql(conn: sqlite3.Connection) -> int:
    """The indexes that do not hold exactly the table's rows (0 for a good log): verify's own
    check, `events.indexcheck` (counts, then every (seq, columns) tuple once on each side)."""
    return len(indexcheck.check(conn))


def measure(db: str, repeat: int) -> dict[str, float]:
    """Each component's median ratio to the floor, and the bounds of the arrangements."""
    conn = sqlite3.connect(db)
    bodies = [b for (b,) in conn.execute(f"SELECT body FROM {TABLE} ORDER BY seq")]
    index_columns = sorted({c for cs in indexes(conn).values() for c in cs})
    floor = lambda: floor_verify_tree(db)  # noqa: E731
    body_alone = paired(lambda: read(db, "body"), floor, repeat)[2]
    r = {
        "columns read": paired(lambda: read(db, ", ".join(COLUMNS)), floor, repeat)[2] - body_alone,
        "fields decoded": paired(fields_decoded(bodies), floor, repeat)[2],
        "columns in SQL": paired(lambda: columns_in_sql(conn), floor, repeat)[2],
        "index entries read": paired(lambda: index_entries_read(conn), floor, repeat)[2],
        "index columns read": paired(lambda: read(db, ", ".join(["seq", "body", *index_columns])),
                                     floor, repeat)[2] - body_alone,
        "indexes in SQL": paired(lambda: indexes_in_sql(conn), floor, repeat)[2],
    }
    store = EventStore(db, read_only=True)
    r["verify as it is, one process"] = paired(
        lambda: verify(store, parallel=False, tiles=store.tile_check()), floor, repeat)[2]
    store.close()
    conn.close()
    py_columns = r["columns read"] + r["fields decoded"]
    table_side = min(r["index columns read"], r["fields decoded"])
    r["bound: all in Python"] = 1 + py_columns + r["index entries read"]
    r["bound: columns in Python, indexes in SQL (2 threads)"] = max(1 + py_columns,
                                                                    r["indexes in SQL"])
    r["bound: columns in SQL, indexes in Python (2 threads)"] = max(
        1 + r["index entries read"] + table_side, r["columns in SQL"])
    r["bound: all in SQL (2 threads)"] = max(1.0, r["columns in SQL"] + r["indexes in SQL"])
    r["least of the bounds"] = min(v for k, v in r.items() if k.startswith("bound:"))
    return r


def build(folder: Path, units: int) -> str:
    from ictindex.app import Ictindex
    from ictindex.bench.synthetic import Spec, build_log

    db = str(folder / "log.db")
    app = Ictindex.open(db)
    build_log(app, Spec(units=units))
    app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    app.close()
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("units", nargs="?", type=int, default=1000)
    ap.add_argument("repeat", nargs="?", type=int, default=7)
    ap.add_argument("--db", help="measure this log instead of building one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ictindex-bound-") as tmp:
        db = args.db or build(Path(tmp), args.units)
        events = sqlite3.connect(db).execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        t = time.perf_counter()
        floor_verify_tree(db)
        print(f"{events} events; floor (every body read, every leaf and node hashed) "
              f"≈ {time.perf_counter() - t:.3f} s; medians of {args.repeat} pairs")
        for name, ratio in measure(db, args.repeat).items():
            print(f"{name:<56}{ratio:>7.2f} × floor")


if __name__ == "__main__":
    main()
