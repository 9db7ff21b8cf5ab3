"""An event log held in memory: a second `EventLog`, written from the interface alone.

Pure Python, nothing on disk: an append-only list of stored rows with the very bytes the SQLite
store writes (canonical body, RFC 6962 leaf hash, the chain of `prev_hash`), so the same payloads
under the same clock and event ids give the same checkpoint in either store.  It exists to keep
the interface honest: the contract tests (`events.testing`) and the replay suite run on it, so
nothing outside `events/` can depend on SQLite without a test noticing.  It is also what a
PostgreSQL store should behave like, minus durability and concurrency across processes.

It has no derived tables (`events.interface.DerivedTables`): the application then computes
every ranking by replay, without projections.  Published copies are kept in a dict.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Callable, Iterable, Iterator

from . import merkle
from .canonical import (
    GENESIS_PREV_HASH,
    decode_event,
    encode_canonical,
    parse_time_key,
    time_key,
)
from .interface import (
    AppendResult,
    ConcurrencyError,
    EventNotFound,
    LogIntegrityError,
    LogOpenError,
    StoredRow,
    new_event_id,
    utc_now,
)
from .merkle import Checkpoint, ConsistencyProof, InclusionProof
from .refusal import BadArgument
from .stored import duplicate, new_row, same_payload, stored_row
from .types import Event, Payload

Clock = Callable[[], dt.datetime]
IdFactory = Callable[[], str]


class MemoryEventLog:
    """The log as a list in this process (see the module docstring).

    `clock` and `new_event_id` mean what they mean for `events.store.EventStore`: the clock is
    read once per batch and never allowed to go back; event ids must be unique non-empty
    strings.  Thread-safe: one lock serialises appends, as SQLite's write lock does.
    """

    path: str | None = None  # nothing on disk: no second process can read it

    def __init__(self, *, clock: Clock = utc_now, new_event_id: IdFactory = new_event_id,
                 read_only: bool = False) -> None:
        self.clock = clock
        self.new_event_id = new_event_id
        self.read_only = read_only
        self._rows: list[StoredRow] = []
        self._by_id: dict[str, int] = {}
        self._by_key: dict[str, int] = {}
        self._published: dict[int, bytes] = {}
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Nothing to release; the events stay readable until the object is dropped."""

    def __enter__(self) -> "MemoryEventLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def append(self, payloads: Iterable[Payload], *, actor: str,
               keys: Iterable[str | None] | None = None,
               expected_last_seq: int | None = None) -> list[Event]:
        out: list[Event] = []
        self._write(payloads, keys, actor, expected_last_seq, out)
        return out

    def extend(self, payloads: Iterable[Payload], *, actor: str,
               keys: Iterable[str | None] | None = None,
               expected_last_seq: int | None = None) -> AppendResult:
        return self._write(payloads, keys, actor, expected_last_seq, None)

    def _write(self, payloads: Iterable[Payload], keys: Iterable[str | None] | None, actor: str,
               expected_last_seq: int | None, out: list[Event] | None) -> AppendResult:
        if not isinstance(actor, str) or not actor.strip():
            raise BadArgument("actor must be a non-empty string")
        items = (((p, None) for p in payloads) if keys is None
                 else zip(payloads, keys, strict=True))
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")
        with self._lock:
            last = self._rows[-1] if self._rows else None
            seq = last.seq if last else 0
            prev = last.hash if last else GENESIS_PREV_HASH
            if expected_last_seq is not None and expected_last_seq != seq:
                raise ConcurrencyError(expected_last_seq, seq)
            now = self.clock()
            now_key = time_key(now)  # refuses naive datetimes
            now = now.astimezone(dt.timezone.utc)
            if last is not None and now_key < last.recorded_at:
                now_key, now = last.recorded_at, parse_time_key(last.recorded_at)
            # built aside and added only when the whole batch is good: all or nothing
            rows: list[StoredRow] = []
            new_ids: dict[str, int] = {}
            seen: dict[str, Payload] = {}
            skipped = 0
            for payload, key in items:
                if key is not None:
                    if type(key) is not str or not key:
                        raise ValueError(f"an idempotency key must be a non-empty string: {key!r}")
                    if key in self._by_key or key in seen:
                        earlier = self._by_key.get(key)
                        same_payload(key, payload,
                                     None if earlier is None else (earlier, self._rows[earlier - 1].body),
                                     seen, encode_canonical)
                        skipped += 1
                        continue
                    seen[key] = payload
                seq += 1
                fields, event = new_row(payload, key, seq, prev, now, now_key, actor,
                                        self.new_event_id)
                row = StoredRow._make(fields)
                if row.event_id in self._by_id or row.event_id in new_ids:
                    raise ValueError(f"event id {row.event_id!r} is already in the log")
                new_ids[row.event_id] = seq
                prev = row.hash
                rows.append(row)
                if out is not None:
                    out.append(event)
            first = rows[0].seq if rows else None
            self._rows.extend(rows)
            self._by_id.update(new_ids)
            self._by_key.update((r.key, r.seq) for r in rows if r.key is not None)
            return AppendResult(first, seq, len(rows), skipped)

    def append_stored(self, bodies: Iterable[bytes], *, expected_last_seq: int) -> AppendResult:
        """See `events.interface.EventLog.append_stored`: every body checked
        (`events.stored`) before any is added."""
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")
        with self._lock:
            last = self._rows[-1] if self._rows else None
            seq = last.seq if last else 0
            if expected_last_seq != seq:
                raise ConcurrencyError(expected_last_seq, seq)
            prev = last.hash if last else GENESIS_PREV_HASH
            last_time = last.recorded_at if last else None
            rows: list[StoredRow] = []
            new_ids: dict[str, int] = {}
            new_keys: dict[str, int] = {}
            for body in bodies:
                seq += 1
                row, _ = stored_row(body, seq, prev, last_time)
                if row.event_id in self._by_id or row.event_id in new_ids:
                    raise duplicate(row, "event id")
                if row.key is not None and (row.key in self._by_key or row.key in new_keys):
                    raise duplicate(row, "key")
                new_ids[row.event_id] = seq
                if row.key is not None:
                    new_keys[row.key] = seq
                rows.append(row)
                prev, last_time = row.hash, row.recorded_at
            self._rows.extend(rows)
            self._by_id.update(new_ids)
            self._by_key.update(new_keys)
            return AppendResult(rows[0].seq if rows else None, seq, len(rows), 0)

    # -- reading ---------------------------------------------------------------------------

    def _snapshot(self) -> list[StoredRow]:
        with self._lock:
            return self._rows[:]

    def last_seq(self) -> int:
        rows = self._rows
        return rows[-1].seq if rows else 0

    def read(self, start: int = 1, stop: int | None = None, *, year: int | None = None,
             unit_id: str | None = None, indicator: str | None = None,
             as_of_seq: int | None = None, as_of_time: dt.datetime | None = None
             ) -> Iterator[Event]:
        limit = time_key(as_of_time) if as_of_time is not None else None
        rows = self._snapshot()[max(start, 1) - 1:]
        return (decode_event(r.body) for r in rows
                if (stop is None or r.seq < stop) and (as_of_seq is None or r.seq <= as_of_seq)
                and (limit is None or r.recorded_at <= limit)
                and (year is None or r.year == year) and (unit_id is None or r.unit_id == unit_id)
                and (indicator is None or r.indicator == indicator))

    def read_years(self, years: Iterable[int], *, as_of_seq: int | None = None,
                   as_of_time: dt.datetime | None = None, lean: bool = False) -> Iterator[Event]:
        wanted = set(years)
        limit = time_key(as_of_time) if as_of_time is not None else None
        return (decode_event(r.body) for r in self._snapshot()
                if (r.year is None or r.year in wanted)
                and (as_of_seq is None or r.seq <= as_of_seq)
                and (limit is None or r.recorded_at <= limit))

    def last_seq_as_of(self, as_of_seq: int | None = None,
                       as_of_time: dt.datetime | None = None) -> int:
        last = self.last_seq()
        if as_of_seq is not None:
            last = min(last, max(as_of_seq, 0))
        if as_of_time is not None:
            limit = time_key(as_of_time)
            last = max((r.seq for r in self._snapshot()[:last] if r.recorded_at <= limit),
                       default=0)
        return last

    def get(self, ref: int | str) -> Event:
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise TypeError(f"an event is named by its seq (int) or event id (str), not {ref!r}")
        if isinstance(ref, int):
            rows = self._rows
            if not 1 <= ref <= len(rows):
                raise EventNotFound(f"no event with seq {ref}")
            return decode_event(rows[ref - 1].body)
        seq = self._by_id.get(ref)
        if seq is None:
            raise EventNotFound(f"no event with event_id {ref}")
        return decode_event(self._rows[seq - 1].body)

    def events_by_seq(self, seqs: Iterable[int]) -> dict[int, Event]:
        rows = self._rows
        return {s: decode_event(rows[s - 1].body) for s in set(seqs)
                if type(s) is int and 1 <= s <= len(rows)}

    def has_key(self, key: str) -> bool:
        return key in self._by_key

    def stored_rows(self, start: int | None = None) -> Iterator[StoredRow]:
        rows = self._snapshot()
        return iter(rows if start is None else rows[max(start, 1) - 1:])

    def leaf_hashes(self, stop: int | None = None) -> list[bytes]:
        rows = self._snapshot()
        if stop is not None:
            rows = rows[:max(stop, 0)]
        try:
            return [bytes.fromhex(r.hash) for r in rows]
        except ValueError:
            raise LogIntegrityError("a stored leaf hash is not hex") from None

    def check_storage(self) -> list[str]:
        """Nothing beyond the rows can be wrong with a list: no schema, no index."""
        return []

    # -- checkpoints and proofs ------------------------------------------------------------

    def _leaves(self, size: int | None) -> list[bytes]:
        leaves = self.leaf_hashes(size)
        if size is not None and (size < 0 or len(leaves) != size):
            raise ValueError(f"the log has {self.last_seq()} events, not {size}")
        return leaves

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        return Checkpoint.of(self._leaves(size))

    def latest_checkpoint(self) -> Checkpoint:
        return self.checkpoint()

    def stored_frontier(self) -> Checkpoint | None:
        """No derived frontier is kept: every checkpoint is computed from the leaves."""
        return None

    def tile_problems(self) -> list[str]:
        """No tiles are kept: every proof is computed from the leaves."""
        return []

    def inclusion_proof(self, seq: int, size: int | None = None) -> InclusionProof:
        leaves = self._leaves(size)
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= len(leaves):
            raise ValueError(f"event {seq!r} is not among the first {len(leaves)} events")
        path = merkle.inclusion_proof(leaves, seq - 1)
        return InclusionProof(seq - 1, len(leaves), leaves[seq - 1].hex(), [p.hex() for p in path])

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        leaves = self._leaves(new_size)
        path = merkle.consistency_proof(leaves, old_size)
        return ConsistencyProof(old_size, len(leaves), [p.hex() for p in path])

    # -- published copies ------------------------------------------------------------------

    def keep_published(self, seq: int, ranking: bytes) -> None:
        self._published[seq] = bytes(ranking)

    def published_copy(self, seq: int) -> bytes | None:
        return self._published.get(seq)

    @property
    def name(self) -> str:
        return "memory"


__all__ = ["MemoryEventLog"]
