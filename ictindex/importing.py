"""Checking what people submit against the log and the adopted editions, before any write.

Every row of a file is checked (unit existed that year, the year and tier have an adopted
edition, the indicator belongs to it, the value has the indicator's type and range, no row
repeats or contradicts another or the log), all errors are collected and raised together as
`FILE:ROW:COLUMN: message` lines, and only a file with no error becomes a batch to append.
"""

from __future__ import annotations

import hashlib
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from engine.edition import constraint_indicators
from engine.fold import LogState, YearState
from engine.values import parse_value
from events import inputs
from events.canonical import encode_canonical
from events.inputs import InputError, InputErrors
from events.types import (
    TIERS,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    Payload,
    UnitRegistered,
)
from ictindex.errors import UsageError
from plugins.manager import Registry

CLI = "<command line>"


def idempotency_key(payload: Payload) -> str:
    """The same payload imported twice gets the same key, so the store records it once."""
    return hashlib.sha256(encode_canonical(payload)).hexdigest()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def free_text(option: str, text: str) -> str:
    """Text typed on the command line (evidence, note, reason, authority), trimmed and NFC,
    held to the same hygiene as a file's free-text fields (see `events.inputs.text_problem`):
    no control or invisible characters, at most 2000 characters."""
    text = nfc(text)
    problem = inputs.text_problem(text)
    if problem:
        raise UsageError(f"{option}: {problem}")
    return text


# -- units ---------------------------------------------------------------------------------


def units_from_file(path: str | Path, state: LogState, *, known_key: Any = None,
                    **options: Any) -> tuple[list[Payload], list[str]]:
    """The registrations a unit file makes, or InputErrors listing every problem of the file at
    once: the rows' own fields, the hierarchy (with the units already in the log) and clashes
    with registrations in the log."""
    errors: list[InputError] = []
    payloads: list[Payload] = []
    file = str(path)
    seen: dict[str, int] = {}
    reader = inputs.read_units(path, **options)
    rows = list(reader)
    errors.extend(reader.errors)
    known = set(state.unit_ids())
    for r in rows:
        def bad(column: str, message: str) -> None:
            errors.append(InputError(file, r.row, column, message))

        before = len(errors)
        if not r.unit_id:
            bad("unit_id", "empty unit id")
        elif r.unit_id in seen:
            bad("unit_id", f"unit {r.unit_id} appears twice (first at row {seen[r.unit_id]})")
        seen.setdefault(r.unit_id, r.row)
        if r.tier not in TIERS:
            bad("tier", f"unknown tier {r.tier!r} (one of: {', '.join(TIERS)})")
        if not r.name:
            bad("name", "empty name")
        from_year = None
        if r.from_year:
            try:
                from_year = int(r.from_year)
            except ValueError:
                bad("from_year", f"{r.from_year!r} is not a year")
        if len(errors) == before:
            payloads.append(UnitRegistered(unit_id=r.unit_id, tier=r.tier, name=r.name,
                                           parent_id=r.parent_id or None, from_year=from_year))
    errors.extend(_hierarchy_errors(file, rows, state))
    # The very same registration imported again has the same idempotency key (the store skips
    # it); an id already registered with any other facts is an error (renames and retirements
    # are events of their own).
    errors.extend(InputError(file, seen[p.unit_id], "unit_id",
                             f"unit {p.unit_id} is already registered with other facts "
                             "(renames and retirements are events of their own)")
                  for p in payloads
                  if p.unit_id in known and not (known_key and known_key(idempotency_key(p))))
    if errors:
        raise InputErrors(sorted(errors, key=lambda e: e.row))
    return payloads, [idempotency_key(p) for p in payloads]


# The tiers a unit's parent may be of (no parent is always allowed: after the 2025 reform
# communes sit directly under their province).  Departments and provinces have no parent.
PARENT_TIERS: dict[str, tuple[str, ...]] = {
    "department": (),
    "district": ("province",),
    "commune": ("district", "province"),
    "province": (),
}


def _hierarchy_errors(file: str, rows: list, state: LogState) -> list[InputError]:
    """Every parent_id of a unit file that breaks the hierarchy, with the units of the log:
    unknown parents, a unit its own parent, parent cycles, and parents of the wrong tier
    (`PARENT_TIERS`).  One error per row, the most basic problem first."""
    new: dict[str, Any] = {}
    for r in rows:
        new.setdefault(r.unit_id, r)

    def facts(unit_id: str) -> tuple[str, str | None] | None:
        """(tier, parent) of a unit of the file, else of its latest registration in the log."""
        r = new.get(unit_id)
        if r is not None:
            return r.tier, r.parent_id or None
        registrations = state.registrations(unit_id)
        if not registrations:
            return None
        last = registrations[-1]
        return last.tier, last.parent_id

    errors = []
    for r in rows:
        parent = r.parent_id
        if not parent or new.get(r.unit_id) is not r:
            continue

        def bad(message: str) -> None:
            errors.append(InputError(file, r.row, "parent_id", message))

        if parent == r.unit_id:
            bad(f"unit {r.unit_id} names itself as its parent")
            continue
        found = facts(parent)
        if found is None:
            bad(f"unknown parent unit {parent}")
            continue
        chain = [r.unit_id, parent]
        step = found[1]
        while step is not None and step not in chain:
            chain.append(step)
            up = facts(step)
            step = None if up is None else up[1]
        if step == r.unit_id:
            bad(f"parent cycle: {' → '.join(chain + [r.unit_id])}")
            continue
        allowed = PARENT_TIERS.get(r.tier)
        if allowed is None or found[0] in allowed:
            continue  # an unknown tier is reported on its own
        if not allowed:
            bad(f"a {r.tier} has no parent unit (leave parent_id empty); {parent} is a {found[0]}")
        else:
            bad(f"the parent of a {r.tier} is a {' or a '.join(allowed)}, and {parent} is a {found[0]}")
    return errors


# -- submissions ---------------------------------------------------------------------------


class Checker:
    """Checks submissions of any year against one folded state, caching per year and tier."""

    def __init__(self, state: LogState, registry: Registry) -> None:
        self.state = state
        self.registry = registry
        self._years: dict[int, YearState] = {}
        self._tiers: dict[tuple[int, str], tuple[Any, dict[str, Any]] | str] = {}

    def year(self, year: int) -> YearState:
        ys = self._years.get(year)
        if ys is None:
            ys = self._years[year] = self.state.year_state(year)
        return ys

    def indicators(self, year: int, tier: str) -> tuple[Any, dict[str, Any]] | str:
        """(edition, {code: Indicator} of that tier) or the reason there is none."""
        key = (year, tier)
        found = self._tiers.get(key)
        if found is None:
            adopted = self.year(year).adoption(tier)
            if adopted is None:
                found = (f"no methodology adopted for {year} {tier} "
                         f"(record one with `ictindex adopt EDITION --year {year}`)")
            elif adopted.edition not in self.registry.editions:
                found = f"the edition adopted for {year} {tier}, {adopted.edition}, is not installed"
            else:
                m = self.registry.edition(adopted.edition).methodology
                catalogue = {i.code: i for i in m.indicators}
                used = {code for c in m.tiers[tier].components for cr in c.criteria
                        for code in cr.indicators}
                found = (m, {code: catalogue[code] for code in sorted(used) if code in catalogue})
            self._tiers[key] = found
        return found

    def submission(self, year_text: str | int, unit_id: str, indicator: str, raw: str, *,
                   evidence: str, note: str, decimal_comma: bool, reason: str = "",
                   authority: str = ""
                   ) -> tuple[IndicatorSubmitted | None, list[tuple[str, str]]]:
        """The payload, or the (column, message) errors of one row."""
        errors: list[tuple[str, str]] = []
        try:
            year = int(year_text)
        except (TypeError, ValueError):
            return None, [("year", f"{year_text!r} is not a year")]
        ys = self.year(year)
        unit = ys.units.get(unit_id)
        if unit is None:
            if any(self.state.unit(unit_id, y) for y in self.state.years()) or unit_id in self.state.unit_ids():
                errors.append(("unit_id", f"unit {unit_id} did not exist in {year}"))
            else:
                errors.append(("unit_id", f"unknown unit {unit_id!r}"))
            return None, errors
        found = self.indicators(year, unit.tier)
        if isinstance(found, str):
            return None, [("year", found)]
        edition, catalogue = found
        spec = catalogue.get(indicator)
        if spec is None:
            return None, [("indicator", f"{indicator!r} is not an indicator of {edition.id} "
                                        f"for the {unit.tier} tier")]
        try:
            value = parse_value(spec, raw, decimal_comma=decimal_comma)
        except ValueError as e:
            return None, [("value", str(e))]
        return IndicatorSubmitted(year=year, unit_id=unit_id, indicator=indicator, value=value,
                                  evidence=evidence, note=note, reason=reason,
                                  authority=authority), []


def submissions_from_file(path: str | Path, state: LogState, registry: Registry, *,
                          known_key: Any = None, reason: str = "", authority: str = "",
                          **options: Any) -> tuple[list[Payload], list[str]]:
    """The batch a long-form file makes, or InputErrors listing every bad row.

    `reason` and `authority` go with every row: they are what lets values into a year and
    tier that was already published (see `conflict_with_log`)."""
    reason, authority = free_text("--reason", reason), free_text("--authority", authority)
    checker = Checker(state, registry)
    file = str(path)
    errors: list[InputError] = []
    payloads: list[Payload] = []
    keys: list[str] = []
    first_row: dict[tuple[int, str, str], tuple[int, str]] = {}
    reader = inputs.read_submissions(path, **options)
    rows = iter(reader)
    for r in rows:
        if len(errors) + len(reader.errors) >= reader.max_errors:
            # Bounded memory and output for a file that is wrong throughout.
            errors.append(reader.too_many_errors(r.row))
            rows.close()
            break
        payload, problems = checker.submission(
            r.year, r.unit_id, r.indicator, r.value, evidence=r.evidence, note=r.note,
            decimal_comma=False,  # the reader already turned a declared decimal comma into a point
            reason=reason, authority=authority)
        for column, message in problems:
            errors.append(InputError(file, r.row, column, message))
        if payload is None:
            continue
        key = idempotency_key(payload)
        cell = (payload.year, payload.unit_id, payload.indicator)
        earlier = first_row.get(cell)
        if earlier is not None:
            what = "repeats" if earlier[1] == key else "contradicts"
            errors.append(InputError(file, r.row, "indicator",
                                     f"{what} row {earlier[0]} ({payload.unit_id} {payload.indicator} {payload.year})"))
            continue
        first_row[cell] = (r.row, key)
        problem = conflict_with_log(checker.year(payload.year), payload, key, known_key)
        if problem:
            errors.append(InputError(file, r.row, "value", problem))
            continue
        payloads.append(payload)
        keys.append(key)
    errors.extend(_constraint_errors(checker, file, payloads, first_row))
    errors.extend(reader.errors)
    if errors:
        raise InputErrors(sorted(errors, key=lambda e: e.row))
    return payloads, keys


def conflict_with_log(ys: YearState, payload: IndicatorSubmitted, key: str, known_key: Any) -> str | None:
    """Why the log refuses this submission; None for a new value it may take, or for the very
    same submission recorded before and still counting (the store skips it)."""
    unit, code, year = payload.unit_id, payload.indicator, payload.year
    statuses = ys.statuses(unit, code)
    if known_key is not None and known_key(key):
        retracted = [seq for seq, status in statuses.values() if status == "retracted"]
        gone = [e for e in ys.source(retracted).values() if e.key == key]
        current = ys.value(unit, code)
        restored = current == payload.value and type(current) is type(payload.value)
        if gone and not restored:
            # Skipping it would say "already recorded" and leave the value missing; recording
            # it again without a word would undo a retraction whenever an old file is re-run.
            return (f"this very submission of {unit} {code} {year} is event #{gone[0].seq}, "
                    "which was retracted: to record the value again, submit it with "
                    "--reason (and --authority) saying why it counts again")
        return None
    current = [seq for seq, status in statuses.values() if status == "current"]
    if current and ys.value(unit, code) is not None:
        seq = current[0]
        return (f"{unit} already has a value for {code} in {year} "
                f"(event #{seq}); to change it, use `ictindex correct {seq} VALUE --reason ...`")
    unit_info = ys.units.get(unit)
    published = ys.publications(unit_info.tier) if unit_info is not None else ()
    if published and not payload.reason:
        last = published[-1]
        return (f"{year} {unit_info.tier} was published (#{last.seq}, decision "
                f"{last.payload.decision}): a value recorded after the publication changes "
                "published totals, so it needs --reason (and --authority), like a correction")
    return None


def check_submission(state: LogState, registry: Registry, year: int, unit_id: str, indicator: str,
                     raw: str, *, evidence: str = "", note: str = "", decimal_comma: bool = False,
                     known_key: Any = None, reason: str = "", authority: str = ""
                     ) -> IndicatorSubmitted:
    checker = Checker(state, registry)
    payload, problems = checker.submission(year, nfc(unit_id), nfc(indicator), raw,
                                           evidence=free_text("--evidence", evidence),
                                           note=free_text("--note", note),
                                           decimal_comma=decimal_comma,
                                           reason=free_text("--reason", reason),
                                           authority=free_text("--authority", authority))
    if problems:
        raise UsageError("; ".join(f"{column}: {message}" for column, message in problems))
    problem = conflict_with_log(checker.year(payload.year), payload, idempotency_key(payload), known_key)
    if problem:
        raise UsageError(problem)
    _refuse_violations(checker, payload)
    return payload


def _target_status(state: LogState, target: Event) -> str | None:
    """The status of `target` among the events behind its value (None: not among them)."""
    p = target.payload
    found = state.year_state(p.year).statuses(p.unit_id, p.indicator).get(target.event_id)
    return None if found is None else found[1]


def check_correction(state: LogState, registry: Registry, target: Event, raw: str, *,
                     reason: str, authority: str = "", decimal_comma: bool = False
                     ) -> IndicatorCorrected:
    p = target.payload
    if not isinstance(p, IndicatorSubmitted):
        raise UsageError(f"event #{target.seq} is {_kind(target)}, not a submission: "
                         "only submissions can be corrected")
    if not nfc(reason):
        raise UsageError("a correction needs a reason (--reason)")
    status = _target_status(state, target)
    if status in ("retracted", "superseded"):
        raise UsageError(f"submission #{target.seq} is {status}: it can no longer be corrected")
    checker = Checker(state, registry)
    unit = checker.year(p.year).units.get(p.unit_id)
    found = checker.indicators(p.year, unit.tier if unit else "")
    if isinstance(found, str) or p.indicator not in found[1]:
        raise UsageError(f"cannot check the new value of #{target.seq}: "
                         f"{found if isinstance(found, str) else 'indicator no longer in the edition'}")
    try:
        value = parse_value(found[1][p.indicator], raw, decimal_comma=decimal_comma)
    except ValueError as e:
        raise UsageError(f"value: {e}") from None
    current = state.year_state(p.year).value(p.unit_id, p.indicator)
    if current is not None and current == value and type(current) is type(value):
        raise UsageError(f"{p.unit_id} {p.indicator} {p.year} already has the value {raw.strip()}: "
                         "a correction must change it")
    correction = IndicatorCorrected(corrects=target.event_id, year=p.year, unit_id=p.unit_id,
                                    indicator=p.indicator, value=value,
                                    reason=free_text("--reason", reason),
                                    authority=free_text("--authority", authority))
    _refuse_violations(checker, correction)
    return correction


def check_retraction(state: LogState, target: Event, *, reason: str, authority: str = ""
                     ) -> IndicatorRetracted:
    p = target.payload
    if not isinstance(p, (IndicatorSubmitted, IndicatorCorrected)):
        raise UsageError(f"event #{target.seq} is {_kind(target)}: only submissions and "
                         "corrections can be retracted")
    if not nfc(reason):
        raise UsageError("a retraction needs a reason (--reason)")
    if _target_status(state, target) == "retracted":
        raise UsageError(f"event #{target.seq} is already retracted")
    return IndicatorRetracted(retracts=target.event_id, year=p.year, unit_id=p.unit_id,
                              indicator=p.indicator, reason=free_text("--reason", reason),
                              authority=free_text("--authority", authority))


# -- adoptions -----------------------------------------------------------------------------


def check_adoptions(state: LogState, registry: Registry, edition_id: str, year: int,
                    tiers: list[str], *, reason: str = "", authority: str = "",
                    dry_run: bool = False) -> list[MethodologyAdopted]:
    """The adoptions of `edition_id` for `tiers` of `year` that change something.

    A tier that already has another edition (or other content) is re-adopted: every total of
    it changes, so it takes a reason and an authority (not for a `dry_run`, which only shows
    the change), and an edition none of whose indicators has a value for that year and tier is
    refused (it would score every unit 0).
    """
    edition = registry.edition(edition_id)
    methodology = edition.methodology
    reason, authority = free_text("--reason", reason), free_text("--authority", authority)
    ys = state.year_state(year)
    payloads = []
    for tier in tiers:
        current = ys.adoption(tier)
        code = registry.adopted_code(methodology, tier)
        if current and (current.edition, current.content_hash, current.rule_kinds) == (
                edition_id, edition.content_hash, code):
            continue  # already adopted: recording it again would add nothing
        if current is not None:
            same_content = (current.edition, current.content_hash) == (
                edition_id, edition.content_hash)
            if current.edition != edition_id:
                what = f"{year} {tier} is scored by {current.edition}"
            elif not same_content:
                what = (f"{year} {tier} adopted {edition_id} with other content "
                        f"(content hash {current.content_hash[:12]}…)")
            else:  # the same edition, scored by other plugin code than at its adoption
                changed = ", ".join(
                    f"{kind} {current.rule_kinds.get(kind, 'ictindex')} → {code.get(kind, 'ictindex')}"
                    for kind in sorted(current.rule_kinds.keys() | code.keys())
                    if current.rule_kinds.get(kind) != code.get(kind))
                what = (f"{year} {tier} adopted {edition_id} scored by other plugin code "
                        f"(rule kind {changed})")
            if not dry_run and (not reason or not authority):
                raise UsageError(f"{what}: adopting {edition_id} instead changes every total of "
                                 "it, so it needs --reason and --authority (see it first with "
                                 "--dry-run)")
            used = {code for c in methodology.tiers[tier].components for cr in c.criteria
                    for code in cr.indicators}
            # The same indicators as before: only another edition can lack data.
            if not same_content and not any(ys.value(u.unit_id, code) is not None
                       for u in ys.tier_units(tier) for code in used):
                raise UsageError(f"{edition_id} has no data for {year} {tier}: none of its "
                                 f"indicators has a value for a {tier} unit in {year}, so every "
                                 f"total would be 0; {what}, and stays so")
        # Only a re-adoption records a reason: `explain` names an adoption with one as such.
        readopted = current is not None
        payloads.append(MethodologyAdopted(year=year, tier=tier, edition=edition_id,
                                           content_hash=edition.content_hash, rule_kinds=code,
                                           reason=reason if readopted else "",
                                           authority=authority if readopted else ""))
    return payloads


# -- constraints between indicators ------------------------------------------------------------


class _Given(NamedTuple):
    """A value about to be recorded: from a file's row, or from the command line (row None)."""

    year: int
    unit_id: str
    indicator: str
    value: Any
    row: int | None


def _constraint_errors(checker: Checker, file: str, payloads: Iterable[IndicatorSubmitted],
                       first_row: dict[tuple[int, str, str], tuple[int, str]]) -> list[InputError]:
    """A file's rows that break a constraint of their edition, one error per broken constraint,
    at the row that completes it (the last of the file's rows it names)."""
    given = [_Given(p.year, p.unit_id, p.indicator, p.value,
                    first_row[(p.year, p.unit_id, p.indicator)][0]) for p in payloads]
    return [InputError(file, at.row, "value", message)
            for at, message in _violations(checker, given)]


def _refuse_violations(checker: Checker, payload: IndicatorSubmitted | IndicatorCorrected) -> None:
    """UsageError when one value given on the command line breaks a constraint of its edition."""
    given = [_Given(payload.year, payload.unit_id, payload.indicator, payload.value, None)]
    for _, message in _violations(checker, given):
        raise UsageError(message)


def _violations(checker: Checker, given: list[_Given]) -> list[tuple[_Given, str]]:
    """(the value that completes it, message) for every constraint the new values break.

    The values of a unit in a year are the log's current ones overlaid by the new ones (a
    correction replaces its value).  A constraint is checked once every indicator it names has a
    value (required_if: once `when` is yes), and only when a new value is among them: values
    recorded before an edition declared a constraint do not block unrelated imports.
    """
    units: dict[tuple[int, str], dict[str, _Given]] = {}
    for g in given:
        units.setdefault((g.year, g.unit_id), {})[g.indicator] = g
    applicable: dict[tuple[int, str], tuple[str, list[Any]]] = {}
    out: list[tuple[_Given, str]] = []
    for (year, unit_id), new in units.items():
        ys = checker.year(year)
        unit = ys.units.get(unit_id)
        if unit is None:
            continue
        key = (year, unit.tier)
        if key not in applicable:
            found = checker.indicators(year, unit.tier)
            applicable[key] = ("", []) if isinstance(found, str) else (found[0].id, [
                c for c in found[0].constraints if set(constraint_indicators(c)) <= found[1].keys()])
        edition, constraints = applicable[key]
        for c in constraints:
            touched = [new[n] for n in constraint_indicators(c) if n in new]
            if not touched:
                continue
            at = max(touched, key=lambda g: g.row or 0)
            message = _broken(c, at, _Values(ys, unit_id, new), edition=edition)
            if message:
                out.append((at, message))
    return out


class _Values:
    """One unit's values in one year as they would be after the write, and where each is from."""

    def __init__(self, ys: YearState, unit_id: str, new: dict[str, _Given]) -> None:
        self.ys, self.unit_id, self.new = ys, unit_id, new

    def get(self, code: str) -> Any:
        g = self.new.get(code)
        return g.value if g is not None else self.ys.value(self.unit_id, code)

    def shown(self, code: str) -> str:
        """`dossiers_total 12921 (row 4)`, `… (#3239)`, `… (the value given)`."""
        v = self.get(code)
        text = ("yes" if v else "no") if isinstance(v, bool) else (
            format(v, "f") if isinstance(v, Decimal) else str(v))
        g = self.new.get(code)
        if g is not None:
            where = "the value given" if g.row is None else f"row {g.row}"
        else:
            current = [seq for seq, status in self.ys.statuses(self.unit_id, code).values()
                       if status == "current"]
            where = f"#{max(current)}" if current else "in the log"
        return f"{code} {text} ({where})"


def _broken(c: Any, at: _Given, values: _Values, *, edition: str) -> str | None:
    """Why `values` break constraint `c` (naming every value involved), or None."""
    kind = type(c).__struct_config__.tag
    of = f"{at.unit_id} in {at.year}"
    if kind == "required_if":
        if values.get(c.when) is True and values.get(c.indicator) is None:
            return (f"{values.shown(c.when)} but {c.indicator} has no value for {of}: "
                    f"{edition} requires {c.indicator} when {c.when} is yes (give both in one "
                    f"file, or submit {c.indicator} first)")
        return None
    names = constraint_indicators(c)
    got = [values.get(n) for n in names]
    if any(v is None for v in got):
        return None
    if kind == "part_of":
        part, whole = got
        if part <= whole:
            return None
        if at.indicator == c.whole:
            return (f"{values.shown(c.whole)} is less than its part {values.shown(c.part)} for "
                    f"{of}: a part cannot exceed its whole ({edition}: {c.part} ≤ {c.whole})")
        return (f"{values.shown(c.part)} is more than {values.shown(c.whole)} for {of}: a part "
                f"cannot exceed its whole ({edition}: {c.part} ≤ {c.whole})")
    total = sum(got[:-1], Decimal(0))
    whole = got[-1]
    if total == whole or (total < whole and not c.exact):
        return None
    relation = "=" if c.exact else "≤"
    return (f"{' + '.join(values.shown(n) for n in c.parts)} = {format(total, 'f')}, "
            f"{'not' if c.exact else 'more than'} {values.shown(c.whole)} for {of} "
            f"({edition}: {' + '.join(c.parts)} {relation} {c.whole})")


def _kind(event: Event) -> str:
    """'a unit registered event', 'an indicator corrected event'."""
    kind = type(event.payload).__struct_config__.tag.replace("_", " ")
    return f"{'an' if kind[0] in 'aeio' else 'a'} {kind} event"
