"""`ictindex bench`: build a synthetic log in a temporary folder and time each phase next to its
floor, measured on the same data in the same run.

Phases and their floors.  Where a phase has a floor of its own, each repetition runs the two
seconds apart (alternating which goes first) and the ratio is the median of the per-pair
ratios; seconds are medians of `repeat` runs.  For import the ratio is of rates.

- import: the last year's submissions, checked, keyed, hashed and appended
  (`ictindex.bench.synthetic.import_year`, `EventStore.extend`) into a log that holds the units and the
  adoption / the same rows, as stored, inserted with one `executemany` in one transaction into
  a fresh table with the same columns and indexes (without the append-only triggers; the rate
  with them is reported too);
- cold replay of the last year to the rankings of all its tiers (`Ictindex.state(year=...)` and
  `ictindex.replay.replay` per tier, checkpoint included) / raw SQLite read of the year's rows,
  msgspec decode, the latest value per (unit, indicator), a weighted total per unit and a sort;
- rank from the projections (`Projections.ranking` per tier) / the replay floor;
- one correction → its new ranking and diff (validated against the warm state, appended, the
  projections updated in the same transaction, `engine.diff.diff`) / the cold replay (target ≤ 1 %);
- explain of one unit (from the warm scores) / the replay floor;
- verify of the whole log as `ictindex verify` checks it (`events.verify.verify` with the
  stored tiles checked inside its pass, `EventStore.tile_check`) / the least any Merkle
  verification does: read every body, hash every leaf and every interior node (≈ 2n SHA-256
  calls, issue 18); reported with it: the same in one process (`one_process_ratio`), the ratio
  to the former floor (every body and its leaf hash only), the seconds of the stand-alone
  storage check (`EventStore.check_storage`: schema and indexes, `events.indexcheck`) and of
  SQLite's `PRAGMA integrity_check(events)`, which verify ran beside its pass before issue 18;
- tile writing: the `events.tiles.Writer` work over the imported leaves / the import;
- prove, a consistency proof (half the log to all of it) and the root at a past size (half
  the log) from the stored tiles / the same from every leaf (the O(n) way of before issue 18,
  still that of a checkpoint shown, which never comes from a derived table); `sealed` says
  whether the tiles' seal let them skip counting the rows;
- peak memory (VmHWM of a fresh process) of a cold replay / of the floor;
- with `years > 1`: the cold replay of the last year / the same year replayed from a log that
  holds only that year (target ≤ 1.2); and prove, the consistency proof and the past root of
  this log / the same of that one-year log, measured alternately in this run (`*_vs_one_year`,
  target ≤ 2: O(log n));
- robustness of the year: `ictindex robustness` with 1,000 samples of ±20 % weight variation
  for every tier of the last year, from a fresh app / the cold replay (target ≤ 20);
- robustness of a province's communes: the same over the commune tier of the BR-VT 2020 sample
  (82 communes), in seconds (target ≤ 5 s; the ratio is to the cold replay).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import msgspec

from events import merkle, tiles
from events.schema import COLUMNS, TABLE, ensure_schema
from events.types import TIERS, Event, IndicatorCorrected, IndicatorRetracted, IndicatorSubmitted

__all__ = ["run_bench", "floor_replay", "cold_replay", "floor_verify_tree", "paired", "TARGETS"]

TARGETS = {
    "cold_replay": ("≤", 1.5),
    "import": ("≥", 0.5),
    "correction": ("≤", 0.01),
    "verify": ("≤", 2.0),
    "memory": ("≤", 2.0),
    "year_of_multi_year_log": ("≤", 1.2),
    "robustness_year": ("≤", 20.0),
    "prove_vs_one_year": ("≤", 2.0),
    "consistency_proof_vs_one_year": ("≤", 2.0),
    "past_root_vs_one_year": ("≤", 2.0),
}
PROOF_RUNS = 30  # per repetition: a proof takes milliseconds
ROBUSTNESS_SAMPLES = 1000
PROVINCE_COMMUNES_SECONDS = 5.0


def _another_value(indicator: Any, value: Decimal) -> str:
    """A value the indicator accepts other than `value` (a correction must change it): one
    step up, or down where up leaves the range (a ratio of 0.48 cannot become 1.48)."""
    step = Decimal("0.01") if indicator.type == "ratio" else Decimal(1)
    top = {"ratio": Decimal(1), "percentage": Decimal(100)}.get(indicator.type, indicator.max)
    return str(value + step if top is None or value + step <= top else value - step)


def paired(phase: Callable[[], Any], floor: Callable[[], Any], repeat: int
            ) -> tuple[float, float, float, Any]:
    """Run `floor` and `phase` one after the other, `repeat` times (alternating which goes
    first): (median phase seconds, median floor seconds, median of the per-pair ratios, the
    phase's last output).  A pair runs seconds apart, so a slow spell of the machine (another
    process, the page cache reclaimed) weighs on both sides of a ratio, not on one."""
    ps, fs, ratios, out = [], [], [], None
    for k in range(repeat):
        for which in ((floor, phase) if k % 2 == 0 else (phase, floor)):
            t = time.perf_counter()
            got = which()
            (ps if which is phase else fs).append(time.perf_counter() - t)
            if which is phase:
                out = got
        ratios.append(ps[-1] / fs[-1])
    return statistics.median(ps), statistics.median(fs), statistics.median(ratios), out


def _median(f: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# -- floors --------------------------------------------------------------------------------


def floor_replay(db_path: str, year: int) -> int:
    """Read the year's rows, decode them, keep the latest value per (unit, indicator), add a
    weighted total per unit and sort: the least any replay must do."""
    conn = sqlite3.connect(db_path)
    decode = msgspec.json.Decoder(Event).decode
    latest: dict[tuple[str, str], Any] = {}
    Sub, Cor, Ret = IndicatorSubmitted, IndicatorCorrected, IndicatorRetracted
    for (body,) in conn.execute(f"SELECT body FROM {TABLE} WHERE year IS NULL OR year = ? "
                                "ORDER BY seq", (year,)):
        p = decode(body).payload
        t = type(p)
        if t is Sub or t is Cor:
            latest[(p.unit_id, p.indicator)] = p.value
        elif t is Ret:
            latest.pop((p.unit_id, p.indicator), None)
    # The floor adds a *weighted* total: one weight per indicator (which weights does
    # not matter for the cost, a lookup and a product per value).
    weights: dict[str, Decimal] = {}
    totals: dict[str, Decimal] = {}
    zero = Decimal(0)
    for (uid, indicator), v in latest.items():
        if type(v) is Decimal:
            w = weights.get(indicator)
            if w is None:
                w = weights[indicator] = Decimal(len(weights) % 5 + 1)
            totals[uid] = totals.get(uid, zero) + v * w
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    conn.close()
    return len(ranked)


def floor_verify(db_path: str) -> int:
    """Scan every stored body and its hash, and recompute SHA-256 of each leaf."""
    conn = sqlite3.connect(db_path)
    sha = hashlib.sha256
    n = 0
    for body, h in conn.execute(f"SELECT body, hash FROM {TABLE} ORDER BY seq"):
        if sha(b"\x00" + body).hexdigest() != h:
            raise AssertionError("hash mismatch")
        n += 1
    conn.close()
    return n


def floor_verify_tree(db_path: str) -> int:
    """Read every body, hash every leaf and every interior node: ≈ 2n SHA-256 calls, each
    level in one pass of C-level maps (the least any Merkle verification of the log does)."""
    conn = sqlite3.connect(db_path)
    sha, digest = hashlib.sha256, type(hashlib.sha256()).digest
    level = list(map(digest, map(sha, map(b"\x00".__add__, (b for (b,) in conn.execute(
        f"SELECT body FROM {TABLE} ORDER BY seq"))))))
    conn.close()
    n = len(level)
    while len(level) > 1:
        odd = level[-1:] if len(level) & 1 else []
        level = list(map(digest, map(sha, map(b"\x01".__add__, map(
            bytes.__add__, level[0:len(level) - 1:2], level[1::2]))))) + odd
    return n


def floor_import(rows: list[tuple], folder: Path, *, triggers: bool = False) -> float:
    """Seconds to insert `rows` with one executemany in one transaction into a fresh table
    with the events table's columns and indexes (and, with `triggers`, its append-only
    triggers too)."""
    path = folder / f"floor-{time.monotonic_ns()}.db"
    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db.enable_wal()
    db.execute("PRAGMA cache_size = -65536")
    ensure_schema(db)
    if not triggers:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {name}")
    conn = db.conn
    sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    t = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return elapsed


# -- phases --------------------------------------------------------------------------------


def cold_replay(db_path: str, year: int) -> int:
    """A fresh app: fold the year and rank every tier adopted for it."""
    from ictindex.app import Ictindex
    from ictindex.replay import replay

    with Ictindex.open(db_path) as app:
        state = app.state(year=year)
        ys = state.year_state(year)
        n = 0
        for tier in TIERS:
            if ys.adoption(tier) is not None:
                n += len(replay(app, year, tier, state=state).ranking.rows)
        return n


def _child_peak(kind: str, db_path: str, year: int) -> int:
    """Peak resident memory (KiB) of a fresh process that runs one phase: VmHWM, which execve
    resets (ru_maxrss would keep the forking parent's peak), else ru_maxrss."""
    code = ("import sys, resource; from ictindex.bench import bench; "
            f"bench.{kind}(sys.argv[1], int(sys.argv[2])); "
            "print(bench.peak_kib())")
    out = subprocess.run([sys.executable, "-c", code, db_path, str(year)], check=True,
                         capture_output=True, text=True, env={**os.environ, "ICTINDEX_PROGRESS": "0"})
    return int(out.stdout.strip().splitlines()[-1])


def peak_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _phase(name: str, seconds: float, floor: float | None, ratio: float | None, **extra) -> dict:
    out = {"phase": name, "seconds": round(seconds, 6),
           "floor_seconds": None if floor is None else round(floor, 6),
           "ratio": None if ratio is None else round(ratio, 4)}
    target = TARGETS.get(name)
    if target is not None and ratio is not None:
        op, limit = target
        out["target"] = f"{op} {limit}"
        out["met"] = ratio <= limit if op == "≤" else ratio >= limit
    out.update(extra)
    return out


def run_bench(*, units: int = 1000, indicators: int | None = None, years: int = 1,
              corrections: float = 0.05, seed: int = 1, repeat: int = 3,
              folder: str | None = None, progress: Callable[[str], None] = lambda m: None
              ) -> dict[str, Any]:
    """Run every phase (see the module docstring) and return the report."""
    from engine.cells import Submitted, cell_statuses
    from engine.explain import explain as explain_unit
    from events.verify import verify as verify_log
    from ictindex import importing
    from ictindex.app import Ictindex
    from engine.rerank import ranking_diff
    from ictindex.projections import Projections
    from ictindex.bench.synthetic import Spec, build_log, import_year, register_units

    repeat = max(1, repeat)
    tmp = Path(tempfile.mkdtemp(prefix="ictindex-bench-", dir=folder))
    try:
        spec = Spec(units=units, indicators=indicators, years=years, corrections=corrections,
                    seed=seed)
        year = spec.first_year + years - 1
        db_path = str(tmp / "log.db")
        phases = []
        app = Ictindex.open(db_path)
        timings: dict[str, Any] = {}
        progress(f"building {units} units × {years} year(s)")
        counts = build_log(app, spec, progress=lambda what, n: progress(f"{what}: {n}"),
                           timings=timings)
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total_events = app.store.last_seq()

        # import: the last year's submissions into a log that holds the units and the adoption,
        # each run next to the floor: the same rows, as stored, with one executemany
        progress("import and its floor")
        imp_s, imp_floor_s, trig_s, ratios, n_rows = [], [], [], [], 0
        for k in range(repeat):
            fresh = str(tmp / f"import-{k}.db")
            with Ictindex.open(fresh) as app_k:
                register_units(app_k, spec)
                seconds, n_rows = import_year(app_k, spec, year)
                rows = list(app_k.store.db.conn.execute(
                    f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE type = "
                    "'indicator_submitted' ORDER BY seq"))
            for suffix in ("", "-wal", "-shm"):
                Path(fresh + suffix).unlink(missing_ok=True)
            floor_k = floor_import(rows, tmp)
            trig_s.append(floor_import(rows, tmp, triggers=True))
            del rows
            imp_s.append(seconds)
            imp_floor_s.append(floor_k)
            ratios.append(floor_k / seconds)  # the rate's ratio: (n / seconds) / (n / floor)
        imp, imp_floor = statistics.median(imp_s), statistics.median(imp_floor_s)
        phases.append(_phase("import", imp, imp_floor, statistics.median(ratios),
                             events=n_rows, events_per_s=round(n_rows / imp),
                             floor_events_per_s=round(n_rows / imp_floor),
                             floor_with_triggers_events_per_s=round(
                                 n_rows / statistics.median(trig_s))))
        # what the stored tiles add to that import: the writer's work over as many leaves
        leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n_rows)]

        def write_tiles() -> int:
            writer = tiles.Writer(0, [])
            writer.extend(leaves)
            return len(writer.take())

        tiles_s, _ = _median(write_tiles, repeat)
        del leaves
        phases.append(_phase("tile_writing", tiles_s, imp, tiles_s / imp))

        progress("cold replay and its floor")
        cold_s, floor_s, ratio, ranked = paired(lambda: cold_replay(db_path, year),
                                                 lambda: floor_replay(db_path, year), repeat)
        phases.append(_phase("cold_replay", cold_s, floor_s, ratio, units_ranked=ranked))
        # part of the cold replay: the Merkle checkpoint its provenance names (whole log,
        # computed from the stored leaves: a shown checkpoint never comes from a derived table)
        cp_s, _ = _median(lambda: app.store.checkpoint(), repeat)
        phases.append(_phase("checkpoint_in_replay", cp_s, floor_s, cp_s / floor_s))

        progress("projections")
        proj = Projections.of(app)
        t = time.perf_counter()
        proj.rebuild()
        rebuild_s = time.perf_counter() - t
        phases.append(_phase("projections_rebuild", rebuild_s, cold_s, rebuild_s / cold_s))
        tiers = sorted(proj.warm[year].tiers)
        rank_s, _ = _median(lambda: [proj.ranking(year, t) for t in tiers], repeat)
        phases.append(_phase("rank_from_projections", rank_s, floor_s, rank_s / floor_s))

        progress("one correction")
        tier = "commune" if "commune" in proj.warm[year].tiers else tiers[0]
        scores0 = proj.warm[year].tiers[tier].scores
        # a typical correction (an input of criteria that score each unit alone), and the worst
        # case (an input of a peer rule: its tier context moves, every unit is rescored)
        peer = {i for s in scores0.criteria if s.peer for i in s.indicators}
        alone = [i for s in scores0.criteria if not s.peer for i in s.indicators
                 if i not in peer and s.rule.name in ("ratio", "ratio_of_counts", "per_item")]
        for name, inputs in (("correction", alone), ("correction_peer_rule", sorted(peer))):
            if not inputs:
                continue
            times, moved = [], []
            uids = list(scores0.units)
            catalogue = {i.code: i for i in scores0.edition.indicators}
            for k in range(repeat):
                uid = uids[(k * 7919 + 13) % len(uids)]
                ind = inputs[k % len(inputs)]
                t = time.perf_counter()
                old_scores, old_ranking = proj.tier_scores(year, tier)
                warm = proj.warm[year]
                ys = warm.state.year_state(year)
                cell = ys.cells.get(uid, {}).get(ind)
                if cell is None:
                    continue
                # the counting submission, read back as `ictindex correct SEQ` reads it
                sub = app.store.get(next(
                    e.seq for e, status in reversed(cell_statuses(cell))
                    if type(e) is Submitted and status in ("current", "overridden")))
                value = ys.value(uid, ind)
                payload = importing.check_correction(warm.state, app.registry, sub,
                                                     _another_value(catalogue[ind], value),
                                                     reason="bench")
                [event] = app.store.append([payload], actor="bench")
                new_scores, new_ranking = proj.tier_scores(year, tier)
                d = ranking_diff(old_ranking, new_ranking, [event], old_scores=old_scores,
                                 new_scores=new_scores)
                times.append(time.perf_counter() - t)
                moved.append(len(d.changes))
            if times:
                corr_s = statistics.median(times)
                ph = _phase(name if name == "correction" else "correction", corr_s, cold_s,
                            corr_s / cold_s)
                ph["phase"] = name
                ph["units_changed_median"] = statistics.median(moved)
                phases.append(ph)

        progress("explain")
        s, r = proj.tier_scores(year, tier)
        uid = r.rows[len(r.rows) // 2].unit_id
        explain_s, _ = _median(lambda: explain_unit(s, uid, ranking=r, provenance=r.provenance), repeat)
        phases.append(_phase("explain", explain_s, floor_s, explain_s / floor_s))

        progress("verify")
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        def verify_all(parallel: bool = True) -> bool:
            check = app.store.tile_check()
            return verify_log(app.store, parallel=parallel, tiles=check).ok and not check.problems()

        verify_s, vfloor_s, ratio, ok = paired(verify_all, lambda: floor_verify_tree(db_path),
                                                repeat)
        one_s, _, one_ratio, _ = paired(lambda: verify_all(False),
                                         lambda: floor_verify_tree(db_path), repeat)
        _, old_floor_s, old_ratio, _ = paired(verify_all, lambda: floor_verify(db_path), repeat)
        storage_s, _ = _median(app.store.check_storage, repeat)
        integrity_s, _ = _median(lambda: app.store.db.execute(
            f"PRAGMA integrity_check({TABLE})").fetchall(), repeat)
        phases.append(_phase("verify", verify_s, vfloor_s, ratio, ok=ok,
                             one_process_seconds=round(one_s, 6),
                             one_process_ratio=round(one_ratio, 4),
                             old_floor_seconds=round(old_floor_s, 6),
                             old_floor_ratio=round(old_ratio, 4),
                             storage_check_seconds=round(storage_s, 6),
                             integrity_check_seconds=round(integrity_s, 6)))
        phases += proof_phases(app.store, repeat)

        progress("peak memory")
        peak_floor = statistics.median(_child_peak("floor_replay", db_path, year) for _ in range(min(repeat, 2)))
        peak_cold = statistics.median(_child_peak("cold_replay", db_path, year) for _ in range(min(repeat, 2)))
        phases.append(_phase("memory", 0.0, None, peak_cold / peak_floor,
                             peak_kib=int(peak_cold), floor_peak_kib=int(peak_floor)))

        if years > 1:
            progress("the same year from a one-year log")
            one = str(tmp / "one-year.db")
            with Ictindex.open(one) as app1:
                build_log(app1, Spec(units=units, indicators=indicators, years=1,
                                     corrections=corrections, seed=seed, first_year=year))
            many_s, one_s, ratio, _ = paired(lambda: cold_replay(db_path, year),
                                              lambda: cold_replay(one, year), repeat)
            phases.append(_phase("year_of_multi_year_log", many_s, one_s, ratio))
            from events.store import EventStore

            with EventStore(one, read_only=True) as small:
                phases += proofs_against(app.store, small, repeat)
        phases += robustness_phases(db_path, year, cold_s, repeat, tmp, progress)
        app.close()
        return {
            "machine": _machine(),
            "params": {"units": units, "indicators": indicators, "years": years,
                       "corrections": corrections, "seed": seed, "repeat": repeat},
            "events": total_events,
            "events_by_kind": counts,
            "year": year,
            "db_bytes": os.path.getsize(db_path),
            "phases": phases,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _proofs(store: Any) -> list[tuple[str, Callable[[], Any]]]:
    """prove, a consistency proof and a past root of `store`, from its tiles."""
    n = store.last_seq()
    half = n // 2 + 1
    return [("prove", lambda: store.inclusion_proof(half)),
            ("consistency_proof", lambda: store.consistency_proof(half)),
            ("past_root", lambda: tiles.Reader(store.db.conn, n).range_root(0, half))]


def proofs_against(big: Any, small: Any, repeat: int) -> list[dict]:
    """The proofs of `big` / the same of `small`, alternately, `PROOF_RUNS` × `repeat` pairs."""
    out = []
    for (name, fast), (_, slow) in zip(_proofs(big), _proofs(small)):
        seconds, floor, ratio, _ = paired(fast, slow, PROOF_RUNS * repeat)
        out.append(_phase(f"{name}_vs_one_year", seconds, floor, ratio, events=big.last_seq(),
                          one_year_events=small.last_seq(),
                          sealed=tiles.sealed_size(big.db.conn) == big.last_seq(),
                          one_year_sealed=tiles.sealed_size(small.db.conn) == small.last_seq()))
    return out


def proof_phases(store: Any, repeat: int) -> list[dict]:
    """prove, a consistency proof and a past root from the tiles / from every leaf."""
    n = store.last_seq()
    half = n // 2 + 1
    sealed = tiles.sealed_size(store.db.conn) == n
    out = []
    for name, fast, slow in (
        ("prove", lambda: store.inclusion_proof(half),
         lambda: merkle.inclusion_proof(store.leaf_hashes(), half - 1)),
        ("consistency_proof", lambda: store.consistency_proof(half),
         lambda: merkle.consistency_proof(store.leaf_hashes(), half)),
        ("past_root", lambda: tiles.Reader(store.db.conn, n).range_root(0, half),
         lambda: store.checkpoint(half)),
    ):
        fast_s, _ = _median(fast, PROOF_RUNS * repeat)
        slow_s, _ = _median(slow, repeat)
        out.append(_phase(name, fast_s, slow_s, fast_s / slow_s, events=n, sealed=sealed))
    return out


def robustness_year(db_path: str, year: int, samples: int = ROBUSTNESS_SAMPLES) -> int:
    """A fresh app: `samples` samples of ±20 % weight variation for every tier adopted for the
    year (the year folded once, each tier scored once, then re-weighted per sample)."""
    from ictindex.analysis import robustness
    from ictindex.app import Ictindex

    with Ictindex.open(db_path) as app:
        state = app.state(year=year)  # folded once, as the cold replay does
        ys = state.year_state(year)
        n = 0
        for tier in TIERS:
            if ys.adoption(tier) is not None:
                n += len(robustness(app, year, tier, samples=samples, seed=1,
                                    vary=("weights=±20%",), state=state).units)
        return n


def robustness_phases(db_path: str, year: int, cold_s: float, repeat: int, tmp: Path,
                      progress: Callable[[str], None]) -> list[dict]:
    """The two robustness phases (module docstring); `cold_s` is the cold replay's median."""
    from ictindex.analysis import robustness
    from ictindex.app import Ictindex
    from ictindex.sample import build_sample

    progress("robustness of the year")
    year_s, units = _median(lambda: robustness_year(db_path, year), repeat)
    phases = [_phase("robustness_year", year_s, cold_s, year_s / cold_s, units=units,
                     samples=ROBUSTNESS_SAMPLES)]
    progress("robustness of a province's communes")
    sample_db = str(tmp / "sample.db")
    with Ictindex.open(sample_db) as app:
        build_sample(app)

    def communes() -> int:
        with Ictindex.open(sample_db) as app:
            return len(robustness(app, 2020, "commune", samples=ROBUSTNESS_SAMPLES, seed=1,
                                  vary=("weights=±20%",)).units)

    prov_s, n = _median(communes, repeat)
    phase = _phase("robustness_province_communes", prov_s, cold_s, prov_s / cold_s, units=n,
                   samples=ROBUSTNESS_SAMPLES)
    phase["target"] = f"≤ {PROVINCE_COMMUNES_SECONDS:g} s"
    phase["met"] = prov_s <= PROVINCE_COMMUNES_SECONDS
    phases.append(phase)
    return phases


def _machine() -> dict[str, Any]:
    import platform

    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def format_table(report: dict[str, Any]) -> str:
    lines = [f"{report['params']['units']} units, {report['params']['years']} year(s), "
             f"{report['events']} events ({report['db_bytes'] / 1e6:.0f} MB); medians of "
             f"{report['params']['repeat']}",
             f"{'phase':<24}{'seconds':>10}{'floor':>10}{'ratio':>9}  target"]
    for p in report["phases"]:
        floor = "" if p["floor_seconds"] is None else f"{p['floor_seconds']:.4f}"
        target = p.get("target", "")
        if target:
            target += "  met" if p.get("met") else "  MISSED"
        lines.append(f"{p['phase']:<24}{p['seconds']:>10.4f}{floor:>10}{p['ratio']:>9.4f}  {target}")
    return "\n".join(lines)


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)
