"""What an event store is, independent of the database behind it.

`EventStore` (SQLite) implements `EventLog` today; a PostgreSQL store must implement the same
methods with the same meaning, and pass the same contract tests
(tests/events/store_contract.py).  `verify` and the Merkle proofs need nothing but these
methods.

Changed for issue 13 (a PostgreSQL store does the same): `stored_rows()` without `start` returns
every row, whatever its seq; `check_storage()` is new; `leaf_hashes` refuses rows that are not
numbered 1..N; a store opened read-only creates and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator, NamedTuple, Protocol

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
    """The interface every event store implements."""

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

    def inclusion_proof(self, seq: int, size: int | None = None) -> InclusionProof:
        """Proof that event `seq` is in the tree of the first `size` events."""
        ...

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of `new_size` events extends the tree of `old_size` events."""
        ...


__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "EventLog",
    "EventNotFound",
    "LogIntegrityError",
    "LogOpenError",
    "StoredRow",
]

