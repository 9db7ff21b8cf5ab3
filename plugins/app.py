"""The Python API: one object that ties the log, the plugins and the engine together.

Everything the command line can do is a method here; the CLI only parses arguments and prints.
Writes validate against the log's current state and the adopted editions before anything is
appended, and append each request as one atomic batch.
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
from events.interface import EventNotFound
from events.store import EventStore
from events.types import Event, MethodologyAdopted
from plugins import importing
from plugins.errors import UsageError
from plugins.manager import Registry, get_registry

DEFAULT_DB = "ictindex.db"


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
    """An open log and the installed plugins."""

    store: EventStore
    registry: Registry = attrs.field(factory=get_registry)

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        new_event_id: Callable[[], str] | None = None,
        registry: Registry | None = None,
    ) -> "Ictindex":
        kwargs = {}
        if clock is not None:
            kwargs["clock"] = clock
        if new_event_id is not None:
            kwargs["new_event_id"] = new_event_id
        store = EventStore(path if path is not None else default_db_path(), **kwargs)
        app = cls(store, registry if registry is not None else get_registry())
        from plugins.projections import Projections

        projections = Projections.of(app)
        if projections.exists():  # keep them current on every append (same transaction)
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

    def import_units(self, path: str | Path, *, actor: str | None = None, **options) -> list[Event]:
        """Register the units of a CSV file (`unit_id, tier, name, parent_id[, from_year]`)."""
        state = self.state()
        payloads, keys = importing.units_from_file(path, state, known_key=self.known_key,
                                                   **options)
        return self.store.append(payloads, actor=actor or default_actor(), keys=keys)

    def import_submissions(self, path: str | Path, *, actor: str | None = None,
                           **options) -> list[Event]:
        """Record every row of a long-form CSV/XLSX file, or nothing if any row is bad."""
        state = self.state()
        payloads, keys = importing.submissions_from_file(path, state, self.registry,
                                                         known_key=self.known_key, **options)
        return self.store.append(payloads, actor=actor or default_actor(), keys=keys)

    def submit(self, year: int, unit_id: str, indicator: str, value: str, *,
               evidence: str = "", note: str = "", actor: str | None = None,
               decimal_comma: bool = False) -> Event | None:
        """Record one submission; None when the very same submission is already recorded."""
        state = self.state()
        payload = importing.check_submission(
            state, self.registry, year, unit_id, indicator, value, evidence=evidence, note=note,
            decimal_comma=decimal_comma, known_key=self.known_key)
        events = self.store.append([payload], actor=actor or default_actor(),
                                   keys=[importing.idempotency_key(payload)])
        return events[0] if events else None

    def correct(self, ref: str | int, value: str, *, reason: str, authority: str = "",
                actor: str | None = None, decimal_comma: bool = False) -> Event:
        """Record a new value for a submission; the submission itself stays in the log."""
        target = self.event(ref)
        state = self.state()
        payload = importing.check_correction(state, self.registry, target, value, reason=reason,
                                             authority=authority, decimal_comma=decimal_comma)
        return self.store.append([payload], actor=actor or default_actor())[0]

    def retract(self, ref: str | int, *, reason: str, authority: str = "",
                actor: str | None = None) -> Event:
        """Withdraw a submission or a correction; it stays in the log, marked retracted."""
        target = self.event(ref)
        payload = importing.check_retraction(self.state(), target, reason=reason,
                                             authority=authority)
        return self.store.append([payload], actor=actor or default_actor())[0]

    def adopt(self, edition_id: str, year: int, tiers: Sequence[str] | None = None, *,
              actor: str | None = None) -> list[Event]:
        """Record that `year` (all the edition's tiers, or `tiers`) is scored by an edition."""
        edition = self.registry.edition(edition_id)
        chosen = list(tiers) if tiers else sorted(edition.methodology.tiers)
        unknown = [t for t in chosen if t not in edition.methodology.tiers]
        if unknown:
            raise UsageError(
                f"{edition_id} has no tier {', '.join(unknown)}; "
                f"its tiers are {', '.join(sorted(edition.methodology.tiers))}")
        state = self.state().year_state(year)
        payloads = []
        for tier in chosen:
            current = state.adoption(tier)
            if current and (current.edition, current.content_hash) == (edition_id, edition.content_hash):
                continue  # already adopted: recording it again would add nothing
            payloads.append(MethodologyAdopted(year=year, tier=tier, edition=edition_id,
                                               content_hash=edition.content_hash))
        return self.store.append(payloads, actor=actor or default_actor())


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

