"""The Python API: one object that ties the log, the plugins and the engine together.

Everything the command line can do is a method here; the CLI only parses arguments and prints.
Writes validate against the log's current state and the adopted editions before anything is
appended, and append each request as one atomic batch.

Validation and append are one step as far as any other writer can tell: the batch is appended
with `expected_last_seq` set to the last seq of the state it was checked against, so if anyone
appended in between the store refuses it (`ConcurrencyError`), and the write reads the log
again and checks again (`Ictindex.checked_append`).  Optimistic rather than a lock held while
checking: it needs nothing from the store but `expected_last_seq`, which every `EventLog` has.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import attrs

from engine.asof import AsOf, parse_as_of
from engine.fold import LogState, fold
from events.interface import ConcurrencyError, EventLog, EventNotFound
from events.types import Event, MethodologyAdopted, Payload
from ictindex import importing
from ictindex.errors import UsageError
from plugins.manager import Registry, get_registry

DEFAULT_DB = "ictindex.db"
MEMORY = "memory:"  # `Ictindex.open(MEMORY)`: a log held in this process only (events.memory)
# How often a write re-reads and re-checks when other writers keep appending first; each retry
# means another writer made progress, so running out takes a log under constant heavy writing.
WRITE_ATTEMPTS = 50


def default_db_path() -> str:
    return os.environ.get("ICTINDEX_DB") or DEFAULT_DB


def default_actor() -> str:
    actor = os.environ.get("ICTINDEX_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


@attrs.define
class Ictindex:
    """An open log and the installed plugins.

    `store` is any `events.interface.EventLog`: the app asks nothing else of it.  When it also
    keeps derived tables (`events.interface.DerivedTables`), the projections live there."""

    store: EventLog
    registry: Registry = attrs.field(factory=get_registry)

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        new_event_id: Callable[[], str] | None = None,
        registry: Registry | None = None,
        read_only: bool = False,
        check_schema: bool = True,
    ) -> "Ictindex":
        """Open the log at `path` (see `events.store`: a file that is not a log is refused);
        `"memory:"` opens a new, empty log held in this process (`events.memory`).

        `read_only`: create and change nothing (SQLite's `mode=ro`); a missing file is an
        error, and appends are refused.  `check_schema=False` (read-only only): open a log
        whose schema differs, for `verify` to report every difference."""
        # the projections' tables are declared by their module (the schema check accepts them)
        from ictindex.projections import Projections

        kwargs = {}
        if clock is not None:
            kwargs["clock"] = clock
        if new_event_id is not None:
            kwargs["new_event_id"] = new_event_id
        where = path if path is not None else default_db_path()
        store: EventLog
        if str(where) == MEMORY:
            from events.memory import MemoryEventLog

            store = MemoryEventLog(read_only=read_only, **kwargs)
        else:
            from events.store import EventStore

            store = EventStore(where, read_only=read_only,
                               check_schema=check_schema or not read_only, **kwargs)
        app = cls(store, registry if registry is not None else get_registry())
        projections = Projections.of(app)
        if not read_only and projections.exists():  # kept current on every append (same txn)
            projections.attach()
        return app

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Ictindex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading the log -------------------------------------------------------------------

    def state(self, as_of: AsOf | str | None = None, *, year: int | None = None,
              tier: str | None = None, years: Iterable[int] | None = None) -> LogState:
        """The folded log up to `as_of` (`published` needs `year` and `tier`).

        With `year` (or `years`) only those years' events and the unit registry are read and
        folded (other years of the state are then empty: `state.loaded_years` says which were
        read); `last_seq` is still the as-of point of the whole log.
        """
        seq, time = self.resolve_as_of(as_of, year=year, tier=tier)
        if year is None and years is None:
            return fold(self.store.read(), as_of_seq=seq, as_of_time=time,
                        source=self.store.events_by_seq)
        wanted = frozenset(years if years is not None else (year,))
        state = fold(self.store.read_years(wanted, as_of_seq=seq, as_of_time=time, lean=True),
                     source=self.store.events_by_seq)
        state.last_seq = self.store.last_seq_as_of(seq, time)
        state.loaded_years = wanted  # type: ignore[attr-defined]
        return state

    def resolve_as_of(self, as_of: AsOf | str | None, *, year: int | None = None,
                      tier: str | None = None) -> tuple[int | None, dt.datetime | None]:
        if as_of is None:
            return None, None
        if isinstance(as_of, str):
            as_of = parse_as_of(as_of)
        if as_of.kind == "now":
            return None, None
        if as_of.kind == "seq":
            return as_of.seq, None
        if as_of.kind == "time":
            return None, as_of.time
        if year is None or tier is None:
            raise UsageError("--as-of published needs a year and a tier")
        pub = fold(self.store.read(), source=self.store.events_by_seq).year_state(year).latest_publication(tier)
        if pub is None:
            raise UsageError(f"no ranking of {year} {tier} has been published yet")
        return pub.checkpoint_size, None

    def event(self, ref: str | int) -> Event:
        """An event by seq (`42`, `#42`) or event id."""
        return self.store.get(parse_event_ref(ref))

    def known_key(self, key: str) -> bool:
        """Whether an event with this idempotency key is in the log."""
        return self.store.has_key(key)

    # -- writing ---------------------------------------------------------------------------

    def checked_append(self, check: Callable[[LogState], tuple[list[Payload], list[str] | None]],
                       *, actor: str | None = None) -> list[Event]:
        """Append what `check(state)` returns, only if the log still ends where `state` ended.

        `check` validates against the folded state it is given (raising on a bad request) and
        returns the payloads and their idempotency keys (or None).  When another writer
        appended in between, the log is read and checked again, up to `WRITE_ATTEMPTS` times.
        """
        for attempt in range(WRITE_ATTEMPTS):
            state = self.state()
            payloads, keys = check(state)
            try:
                return self.store.append(payloads, actor=actor or default_actor(), keys=keys,
                                         expected_last_seq=state.last_seq)
            except ConcurrencyError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def import_units(self, path: str | Path, *, actor: str | None = None, **options) -> list[Event]:
        """Register the units of a CSV file (`unit_id, tier, name, parent_id[, from_year]`)."""
        return self.checked_append(
            lambda state: importing.units_from_file(path, state, known_key=self.known_key,
                                                    **options), actor=actor)

    def import_submissions(self, path: str | Path, *, actor: str | None = None,
                           reason: str = "", authority: str = "", **options) -> list[Event]:
        """Record every row of a long-form CSV/XLSX file, or nothing if any row is bad.

        Into a year and tier already published, only with a `reason` (see `submit`)."""
        return self.checked_append(
            lambda state: importing.submissions_from_file(
                path, state, self.registry, known_key=self.known_key, reason=reason,
                authority=authority, **options), actor=actor)

    def submit(self, year: int, unit_id: str, indicator: str, value: str, *,
               evidence: str = "", note: str = "", actor: str | None = None,
               decimal_comma: bool = False, reason: str = "", authority: str = "") -> Event | None:
        """Record one submission; None when the very same submission is already recorded.

        A value for a year and tier already published needs a `reason` (and should name the
        `authority`), as a correction does; so does submitting again a value that was
        retracted."""
        def check(state: LogState) -> tuple[list[Payload], list[str]]:
            payload = importing.check_submission(
                state, self.registry, year, unit_id, indicator, value, evidence=evidence,
                note=note, decimal_comma=decimal_comma, known_key=self.known_key,
                reason=reason, authority=authority)
            return [payload], [importing.idempotency_key(payload)]

        events = self.checked_append(check, actor=actor)
        return events[0] if events else None

    def correct(self, ref: str | int, value: str, *, reason: str, authority: str = "",
                actor: str | None = None, decimal_comma: bool = False) -> Event:
        """Record a new value for a submission; the submission itself stays in the log."""
        target = self.event(ref)
        return self.checked_append(
            lambda state: ([importing.check_correction(
                state, self.registry, target, value, reason=reason, authority=authority,
                decimal_comma=decimal_comma)], None), actor=actor)[0]

    def retract(self, ref: str | int, *, reason: str, authority: str = "",
                actor: str | None = None) -> Event:
        """Withdraw a submission or a correction; it stays in the log, marked retracted."""
        target = self.event(ref)
        return self.checked_append(
            lambda state: ([importing.check_retraction(state, target, reason=reason,
                                                       authority=authority)], None),
            actor=actor)[0]

    def adopt(self, edition_id: str, year: int, tiers: Sequence[str] | None = None, *,
              actor: str | None = None, reason: str = "", authority: str = "") -> list[Event]:
        """Record that `year` (all the edition's tiers, or `tiers`) is scored by an edition.

        Replacing the edition (or its content) of a tier that already has one needs a `reason`
        and an `authority`, and is refused when the new edition has no data for that year and
        tier (see `adoption_payloads`)."""
        return self.checked_append(
            lambda state: (self.adoption_payloads(state, edition_id, year, tiers, reason=reason,
                                                  authority=authority), None), actor=actor)

    def adoption_payloads(self, state: LogState, edition_id: str, year: int,
                          tiers: Sequence[str] | None = None, *, reason: str = "",
                          authority: str = "", dry_run: bool = False) -> list[MethodologyAdopted]:
        """The adoptions `adopt` would record against `state`, checked (nothing is written)."""
        edition = self.registry.edition(edition_id)
        chosen = list(tiers) if tiers else sorted(edition.methodology.tiers)
        unknown = [t for t in chosen if t not in edition.methodology.tiers]
        if unknown:
            raise UsageError(
                f"{edition_id} has no tier {', '.join(unknown)}; "
                f"its tiers are {', '.join(sorted(edition.methodology.tiers))}")
        return importing.check_adoptions(state, self.registry, edition_id, year, chosen,
                                         reason=reason, authority=authority, dry_run=dry_run)


def parse_event_ref(ref: str | int) -> str | int:
    """`42`, `#42` and `seq:42` name a seq; anything else is an event id."""
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    for prefix in ("#", "seq:"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if not (text.isascii() and text.isdigit()):
        return ref.strip()
    if int(text) > 2**63 - 1:  # beyond SQLite's integers: no log has that many events
        raise EventNotFound(f"no event with seq {text}")
    return int(text)

