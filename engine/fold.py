"""Fold: events up to an as-of point → the state of every year.

`fold` reads the log once, in `seq` order, and keeps

- the unit registry (registrations, renames, retirements), from which `LogState.year_state`
  derives the units that existed in a year, with the name, tier and parent of that year;
- the methodology adopted for each (year, tier) — the latest adoption wins;
- the publications of each (year, tier), in log order;
- the current value of every (year, unit, indicator) together with every event that touched it.

The value rule, a pure function of the events of one key:
  the latest submission that is not retracted counts; its value is the one of its latest
  correction that is not retracted, else its own.  Retracting a correction falls back to the
  previous correction or the submission; retracting the submission removes the value (and its
  corrections with it); a later submission for the same key establishes a new value (and a
  submission made while another one counts supersedes it).

Corrections and retractions that name an event the key does not hold are left out of the state
and reported in `LogState.anomalies` (the application refuses to record them in the first
place).  Rename or retirement of an unknown unit likewise.

Speed: one pass, no per-event object beyond the dict entries.  A key touched only by its
submission (the common case) stores the submission `Event` itself; the first correction,
retraction or second submission turns it into a small `ValueHistory`.  Event references are
kept (not copied), so traces are built later, only for what is explained.

Pure: no clock, no environment, no I/O.  `as_of_time` must be timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Iterator, Literal

import msgspec

from events.types import (
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    RankingPublished,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    Value,
)

__all__ = [
    "Anomaly",
    "EventRef",
    "LogState",
    "UnitInfo",
    "ValueHistory",
    "YearState",
    "cell_events",
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


EventKind = Literal["submitted", "corrected", "retracted"]
EventStatus = Literal["current", "overridden", "superseded", "retracted", "retraction"]


class EventRef(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One event behind an indicator value, as the trace shows it.

    `status`: "current" (its value counts), "overridden" (a submission whose value a counting
    correction replaced, or an earlier correction replaced by a later one), "superseded" (a
    submission replaced by a later submission), "retracted" (a retraction names it),
    "retraction" (the retraction itself).
    """

    seq: int
    event_id: str
    kind: EventKind
    actor: str
    recorded_at: dt.datetime
    status: EventStatus
    value: Value | None = None
    evidence: str = ""
    note: str = ""
    reason: str = ""
    authority: str = ""
    target: str | None = None  # the event id a correction corrects / a retraction retracts


_INDICATOR_TYPES = (IndicatorSubmitted, IndicatorCorrected, IndicatorRetracted)


class ValueHistory:
    """Every event of one (year, unit, indicator) key once it is more than one submission.

    `value` is the current value (None when no submission counts); `current` the event it comes
    from.
    """

    __slots__ = ("events", "value", "current")

    def __init__(self, first: Event) -> None:
        self.events: list[Event] = [first]
        self.value: Value | None = first.payload.value
        self.current: Event | None = first

    def find(self, event_id: str) -> Event | None:
        for e in self.events:
            if e.event_id == event_id:
                return e
        return None

    def retracted_ids(self) -> set[str]:
        return {e.payload.retracts for e in self.events if type(e.payload) is IndicatorRetracted}

    def recompute(self) -> None:
        retracted = self.retracted_ids()
        events = self.events
        current: Event | None = None
        for i in range(len(events) - 1, -1, -1):
            s = events[i]
            if type(s.payload) is IndicatorSubmitted and s.event_id not in retracted:
                current = s
                sid = s.event_id
                for j in range(len(events) - 1, i, -1):
                    c = events[j]
                    p = c.payload
                    if type(p) is IndicatorCorrected and p.corrects == sid and c.event_id not in retracted:
                        current = c
                        break
                break
        self.current = current
        self.value = None if current is None else current.payload.value

    def refs(self) -> tuple[EventRef, ...]:
        retracted = self.retracted_ids()
        current = self.current
        # The submission that counts (the one `current` belongs to), to tell overridden from
        # superseded.
        if current is None:
            counting = None
        elif type(current.payload) is IndicatorSubmitted:
            counting = current.event_id
        else:
            counting = current.payload.corrects
        out = []
        for e in self.events:
            p = e.payload
            t = type(p)
            if t is IndicatorRetracted:
                status: EventStatus = "retraction"
            elif e is current:
                status = "current"
            elif e.event_id in retracted:
                status = "retracted"
            elif t is IndicatorSubmitted:
                status = "overridden" if e.event_id == counting else "superseded"
            else:
                status = "overridden" if p.corrects == counting else "superseded"
            out.append(_ref(e, status))
        return tuple(out)


def _ref(e: Event, status: EventStatus) -> EventRef:
    p = e.payload
    t = type(p)
    if t is IndicatorSubmitted:
        return EventRef(
            seq=e.seq, event_id=e.event_id, kind="submitted", actor=e.actor,
            recorded_at=e.recorded_at, status=status, value=p.value, evidence=p.evidence,
            note=p.note,
        )
    if t is IndicatorCorrected:
        return EventRef(
            seq=e.seq, event_id=e.event_id, kind="corrected", actor=e.actor,
            recorded_at=e.recorded_at, status=status, value=p.value, reason=p.reason,
            authority=p.authority, target=p.corrects,
        )
    return EventRef(
        seq=e.seq, event_id=e.event_id, kind="retracted", actor=e.actor,
        recorded_at=e.recorded_at, status=status, reason=p.reason, authority=p.authority,
        target=p.retracts,
    )


# A cell is the submission Event itself (only event of its key) or a ValueHistory.
Cell = Any


def cell_value(cell: Cell | None) -> Value | None:
    """The current value of a cell, None when missing."""
    if cell is None:
        return None
    if type(cell) is Event:
        return cell.payload.value
    return cell.value


def cell_events(cell: Cell | None) -> tuple[EventRef, ...]:
    """The events behind a cell, in log order, with their status."""
    if cell is None:
        return ()
    if type(cell) is Event:
        return (_ref(cell, "current"),)
    return cell.refs()


def input_of(value: Value | None) -> Any:
    """A stored value as a rule sees it: Decimal, bool, the category name, or None."""
    if type(value) is Choice:
        return value.choice
    return value


class _UnitRecord:
    __slots__ = ("registrations", "renames", "retirements")

    def __init__(self) -> None:
        # (from_year or None, seq, payload)
        self.registrations: list[tuple[int | None, int, UnitRegistered]] = []
        self.renames: list[tuple[int, int, str]] = []
        self.retirements: list[tuple[int, int, UnitRetired]] = []

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
        for ly, seq, ret in self.retirements:
            if ly >= reg_from:
                if retired is None or seq > retired[0]:
                    retired = (seq, ret)
        if retired is not None and retired[1].last_year < year:
            return None
        name = reg.name
        name_key = (reg_from, -1)
        for fy, seq, new in self.renames:
            if fy <= year and (fy, seq) > name_key and fy >= reg_from:
                name_key = (fy, seq)
                name = new
        ret = retired[1] if retired is not None else None
        return UnitInfo(
            unit_id=reg.unit_id,
            tier=reg.tier,
            name=name,
            parent_id=reg.parent_id,
            from_year=reg.from_year,
            last_year=None if ret is None else ret.last_year,
            merged_into=None if ret is None else ret.merged_into,
        )


_EMPTY: dict = {}


class YearState:
    """The state of one year: a read-only view of the `LogState` it came from."""

    __slots__ = ("year", "units", "cells", "_adoptions", "_publications", "last_seq")

    def __init__(self, year: int, units: dict[str, UnitInfo], cells: dict[str, dict[str, Cell]],
                 adoptions: dict[str, Event], publications: dict[str, list[Event]],
                 last_seq: int) -> None:
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
        return cell_value(self.cells.get(unit_id, _EMPTY).get(indicator))

    def history(self, unit_id: str, indicator: str) -> tuple[EventRef, ...]:
        return cell_events(self.cells.get(unit_id, _EMPTY).get(indicator))

    def values(self, unit_id: str) -> dict[str, Value]:
        """The current values of one unit (missing ones left out), by indicator code."""
        out = {}
        for code, cell in sorted(self.cells.get(unit_id, _EMPTY).items()):
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
        """RankingPublished events of this year and tier, in log order."""
        return tuple(self._publications.get(tier, ()))

    def latest_publication(self, tier: str) -> RankingPublished | None:
        pubs = self._publications.get(tier)
        return pubs[-1].payload if pubs else None

    def unknown_units(self) -> list[str]:
        """Units with values this year that did not exist this year (not scored)."""
        return sorted(u for u in self.cells if u not in self.units)


class LogState:
    """What `fold` builds; `apply` extends it by later events (incremental re-ranking)."""

    def __init__(self) -> None:
        self.last_seq = 0
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

    def unit(self, unit_id: str, year: int) -> UnitInfo | None:
        rec = self._units.get(unit_id)
        return None if rec is None else rec.as_of_year(year)

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
        )

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
        EventT, Hist = Event, ValueHistory
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
                if t is Sub:
                    ycells = cells_by_year.get(p.year)
                    if ycells is None:
                        ycells = cells_by_year[p.year] = {}
                    ucells = ycells.get(p.unit_id)
                    if ucells is None:
                        ycells[p.unit_id] = {p.indicator: e}
                        continue
                    cell = ucells.get(p.indicator)
                    if cell is None:
                        ucells[p.indicator] = e
                    else:
                        if type(cell) is EventT:
                            cell = ucells[p.indicator] = Hist(cell)
                        # a new submission supersedes whatever counted before it
                        cell.events.append(e)
                        cell.current = e
                        cell.value = p.value
                elif t is Cor or t is Ret:
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
                elif t is UnitRetired:
                    self._year_units.clear()
                    rec = self._units.get(p.unit_id)
                    if rec is None:
                        self._anomaly(e, f"retires unit {p.unit_id!r}, which is not registered")
                    else:
                        rec.retirements.append((p.last_year, seq, p))
                elif t is MethodologyAdopted:
                    self._adoptions.setdefault(p.year, {})[p.tier] = e
                elif t is RankingPublished:
                    self._publications.setdefault(p.year, {}).setdefault(p.tier, []).append(e)
                else:  # pragma: no cover - the union is closed
                    raise TypeError(f"unknown payload type {t.__name__}")
        finally:
            self.last_seq = last
            if last_event is not None:
                self.last_recorded_at = last_event.recorded_at

    def _amend(self, e: Event, p: Any, is_correction: bool) -> None:
        target = p.corrects if is_correction else p.retracts
        where = f"({p.year}, {p.unit_id}, {p.indicator})"
        ucells = self._cells.get(p.year, _EMPTY).get(p.unit_id)
        cell = None if ucells is None else ucells.get(p.indicator)
        if cell is None:
            self._anomaly(e, f"names event {target!r}, but {where} has no submission")
            return
        if type(cell) is Event:
            found = cell if cell.event_id == target else None
        else:
            found = cell.find(target)
        if found is None:
            self._anomaly(e, f"names event {target!r}, which is not an event of {where}")
            return
        ft = type(found.payload)
        if is_correction and ft is not IndicatorSubmitted:
            self._anomaly(e, f"corrects event {target!r}, which is a correction, not a submission")
            return
        if not is_correction:
            if ft is IndicatorRetracted:
                self._anomaly(e, f"retracts event {target!r}, which is itself a retraction")
                return
            if type(cell) is ValueHistory and target in cell.retracted_ids():
                self._anomaly(e, f"retracts event {target!r}, which is already retracted")
                return
        if type(cell) is Event:
            cell = ucells[p.indicator] = ValueHistory(cell)
        cell.events.append(e)
        cell.recompute()


def fold(
    events: Iterable[Event],
    *,
    as_of_seq: int | None = None,
    as_of_time: dt.datetime | None = None,
) -> LogState:
    """Fold `events` (in seq order) up to and including `as_of_seq` / `as_of_time`.

    With `as_of_time` the fold stops at the first event recorded after it: the state is the
    log's prefix as it stood at that moment.  Both limits may be given; the earlier one wins.
    """
    it: Iterator[Event] = iter(events)
    if as_of_time is not None:
        if as_of_time.tzinfo is None or as_of_time.utcoffset() is None:
            raise ValueError("as_of_time must be timezone-aware (UTC)")
        it = _until_time(it, as_of_time)
    if as_of_seq is not None:
        it = _until_seq(it, as_of_seq)
    state = LogState()
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
