"""Derived projections kept in the log's SQLite file: current values, criterion points, totals
and ranks per (year, tier, edition), updated in the same transaction as each append.

Tables (all prefixed `proj_`, all derived: `drop` and `rebuild` at will, `check` compares them
with a full replay):

    proj_meta    (key, value)                              `last_seq`: the log position they reflect
    proj_values  (year, unit_id, indicator, value)         current value, canonical JSON
    proj_points  (year, tier, edition, unit_id, criterion, points)   exact criterion points
    proj_totals  (year, tier, edition, unit_id, total, published, rank)

How they stay current: `Projections` is a `events.interface.Projector`; `attach()` registers it
with a store that keeps derived tables (`events.interface.DerivedTables`, the SQLite store), so
it runs inside every append's transaction.  Per inserted chunk, `on_events` notes which (year, unit) changed and keeps the events (up to a bound).  Before the
batch commits, `before_commit` brings each affected year up to date: the year's folded state and
scores are kept warm in memory (`Warm`), the batch's events are applied to the state and only
the changed units are scored again with `engine.rescore.rescore_units`, which prepares a peer
rule's tier context again whenever a changed unit's input to it moved and then rescores every
unit of the tier for that criterion — exact, never approximate.  Only rows that changed are
written.  Without a warm state (first write in a process, another process wrote in between, a
big batch, a rolled-back batch) the year is folded and scored from the log inside the
transaction: slower, equally exact.  When the projections are absent or behind the log, appends
leave them alone (`verify` reports them stale; `rebuild` catches up).  A store without derived
tables (the memory store) has no projections: `exists()` is false and every ranking is a replay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import msgspec

from engine.fold import LogState, cell_value
from engine.rank import rank_tier
from engine.rerank import moved_rows, rank_incrementally
from engine.result import Provenance, Ranking
from engine.rescore import rescore_units
from engine.score import TierScores, needs_previous, score_tier
from events.interface import DerivedConnection, DerivedTables
from events.schema import declare_derived
from events.types import (TIERS, Event, IndicatorCorrected, IndicatorRetracted, IndicatorSubmitted,
                          MethodologyAdopted, units_named)

if TYPE_CHECKING:
    from ictindex.app import Ictindex

__all__ = ["Projections", "TABLES"]

TABLES = ("proj_meta", "proj_values", "proj_points", "proj_totals")
MAX_PENDING = 5_000  # beyond this many events in one batch, refold the year instead

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS proj_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS proj_values (year INTEGER NOT NULL, unit_id TEXT NOT NULL,
         indicator TEXT NOT NULL, value TEXT NOT NULL,
         PRIMARY KEY (year, unit_id, indicator)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS proj_points (year INTEGER NOT NULL, tier TEXT NOT NULL,
         edition TEXT NOT NULL, unit_id TEXT NOT NULL, criterion TEXT NOT NULL,
         points TEXT NOT NULL,
         PRIMARY KEY (year, tier, edition, unit_id, criterion)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS proj_totals (year INTEGER NOT NULL, tier TEXT NOT NULL,
         edition TEXT NOT NULL, unit_id TEXT NOT NULL, total TEXT NOT NULL,
         published TEXT NOT NULL, rank INTEGER NOT NULL,
         PRIMARY KEY (year, tier, edition, unit_id)) WITHOUT ROWID""",
)

declare_derived(*_SCHEMA)

_encode = msgspec.json.Encoder(decimal_format="string").encode


def value_text(value: Any) -> str:
    return _encode(value).decode()


class _Tier:
    __slots__ = ("edition", "scores", "ranking")

    def __init__(self, edition: str, scores: TierScores, ranking: Ranking) -> None:
        self.edition = edition
        self.scores = scores
        self.ranking = ranking


class Warm:
    """One year folded (with the year before) and scored, valid at log position `seq`."""

    __slots__ = ("year", "state", "tiers", "seq")

    def __init__(self, year: int, state: LogState, tiers: dict[str, _Tier], seq: int) -> None:
        self.year = year
        self.state = state
        self.tiers = tiers
        self.seq = seq


def _provenance(entry, seq: int) -> Provenance:
    from ictindex.replay import ENGINE_VERSION

    return Provenance(engine_version=ENGINE_VERSION, edition=entry.methodology.id,
                      content_hash=entry.content_hash,
                      plugin=entry.distribution or entry.plugin,
                      plugin_version=entry.version or "", checkpoint_size=seq,
                      checkpoint_root=None, as_of="projection")


class Projections:
    """The projections of one open `Ictindex` (see the module docstring)."""

    def __init__(self, app: "Ictindex") -> None:
        self.app = app
        self.warm: dict[int, Warm] = {}
        self._pending: list[Event] = []
        self._overflow = False
        self._changed: dict[int | None, set[str]] = {}  # year (None: registry) -> unit ids
        self._first_seq: int | None = None
        self._last_seq = 0
        self.attached = False

    # -- lifecycle -----------------------------------------------------------------------

    @classmethod
    def of(cls, app: "Ictindex") -> "Projections":
        """The projections attached to `app`'s store, else a new (detached) instance."""
        store = app.store
        if isinstance(store, DerivedTables):
            for p in store.projectors():
                if isinstance(p, cls):
                    return p
        return cls(app)

    def attach(self) -> "Projections":
        """Keep the projections current on every append made through this app's store (one
        instance per store: attaching replaces any other)."""
        store = self._host()
        for other in store.projectors():
            if isinstance(other, Projections) and other is not self:
                other.detach()
        store.add_projector(self)
        self.attached = True
        return self

    def detach(self) -> None:
        store = self.app.store
        if isinstance(store, DerivedTables):
            store.remove_projector(self)
        self.attached = False
        self.warm.clear()

    def _host(self) -> DerivedTables:
        store = self.app.store
        if not isinstance(store, DerivedTables):
            from ictindex.errors import UsageError

            raise UsageError(f"{type(store).__name__} keeps no derived tables: no projections "
                             "(rankings are computed by replay)")
        return store

    def reader(self) -> DerivedConnection:
        """A connection to read the projection tables (see `exists` first)."""
        return self._host().derived_reader()

    def exists(self) -> bool:
        store = self.app.store
        return isinstance(store, DerivedTables) and store.has_tables(TABLES)

    def last_seq(self) -> int | None:
        if not self.exists():
            return None
        row = self.reader().execute(
            "SELECT value FROM proj_meta WHERE key = 'last_seq'").fetchone()
        return int(row[0]) if row else None

    def drop(self) -> None:
        with self._host().derived_transaction() as conn:
            for t in TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {t}")
        self.detach()

    def rebuild(self, years: Iterable[int] | None = None) -> dict[str, int]:
        """Drop and rebuild every table from a full replay of each year (one transaction), and
        attach this instance to the app's store."""
        host = self._host()
        self.warm.clear()
        try:
            with host.derived_transaction() as conn:
                for t in TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {t}")
                for sql in _SCHEMA:
                    conn.execute(sql)
                last = self.app.store.last_seq()
                wanted = sorted(set(years) if years is not None else self.app.store.years())
                counts = {"years": 0, "tiers": 0, "units": 0}
                for y in wanted:
                    warm = self._load(y, last)
                    self._write_year(conn, warm, None)
                    self.warm[y] = warm
                    counts["years"] += 1
                    counts["tiers"] += len(warm.tiers)
                    counts["units"] += sum(len(t.ranking.rows) for t in warm.tiers.values())
                conn.execute("INSERT OR REPLACE INTO proj_meta VALUES ('last_seq', ?)", (str(last),))
        except BaseException:
            self.warm.clear()
            raise
        self.attach()  # from now on, every append through this app keeps them current
        return counts

    # -- reading ---------------------------------------------------------------------------

    def ranking(self, year: int, tier: str) -> list[tuple[int, str, str, str]]:
        """(rank, unit_id, published total, exact total) of a tier, best first, from the tables."""
        return list(self.reader().execute(
            "SELECT rank, unit_id, published, total FROM proj_totals WHERE year = ? AND tier = ? "
            "ORDER BY rank, unit_id", (year, tier)))

    def tier_scores(self, year: int, tier: str) -> tuple[TierScores, Ranking] | None:
        """The warm scores and ranking of a tier, when this process holds them."""
        warm = self.warm.get(year)
        t = warm.tiers.get(tier) if warm else None
        return (t.scores, t.ranking) if t else None

    # -- building ----------------------------------------------------------------------------

    def _load(self, year: int, seq: int) -> Warm:
        app = self.app
        state = app.state(years={year - 1, year})
        state.last_seq = seq
        warm = Warm(year, state, {}, seq)
        for tier in TIERS:
            self.score_warm(warm, tier)
        return warm

    def score_warm(self, warm: Warm, tier: str, old: _Tier | None = None,
               changed: set[str] | None = None) -> None:
        ys = warm.state.year_state(warm.year)
        adopted = ys.adoption(tier)
        registry = self.app.registry
        if adopted is None or adopted.edition not in registry.editions:
            warm.tiers.pop(tier, None)
            return
        entry = registry.edition(adopted.edition)
        m = entry.methodology
        if tier not in m.tiers:
            warm.tiers.pop(tier, None)
            return
        previous = warm.state.year_state(warm.year - 1) if needs_previous(m, tier) else None
        if old is not None and old.edition == m.id and changed is not None:
            scores = rescore_units(old.scores, ys, changed, previous=previous)
            ranking = rank_incrementally(scores, _provenance(entry, warm.seq),
                                         (old.scores, old.ranking))
        else:
            scores = score_tier(ys, tier, m, registry.rules, previous=previous)
            ranking = rank_tier(scores, _provenance(entry, warm.seq))
        warm.tiers[tier] = _Tier(m.id, scores, ranking)

    def _sync_year(self, conn: DerivedConnection, warm: Warm, units: set[str]) -> None:
        """Bring the tables of a year, current before this batch, to `warm` by writing only
        the rows that differ: the values of the `units` the batch touched, and the points and
        totals that the tables hold differently (read back and compared)."""
        y = warm.year
        ys = warm.state.year_state(y)
        conn.executemany("DELETE FROM proj_values WHERE year = ? AND unit_id = ?",
                         [(y, uid) for uid in units])
        conn.executemany("INSERT INTO proj_values VALUES (?, ?, ?, ?)", [
            (y, uid, code, value_text(v)) for uid in units
            for code, cell in ys.cells.get(uid, {}).items()
            if (v := cell_value(cell)) is not None])
        for tier in TIERS:
            new = warm.tiers.get(tier)
            have_t = {(ed, uid): (total, pub, rank) for ed, uid, total, pub, rank in conn.execute(
                "SELECT edition, unit_id, total, published, rank FROM proj_totals "
                "WHERE year = ? AND tier = ?", (y, tier))}
            have_p = {(ed, uid, c): pts for ed, uid, c, pts in conn.execute(
                "SELECT edition, unit_id, criterion, points FROM proj_points "
                "WHERE year = ? AND tier = ?", (y, tier))}
            want_t, want_p = {}, {}
            if new is not None:
                codes = [spec.criterion.code for spec in new.scores.criteria]
                for row in new.ranking.rows:
                    u = new.scores.units[row.unit_id]
                    want_t[(new.edition, row.unit_id)] = (str(u.total), str(u.published_total), row.rank)
                    for code, x in zip(codes, u.exact):
                        want_p[(new.edition, row.unit_id, code)] = "none" if x is None else str(x)
            conn.executemany("DELETE FROM proj_totals WHERE year = ? AND tier = ? AND edition = ? "
                             "AND unit_id = ?", [(y, tier, *k) for k in have_t if k not in want_t])
            conn.executemany("DELETE FROM proj_points WHERE year = ? AND tier = ? AND edition = ? "
                             "AND unit_id = ? AND criterion = ?",
                             [(y, tier, *k) for k in have_p if k not in want_p])
            conn.executemany("INSERT OR REPLACE INTO proj_totals VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(y, tier, *k, *v) for k, v in want_t.items() if have_t.get(k) != v])
            conn.executemany("INSERT OR REPLACE INTO proj_points VALUES (?, ?, ?, ?, ?, ?)",
                             [(y, tier, *k, v) for k, v in want_p.items() if have_p.get(k) != v])

    def _write_year(self, conn: DerivedConnection, warm: Warm,
                    before: dict[str, _Tier] | None, units: set[str] | None = None) -> None:
        """Write a year's rows: all of them (`before` None), else those that changed."""
        y = warm.year
        ys = warm.state.year_state(y)
        if before is None:
            conn.execute("DELETE FROM proj_values WHERE year = ?", (y,))
            ids: Iterable[str] = ys.cells
        else:
            ids = units or ()
        rows = []
        dels = []
        for uid in ids:
            ucells = ys.cells.get(uid, {})
            dels.append((y, uid))
            for code, cell in ucells.items():
                v = cell_value(cell)
                if v is not None:
                    rows.append((y, uid, code, value_text(v)))
        if before is not None and dels:
            conn.executemany("DELETE FROM proj_values WHERE year = ? AND unit_id = ?", dels)
        conn.executemany("INSERT INTO proj_values VALUES (?, ?, ?, ?)", rows)

        for tier in TIERS:
            new = warm.tiers.get(tier)
            old = before.get(tier) if before is not None else None
            if before is None or old is None or new is None or old.edition != (new and new.edition):
                conn.execute("DELETE FROM proj_points WHERE year = ? AND tier = ?", (y, tier))
                conn.execute("DELETE FROM proj_totals WHERE year = ? AND tier = ?", (y, tier))
                if new is not None:
                    self._write_tier(conn, y, tier, new, None)
            elif new is not old:
                self._write_tier(conn, y, tier, new, old)

    @staticmethod
    def _write_tier(conn, year: int, tier: str, new: _Tier, old: _Tier | None) -> None:
        scores, ranking = new.scores, new.ranking
        codes = [spec.criterion.code for spec in scores.criteria]
        ed = new.edition
        old_units = old.scores.units if old is not None else {}
        # rank_tier(reuse=...) keeps the very row object of a unit whose score and rank stand:
        # only the other rows can differ from what the tables hold
        left, candidates = (moved_rows(old.ranking, ranking) if old is not None
                            else ((), ranking.rows))
        points, totals, gone = [], [], []
        for row in candidates:
            uid = row.unit_id
            u = scores.units[uid]
            o = old_units.get(uid)
            if o is not u and (o is None or o.exact != u.exact):
                for code, x in zip(codes, u.exact):
                    points.append((year, tier, ed, uid, code, "none" if x is None else str(x)))
            totals.append((year, tier, ed, uid, str(u.total), str(u.published_total), row.rank))
        if old is not None:
            gone = [(year, tier, r.unit_id) for r in left if r.unit_id not in scores.units]
            conn.executemany("DELETE FROM proj_points WHERE year = ? AND tier = ? AND unit_id = ?", gone)
            conn.executemany("DELETE FROM proj_totals WHERE year = ? AND tier = ? AND unit_id = ?", gone)
        conn.executemany("INSERT OR REPLACE INTO proj_points VALUES (?, ?, ?, ?, ?, ?)", points)
        conn.executemany("INSERT OR REPLACE INTO proj_totals VALUES (?, ?, ?, ?, ?, ?, ?)", totals)

    # -- the Projector protocol (called inside the append's transaction) -------------------------

    def on_events(self, conn: DerivedConnection, events: list[Event]) -> None:
        if self._first_seq is None:
            self._first_seq = events[0].seq
        self._last_seq = events[-1].seq
        changed = self._changed
        for e in events:
            p = e.payload
            t = type(p)
            if t is IndicatorSubmitted or t is IndicatorCorrected or t is IndicatorRetracted:
                changed.setdefault(p.year, set()).add(p.unit_id)
            elif t is MethodologyAdopted:
                changed.setdefault(p.year, set())
            elif not hasattr(p, "year") and units_named(p):  # the unit registry (merges too)
                changed.setdefault(None, set()).update(units_named(p))
        if not self._overflow:
            if len(self._pending) + len(events) > MAX_PENDING:
                self._overflow = True
                self._pending = []
            else:
                self._pending.extend(events)

    def before_commit(self, conn: DerivedConnection) -> None:
        pending, overflow, changed, first = self._pending, self._overflow, self._changed, self._first_seq
        last = self._last_seq
        self._pending, self._overflow, self._changed, self._first_seq = [], False, {}, None
        if first is None or not self.exists():
            return
        row = conn.execute("SELECT value FROM proj_meta WHERE key = 'last_seq'").fetchone()
        if row is None or int(row[0]) != first - 1:
            self.warm.clear()  # behind the log (or ahead of a rolled-back batch): leave stale
            return
        projected = _projected_years(conn) | set(self.warm)
        if None in changed:  # the registry moved: every year may have moved
            years = projected | {y for y in changed if y is not None}
        else:
            years = set(changed)
            years |= {y + 1 for y in changed if y + 1 in projected}  # carry_forward reads y
        for y in sorted(years):
            warm = self.warm.get(y)
            units = set(changed.get(y, ())) | set(changed.get(None, ()))
            if y - 1 in changed:
                units |= changed[y - 1]
            if warm is None or warm.seq != first - 1 or overflow:
                fresh = self._load(y, last)
                if y in projected:  # current up to this batch: write only what differs
                    self._sync_year(conn, fresh, units)
                else:
                    self._write_year(conn, fresh, None)
                self.warm[y] = fresh
                continue
            before = dict(warm.tiers)
            for e in pending:
                ey = getattr(e.payload, "year", None)
                if ey is None or ey in (y, y - 1):
                    warm.state.apply(e)
            warm.state.last_seq = last
            warm.seq = last
            adopted = {e.payload.tier for e in pending
                       if type(e.payload) is MethodologyAdopted and e.payload.year == y}
            registry_moved = None in changed
            year_units = warm.state.year_state(y).units
            touched = {year_units[u].tier for u in units if u in year_units}
            for tier in TIERS:
                old = before.get(tier)
                if tier in adopted or old is None:
                    self.score_warm(warm, tier)
                elif tier in touched or registry_moved:
                    self.score_warm(warm, tier, old, units)
                # else: no unit of this tier changed, its scores and ranking stand
            self._write_year(conn, warm, before, set(changed.get(y, ())) | set(changed.get(None, ())))
        conn.execute("INSERT OR REPLACE INTO proj_meta VALUES ('last_seq', ?)", (str(last),))


def _projected_years(conn: DerivedConnection) -> set[int]:
    """The years proj_totals holds: one index probe per year (DISTINCT would read every row)."""
    years: set[int] = set()
    y = conn.execute("SELECT min(year) FROM proj_totals").fetchone()[0]
    while y is not None:
        years.add(y)
        y = conn.execute("SELECT min(year) FROM proj_totals WHERE year > ?", (y,)).fetchone()[0]
    return years
