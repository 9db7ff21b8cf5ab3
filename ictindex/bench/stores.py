"""`ictindex bench --store postgresql://...`: the PostgreSQL store beside SQLite, in one run.

Three measures, each taken on both stores on the same data, one after the other (alternating
which goes first), medians of `repeat` runs, and printed as the ratio PostgreSQL / SQLite:

- import: a national year's submissions (`ictindex.bench.synthetic.import_year`: every row
  checked, keyed, hashed and appended in one batch) into a log that holds only the units and
  the adoption; rates in events per second (target: PostgreSQL ≥ 0.5 × SQLite's);
- cold replay of that year to the rankings of every tier, from a fresh app
  (`ictindex.bench.bench.cold_replay`; target: PostgreSQL ≤ 1.5 × SQLite's seconds);
- concurrent writers: 8 processes, each appending `batches` batches of `batch` events, against
  one process appending as many batches; the total rate of the 8 over the rate of the one, per
  store (target: ≥ 1 for PostgreSQL: no lock convoy), every batch checked whole afterwards;
- and, beside them, prove (the inclusion proof of the imported log's middle event, served from
  the stored tiles in either store) in seconds, median of `PROVE_RUNS` × `repeat` runs.

The URL names a PostgreSQL server on which the bench creates its scratch databases
(`ictindex_bench_<pid>_<n>`, dropped at the end): the role needs CREATEDB.  The SQLite logs live
in a temporary folder.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["run_store_bench", "format_store_table", "TARGETS"]

TARGETS = {"import": ("≥", 0.5), "cold_replay": ("≤", 1.5), "writers_8_vs_1": ("≥", 1.0)}
WRITERS = 8
PROVE_RUNS = 20  # a proof takes about a millisecond: a median of few runs is noise


class _Scratch:
    """Scratch databases on the server `url` names, dropped by `close`."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._admin = psycopg.connect(url, autocommit=True)
        self._names: list[str] = []

    def new(self) -> str:
        from psycopg import sql

        name = f"ictindex_bench_{os.getpid()}_{len(self._names) + 1}"
        self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._names.append(name)
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def close(self) -> None:
        from psycopg import sql

        try:
            for name in self._names:
                self._admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))
        finally:
            self._admin.close()


def _import(where: str, spec: Any, year: int) -> tuple[float, int]:
    from ictindex.app import Ictindex
    from ictindex.bench.synthetic import import_year, register_units

    with Ictindex.open(where) as app:
        register_units(app, spec)
        return import_year(app, spec, year)


def _payloads(writer: int, batch_no: int, size: int) -> list:
    from events.types import IndicatorSubmitted

    return [IndicatorSubmitted(year=2020, unit_id=f"W{writer}B{batch_no}E{i}", indicator="I01",
                               value=Decimal(i)) for i in range(size)]


def _write(where: str, tag: str, writer: int, batches: int, size: int) -> None:
    from ictindex.app import Ictindex

    with Ictindex.open(where) as app:
        for b in range(batches):
            app.store.append(_payloads(writer, b, size), actor=f"writer-{writer}",
                             keys=[f"{tag}:w{writer}:b{b}:{i}" for i in range(size)])


def _writers_rate(where: str, writers: int, batches: int, size: int) -> float:
    """Events per second of `writers` processes appending at once (fork: each opens its own
    connection), checked: every batch whole, seqs 1..N."""
    from ictindex.app import Ictindex

    with Ictindex.open(where) as app:
        start = app.store.last_seq()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write, args=(where, f"{writers}of{start}", w, batches, size))
             for w in range(writers)]
    t = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    seconds = time.perf_counter() - t
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError(f"a writer failed on {where}")
    with Ictindex.open(where, read_only=True) as app:
        seqs = [e.seq for e in app.store.read(start + 1)]
        if seqs != list(range(start + 1, start + 1 + writers * batches * size)):
            raise RuntimeError(f"the writers' events on {where} are not whole and gapless")
    return writers * batches * size / seconds


def _pairs(first: Callable[[], float], second: Callable[[], float], repeat: int
           ) -> tuple[list[float], list[float]]:
    """Run both `repeat` times, alternating which goes first: a slow spell of the machine then
    weighs on both sides of a ratio."""
    a, b = [], []
    for k in range(repeat):
        for which in ((first, second) if k % 2 == 0 else (second, first)):
            (a if which is first else b).append(which())
    return a, b


def run_store_bench(url: str, *, units: int = 1000, repeat: int = 3, batches: int = 20,
                    batch: int = 50, seed: int = 1,
                    progress: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Run the three measures (see the module docstring) and return the report."""
    from ictindex.bench.bench import cold_replay
    from ictindex.bench.synthetic import Spec

    repeat = max(1, repeat)
    spec = Spec(units=units, years=1, seed=seed)
    year = spec.first_year
    tmp = Path(tempfile.mkdtemp(prefix="ictindex-bench-stores-"))
    scratch = _Scratch(url)
    phases = []
    try:
        progress("import")
        logs = {"sqlite": "", "postgresql": ""}
        rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        n_events = 0
        count = iter(range(1_000_000))

        def import_on(kind: str) -> float:
            nonlocal n_events
            where = scratch.new() if kind == "postgresql" else str(tmp / f"import-{next(count)}.db")
            seconds, n_events = _import(where, spec, year)
            logs[kind] = where
            rates[kind].append(n_events / seconds)
            return seconds

        lite_s, pg_s = _pairs(lambda: import_on("sqlite"), lambda: import_on("postgresql"), repeat)
        lite_rate, pg_rate = statistics.median(rates["sqlite"]), statistics.median(rates["postgresql"])
        phases.append(_phase("import", lite_rate, pg_rate, pg_rate / lite_rate, "events/s",
                             events=n_events))

        progress("cold replay")
        lite_s, pg_s = _pairs(lambda: _timed(lambda: cold_replay(logs["sqlite"], year)),
                              lambda: _timed(lambda: cold_replay(logs["postgresql"], year)),
                              repeat)
        lite, pg = statistics.median(lite_s), statistics.median(pg_s)
        phases.append(_phase("cold_replay", lite, pg, pg / lite, "s"))

        progress("prove")
        for kind in ("sqlite", "postgresql"):
            phases.append({"phase": f"prove_{kind}",
                           "value": round(_prove_seconds(logs[kind], PROVE_RUNS * repeat), 6),
                           "unit": "s"})

        progress("concurrent writers")
        per_store = {}
        for kind in ("sqlite", "postgresql"):
            one, many = [], []
            for k in range(repeat):
                where = scratch.new() if kind == "postgresql" else str(tmp / f"writers-{k}.db")
                one.append(_writers_rate(where, 1, batches, batch))
                many.append(_writers_rate(where, WRITERS, batches, batch))
            per_store[kind] = (statistics.median(one), statistics.median(many))
        for kind, (one, many) in per_store.items():
            phases.append({"phase": f"writers_1_{kind}", "value": round(one), "unit": "events/s"})
            phases.append({"phase": f"writers_8_{kind}", "value": round(many), "unit": "events/s"})
        pg_one, pg_many = per_store["postgresql"]
        lite_one, lite_many = per_store["sqlite"]
        phases.append(_phase("writers_8_vs_1", lite_many / lite_one, pg_many / pg_one,
                             pg_many / pg_one, "× one writer"))
    finally:
        scratch.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"params": {"units": units, "repeat": repeat, "writers": WRITERS,
                       "batches": batches, "batch": batch, "seed": seed},
            "phases": phases}


def _prove_seconds(where: str, runs: int) -> float:
    """Median seconds of `prove` of the middle event of the log at `where`."""
    from ictindex.app import Ictindex

    with Ictindex.open(where, read_only=True) as app:
        half = app.store.last_seq() // 2 + 1
        return statistics.median(_timed(lambda: app.store.inclusion_proof(half))
                                 for _ in range(runs))


def _timed(f: Callable[[], Any]) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def _phase(name: str, sqlite: float, postgresql: float, ratio: float, unit: str, **extra) -> dict:
    op, limit = TARGETS[name]
    return {"phase": name, "sqlite": round(sqlite, 4), "postgresql": round(postgresql, 4),
            "unit": unit, "ratio": round(ratio, 3), "target": f"{op} {limit}",
            "met": ratio >= limit if op == "≥" else ratio <= limit, **extra}


def format_store_table(report: dict[str, Any]) -> str:
    p = report["params"]
    lines = [f"PostgreSQL beside SQLite: {p['units']} units; {p['writers']} writers × "
             f"{p['batches']} batches × {p['batch']} events; medians of {p['repeat']}",
             f"{'measure':<22}{'sqlite':>14}{'postgresql':>14}{'ratio':>9}  target"]
    for ph in report["phases"]:
        if "ratio" not in ph:
            lines.append(f"{ph['phase']:<22}{ph['value']:>28} {ph['unit']}")
            continue
        met = "met" if ph["met"] else "MISSED"
        lines.append(f"{ph['phase']:<22}{ph['sqlite']:>14.4g}{ph['postgresql']:>14.4g}"
                     f"{ph['ratio']:>9.3f}  {ph['target']} {met} ({ph['unit']})")
    return "\n".join(lines)
