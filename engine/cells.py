"""The value of one (year, unit, indicator) key, and the events behind it.

The fold keeps, per key, a *cell*: just enough of each indicator event to decide which value
counts — its seq, event id, value and the event it names — not the decoded event itself.  A
national year is ~450,000 submissions; keeping each decoded `Event` (strings for the actor,
evidence, note, key, previous hash, a datetime...) cost ~4× the memory of the values alone.
The full events are read back by seq, through the state's `EventSource`, only for the keys a
trace shows (`explain`, `history`).

A cell is the `Submitted` entry itself when its key has only that one event (the common case),
or a `ValueHistory` once a correction, retraction or second submission touches the key.  Both
have `.value`: the current value, None when no submission counts.

The value rule, a pure function of the events of one key:
  the latest submission that is not retracted counts; its value is the one of its latest
  correction that is not retracted, else its own.  Retracting a correction falls back to the
  previous correction or the submission; retracting the submission removes the value (and its
  corrections with it); a later submission for the same key establishes a new value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, Literal

import msgspec

from events.types import Event, IndicatorCorrected, IndicatorSubmitted, Value

__all__ = [
    "Corrected",
    "EventRef",
    "EventSource",
    "Retracted",
    "Submitted",
    "ValueHistory",
    "cell_seqs",
    "cell_statuses",
    "cell_value",
]

# seqs -> {seq: Event}: how the events behind cells are read back (the store, or a dict)
EventSource = Callable[[Iterable[int]], dict[int, Event]]


class Submitted(msgspec.Struct, frozen=True, gc=False):
    """What a cell keeps of an IndicatorSubmitted event."""

    seq: int
    event_id: str
    value: Value


class Corrected(msgspec.Struct, frozen=True, gc=False):
    """What a cell keeps of an IndicatorCorrected event."""

    seq: int
    event_id: str
    value: Value
    corrects: str


class Retracted(msgspec.Struct, frozen=True, gc=False):
    """What a cell keeps of an IndicatorRetracted event."""

    seq: int
    event_id: str
    retracts: str
    value: None = None


Entry = Submitted | Corrected | Retracted


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


class ValueHistory:
    """Every entry of one key once it is more than one submission.

    `value` is the current value (None when no submission counts); `current` the entry it comes
    from.
    """

    __slots__ = ("entries", "value", "current")

    def __init__(self, first: Submitted) -> None:
        self.entries: list[Entry] = [first]
        self.value: Value | None = first.value
        self.current: Entry | None = first

    @property
    def seq(self) -> int:
        """The seq of the key's first event."""
        return self.entries[0].seq

    def find(self, event_id: str) -> Entry | None:
        for e in self.entries:
            if e.event_id == event_id:
                return e
        return None

    def retracted_ids(self) -> set[str]:
        return {e.retracts for e in self.entries if type(e) is Retracted}

    def add_submission(self, entry: Submitted) -> None:
        """A new submission supersedes whatever counted before it."""
        self.entries.append(entry)
        self.current = entry
        self.value = entry.value

    def add_amendment(self, entry: Corrected | Retracted) -> None:
        self.entries.append(entry)
        self._recompute()

    def _recompute(self) -> None:
        retracted = self.retracted_ids()
        entries = self.entries
        current: Entry | None = None
        for i in range(len(entries) - 1, -1, -1):
            s = entries[i]
            if type(s) is Submitted and s.event_id not in retracted:
                current = s
                sid = s.event_id
                for j in range(len(entries) - 1, i, -1):
                    c = entries[j]
                    if type(c) is Corrected and c.corrects == sid and c.event_id not in retracted:
                        current = c
                        break
                break
        self.current = current
        self.value = None if current is None else current.value

    def statuses(self) -> list[tuple[Entry, EventStatus]]:
        retracted = self.retracted_ids()
        current = self.current
        # The submission that counts (the one `current` belongs to), to tell overridden from
        # superseded.
        if current is None:
            counting = None
        elif type(current) is Submitted:
            counting = current.event_id
        else:
            counting = current.corrects
        out = []
        for e in self.entries:
            t = type(e)
            if t is Retracted:
                status: EventStatus = "retraction"
            elif e is current:
                status = "current"
            elif e.event_id in retracted:
                status = "retracted"
            elif t is Submitted:
                status = "overridden" if e.event_id == counting else "superseded"
            else:
                status = "overridden" if e.corrects == counting else "superseded"
            out.append((e, status))
        return out


Cell = Any  # Submitted | ValueHistory


def cell_value(cell: Cell | None) -> Value | None:
    """The current value of a cell, None when missing."""
    return None if cell is None else cell.value


def cell_statuses(cell: Cell | None) -> list[tuple[Entry, EventStatus]]:
    """The entries of a cell, in log order, with their status (nothing read back)."""
    if cell is None:
        return []
    if type(cell) is Submitted:
        return [(cell, "current")]
    return cell.statuses()


def cell_seqs(cell: Cell | None) -> list[int]:
    """The seqs of the events behind a cell."""
    if cell is None:
        return []
    if type(cell) is Submitted:
        return [cell.seq]
    return [e.seq for e in cell.entries]


def event_ref(e: Event, status: EventStatus) -> EventRef:
    """The trace line of a full indicator event."""
    p = e.payload
    t = type(p)
    if t is IndicatorSubmitted:
        return EventRef(
            seq=e.seq, event_id=e.event_id, kind="submitted", actor=e.actor,
            recorded_at=e.recorded_at, status=status, value=p.value, evidence=p.evidence,
            note=p.note, reason=p.reason or "", authority=p.authority or "",
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


def cell_refs(cells: Iterable[Cell | None], source: EventSource) -> list[tuple[EventRef, ...]]:
    """The traces of several cells, their events read back in one call to `source`."""
    cells = list(cells)
    listed = [cell_statuses(c) for c in cells]
    events = source(sorted({e.seq for st in listed for e, _ in st}))
    return [tuple(event_ref(events[e.seq], status) for e, status in st) for st in listed]
