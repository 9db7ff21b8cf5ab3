"""Diff: what changed in a tier's ranking between two as-of points, and which events did it.

`diff(old, new, events_between, old_scores=..., new_scores=...)` compares two rankings of the
same year and tier (usually the same edition at two as-of points; a what-if edition works too)
and lists every unit whose published points or rank changed, or that entered or left the
ranking, with

- old and new rank and published total, and the components whose published points changed;
- with the scores given: the criteria whose points changed, each marked as moved by the unit's
  own inputs, by its peers (a relative rule whose tier-wide context moved) or by the edition;
- the events between the two points that touched the unit in that year (submissions,
  corrections, retractions of its indicators; its registration, renaming or retirement);
- `causes`: ``own_inputs`` (events touched the inputs it is scored on), ``peers`` (points of a
  relative rule moved while its own inputs did not), ``edition`` (the criteria or rules
  differ), ``readopted`` (they differ because an adoption between the two points replaced the
  edition: the adoption, with its reason, is among the unit's events), ``others_moved`` (same points, the rank moved because other units moved), ``entered``
  / ``left`` (newly ranked / no longer ranked).

Pure: everything is passed in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Sequence

import msgspec

from engine.result import Ranking
from engine.score import TierScores
from engine.text import decimal_text, value_text, when_text
from events.types import (
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitSplit,
    UnitsMerged,
    Value,
    units_named,
)

__all__ = [
    "ChangeEvent",
    "ComponentChange",
    "CriterionChange",
    "RankingDiff",
    "UnitChange",
    "diff",
    "render_diff_text",
]


class _Out(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    pass


class ChangeEvent(_Out):
    seq: int
    event_id: str
    # submitted | corrected | retracted | unit_registered | unit_renamed | unit_retired |
    # units_merged | unit_split | readopted
    kind: str
    actor: str
    recorded_at: dt.datetime
    indicator: str | None = None
    value: Value | None = None
    target: str | None = None  # the event a correction / retraction names
    evidence: str = ""
    reason: str = ""
    authority: str = ""
    read: bool = True  # the indicator is one the edition scores (False: collected, not scored)
    edition: str | None = None  # readopted: the edition adopted


class ComponentChange(_Out):
    code: str
    old: Decimal | None
    new: Decimal | None


class CriterionChange(_Out):
    code: str
    component: str
    old: Decimal | None
    new: Decimal | None
    moved_by: str  # own_inputs | peers | edition


class UnitChange(_Out):
    unit_id: str
    name: str
    group: str | None  # the group ranked within (tier.group_by), None when ranked whole
    old_rank: int | None
    new_rank: int | None
    old_total: Decimal | None
    new_total: Decimal | None
    delta: Decimal | None
    components: tuple[ComponentChange, ...]
    criteria: tuple[CriterionChange, ...]
    events: tuple[ChangeEvent, ...]
    causes: tuple[str, ...]


class RankingDiff(_Out):
    year: int
    tier: str
    old_edition: str
    new_edition: str
    old_as_of: str
    new_as_of: str
    old_checkpoint: int | None
    new_checkpoint: int | None
    events_between: int  # events of that year given between the two points
    changes: tuple[UnitChange, ...]  # moved units, best new rank first
    unchanged: int
    readoptions: tuple[ChangeEvent, ...] = ()  # adoptions of the year and tier in between


def _change_event(e: Event, read: set[str] | None) -> ChangeEvent | None:
    p = e.payload
    t = type(p)
    base = dict(seq=e.seq, event_id=e.event_id, actor=e.actor, recorded_at=e.recorded_at)
    if t is IndicatorSubmitted:
        # a value recorded after publication carries its reason, like a correction
        return ChangeEvent(kind="submitted", indicator=p.indicator, value=p.value,
                           evidence=p.evidence, reason=p.reason or "", authority=p.authority or "",
                           read=read is None or p.indicator in read, **base)
    if t is MethodologyAdopted:
        return ChangeEvent(kind="readopted", edition=p.edition, reason=p.reason or "",
                           authority=p.authority or "", **base)
    if t is IndicatorCorrected:
        return ChangeEvent(kind="corrected", indicator=p.indicator, value=p.value, target=p.corrects,
                           reason=p.reason, authority=p.authority,
                           read=read is None or p.indicator in read, **base)
    if t is IndicatorRetracted:
        return ChangeEvent(kind="retracted", indicator=p.indicator, target=p.retracts,
                           reason=p.reason, authority=p.authority,
                           read=read is None or p.indicator in read, **base)
    if t is UnitRegistered:
        return ChangeEvent(kind="unit_registered", **base)
    if t is UnitRenamed:
        return ChangeEvent(kind="unit_renamed", reason=p.name, **base)
    if t is UnitRetired:
        return ChangeEvent(kind="unit_retired", reason=p.reason, target=p.merged_into,
                           authority=p.authority or "", **base)
    if t is UnitsMerged:
        return ChangeEvent(kind="units_merged", reason=p.reason, target=p.target,
                           authority=p.authority, **base)
    if t is UnitSplit:
        return ChangeEvent(kind="unit_split", reason=p.reason, authority=p.authority, **base)
    return None



def _events_by_unit(events: Sequence[Event], year: int, read: set[str] | None) -> tuple[dict[str, list[ChangeEvent]], int]:
    out: dict[str, list[ChangeEvent]] = {}
    n = 0
    for e in events:
        p = e.payload
        t = type(p)
        if t in (IndicatorSubmitted, IndicatorCorrected, IndicatorRetracted):
            if p.year != year:
                continue
        elif t not in (UnitRegistered, UnitRenamed, UnitRetired, UnitsMerged, UnitSplit):
            continue
        ce = _change_event(e, read)
        n += 1
        for uid in units_named(p):
            out.setdefault(uid, []).append(ce)
    return out, n


def _criteria(scores: TierScores | None, uid: str) -> dict[str, tuple[str, Decimal, tuple, bool, str]]:
    if scores is None:
        return {}
    u = scores.units.get(uid)
    if u is None:
        return {}
    return {
        s.criterion.code: (s.component.code, u.points[s.index], u.inputs[s.index], s.peer,
                           f"{s.criterion.rule}:{s.criterion.params!r}:{s.criterion.max}")
        for s in scores.criteria
    }


def diff(
    old: Ranking,
    new: Ranking,
    events_between: Sequence[Event],
    *,
    old_scores: TierScores | None = None,
    new_scores: TierScores | None = None,
) -> RankingDiff:
    """Units whose published points or rank moved from `old` to `new`, and why."""
    if (old.year, old.tier) != (new.year, new.tier):
        raise ValueError(
            f"cannot diff {old.tier} {old.year} against {new.tier} {new.year}: year and tier must match"
        )
    read = None
    if new_scores is not None or old_scores is not None:
        read = set()
        for s in (old_scores, new_scores):
            if s is not None:
                for spec in s.criteria:
                    read.update(spec.indicators)
    by_unit, n_events = _events_by_unit(events_between, new.year, read)
    old_rows = {r.unit_id: r for r in old.rows}
    new_rows = {r.unit_id: r for r in new.rows}
    same_edition = (old.provenance.edition, old.provenance.content_hash) == (
        new.provenance.edition, new.provenance.content_hash)
    readoptions = tuple(_change_event(e, read) for e in events_between
                        if type(e.payload) is MethodologyAdopted
                        and (e.payload.year, e.payload.tier) == (new.year, new.tier))
    # The edition changed because the log says so: the adoption is the cause, with its reason.
    edition_cause = "readopted" if readoptions and not same_edition else "edition"
    changes = []
    unchanged = 0
    for uid in sorted(set(old_rows) | set(new_rows)):
        a, b = old_rows.get(uid), new_rows.get(uid)
        if a is not None and b is not None and a.rank == b.rank and a.total == b.total \
                and a.components == b.components:
            unchanged += 1
            continue
        comps = []
        if a is not None and b is not None:
            for code in list(a.components) + [c for c in b.components if c not in a.components]:
                x, y = a.components.get(code), b.components.get(code)
                if x != y:
                    comps.append(ComponentChange(code=code, old=x, new=y))
        crits = []
        points_moved = a is not None and b is not None and (a.total != b.total or bool(comps))
        same_score = (old_scores is not None and new_scores is not None
                      and old_scores.units.get(uid) is new_scores.units.get(uid))
        if points_moved or a is None or b is None:
            ca, cb = _criteria(old_scores, uid), _criteria(new_scores, uid)
        else:  # only the rank moved: no criterion did
            ca = cb = {}
        if same_score:
            ca = cb = {}
        for code in list(ca) + [c for c in cb if c not in ca]:
            x, y = ca.get(code), cb.get(code)
            px = x[1] if x else None
            py = y[1] if y else None
            if px == py:
                continue
            if x is None or y is None or x[4] != y[4]:
                moved = "edition"
            elif x[2] != y[2]:
                moved = "own_inputs"
            elif y[3]:
                moved = "peers"
            else:
                moved = "edition"
            crits.append(CriterionChange(code=code, component=(y or x)[0], old=px, new=py,
                                         moved_by=moved))
        evs = tuple(by_unit.get(uid, ()))
        causes = []
        if a is None:
            causes.append("entered")
        elif b is None:
            causes.append("left")
        if points_moved:
            if crits:
                for m in ("own_inputs", "peers", "edition"):
                    if any(c.moved_by == m for c in crits):
                        causes.append(edition_cause if m == "edition" else m)
            else:
                if any(e.read for e in evs if e.indicator is not None):
                    causes.append("own_inputs")
                if not same_edition:
                    causes.append(edition_cause)
                if not causes:
                    causes.append("peers")
        if "readopted" in causes:
            evs = tuple(sorted(evs + readoptions, key=lambda ev: ev.seq))
        if a is not None and b is not None and a.rank != b.rank and not points_moved:
            causes.append("others_moved")
        changes.append(UnitChange(
            unit_id=uid,
            name=(b or a).name,
            group=(b or a).group,
            old_rank=a.rank if a else None,
            new_rank=b.rank if b else None,
            old_total=a.total if a else None,
            new_total=b.total if b else None,
            delta=(b.total - a.total) if a is not None and b is not None else None,
            components=tuple(comps),
            criteria=tuple(crits),
            events=evs,
            causes=tuple(causes),
        ))
    changes.sort(key=lambda c: (c.new_rank is None, c.new_rank or 0, c.unit_id))
    return RankingDiff(
        year=new.year,
        tier=new.tier,
        old_edition=old.provenance.edition,
        new_edition=new.provenance.edition,
        old_as_of=old.provenance.as_of,
        new_as_of=new.provenance.as_of,
        old_checkpoint=old.provenance.checkpoint_size,
        new_checkpoint=new.provenance.checkpoint_size,
        events_between=n_events,
        changes=tuple(changes),
        unchanged=unchanged,
        readoptions=readoptions,
    )


_CAUSE_TEXT = {
    "own_inputs": "its own inputs changed",
    "peers": "peer values moved (relative rule)",
    "edition": "the edition differs",
    "readopted": "the year was re-adopted under another edition",
    "others_moved": "other units moved",
    "entered": "newly ranked",
    "left": "no longer ranked",
}


def _d(v: Decimal | None) -> str:
    return "—" if v is None else decimal_text(v)


def _short(v: Decimal | None) -> str:
    """Criterion points for reading: at most 4 decimals, '…' where more were cut."""
    text = _d(v)
    whole, dot, frac = text.partition(".")
    return text if len(frac) <= 4 else f"{whole}.{frac[:4]}…"


def _r(v: int | None) -> str:
    return "—" if v is None else str(v)


def _event_line(e: ChangeEvent) -> str:
    s = f"#{e.seq} {e.kind} by {e.actor} {when_text(e.recorded_at)}"
    if e.edition is not None:
        s += f" {e.edition}"
    if e.indicator is not None:
        s += f" {e.indicator}"
        if e.kind != "retracted":
            s += f" = {value_text(e.value)}"
    if e.target:
        s += f" (names {e.target})"
    if e.evidence:
        s += f" evidence: {e.evidence}"
    if e.reason:
        s += f" reason: {e.reason}"
    if e.authority:
        s += f" authority: {e.authority}"
    if not e.read:
        s += " [not scored]"
    return s


def render_diff_text(d: RankingDiff) -> str:
    """The diff as readable text: one block per moved unit."""
    frm = d.old_as_of or (f"seq {d.old_checkpoint}" if d.old_checkpoint is not None else "A")
    to = d.new_as_of or (f"seq {d.new_checkpoint}" if d.new_checkpoint is not None else "B")
    ed = d.new_edition if d.old_edition == d.new_edition else f"{d.old_edition} → {d.new_edition}"
    between = f"{d.events_between} event{'' if d.events_between == 1 else 's'} between"
    lines = [f"{d.tier} {d.year}: {frm} → {to} ({ed}); {between}"]
    lines += [f"re-adoption {_event_line(e)}" for e in d.readoptions]
    if not d.changes:
        lines.append("no unit's points or rank changed")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(d.changes)} units changed, {d.unchanged} unchanged")
    for c in d.changes:
        delta = ""
        if c.delta is not None and c.delta != 0:
            delta = f" ({'+' if c.delta > 0 else ''}{format(c.delta, 'f')})"
        in_group = f" in group {c.group}" if c.group is not None else ""
        lines.append(
            f"{c.unit_id} {c.name}: rank {_r(c.old_rank)} → {_r(c.new_rank)}{in_group}, "
            f"total {_d(c.old_total)} → {_d(c.new_total)}{delta}"
        )
        lines.append("    because: " + "; ".join(_CAUSE_TEXT.get(x, x) for x in c.causes))
        for k in c.components:
            lines.append(f"    {k.code}: {_d(k.old)} → {_d(k.new)}")
        for k in c.criteria:
            lines.append(f"      {k.code}: {_short(k.old)} → {_short(k.new)} ({_CAUSE_TEXT.get(k.moved_by, k.moved_by)})")
        for e in c.events:
            lines.append(f"    {_event_line(e)}")
    return "\n".join(lines) + "\n"
