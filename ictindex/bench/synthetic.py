"""Synthetic logs at any scale, reproducible from a seed, written through the real store API.

`build_log(app, spec)` registers `spec.units` units in tiers (≈ 8 % departments, 6 % districts,
86 % communes, each commune under a district), adopts the edition for every year, and for
each year submits every indicator the unit's tier reads (the first `spec.indicators` of the
edition's catalogue when given) with plausible values around a per-unit quality level that
drifts from year to year (the distributions of `ictindex.sample.generate`), then corrects a
share `spec.corrections` of that year's submissions and retracts a share `spec.retractions`
of them.  Each value is written as text and checked exactly as an import checks a file row
(`ictindex.importing.Checker`: unit exists that year, indicator of the adopted edition, value
parsed by its type; no value already counting), keyed by its idempotency key, and appended
with `EventStore.extend` in one batch per year and kind: validation, hashing and indexes are
all paid for, as in a real national import.  Values depend only on the seed; event ids and
times come from the store (inject a clock and id factory for byte-identical logs).
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Callable, Iterator

import attrs

from events.types import Choice, MethodologyAdopted, UnitRegistered
from ictindex import importing
from ictindex.sample.generate import Stream, sample_cell, sample_values

__all__ = ["Spec", "build_log", "import_year", "register_units", "units_of", "EDITION"]

EDITION = "local-ict@2020"
FIRST_YEAR = 2020
ACTOR = "synthetic-import"


@attrs.frozen
class Spec:
    units: int = 1000
    indicators: int | None = None  # None: every indicator of the edition
    years: int = 1
    corrections: float = 0.05
    retractions: float = 0.005
    seed: int = 1
    first_year: int = FIRST_YEAR
    edition: str = EDITION


def units_of(spec: Spec) -> list[UnitRegistered]:
    """The units: departments, districts, and communes spread over the districts."""
    n = max(3, spec.units)
    n_dep = max(1, round(n * 0.08))
    n_dis = max(1, round(n * 0.06))
    n_com = n - n_dep - n_dis
    out = [UnitRegistered(unit_id=f"D{i:05d}", tier="department", name=f"Sở {i}")
           for i in range(1, n_dep + 1)]
    out += [UnitRegistered(unit_id=f"H{i:04d}", tier="district", name=f"Huyện {i}")
            for i in range(1, n_dis + 1)]
    out += [UnitRegistered(unit_id=f"X{i:05d}", tier="commune", name=f"Xã {i}",
                           parent_id=f"H{(i - 1) % n_dis + 1:04d}")
            for i in range(1, n_com + 1)]
    return out


def _extra(code: str, ind, q: float, s: Stream) -> object:
    """A value for an indicator `sample_values` does not draw (e.g. the assessors' points)."""
    u = s.u()
    if ind.type == "yes_no":
        return u < q
    if ind.type == "category":
        return Choice(ind.categories[0 if u < q else -1])
    hi = float(ind.max) if getattr(ind, "max", None) is not None else 10.0
    return Decimal(str(round(min(hi, max(0.0, hi * (q + (u - 0.5) * 0.3))), 1)))


def _rows(spec: Spec, units: list[UnitRegistered], year: int, tier_codes: dict[str, list[str]],
          catalogue: dict) -> Iterator[tuple[str, str, str]]:
    for unit in units:
        rng = random.Random(f"{spec.seed}/{unit.unit_id}")
        base = rng.random() * 0.8 + 0.15
        q = min(1.0, max(0.05, base + (random.Random(f"{spec.seed}/{unit.unit_id}/{year}").random() - 0.5) * 0.1))
        stream = Stream(f"{spec.seed}/{unit.unit_id}/{year}/values")
        vals = sample_values(q, unit.tier, stream)
        for code in tier_codes[unit.tier]:
            v = vals.get(code)
            if v is None:
                v = _extra(code, catalogue[code], q, stream)
            yield unit.unit_id, code, sample_cell(v)


def _changed_value(value, ind, rng: random.Random) -> str:
    if type(value) is bool:
        return sample_cell(not value)
    if type(value) is Choice:
        others = [c for c in ind.categories if c != value.choice]
        return sample_cell(Choice(rng.choice(others))) if others else sample_cell(value)
    step = Decimal(1) if value == value.to_integral_value() else Decimal("0.1")
    new = value + step if rng.random() < 0.5 or value - step < 0 else value - step
    if ind.max is not None and new > ind.max:
        new = value - step
    return sample_cell(new)


def _plan(registry, spec: Spec) -> tuple[object, dict, dict[str, list[str]]]:
    """(edition entry, indicator catalogue, indicator codes per tier) of `spec`."""
    edition = registry.edition(spec.edition)
    m = edition.methodology
    catalogue = {i.code: i for i in m.indicators}
    order = [i.code for i in m.indicators]
    keep = set(order[: spec.indicators]) if spec.indicators else set(order)
    tier_codes = {}
    for tier, t in m.tiers.items():
        used = {code for c in t.components for cr in c.criteria for code in cr.indicators}
        tier_codes[tier] = [c for c in order if c in used and c in keep]
    return edition, catalogue, tier_codes


def register_units(app, spec: Spec) -> int:
    """Register the units of `spec` (keyed, as `ictindex units import` does); how many."""
    units = units_of(spec)
    return app.store.extend(units, actor=ACTOR,
                            keys=[importing.idempotency_key(p) for p in units]).appended


def import_year(app, spec: Spec, year: int) -> tuple[float, int]:
    """Adopt the edition for `year`, then import that year's submissions as a file import does
    (each row checked, keyed, hashed, appended in one batch): (seconds of the import, rows).

    The units must be registered.  Only the import is timed: the rows are made as text first,
    as a file would hold them.
    """
    store, registry = app.store, app.registry
    edition, catalogue, tier_codes = _plan(registry, spec)
    units = units_of(spec)
    store.extend([MethodologyAdopted(year=year, tier=tier, edition=edition.id,
                                     content_hash=edition.content_hash)
                  for tier in sorted(edition.methodology.tiers)
                  if any(u.tier == tier for u in units)], actor=ACTOR)
    checker = importing.Checker(app.state(year=year), registry)

    def payloads(rows) -> Iterator[tuple]:
        for uid, code, raw in rows:
            p, problems = checker.submission(year, uid, code, raw, evidence="", note="",
                                             decimal_comma=False)
            if problems:
                raise ValueError(f"synthetic row {year} {uid} {code} {raw!r}: {problems}")
            key = importing.idempotency_key(p)
            if importing.conflict_with_log(checker.year(year), p, key, store.has_key):
                raise ValueError(f"synthetic row {year} {uid} {code}: already has a value")
            yield p, key

    rows = list(_rows(spec, units, year, tier_codes, catalogue))  # the "file", untimed
    t0 = time.perf_counter()
    subs, keys = _unzip(payloads(rows))
    r = store.extend(subs, keys=keys, actor=ACTOR)
    return time.perf_counter() - t0, r.appended


def build_log(app, spec: Spec, progress: Callable[[str, int], None] = lambda what, n: None,
              timings: dict | None = None) -> dict[str, int]:
    """Write the synthetic log into `app`'s store (see the module docstring); counts by kind.

    `timings` (optional) receives `import_s`, the seconds spent validating, hashing and
    appending the submissions (the values already made as text, as a file would hold them),
    and `import_events`, how many were appended.
    """
    timings = {} if timings is None else timings
    store = app.store
    registry = app.registry
    _, catalogue, _ = _plan(registry, spec)
    counts = {"units": 0, "submissions": 0, "corrections": 0, "retractions": 0}
    counts["units"] = register_units(app, spec)
    progress("units", counts["units"])
    for year in range(spec.first_year, spec.first_year + spec.years):
        seconds, appended = import_year(app, spec, year)
        timings["import_s"] = timings.get("import_s", 0.0) + seconds
        timings["import_events"] = timings.get("import_events", 0) + appended
        counts["submissions"] += appended
        progress(f"submissions {year}", appended)

        # corrections and retractions of this year, checked like `ictindex correct/retract`
        rng = random.Random(f"{spec.seed}/amend/{year}")
        state = app.state(year=year)
        ys = state.year_state(year)
        cells = [(uid, code, cell) for uid in sorted(ys.cells)
                 for code, cell in sorted(ys.cells[uid].items())]
        n_cor = round(len(cells) * spec.corrections)
        n_ret = round(len(cells) * spec.retractions)
        picked = rng.sample(range(len(cells)), min(len(cells), n_cor + n_ret))
        # the submissions to amend, read back from the log (the state keeps only their values)
        submitted = state.source([cells[idx][2].seq for idx in picked])
        fixes = []
        for idx in picked[:n_cor]:
            uid, code, cell = cells[idx]
            raw = _changed_value(cell.value, catalogue[code], rng)
            try:
                fixes.append(importing.check_correction(state, registry, submitted[cell.seq], raw,
                                                        reason="synthetic correction",
                                                        authority="inspection"))
            except Exception:  # e.g. a category with a single choice: nothing to change
                continue
        r = store.extend(fixes, actor="synthetic-inspector")
        counts["corrections"] += r.appended
        progress(f"corrections {year}", r.appended)
        pulls = [importing.check_retraction(state, submitted[cells[idx][2].seq],
                                            reason="synthetic retraction")
                 for idx in picked[n_cor:]]
        r = store.extend(pulls, actor="synthetic-inspector")
        counts["retractions"] += r.appended
        progress(f"retractions {year}", r.appended)
    return counts


def _unzip(pairs: Iterator[tuple]) -> tuple[Iterator, "_Keys"]:
    """Two lazy streams (payloads, keys) from one stream of pairs, consumed in lockstep."""
    buf: list = []

    def first() -> Iterator:
        for p, k in pairs:
            buf.append(k)
            yield p

    return first(), _Keys(buf)


class _Keys:
    """The key stream of `_unzip`: `zip(payloads, keys)` always pulls the payload first."""

    def __init__(self, buf: list) -> None:
        self.buf = buf

    def __iter__(self) -> "_Keys":
        return self

    def __next__(self) -> str:
        if not self.buf:
            raise StopIteration
        return self.buf.pop()

