"""Units that change: finding a unit by its id or name, and checking renames, retirements,
merges and splits before they are recorded.

A change takes effect on a date and counts from the year of that date (docs/units.md): a
year's ranking has the units that existed at the end of that year.  A unit merged away on
2025-07-01 is ranked up to 2024, the unit the merge makes from 2025 on.

Names are matched the way people type them: without diacritics or case (`dat do` finds
`UBND huyện Đất Đỏ`), whole words, and an exact unit id always wins.  Of several units that
match, one whose parent also matches gives way to it (the town a district is named after).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Sequence

import attrs

from engine.fold import LogState, UnitInfo
from events.types import SplitPart, UnitRenamed, UnitRetired, UnitSplit, UnitsMerged
from ictindex.errors import UsageError
from ictindex.importing import free_text

__all__ = ["UnitRow", "fold_name", "merge", "rename", "resolve", "retire", "split", "unit_rows"]

_WORDS = re.compile(r"\w+")


def fold_name(text: str) -> str:
    """`text` as names are compared: NFC, marks stripped, đ → d, case folded, words only.

    `UBND huyện Đất Đỏ` → `ubnd huyen dat do`; punctuation separates words."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.replace("đ", "d").replace("Đ", "D").casefold()
    return " ".join(_WORDS.findall(bare))


def resolve(state: LogState, text: str, *, year: int | None = None) -> str:
    """The unit id that `text` names: itself when it is a unit id, else the one unit one of
    whose names (any it has had) is `text` or holds its words, without diacritics or case.

    With `year`, of several units that match, those that existed that year are preferred.
    Several units left: refused, listing each (id and name).  No unit matches: `text` is given
    back as it is, for the command to refuse as an unknown unit in its own words."""
    if state.has_unit(text):
        return text
    key = fold_name(text)
    if not key:
        return text
    whole, words = [], []
    padded = f" {key} "
    for uid in state.unit_ids():
        names = [fold_name(n) for n in state.unit_names(uid)]
        if key in names or key == fold_name(uid):
            whole.append(uid)
        elif any(padded in f" {n} " for n in names):
            words.append(uid)
    found = whole or words
    if year is not None and len(found) > 1:
        found = [u for u in found if state.unit(u, year) is not None] or found
    if len(found) > 1:
        # A district's seat is a town of the same name under it (huyện Đất Đỏ, thị trấn Đất
        # Đỏ): the bare name means the unit above; the town is found by its own full name.
        chosen = set(found)
        found = [u for u in found if _parent(state, u, year) not in chosen]
    if len(found) == 1:
        return found[0]
    if not found:
        return text
    listed = "; ".join(f"{uid} {_name(state, uid, year)}" for uid in found[:20])
    more = f"; and {len(found) - 20} more" if len(found) > 20 else ""
    raise UsageError(f"{text!r} matches {len(found)} units: {listed}{more}; "
                     "give the unit id (or more of the name)")


def _parent(state: LogState, uid: str, year: int | None) -> str | None:
    info = state.unit(uid, year) if year is not None else None
    info = info or state.latest_unit(uid)
    return None if info is None else info.parent_id


def _name(state: LogState, uid: str, year: int | None) -> str:
    info = state.unit(uid, year) if year is not None else None
    info = info or state.latest_unit(uid)
    return uid if info is None else info.name


# -- checks ---------------------------------------------------------------------------------


def _known(state: LogState, text: str, year: int | None = None) -> str:
    uid = resolve(state, text, year=year)
    if not state.has_unit(uid):
        raise UsageError(f"unknown unit {text!r}")
    return uid


def _active(state: LogState, text: str, date: dt.date) -> tuple[str, UnitInfo]:
    """A unit that exists the year before `date` and has no end recorded."""
    uid = _known(state, text, date.year - 1)
    info = state.unit(uid, date.year - 1)
    if info is None:
        latest = state.latest_unit(uid)
        if latest is not None and latest.last_year is not None \
                and latest.last_year < date.year - 1:
            raise _retired(uid, latest)
        first = state.first_year(uid)
        raise UsageError(f"unit {uid} did not exist in {date.year - 1}"
                         + (f" (it exists from {first})" if first is not None else "")
                         + f": a change effective {date.isoformat()} counts from {date.year}, "
                         "so the unit must have existed the year before")
    if info.last_year is not None:
        raise _retired(uid, info)
    return uid, info


def _retired(uid: str, info: UnitInfo) -> UsageError:
    into = f" (merged into {info.merged_into})" if info.merged_into else ""
    return UsageError(f"unit {uid} ({info.name}) is already retired: its last year is "
                      f"{info.last_year}{into}")


def _text(value: str, what: str) -> str:
    """Typed text held to the hygiene of every free-text field (`importing.free_text`)."""
    value = free_text(what, value)
    if not value:
        raise UsageError(f"{what} must not be empty")
    return value


def _date(date: dt.date) -> dt.date:
    if isinstance(date, dt.datetime):
        date = date.date()
    if date.year < 2:
        raise UsageError(f"--date {date.isoformat()}: too early for any ranking")
    return date


def _not_published(state: LogState, tier: str, date: dt.date, what: str) -> None:
    """A change may not alter a ranking already published: it counts from `date.year`."""
    published = [y for y in state.years()
                 if y >= date.year and state.year_state(y).publications(tier)]
    if published:
        raise UsageError(
            f"{what} effective {date.isoformat()} would change the {tier} ranking of "
            f"{published[0]}, which is already published; a change counts from the year of "
            "its date (see docs/units.md)")


def _new_id(state: LogState, uid: str) -> str:
    uid = _text(uid, "a new unit id")
    if state.has_unit(uid):
        info = state.latest_unit(uid)
        raise UsageError(f"unit id {uid} is already used ({info.name if info else uid}); "
                         "a new unit needs a new id")
    return uid


def rename(state: LogState, unit: str, name: str, *, date: dt.date, reason: str,
           authority: str) -> UnitRenamed:
    date = _date(date)
    uid = _known(state, unit, date.year)
    info = state.unit(uid, date.year)
    if info is None:
        return _rename_refused(state, uid, date)
    name = _text(name, "the new name")
    if info.name == name:
        raise UsageError(f"unit {uid} is already named {name!r} in {date.year}")
    _not_published(state, info.tier, date, f"renaming {uid}")
    return UnitRenamed(unit_id=uid, name=name, from_year=date.year, date=date,
                       reason=_text(reason, "--reason"), authority=_text(authority, "--authority"))


def _rename_refused(state: LogState, uid: str, date: dt.date) -> UnitRenamed:
    latest = state.latest_unit(uid)
    if latest is not None and latest.last_year is not None and latest.last_year < date.year:
        raise _retired(uid, latest)
    raise UsageError(f"unit {uid} did not exist in {date.year}")


def retire(state: LogState, unit: str, *, date: dt.date, reason: str,
           authority: str) -> UnitRetired:
    date = _date(date)
    uid, info = _active(state, unit, date)
    _not_published(state, info.tier, date, f"retiring {uid}")
    return UnitRetired(unit_id=uid, last_year=date.year - 1, reason=_text(reason, "--reason"),
                       date=date, authority=_text(authority, "--authority"))


def merge(state: LogState, units: Sequence[str], into: str, *, date: dt.date, reason: str,
          authority: str, name: str | None = None, tier: str | None = None) -> UnitsMerged:
    """`units` merged into `into`: a new unit (with `name`), or one of `units`."""
    date = _date(date)
    sources: list[tuple[str, UnitInfo]] = []
    for text in units:
        uid, info = _active(state, text, date)
        if any(uid == s for s, _ in sources):
            raise UsageError(f"unit {uid} is named twice among the units merged")
        sources.append((uid, info))
    target = resolve(state, into, year=date.year - 1)
    ids = [uid for uid, _ in sources]
    if state.has_unit(target) and target not in ids:
        info = state.latest_unit(target)
        raise UsageError(f"--into {target} ({info.name if info else target}) is an existing unit "
                         "that is not among the units merged: list it among them to merge into "
                         "it, or give a new unit id")
    if not state.has_unit(target):
        target = _new_id(state, into)
    if len(set(ids) | {target}) < 2:
        raise UsageError(f"merging {ids[0]} into itself changes nothing: a merge needs at "
                         "least two units")
    tiers = sorted({info.tier for _, info in sources})
    if len(tiers) > 1:
        listed = ", ".join(f"{uid} ({info.tier})" for uid, info in sources)
        raise UsageError(f"cannot merge units of different tiers: {listed}")
    if tier is not None and tier != tiers[0]:
        raise UsageError(f"--tier {tier}: the units merged are of tier {tiers[0]}, and the unit "
                         "they make is of the same tier")
    new_name = None if name is None else _text(name, "--name")
    if target not in ids and new_name is None:
        raise UsageError(f"--into {target} is a new unit: give its name with --name")
    parents = {info.parent_id for _, info in sources}
    _not_published(state, tiers[0], date, "a merge")
    return UnitsMerged(sources=tuple(ids), target=target, tier=tiers[0], date=date,
                       reason=_text(reason, "--reason"), authority=_text(authority, "--authority"),
                       name=new_name or "",
                       parent_id=parents.pop() if target not in ids and len(parents) == 1 else None)


def parse_part(text: str) -> tuple[str, str]:
    """`ID:Name` of `split --into`."""
    uid, sep, name = text.partition(":")
    if not sep or not uid.strip() or not name.strip():
        raise UsageError(f"--into {text!r}: write the new unit as ID:Name (e.g. 26555:\"Xã Long Mỹ\")")
    return uid.strip(), name.strip()


def split(state: LogState, unit: str, parts: Sequence[str], *, date: dt.date, reason: str,
          authority: str) -> UnitSplit:
    """`unit` split into `parts` (`ID:Name`); a part with the unit's own id keeps it going."""
    date = _date(date)
    uid, info = _active(state, unit, date)
    made: list[SplitPart] = []
    for text in parts:
        pid, pname = parse_part(text)
        if any(p.unit_id == pid for p in made):
            raise UsageError(f"--into {pid} is given twice")
        if pid != uid:
            _new_id(state, pid)
        made.append(SplitPart(unit_id=pid, name=_text(pname, f"the name of {pid}")))
    if len(made) < 2:
        raise UsageError("a split makes at least two units: give --into ID:Name for each")
    _not_published(state, info.tier, date, f"splitting {uid}")
    return UnitSplit(unit_id=uid, into=tuple(made), date=date, reason=_text(reason, "--reason"),
                     authority=_text(authority, "--authority"))


# -- listing ----------------------------------------------------------------------------


@attrs.frozen
class UnitRow:
    """A unit as `units list` shows it: that year's, or now (its last year if it ended)."""

    unit_id: str
    tier: str
    name: str
    parent_id: str | None
    from_year: int | None  # the first year it existed (None: before any the log knows)
    last_year: int | None  # None while it exists
    merged_into: str | None


def unit_rows(state: LogState, *, year: int | None = None, tier: str | None = None) -> list[UnitRow]:
    out = []
    for uid in state.unit_ids():
        info = state.unit(uid, year) if year is not None else state.latest_unit(uid)
        if info is None or (tier is not None and info.tier != tier):
            continue
        out.append(UnitRow(uid, info.tier, info.name, info.parent_id, state.first_year(uid),
                           info.last_year, info.merged_into))
    return out
