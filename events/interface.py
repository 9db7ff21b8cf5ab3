"""What an event store is, independent of the database behind it.

`EventLog` is everything the application (`ictindex.app.Ictindex`, replay, publish, verify, the
site and the exports) asks of a log: nothing outside `events/` reaches into a store's database.
`EventStore` (SQLite, events/store.py) and `MemoryEventLog` (events/memory.py) implement it; a
PostgreSQL store implements the same methods with the same meaning and passes the same
contract tests, which ship in the package (`events.testing.StoreContract`).  `verify` and the
Merkle proofs need nothing but these methods.

Bytes are the store's business only in that it must keep them: the canonical body of an event
is `events.canonical.encode_event(event)` (the store builds the `Event` with the next seq, its
own clock's time and event id, the previous event's leaf hash as `prev_hash`), its leaf hash is
`events.canonical.leaf_hash_hex(body)`, and `checkpoint`/proofs are `events.merkle` over the
leaf hashes in seq order.  Same payloads, clock and event ids: same bytes and checkpoint in
every store.

`DerivedTables` is a second, optional interface: a store that can keep tables derived from the
log in the append's own transaction (the SQLite store can; the memory store cannot).  The
application registers a `Projector` through it; without it, every ranking is a replay.

Two optional speed-ups, found by `getattr` (the SQLite store has both): `tile_check()`, an
`events.tiles.Check` that `verify` feeds from its own pass over the bodies (without it `verify`
asks `tile_problems()`, which reads the leaves again), and `path`, the file a log is kept in:
`verify` then runs `check_storage()` in a thread beside its pass (the SQLite store's check
runs inside SQLite, on a connection of its own) rather than after it.

Changed for issue 13 (a PostgreSQL store does the same): `stored_rows()` without `start` returns
every row, whatever its seq; `check_storage()` is new; `leaf_hashes` refuses rows that are not
numbered 1..N; a store opened read-only creates and changes nothing.

New for issue 16: `append_stored`, which appends bodies another store recorded, verbatim (what
`ictindex copy` writes with; `events.stored` holds the checks every store makes of each body).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable, ContextManager, Iterable, Iterator, NamedTuple, Protocol, Sequence, runtime_checkable

import msgspec

from .merkle import Checkpoint, ConsistencyProof, InclusionProof
from .refusal import Refused
from .types import Event, Payload


class ConcurrencyError(RuntimeError):
    """`expected_last_seq` did not match the log: someone else appended first."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"expected the log to end at seq {expected}, but it ends at seq {actual}: "
            "read the new events and try again"
        )
        self.expected = expected
        self.actual = actual


class EventNotFound(KeyError):
    """No event with that seq or event id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "event not found"


class LogOpenError(Refused, ValueError):
    """The file cannot be opened as a log: missing (for reading), not a database, not a log."""


class LogIntegrityError(Refused, ValueError):
    """The database does not hold what the log must: rows outside 1..N, events that an append
    just committed and that are gone.  `verify` says more."""


_PROBLEM_READERS: list[Callable[[BaseException], str | None]] = []


def register_problem_reader(reader: Callable[[BaseException], str | None]) -> None:
    """How a store's module says which errors of its database the user can act on (see
    `store_problem`); registered once, when the module is imported."""
    if reader not in _PROBLEM_READERS:
        _PROBLEM_READERS.append(reader)


def store_problem(error: BaseException) -> str | None:
    """One sentence for the user about an error a store's database raised that they can act
    on — the log is locked by another writer, the disk is full, the file is read-only — and
    that recorded nothing (the store rolled back); None for any other error (a bug: let it
    raise)."""
    for reader in _PROBLEM_READERS:
        message = reader(error)
        if message is not None:
            return message
    return None


def utc_now() -> dt.datetime:
    """Every store's default clock."""
    return dt.datetime.now(dt.timezone.utc)


def new_event_id() -> str:
    """Every store's default event-id factory: a random UUID4 as 32 hex digits (as
    `uuid4().hex`), built from `os.urandom` directly: `uuid.uuid4()` costs several times more
    per event."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    return b.hex()


class AppendResult(msgspec.Struct, frozen=True):
    """What one `extend` call recorded: seqs `first_seq..last_seq`, `appended` of them."""

    first_seq: int | None
    last_seq: int  # the log's last seq after the call
    appended: int
    skipped: int  # payloads whose idempotency key was already in the log (or earlier in the batch)


class StoredRow(NamedTuple):
    """One stored event as the database holds it: the indexed columns, the body and its hash.

    `verify` recomputes everything from `body` and checks the rest against it.
    """

    seq: int
    event_id: str
    recorded_at: str  # canonical.time_key of the event's recorded_at
    actor: str
    type: str
    year: int | None
    unit_id: str | None
    indicator: str | None
    key: str | None
    body: bytes
    hash: str


class EventLog(Protocol):
    """The interface every event store implements.

    Attributes the application sets or reads: `clock` (a callable returning an aware datetime,
    read once per batch inside the write; the store never lets `recorded_at` go back) and
    `new_event_id` (a callable returning a new, unique, non-empty string), both replaceable
    (the sample build fixes them to get the same bytes every time); `read_only` (appends are
    refused with `LogOpenError`); `path` (a file another process may open to read the same
    log, or None: `verify` checks half of a big log in a second process only with a path).
    """

    clock: Any
    new_event_id: Any
    read_only: bool

    @property
    def path(self) -> str | None:
        ...

    @property
    def name(self) -> str:
        """How a user names this log (its file name, a database name), for pages and exports."""
        ...

    def close(self) -> None:
        """Release the database; nothing may be called afterwards."""
        ...

    def append(
        self,
        payloads: Iterable[Payload],
        *,
        actor: str,
        keys: Iterable[str | None] | None = None,
        expected_last_seq: int | None = None,
    ) -> list[Event]:
        """Append one atomic batch; return the events recorded (keyed duplicates skipped)."""
        ...

    def extend(
        self,
        payloads: Iterable[Payload],
        *,
        actor: str,
        keys: Iterable[str | None] | None = None,
        expected_last_seq: int | None = None,
    ) -> AppendResult:
        """Like `append`, for batches too large to hold as events: returns a summary."""
        ...

    def append_stored(self, bodies: Iterable[bytes], *, expected_last_seq: int) -> AppendResult:
        """Append events exactly as another store recorded them (for `ictindex copy`): each body is
        the canonical body of one event (events.canonical), stored verbatim.  The first must have
        seq expected_last_seq + 1 and the log must end at expected_last_seq (else ConcurrencyError);
        each next seq is one more; each body's prev_hash must be the leaf hash of the event before it
        (the log's last leaf for the first).  The indexed columns (event_id, recorded_at, actor, type,
        year, unit_id, indicator, key) come from decoding the body (events.canonical decoding,
        upcasters included) and the hash is events.canonical.leaf_hash_hex(body).  All or nothing per
        call: any mismatch raises LogIntegrityError naming the seq and records nothing; a read-only
        store refuses with LogOpenError.  Idempotency keys are recorded as in the body; a key already
        in the log is a LogIntegrityError (not a skip)."""
        ...

    def read(
        self,
        start: int = 1,
        stop: int | None = None,
        *,
        year: int | None = None,
        unit_id: str | None = None,
        indicator: str | None = None,
        as_of_seq: int | None = None,
        as_of_time: dt.datetime | None = None,
    ) -> Iterator[Event]:
        """Events with `start <= seq < stop` matching every filter given, in seq order."""
        ...

    def read_years(
        self,
        years: Iterable[int],
        *,
        as_of_seq: int | None = None,
        as_of_time: dt.datetime | None = None,
        lean: bool = False,
    ) -> Iterator[Event]:
        """In seq order, the events whose payload has a `year` in `years` and every event
        without a year (the unit registry), up to `as_of_seq` / `as_of_time`: what folding some
        years needs.  `lean`: the store may give indicator events as `events.lean.LeanEvent`s
        (what a fold reads of them); full `Event`s are always acceptable."""
        ...

    def last_seq_as_of(self, as_of_seq: int | None = None,
                       as_of_time: dt.datetime | None = None) -> int:
        """The last seq of the log's prefix up to `as_of_seq` (clamped to 0..last) and/or
        recorded at or before `as_of_time` (0 if that prefix is empty)."""
        ...

    def years(self) -> list[int]:
        """The distinct `year`s of the log's events, ascending."""
        ...

    def get(self, ref: int | str) -> Event:
        """The event with this seq (int) or event id (str); `EventNotFound` otherwise."""
        ...

    def events_by_seq(self, seqs: Iterable[int]) -> dict[int, Event]:
        """The events with these seqs, by seq; seqs not in the log are left out."""
        ...

    def has_key(self, key: str) -> bool:
        """Whether an event with this idempotency key is in the log."""
        ...

    def last_seq(self) -> int:
        """The seq of the last event, 0 for an empty log."""
        ...

    def leaf_hashes(self, stop: int | None = None) -> list[bytes]:
        """The stored leaf hashes of the first `stop` events (all by default), in seq order;
        `LogIntegrityError` unless those rows are numbered exactly 1, 2, 3, ..."""
        ...

    def stored_rows(self, start: int | None = None) -> Iterator[StoredRow]:
        """Every stored row from seq `start` on, in storage order, exactly as stored; without
        `start`, every row whatever its seq (0 and below too, for `verify` to name)."""
        ...

    def check_storage(self) -> list[str]:
        """Problems of the database itself that its rows cannot show, one line each (empty:
        none): a schema other than the store's (planted triggers, views, indexes), or an index
        that does not hold exactly the table's rows, so that reads through it and the full scan
        of `stored_rows` could see different events.  `verify` reports them."""
        ...

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """(size, root) of the first `size` events (the whole log by default)."""
        ...

    def latest_checkpoint(self) -> Checkpoint:
        """The checkpoint of the whole log, as `checkpoint()` gives it; a store may answer from
        derived data (the SQLite store's Merkle frontier, O(log n)).  For provenance and
        measuring; what is published is computed by `checkpoint`."""
        ...

    def stored_frontier(self) -> Checkpoint | None:
        """The checkpoint held by the store's derived Merkle frontier as stored (not rebuilt),
        None when it keeps none; `verify` compares it with the root of the bodies."""
        ...

    def tile_problems(self) -> list[str]:
        """How the store's stored Merkle subtree hashes (`events.tiles`) differ from those of its
        stored leaf hashes, one line per tile named by its tlog-tiles path (empty: they agree,
        or the store keeps none).  `verify` asks once the leaves are checked against the
        bodies."""
        ...

    def keep_published(self, seq: int, ranking: bytes) -> None:
        """Keep beside the log the canonical bytes of the ranking published by event `seq`
        (derived: replaced by a later call, lost at no cost; in its own transaction)."""
        ...

    def published_copy(self, seq: int) -> bytes | None:
        """The bytes kept by `keep_published(seq, ...)`, None if none (the caller checks them
        against the result hash the log records before trusting them)."""
        ...

    def inclusion_proof(self, seq: int, size: int | None = None) -> InclusionProof:
        """Proof that event `seq` is in the tree of the first `size` events."""
        ...

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of `new_size` events extends the tree of `old_size` events."""
        ...


class DerivedConnection(Protocol):
    """What a projector reads and writes its derived rows through: the `execute`/`executemany`
    of a DB-API 2 connection, SQL in the `qmark` parameter style (`?`), inside the store's
    transaction.  The application's projections (`ictindex.projections`) write SQLite's dialect
    (`INSERT OR REPLACE`, `WITHOUT ROWID`): a store whose database speaks another offers this
    capability only with a connection that accepts it, or not at all (then: replay).  Only the projector's own tables (declared with `events.schema.declare_derived`, so the schema check accepts them)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any:
        ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        ...


class Projector(Protocol):
    """Derived rows kept current with the log, in the append's transaction (as the
    `eventsourcing` library's process recorder writes tracking and new events together).

    For every batch that records something: `on_events` once per chunk of inserted events
    (seq order; a huge batch comes in several chunks), then `before_commit` once, all inside
    the write transaction: an exception aborts the whole batch, events included, and the
    derived rows commit with the events or not at all."""

    def on_events(self, conn: DerivedConnection, events: list[Event]) -> None:
        ...

    def before_commit(self, conn: DerivedConnection) -> None:
        ...


@runtime_checkable
class DerivedTables(Protocol):
    """The optional capability of a store to keep derived tables in the append's transaction.

    A store without it (`isinstance(store, DerivedTables)` is false) simply has no
    projections: the application replays instead."""

    def add_projector(self, projector: Projector) -> None:
        """Call `projector` on every later append through this store object (once)."""
        ...

    def remove_projector(self, projector: Projector) -> None:
        ...

    def projectors(self) -> list[Projector]:
        ...

    def has_tables(self, names: Sequence[str]) -> bool:
        """Whether every one of these derived tables exists."""
        ...

    def derived_transaction(self) -> ContextManager[DerivedConnection]:
        """A write transaction on the derived tables (serialised with appends), committed when
        the block ends, rolled back if it raises."""
        ...

    def derived_reader(self) -> DerivedConnection:
        """A connection to read the derived tables (and create them)."""
        ...


__all__ = [
    "AppendResult",
    "new_event_id",
    "utc_now",
    "DerivedConnection",
    "DerivedTables",
    "Projector",
    "ConcurrencyError",
    "EventLog",
    "EventNotFound",
    "LogIntegrityError",
    "LogOpenError",
    "StoredRow",
    "register_problem_reader",
    "store_problem",
]

