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

import contextlib
import datetime as dt
import getpass
import heapq
import itertools
import os
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import attrs

from engine.asof import AsOf, parse_as_of
from engine.diff import RankingDiff
from engine.fold import LineageStep, LogState, fold
from engine.result import Explanation, Ranking
from engine.robustness import Robustness
from events.interface import ConcurrencyError, EventLog, EventNotFound, LogOpenError
from events.merkle import Checkpoint
from events.note import Signer, Verifier
from events.types import (PAYLOAD_TAGS, TIERS, Event, MethodologyAdopted, Payload,
                          SigningKeyRegistered, UnitSplit, UnitsMerged, units_named)
from ictindex import analysis, importing, replay, tlog, units, verification
from ictindex.errors import UsageError
from ictindex.projections_check import ProjectionCheck, check_projections
from ictindex.replay import Published, Replay
from plugins.manager import Registry, get_registry

if TYPE_CHECKING:
    from ictindex import copying
    from ictindex.export import ExportResult
    from ictindex.site import SiteResult
    from ictindex.template import Template

DEFAULT_DB = "ictindex.db"
MEMORY = "memory:"  # `Ictindex.open(MEMORY)`: a log held in this process only (events.memory)
# `Ictindex.open("postgresql://...")`: a log in a PostgreSQL database (events.postgres)
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
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
    # The last checkpoint computed by `checkpoint_at`: ranking several tiers of one state (the
    # site, the demo) hashes the log once.
    _last_checkpoint: tuple[int, Checkpoint | None] | None = attrs.field(default=None, init=False)

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
        `"memory:"` opens a new, empty log held in this process (`events.memory`); a
        `postgresql://` URL, the log in that database (`events.postgres`).

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
        elif str(where).startswith(POSTGRES_SCHEMES):
            from events.postgres import PostgresEventLog

            store = PostgresEventLog(str(where), read_only=read_only,
                                     check_schema=check_schema or not read_only, **kwargs)
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
        state.loaded_years = wanted
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

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """The log's checkpoint (size and Merkle root), or that of its first `size` events."""
        last = self.store.last_seq()
        if size is not None and not 0 <= size <= last:
            raise UsageError(f"--size must be within 0..{last}")
        return self.store.checkpoint(size)

    def checkpoint_at(self, seq: int) -> Checkpoint | None:
        """The checkpoint of the first `seq` events (None for none), computed from their
        leaves: what rank, the annex and the site print as the checkpoint must be the log's,
        not a derived table's (the Merkle frontier can be edited apart from the log)."""
        if not seq:
            return None
        if self._last_checkpoint is None or self._last_checkpoint[0] != seq:
            self._last_checkpoint = (seq, self.store.checkpoint(seq))
        return self._last_checkpoint[1]

    def event(self, ref: str | int) -> Event:
        """An event by seq (`42`, `#42`) or event id."""
        return self.store.get(parse_event_ref(ref))

    def log(self, *, year: int | None = None, unit_id: str | None = None,
            indicator: str | None = None, since: AsOf | str | None = None,
            until: AsOf | str | None = None, types: Iterable[str] = (),
            limit: int | None = None) -> Iterator[Event]:
        """The events, oldest first (only those of `year`, `unit_id`, `indicator` when given;
        `unit_id` may be a unit's name, see `resolve_unit`).

        `since` and `until` are as-of points (a seq, a time, or `published`: the latest
        publication event of `year`): the events after `since` and up to `until`.  `types`: only events of these types
        (`indicator_submitted`...); `limit`: only the first so many."""
        if unit_id is not None:
            unit_id = self.resolve_unit(unit_id, year=year)
        lo_seq, lo_time = self.log_point(since, year, "--since")
        hi_seq, hi_time = self.log_point(until, year, "--until")
        wanted = frozenset(types)
        unknown = sorted(wanted - set(PAYLOAD_TAGS.values()))
        if unknown:
            raise UsageError(f"unknown event type {', '.join(unknown)} "
                             f"(one of: {', '.join(sorted(PAYLOAD_TAGS.values()))})")
        if limit is not None and limit < 0:
            raise UsageError("--limit must be 0 or more")
        events: Iterable[Event] = self.store.read(
            (lo_seq or 0) + 1, year=year, unit_id=unit_id, indicator=indicator,
            as_of_seq=hi_seq, as_of_time=hi_time)
        if unit_id is not None and year is None and indicator is None:
            # a merge or split names its units in fields of its own, not in the store's unit_id
            # column: read from the unit registry (the events without a year)
            changes = (e for e in self.store.read_years((), as_of_seq=hi_seq, as_of_time=hi_time)
                       if e.seq > (lo_seq or 0) and type(e.payload) in (UnitsMerged, UnitSplit)
                       and unit_id in units_named(e.payload))
            events = heapq.merge(events, changes, key=attrgetter("seq"))
        if lo_time is not None:
            events = (e for e in events if e.recorded_at > lo_time)
        if wanted:
            events = (e for e in events if PAYLOAD_TAGS[type(e.payload)] in wanted)
        return itertools.islice(events, limit)

    def log_point(self, point: AsOf | str | None, year: int | None,
                  option: str) -> tuple[int | None, dt.datetime | None]:
        """An as-of point of `log` as (seq, time); `published` is the seq of the latest
        publication event of `year`, whatever its tier (what came after the decision)."""
        if point is None:
            return None, None
        if isinstance(point, str):
            point = parse_as_of(point)
        if point.kind != "published":
            return self.resolve_as_of(point)
        if year is None:
            raise UsageError(f"{option} published needs --year (the year whose publication)")
        ys = self.state(year=year).year_state(year)
        sizes = [e.seq for tier in TIERS for e in ys.publications(tier)]
        if not sizes:
            raise UsageError(f"no ranking of {year} has been published yet")
        return max(sizes), None

    def events_of_unit(self, unit_id: str, year: int) -> list[Event]:
        """The events of `unit_id` for `year`: its values, their corrections and retractions."""
        return list(self.store.read(year=year, unit_id=unit_id))

    def known_key(self, key: str) -> bool:
        """Whether an event with this idempotency key is in the log."""
        return self.store.has_key(key)

    # -- replaying: what the log says, through an edition ----------------------------------

    def replay(self, year: int, tier: str, *, as_of: AsOf | str | None = None,
               edition: str | None = None, allow_changed_edition: bool = False,
               state: LogState | None = None) -> Replay:
        """`tier` of `year` scored and ranked as of `as_of`, with what it was computed from
        (`ictindex.replay.replay`)."""
        return replay.replay(self, year, tier, as_of=as_of, edition=edition,
                             allow_changed_edition=allow_changed_edition, state=state)

    def rank(self, year: int, tier: str, *, as_of: AsOf | str | None = None,
             edition: str | None = None, allow_changed_edition: bool = False) -> Replay:
        """The ranking of `tier` in `year` (`.ranking`) and its scores (`.scores`).

        `edition` scores with another edition than the adopted one (a what-if, nothing is
        written); the adopted one must still have the content hash it was adopted with, unless
        `allow_changed_edition`."""
        return self.replay(year, tier, as_of=as_of, edition=edition,
                           allow_changed_edition=allow_changed_edition)

    def publication_check(self, year: int, tier: str, ranking: Ranking) -> dict:
        """Whether `ranking` reproduces the latest publication of `tier` in `year`."""
        return replay.publication_check(self, year, tier, ranking)

    def explain(self, unit_id: str, year: int, *, as_of: AsOf | str | None = None,
                edition: str | None = None, allow_changed_edition: bool = False) -> Explanation:
        """How `unit_id`'s score in `year` was derived, down to the events behind it, and the
        unit's lineage.  `unit_id` may be a name (`resolve_unit`)."""
        unit_id = self.resolve_unit(unit_id, year=year)
        return replay.explain(self, unit_id, year, as_of=as_of, edition=edition,
                              allow_changed_edition=allow_changed_edition)

    def diff(self, year: int, tier: str, *, old: AsOf | str, new: AsOf | str = "now",
             edition: str | None = None, allow_changed_edition: bool = False) -> RankingDiff:
        """The units whose points or rank changed between two as-of points, and why."""
        return replay.diff(self, year, tier, old=old, new=new, edition=edition,
                           allow_changed_edition=allow_changed_edition)

    def publish(self, year: int, tier: str | Sequence[str] | None, *, decision: str,
                date: dt.date | None = None, actor: str | None = None, supersede: bool = False,
                reason: str = "", allow_missing: bool = False) -> Published:
        """Record the publication of the current ranking of one tier, or of several (None:
        every adopted tier) in one event (`ictindex.replay.publish`): the event, the rankings,
        whether it was recorded (not already published) and the decision's checkpoint."""
        return replay.publish(self, year, tier, decision=decision, date=date,
                              actor=actor or default_actor(), supersede=supersede,
                              reason=reason, allow_missing=allow_missing)

    def decision_checkpoint(self, decision: str, year: int | None = None) -> Checkpoint:
        """The checkpoint a decision names: the log right after its last publication event."""
        return replay.decision_checkpoint(self, decision, year)

    def whatif(self, year: int, tier: str, assignments: Sequence[str], *,
               edition: str | None = None, as_of: str | None = None,
               allow_changed_edition: bool = False) -> analysis.WhatIf:
        """The ranking under the edition changed by `assignments` (`PATH=VALUE`), and its
        diff against the edition as it is; nothing is written."""
        return analysis.whatif(self, year, tier, assignments, edition=edition, as_of=as_of,
                               allow_changed_edition=allow_changed_edition)

    def robustness(self, year: int, tier: str, *, samples: int, seed: int,
                   vary: Sequence[str] = (), edition: str | None = None,
                   as_of: str | None = None, allow_changed_edition: bool = False) -> Robustness:
        """How robust each unit's rank is under varied weights, policies and tie rules
        (Monte Carlo, reproducible from `seed`)."""
        return analysis.robustness(self, year, tier, samples=samples, seed=seed, vary=vary,
                                   edition=edition, as_of=as_of,
                                   allow_changed_edition=allow_changed_edition)

    def export(self, year: int, tier: str, out: str | Path, *, fmt: str | None = None,
               as_of: str | None = None, lang: str = "vi", edition: str | None = None,
               allow_changed_edition: bool = False, db_name: str | None = None) -> "ExportResult":
        """Write the ranking of `tier` in `year` as a decision's annex (XLSX or CSV)."""
        from ictindex.export import export_annex  # openpyxl: loaded only to write an annex

        return export_annex(self, year, tier, out, fmt=fmt, as_of=as_of, lang=lang,
                            edition=edition, allow_changed_edition=allow_changed_edition,
                            db_name=db_name)

    def template(self, year: int, tier: str, out: str | Path) -> "Template":
        """Write the sheet the units fill in for `tier` of `year` (XLSX or CSV, by the
        extension): a row per unit × indicator of the adopted edition, to `import` back."""
        from ictindex.template import write_template  # openpyxl: loaded only to write one

        return write_template(self, year, tier, out)

    def site(self, year: int, out: str | Path, *, as_of: AsOf | str | None = None,
             db_name: str | None = None, robustness_samples: int = 0,
             robustness_seed: int = 1, lang: str = "vi",
             signer: Signer | None = None) -> "SiteResult":
        """Write the static transparency site of `year` under the folder `out`, with the log
        and its proofs (the checkpoint signed by `signer`, if given).  The pages are Vietnamese;
        `lang` is how they write numbers: "vi" 84,03, "en" 84.03."""
        from ictindex.site import build_site  # Jinja: loaded only to build a site

        return build_site(self, year, out, as_of=as_of, db_name=db_name,
                          robustness_samples=robustness_samples, robustness_seed=robustness_seed,
                          lang=lang, signer=signer)

    def readoption_diff(self, year: int, tier: str, edition: str, *,
                        state: LogState | None = None) -> RankingDiff:
        """What adopting `edition` for `tier` of `year` instead of the adopted one would
        change (`adopt` prints it before re-adopting)."""
        return replay.readoption_diff(self, year, tier, edition, state=state)

    # -- checking ----------------------------------------------------------------------------

    def verify(self, checkpoint: Checkpoint | str | None = None) -> verification.Verification:
        """Recompute every hash from the stored bytes (the log must extend `checkpoint`), then
        re-derive every publication, the projections, the Merkle frontier and the tiles."""
        if isinstance(checkpoint, str):
            checkpoint = Checkpoint.parse(checkpoint)
        return verification.verify(self, checkpoint)

    def prove(self, ref: str | int, checkpoint: Checkpoint | str) -> verification.Proof:
        """The stored bytes of the event `ref` (a seq or an event id) and their inclusion
        proof in `checkpoint`; `.ok` says whether it verifies."""
        if isinstance(checkpoint, str):
            checkpoint = Checkpoint.parse(checkpoint)
        return verification.prove(self, ref, checkpoint)

    @classmethod
    def copy(cls, source: str | Path | EventLog, target: str | Path | EventLog, *,
             registry: Registry | None = None, chunk: int | None = None) -> "copying.Copied":
        """Copy the log `source` into `target` (a new or empty log, or an earlier, interrupted
        copy of it, which is completed): byte-identical bodies, leaf hashes and checkpoint,
        verified as it goes (`ictindex.copying`).  Each is a name `open` accepts (the source is
        opened read-only, before the target, which it may create) or an open `EventLog`
        (left open)."""
        from ictindex import copying

        names = [str(x) for x in (source, target) if isinstance(x, (str, Path))]
        if (len(names) == 2 and MEMORY not in names and "://" not in names[0]
                and Path(names[0]).resolve() == Path(names[1]).resolve()):
            raise UsageError("--from and --to name the same log")

        def name(x: str | Path | EventLog) -> str:
            return str(x) if isinstance(x, (str, Path)) else x.name

        def opened(x: str | Path | EventLog, flag: str, read_only: bool) -> EventLog:
            if not isinstance(x, (str, Path)):
                return x
            try:
                app = cls.open(x, read_only=read_only, registry=registry)
            except LogOpenError as e:
                raise UsageError(f"{flag}: {e}") from None
            stack.callback(app.close)
            return app.store

        with contextlib.ExitStack() as stack:
            source_log = opened(source, "--from", True)
            want = copying.check_source(source_log, name(source))
            target_log = opened(target, "--to", False)
            return copying.copy_log(source_log, target_log, want, source_name=name(source),
                                    target_name=name(target), chunk=chunk)

    def prove_unit(self, unit_id: str, year: int,
                   checkpoint: Checkpoint | str) -> verification.UnitProofs:
        """An inclusion proof in `checkpoint` of each event of `unit_id` for `year` that the
        checkpoint covers, each checked; the later events are listed apart."""
        if isinstance(checkpoint, str):
            checkpoint = Checkpoint.parse(checkpoint)
        return verification.prove_unit(self, self.resolve_unit(unit_id, year=year), year,
                                       checkpoint)

    def key_event(self, verifier: Verifier) -> int | None:
        """The seq of the event that records `verifier`'s key in the log, None if none does."""
        return tlog.registered(self.store, verifier)

    def tiles(self, out: str | Path, signer: Signer, size: int | None = None) -> tlog.Tiles:
        """Write the log (its first `size` events) under `out` as C2SP tlog tiles with its
        checkpoint signed by `signer`: any static web host can serve them."""
        return tlog.write_tiles(self, out, signer, size)

    def grant_writer(self, role: str) -> bool:
        """Set up the database role `role` to read and append to the log and nothing else
        (a PostgreSQL log only); True if the role was created."""
        create = getattr(self.store, "create_writer_role", None)
        if create is None:
            raise UsageError("--writer-role needs a log in PostgreSQL (--db postgresql://...): "
                             "a SQLite file's rights are its file permissions")
        return create(role)

    # -- projections: derived tables beside the log -------------------------------------------

    def rebuild_projections(self) -> dict[str, int]:
        """Drop and rebuild the projections from a full replay of every year."""
        from ictindex.projections import Projections

        return Projections.of(self).rebuild()

    def drop_projections(self) -> None:
        """Drop the projection tables (the log is untouched)."""
        from ictindex.projections import Projections

        Projections.of(self).drop()

    def check_projections(self) -> ProjectionCheck:
        """Compare the projections with a full replay."""
        return check_projections(self)

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

    def import_file(self, path: str | Path, *, actor: str | None = None, reason: str = "",
                    authority: str = "", **options) -> list[Event]:
        """`import_submissions`: the `ictindex import` command."""
        return self.import_submissions(path, actor=actor, reason=reason, authority=authority,
                                       **options)

    def register_key(self, verifier: Verifier, *, reason: str = "",
                     actor: str | None = None) -> list[Event]:
        """Record the public key (and its name) that signs the log's checkpoints; [] when it
        is recorded already."""
        text = verifier.text()
        payload = SigningKeyRegistered(name=verifier.name, key=text, reason=reason)
        return self.store.append([payload], actor=actor or default_actor(),
                                 keys=[f"signing-key:{text}"])

    def submit(self, year: int, unit_id: str, indicator: str, value: str, *,
               evidence: str = "", note: str = "", actor: str | None = None,
               decimal_comma: bool = False, reason: str = "", authority: str = "") -> Event | None:
        """Record one submission; None when the very same submission is already recorded.

        A value for a year and tier already published needs a `reason` (and should name the
        `authority`), as a correction does; so does submitting again a value that was
        retracted."""
        def check(state: LogState) -> tuple[list[Payload], list[str]]:
            payload = importing.check_submission(
                state, self.registry, year, units.resolve(state, unit_id, year=year), indicator,
                value, evidence=evidence,
                note=note, decimal_comma=decimal_comma, known_key=self.known_key,
                reason=reason, authority=authority)
            return [payload], [importing.idempotency_key(payload)]

        events = self.checked_append(check, actor=actor)
        return events[0] if events else None

    # -- units: names, changes, lineage ------------------------------------------------------

    def unit_registry(self) -> LogState:
        """The log's unit registry folded alone (no year's values): what naming units needs."""
        return fold(self.store.read_years(frozenset(), lean=True), source=self.store.events_by_seq)

    def resolve_unit(self, text: str, *, year: int | None = None,
                     state: LogState | None = None) -> str:
        """The unit id `text` names: an exact unit id, else a unit whose name matches without
        diacritics or case (`dat do` → UBND huyện Đất Đỏ); an ambiguous name is refused with
        the candidates; an unknown one comes back as given (`ictindex.units.resolve`)."""
        return units.resolve(state if state is not None else self.unit_registry(), text,
                             year=year)

    def list_units(self, *, year: int | None = None,
                   tier: str | None = None) -> list[units.UnitRow]:
        """The units of `year` as they were that year (else every unit, as it is now or was
        in its last year), of `tier` when given, by unit id."""
        return units.unit_rows(self.unit_registry(), year=year, tier=tier)

    def lineage(self, unit: str) -> tuple[LineageStep, ...]:
        """The renames, retirement, merges and splits of a unit (an id or a name)."""
        state = self.unit_registry()
        uid = units.resolve(state, unit)
        if not state.has_unit(uid):
            raise UsageError(f"unknown unit {unit!r}")
        return state.lineage(uid)

    def rename_unit(self, unit: str, name: str, *, date: dt.date, reason: str, authority: str,
                    actor: str | None = None) -> Event:
        """Record that a unit carries `name` from `date` on (from the year of `date`)."""
        return self.checked_append(lambda state: ([units.rename(
            state, unit, name, date=date, reason=reason, authority=authority)], None),
            actor=actor)[0]

    def retire_unit(self, unit: str, *, date: dt.date, reason: str, authority: str,
                    actor: str | None = None) -> Event:
        """Record that a unit ceases to exist on `date` (abolished): its last year is the
        year before."""
        return self.checked_append(lambda state: ([units.retire(
            state, unit, date=date, reason=reason, authority=authority)], None), actor=actor)[0]

    def merge_units(self, sources: Sequence[str], into: str, *, date: dt.date, reason: str,
                    authority: str, name: str | None = None, tier: str | None = None,
                    actor: str | None = None) -> Event:
        """Record that `sources` merge into `into` (a new unit named `name`, or one of them)
        on `date`, by the decision `authority`."""
        return self.checked_append(lambda state: ([units.merge(
            state, sources, into, date=date, reason=reason, authority=authority, name=name,
            tier=tier)], None), actor=actor)[0]

    def split_unit(self, unit: str, parts: Sequence[str], *, date: dt.date, reason: str,
                   authority: str, actor: str | None = None) -> Event:
        """Record that `unit` splits into `parts` (`ID:Name` each) on `date`."""
        return self.checked_append(lambda state: ([units.split(
            state, unit, parts, date=date, reason=reason, authority=authority)], None),
            actor=actor)[0]

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

