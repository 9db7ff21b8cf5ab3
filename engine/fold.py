"""Fold: events up to an as-of point → the state of every year.

`fold` reads the log once, in `seq` order, and keeps

- the unit registry (registrations, renames, retirements, merges, splits), from which
  `LogState.year_state` derives the units that existed in a year, with the name, tier and
  parent of that year, and `LogState.lineage` each unit's changes;
- the methodology adopted for each (year, tier) — the latest adoption wins;
- the publications of each (year, tier), in log order;
- the current value of every (year, unit, indicator) and the events that touched it, as a
  compact cell (`engine.cells`: the value rule lives there).

Corrections and retractions that name an event the key does not hold are left out of the state
and reported in `LogState.anomalies` (the application refuses to record them in the first
place).  Rename or retirement of an unknown unit likewise.

Speed and memory: one pass, and per indicator event only a small entry (seq, id, value) is
kept; the decoded event is dropped.  Traces read the events back by seq through the state's
`source` (the store, for a state folded from it); `fold` without a `source` keeps the indicator
events in a dict instead, which suits tests and small logs.

Pure: no clock, no environment, no I/O.  `as_of_time` must be timezone-aware.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, Iterable, Iterator

import msgspec

from engine.cells import (
    Cell,
    Corrected,
    EventRef,
    EventSource,
    Retracted,
    Submitted,
    ValueHistory,
    cell_refs,
    cell_statuses,
    cell_value,
)

from events.lean import CorrectedValue, RetractedValue, SubmittedValue
from events.types import (
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    RankingPublished,
    SigningKeyRegistered,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitSplit,
    UnitsMerged,
    Value,
)

__all__ = [
    "Anomaly",
    "EventRef",
    "LineageStep",
    "LogState",
    "UnitInfo",
    "ValueHistory",
    "YearState",
    "cell_value",
    "fold",
]


class Anomaly(msgspec.Struct, frozen=True):
    """An event the fold left out, and why."""

    seq: int
    event_id: str
    kind: str  # the payload tag
    message: str


class UnitInfo(msgspec.Struct, frozen=True, gc=False):
    """A unit as it was in one year."""

    unit_id: str
    tier: str
    name: str
    parent_id: str | None = None
    from_year: int | None = None
    last_year: int | None = None
    merged_into: str | None = None


class LineageStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                  gc=False):
    """One change of a unit, as `explain` and the site show it.

    `kind`: renamed | retired | merged_from | merged_into | split_from | split_into.
    `year` is the first year the change counts for (for `retired` and `merged_into`, `split_into`
    of a unit that ends: the year after its last).  `units` are the other units of the change
    with their names (`id`, `name`): the sources of a merge, its target, the parts of a split
    or the unit split.  `name` is the unit's name after the change, `old_name` before it.
    """

    kind: str
    year: int
    date: dt.date | None
    units: tuple[tuple[str, str], ...]
    name: str | None
    old_name: str | None
    reason: str
    authority: str
    seq: int
    event_id: str


def input_of(value: Value | None) -> Any:
    """A stored value as a rule sees it: Decimal, bool, the category name, or None."""
    if type(value) is Choice:
        return value.choice
    return value


class _UnitRecord:
    __slots__ = ("registrations", "renames", "retirements", "steps")

    def __init__(self) -> None:
        # (from_year or None, seq, payload)
        self.registrations: list[tuple[int | None, int, UnitRegistered]] = []
        self.renames: list[tuple[int, int, str]] = []
        # (last_year, seq, merged_into)
        self.retirements: list[tuple[int, int, str | None]] = []
        # The events that changed the unit (lineage), in log order: (seq, event_id, payload)
        self.steps: list[tuple[int, str, Any]] = []

    def latest(self) -> UnitInfo | None:
        """The unit in the last year it existed (its current state while it exists)."""
        info = self.as_of_year(9999)
        if info is not None:
            return info
        for ly, _, _ in sorted(self.retirements, key=lambda r: r[1], reverse=True):
            info = self.as_of_year(ly)
            if info is not None:
                return info
        return None

    def first_year(self) -> int | None:
        """The first year the unit existed (None: since before any year the log knows)."""
        years = [fy for fy, _, _ in self.registrations]
        return None if None in years else min(years, default=None)

    def as_of_year(self, year: int) -> UnitInfo | None:
        best = None
        for fy, seq, reg in self.registrations:
            if fy is not None and fy > year:
                continue
            k = (-1 if fy is None else fy, seq)
            if best is None or k > best[0]:
                best = (k, reg)
        if best is None:
            return None
        (reg_from, _), reg = best
        # The latest retirement (by seq) of the registration in force retires it.
        retired = None
        for ly, seq, into in self.retirements:
            if ly >= reg_from:
                if retired is None or seq > retired[0]:
                    retired = (seq, ly, into)
        if retired is not None and retired[1] < year:
            return None
        name = reg.name
        name_key = (reg_from, -1)
        for fy, seq, new in self.renames:
            if fy <= year and (fy, seq) > name_key and fy >= reg_from:
                name_key = (fy, seq)
                name = new
        return UnitInfo(
            unit_id=reg.unit_id,
            tier=reg.tier,
            name=name,
            parent_id=reg.parent_id,
            from_year=reg.from_year,
            last_year=None if retired is None else retired[1],
            merged_into=None if retired is None else retired[2],
        )


EMPTY: dict = {}


class YearState:
    """The state of one year: a read-only view of the `LogState` it came from."""

    __slots__ = ("year", "units", "cells", "_adoptions", "_publications", "last_seq", "source")

    def __init__(self, year: int, units: dict[str, UnitInfo], cells: dict[str, dict[str, Cell]],
                 adoptions: dict[str, Event], publications: dict[str, list[Event]],
                 last_seq: int, source: EventSource) -> None:
        self.source = source  # reads back the events behind cells, by seq
        self.year = year
        self.units = units  # unit_id -> UnitInfo, every tier, sorted by unit_id
        self.cells = cells  # unit_id -> indicator -> cell (units may not exist this year)
        self._adoptions = adoptions
        self._publications = publications
        self.last_seq = last_seq

    def tier_units(self, tier: str) -> list[UnitInfo]:
        """Units of `tier` that existed this year, sorted by unit_id."""
        return [u for u in self.units.values() if u.tier == tier]

    def value(self, unit_id: str, indicator: str) -> Value | None:
        return cell_value(self.cells.get(unit_id, EMPTY).get(indicator))

    def history(self, unit_id: str, indicator: str) -> tuple[EventRef, ...]:
        """The events behind one value, in log order, with their status (read back)."""
        return self.traces([self.cells.get(unit_id, EMPTY).get(indicator)])[0]

    def traces(self, cells: Iterable[Cell | None]) -> list[tuple[EventRef, ...]]:
        """`history` of several cells of this state, their events read back at once."""
        return cell_refs(cells, self.source)

    def statuses(self, unit_id: str, indicator: str) -> dict[str, tuple[int, str]]:
        """event id -> (seq, status) of the events behind one value, nothing read back."""
        cell = self.cells.get(unit_id, EMPTY).get(indicator)
        return {e.event_id: (e.seq, status) for e, status in cell_statuses(cell)}

    def values(self, unit_id: str) -> dict[str, Value]:
        """The current values of one unit (missing ones left out), by indicator code."""
        out = {}
        for code, cell in sorted(self.cells.get(unit_id, EMPTY).items()):
            v = cell_value(cell)
            if v is not None:
                out[code] = v
        return out

    def adoption(self, tier: str) -> MethodologyAdopted | None:
        e = self._adoptions.get(tier)
        return None if e is None else e.payload

    def adoption_event(self, tier: str) -> Event | None:
        return self._adoptions.get(tier)

    def publications(self, tier: str) -> tuple[Event, ...]:
        """RankingPublished events of this year and tier, in log order (one that publishes
        several tiers is seen here as the publication of this tier alone: `per_tier`)."""
        return tuple(self._publications.get(tier, ()))

    def latest_publication(self, tier: str) -> RankingPublished | None:
        pubs = self._publications.get(tier)
        return pubs[-1].payload if pubs else None

    def unknown_units(self) -> list[str]:
        """Units with values this year that did not exist this year (not scored)."""
        return sorted(u for u in self.cells if u not in self.units)


class LogState:
    """What `fold` builds; `apply` extends it by later events (incremental re-ranking)."""

    def __init__(self, source: EventSource | None = None) -> None:
        # Without a source the indicator events are kept here, to be read back from memory.
        self._kept: dict[int, Event] | None = None if source is not None else {}
        self.source: EventSource = source if source is not None else self._read_kept
        self.last_seq = 0
        # The years whose events were folded, when only some were read (the others are then
        # empty here, not absent from the log); None when the whole log was folded.
        self.loaded_years: frozenset[int] | None = None
        self.last_recorded_at: dt.datetime | None = None
        self.anomalies: list[Anomaly] = []
        self._units: dict[str, _UnitRecord] = {}
        self._cells: dict[int, dict[str, dict[str, Cell]]] = {}
        self._adoptions: dict[int, dict[str, Event]] = {}
        self._publications: dict[int, dict[str, list[Event]]] = {}
        self._year_units: dict[int, dict[str, UnitInfo]] = {}

    # -- reading -------------------------------------------------------------------------

    def years(self) -> list[int]:
        """Years that hold values, adoptions or publications."""
        return sorted({y for y, c in self._cells.items() if c}
                      | {y for y, a in self._adoptions.items() if a}
                      | {y for y, p in self._publications.items() if p})

    def unit_ids(self) -> list[str]:
        return sorted(self._units)

    def has_unit(self, unit_id: str) -> bool:
        """Whether `unit_id` was ever registered (or made by a merge or a split)."""
        return unit_id in self._units

    def registrations(self, unit_id: str) -> tuple[UnitRegistered, ...]:
        """Every registration of a unit, in log order (any year; () for an unknown unit)."""
        rec = self._units.get(unit_id)
        return () if rec is None else tuple(reg for _, _, reg in sorted(rec.registrations, key=lambda r: r[1]))

    def unit(self, unit_id: str, year: int) -> UnitInfo | None:
        rec = self._units.get(unit_id)
        return None if rec is None else rec.as_of_year(year)

    def latest_unit(self, unit_id: str) -> UnitInfo | None:
        """The unit as it is now, or in its last year if it no longer exists."""
        rec = self._units.get(unit_id)
        return None if rec is None else rec.latest()

    def first_year(self, unit_id: str) -> int | None:
        """The first year `unit_id` existed; None when registered without a first year."""
        rec = self._units.get(unit_id)
        return None if rec is None else rec.first_year()

    def unit_names(self, unit_id: str) -> tuple[str, ...]:
        """Every name the unit has had, in log order, without repeats."""
        rec = self._units.get(unit_id)
        if rec is None:
            return ()
        named = sorted([(seq, reg.name) for _, seq, reg in rec.registrations]
                       + [(seq, name) for _, seq, name in rec.renames])
        return tuple(dict.fromkeys(name for _, name in named))

    def lineage(self, unit_id: str) -> tuple[LineageStep, ...]:
        """The renames, retirement, merges and splits of a unit, in log order."""
        rec = self._units.get(unit_id)
        if rec is None:
            return ()
        out = []
        for seq, event_id, p in rec.steps:
            out.append(self._step(unit_id, seq, event_id, p))
        return tuple(out)

    def _name(self, unit_id: str, year: int) -> str:
        info = self.unit(unit_id, year)
        if info is None:
            info = self.latest_unit(unit_id)
        return unit_id if info is None else info.name

    def _step(self, uid: str, seq: int, event_id: str, p: Any) -> LineageStep:
        t = type(p)
        date = None if t in (UnitRenamed, UnitRetired) and not isinstance(p.date, dt.date) else p.date
        base = dict(seq=seq, event_id=event_id, date=date,
                    reason=p.reason if isinstance(p.reason, str) else "",
                    authority=p.authority if isinstance(p.authority, str) else "")
        if t is UnitRenamed:
            return LineageStep(kind="renamed", year=p.from_year, units=(), name=p.name,
                               old_name=self._name(uid, p.from_year - 1), **base)
        if t is UnitRetired:
            into = () if p.merged_into is None else ((p.merged_into, self._name(p.merged_into, p.last_year + 1)),)
            return LineageStep(kind="merged_into" if into else "retired", year=p.last_year + 1,
                               units=into, name=None, old_name=self._name(uid, p.last_year), **base)
        year = p.date.year
        if t is UnitsMerged:
            if uid == p.target:
                others = tuple((u, self._name(u, year - 1)) for u in p.sources if u != uid)
                old = self._name(uid, year - 1) if uid in p.sources else None
                return LineageStep(kind="merged_from", year=year, units=others,
                                   name=self._name(uid, year), old_name=old, **base)
            return LineageStep(kind="merged_into", year=year,
                               units=((p.target, self._name(p.target, year)),), name=None,
                               old_name=self._name(uid, year - 1), **base)
        # UnitSplit
        if uid == p.unit_id:
            parts = tuple((part.unit_id, part.name) for part in p.into if part.unit_id != uid)
            return LineageStep(kind="split_into", year=year, units=parts,
                               name=self._name(uid, year) if self.unit(uid, year) else None,
                               old_name=self._name(uid, year - 1), **base)
        return LineageStep(kind="split_from", year=year,
                           units=((p.unit_id, self._name(p.unit_id, year - 1)),),
                           name=self._name(uid, year), old_name=None, **base)

    def year_units(self, year: int) -> dict[str, UnitInfo]:
        """The units that existed in `year`, by unit_id (sorted).  Cached until the next
        registry event; treat the dict as read-only."""
        units = self._year_units.get(year)
        if units is None:
            units = {}
            for uid in sorted(self._units):
                info = self._units[uid].as_of_year(year)
                if info is not None:
                    units[uid] = info
            self._year_units[year] = units
        return units

    def year_state(self, year: int) -> YearState:
        """The state of `year`.  Its units are a snapshot; its values are a live view that later
        `apply` calls update (fold again to keep an earlier state)."""
        units = self.year_units(year)
        return YearState(
            year,
            units,
            self._cells.setdefault(year, {}),
            self._adoptions.setdefault(year, {}),
            self._publications.setdefault(year, {}),
            self.last_seq,
            self.source,
        )

    def _read_kept(self, seqs: Iterable[int]) -> dict[int, Event]:
        kept = self._kept
        return {s: kept[s] for s in seqs}

    # -- folding -------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one more event (it must come after every event folded so far)."""
        self._fold(iter((event,)))

    def _anomaly(self, e: Event, message: str) -> None:
        self.anomalies.append(Anomaly(e.seq, e.event_id, type(e.payload).__struct_config__.tag, message))

    def _fold(self, events: Iterator[Event]) -> None:
        cells_by_year = self._cells
        last = self.last_seq
        last_event: Event | None = None
        Sub, Cor, Ret = IndicatorSubmitted, IndicatorCorrected, IndicatorRetracted
        LeanSub, LeanCor, LeanRet = SubmittedValue, CorrectedValue, RetractedValue
        Entry, Hist = Submitted, ValueHistory
        kept = self._kept
        # One string object per indicator code, not one per event: it is a key of every cell.
        intern = sys.intern
        try:
            for e in events:
                seq = e.seq
                if seq <= last:
                    raise ValueError(
                        f"events out of order: seq {seq} after seq {last} (fold needs seq order)"
                    )
                last = seq
                last_event = e
                p = e.payload
                t = type(p)
                if t is LeanSub or t is Sub:
                    if kept is not None:
                        kept[seq] = e
                    entry = Entry(seq, e.event_id, p.value)
                    ycells = cells_by_year.get(p.year)
                    if ycells is None:
                        ycells = cells_by_year[p.year] = {}
                    ucells = ycells.get(p.unit_id)
                    if ucells is None:
                        ycells[p.unit_id] = {intern(p.indicator): entry}
                        continue
                    cell = ucells.get(p.indicator)
                    if cell is None:
                        ucells[intern(p.indicator)] = entry
                    else:
                        if type(cell) is Entry:
                            cell = ucells[p.indicator] = Hist(cell)
                        cell.add_submission(entry)
                elif t is LeanCor or t is LeanRet:
                    self._amend(e, p, t is LeanCor)
                elif t is Cor or t is Ret:
                    if kept is not None:
                        kept[seq] = e
                    self._amend(e, p, t is Cor)
                elif t is UnitRegistered:
                    self._year_units.clear()
                    rec = self._units.get(p.unit_id)
                    if rec is None:
                        rec = self._units[p.unit_id] = _UnitRecord()
                    rec.registrations.append((p.from_year, seq, p))
                elif t is UnitRenamed:
                    self._year_units.clear()
                    rec = self._units.get(p.unit_id)
                    if rec is None:
                        self._anomaly(e, f"renames unit {p.unit_id!r}, which is not registered")
                    else:
                        rec.renames.append((p.from_year, seq, p.name))
                        rec.steps.append((seq, e.event_id, p))
                elif t is UnitRetired:
                    self._year_units.clear()
                    rec = self._units.get(p.unit_id)
                    if rec is None:
                        self._anomaly(e, f"retires unit {p.unit_id!r}, which is not registered")
                    else:
                        rec.retirements.append((p.last_year, seq, p.merged_into))
                        rec.steps.append((seq, e.event_id, p))
                elif t is UnitsMerged:
                    self._year_units.clear()
                    self._merge(e, p)
                elif t is UnitSplit:
                    self._year_units.clear()
                    self._split(e, p)
                elif t is MethodologyAdopted:
                    self._adoptions.setdefault(p.year, {})[p.tier] = e
                elif t is RankingPublished:
                    pubs = self._publications.setdefault(p.year, {})
                    if p.also is msgspec.UNSET:
                        pubs.setdefault(p.tier, []).append(e)
                    else:  # one event for several tiers: each tier sees its own publication
                        for view in p.per_tier():
                            pubs.setdefault(view.tier, []).append(
                                msgspec.structs.replace(e, payload=view))
                elif t is SigningKeyRegistered:
                    pass  # vouches for checkpoints; scores nothing
                else:  # pragma: no cover - the union is closed
                    raise TypeError(f"unknown payload type {t.__name__}")
        finally:
            self.last_seq = last
            if last_event is not None:
                self.last_recorded_at = last_event.recorded_at

    def _record(self, unit_id: str) -> _UnitRecord:
        rec = self._units.get(unit_id)
        if rec is None:
            rec = self._units[unit_id] = _UnitRecord()
        return rec

    def _merge(self, e: Event, p: UnitsMerged) -> None:
        # A change counts from the year of its date: the sources that end are last in the
        # year before, the target (new, or renamed) counts from that year.
        year = p.date.year
        unknown = [u for u in p.sources if u not in self._units]
        if unknown:
            self._anomaly(e, f"merges unit {unknown[0]!r}, which is not registered")
            return
        for uid in p.sources:
            if uid != p.target:
                rec = self._units[uid]
                rec.retirements.append((year - 1, e.seq, p.target))
                rec.steps.append((e.seq, e.event_id, p))
        target = self._record(p.target)
        if p.target not in p.sources:
            target.registrations.append((year, e.seq, UnitRegistered(
                unit_id=p.target, tier=p.tier, name=p.name or p.target, parent_id=p.parent_id,
                from_year=year)))
        elif p.name:
            target.renames.append((year, e.seq, p.name))
        target.steps.append((e.seq, e.event_id, p))

    def _split(self, e: Event, p: UnitSplit) -> None:
        year = p.date.year
        rec = self._units.get(p.unit_id)
        info = None if rec is None else rec.as_of_year(year - 1)
        if info is None:
            self._anomaly(e, f"splits unit {p.unit_id!r}, which did not exist in {year - 1}")
            return
        if all(part.unit_id != p.unit_id for part in p.into):
            rec.retirements.append((year - 1, e.seq, None))
        rec.steps.append((e.seq, e.event_id, p))
        for part in p.into:
            if part.unit_id == p.unit_id:
                if part.name != info.name:
                    rec.renames.append((year, e.seq, part.name))
                continue
            new = self._record(part.unit_id)
            new.registrations.append((year, e.seq, UnitRegistered(
                unit_id=part.unit_id, tier=info.tier, name=part.name, parent_id=info.parent_id,
                from_year=year)))
            new.steps.append((e.seq, e.event_id, p))

    def _amend(self, e: Event, p: Any, is_correction: bool) -> None:
        target = p.corrects if is_correction else p.retracts
        where = f"({p.year}, {p.unit_id}, {p.indicator})"
        ucells = self._cells.get(p.year, EMPTY).get(p.unit_id)
        cell = None if ucells is None else ucells.get(p.indicator)
        if cell is None:
            self._anomaly(e, f"names event {target!r}, but {where} has no submission")
            return
        if type(cell) is Submitted:
            found = cell if cell.event_id == target else None
        else:
            found = cell.find(target)
        if found is None:
            self._anomaly(e, f"names event {target!r}, which is not an event of {where}")
            return
        ft = type(found)
        if is_correction and ft is not Submitted:
            self._anomaly(e, f"corrects event {target!r}, which is a correction, not a submission")
            return
        if not is_correction:
            if ft is Retracted:
                self._anomaly(e, f"retracts event {target!r}, which is itself a retraction")
                return
            if type(cell) is ValueHistory and target in cell.retracted_ids():
                self._anomaly(e, f"retracts event {target!r}, which is already retracted")
                return
        if type(cell) is Submitted:
            cell = ucells[p.indicator] = ValueHistory(cell)
        cell.add_amendment(Corrected(e.seq, e.event_id, p.value, target) if is_correction
                           else Retracted(e.seq, e.event_id, target))


def fold(
    events: Iterable[Event],
    *,
    as_of_seq: int | None = None,
    as_of_time: dt.datetime | None = None,
    source: EventSource | None = None,
) -> LogState:
    """Fold `events` (in seq order) up to and including `as_of_seq` / `as_of_time`.

    With `as_of_time` the fold stops at the first event recorded after it: the state is the
    log's prefix as it stood at that moment.  Both limits may be given; the earlier one wins.

    `source` reads events back by seq (for traces): pass it when `events` come from a store,
    so the fold keeps no decoded event; without it the indicator events are kept in memory.
    """
    it: Iterator[Event] = iter(events)
    if as_of_time is not None:
        if as_of_time.tzinfo is None or as_of_time.utcoffset() is None:
            raise ValueError("as_of_time must be timezone-aware (UTC)")
        it = _until_time(it, as_of_time)
    if as_of_seq is not None:
        it = _until_seq(it, as_of_seq)
    state = LogState(source)
    state._fold(it)
    return state


def _until_seq(it: Iterator[Event], limit: int) -> Iterator[Event]:
    for e in it:
        if e.seq > limit:
            return
        yield e


def _until_time(it: Iterator[Event], limit: dt.datetime) -> Iterator[Event]:
    for e in it:
        if e.recorded_at > limit:
            return
        yield e
