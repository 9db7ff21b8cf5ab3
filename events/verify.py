"""Verify a log from its stored bytes, and optionally against a published checkpoint.

One streaming pass over the stored rows, in storage order.  For the row at position `i`
(1-based) it checks, and stops at the first failure, naming that seq:

- the row's seq is `i` (the log is gapless from 1: a deleted or inserted row shows here);
- the body decodes (known schema, known tag, well-typed, finite decimals, UTC time);
- the decoded event's seq is `i` (a row moved or swapped shows here);
- the body is canonical (re-encoding the decoded event gives the same bytes);
- the indexed columns (event_id, recorded_at, actor, type, year, unit_id, indicator, key)
  equal the body's fields (queries would otherwise return the wrong events);
- `prev_hash` is the recomputed leaf hash of row `i - 1` (64 zeros for the first);
- the stored hash is the recomputed leaf hash of the body;
- event ids are unique and `recorded_at` never decreases.

A consistent rewrite (an event changed and every later hash recomputed) passes all of these:
only a checkpoint that left the database catches it.  With `checkpoint=(size, root)`, the log
must have at least `size` events and the root recomputed from the first `size` bodies must be
`root`.
"""

from __future__ import annotations

import msgspec

from .canonical import GENESIS_PREV_HASH, DecodeError, decode_event, leaf_hasher, time_key
from .interface import EventLog
from .merkle import Checkpoint, RootAccumulator
from .types import PAYLOAD_TAGS, SCHEMA_VERSION


class VerifyReport(msgspec.Struct, frozen=True, omit_defaults=True):
    """The outcome of `verify`.

    `ok` is true iff every row checks out and, if a checkpoint was given, the log extends it.
    `first_bad_seq` and `reason` name the first row that does not check out.  `size` and
    `root` are recomputed from the bodies: the whole log's checkpoint when every row checks
    out (the one to publish), else that of the verified prefix before `first_bad_seq`.
    `checkpoint_ok` is None without a checkpoint.
    """

    ok: bool
    size: int
    root: str
    first_bad_seq: int | None = None
    reason: str | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_ok: bool | None = None
    checkpoint_reason: str | None = None

    @property
    def current(self) -> Checkpoint:
        """The log's checkpoint as recomputed from its bodies (meaningful when `ok`)."""
        return Checkpoint(self.size, self.root)

    def __str__(self) -> str:
        lines = []
        if self.first_bad_seq is None:
            lines.append(f"log OK: {self.size} events, checkpoint {self.size}:{self.root}")
        else:
            lines.append(f"log BROKEN at seq {self.first_bad_seq}: {self.reason}")
            lines.append(f"events 1..{self.size} check out: {self.size}:{self.root}")
        if self.checkpoint is not None:
            if self.checkpoint_ok:
                lines.append(f"checkpoint {self.checkpoint} OK: the log extends it")
            else:
                lines.append(f"checkpoint {self.checkpoint} FAILED: {self.checkpoint_reason}")
        return "\n".join(lines)


def verify(store: EventLog, checkpoint: Checkpoint | str | None = None) -> VerifyReport:
    """Recompute everything from the stored bytes; see the module docstring.

    Without a failure, the report's `size`/`root` are the log's recomputed checkpoint.  After a
    failure at seq k they describe the verified prefix, seqs 1..k-1.
    """
    if isinstance(checkpoint, str):
        checkpoint = Checkpoint.parse(checkpoint)
    want = checkpoint.size if checkpoint is not None else -1
    acc = RootAccumulator()
    checkpoint_root: bytes | None = acc.root() if want == 0 else None
    encode = msgspec.json.Encoder(order="sorted", decimal_format="string").encode
    prev = GENESIS_PREV_HASH
    last_time = ""
    seen_ids: set[str] = set()
    bad_seq: int | None = None
    reason: str | None = None
    good = (0, acc.root())
    time_keys = _TimeKeys()

    for row in store.stored_rows():
        body = row.body
        shape = None
        if type(body) is not bytes:
            shape = f"the body is stored as {type(body).__name__}, not as bytes"
            body = body.encode() if isinstance(body, str) else bytes(body or b"")
        digest = leaf_hasher(body)
        if bad_seq is None:
            leaf = digest.hexdigest()
            problem = shape or _check_row(
                row, body, acc.size + 1, leaf, prev, last_time, seen_ids, encode, time_keys
            )
            if problem is None:
                prev, last_time = leaf, row.recorded_at
            else:
                bad_seq, reason = acc.size + 1, problem
                good = (acc.size, acc.root())
        acc.append(digest.digest())
        if acc.size == want:
            checkpoint_root = acc.root()
        if bad_seq is not None and acc.size >= want:
            break  # past the first failure, rows are read only to check the checkpoint's root

    if bad_seq is None:
        good = (acc.size, acc.root())
    check_ok: bool | None = None
    check_reason: str | None = None
    if checkpoint is not None:
        if checkpoint_root is None:
            check_ok = False
            check_reason = (
                f"the log has {acc.size} events but the checkpoint covers {checkpoint.size}: "
                "events were removed"
            )
        elif checkpoint_root.hex() != checkpoint.root:
            check_ok = False
            check_reason = (
                f"the root of the first {checkpoint.size} events is {checkpoint_root.hex()}, "
                f"not the published {checkpoint.root}: events covered by the checkpoint "
                "were changed, removed, inserted or reordered"
            )
        else:
            check_ok = True
    return VerifyReport(
        ok=bad_seq is None and check_ok is not False,
        size=good[0],
        root=good[1].hex(),
        first_bad_seq=bad_seq,
        reason=reason,
        checkpoint=checkpoint,
        checkpoint_ok=check_ok,
        checkpoint_reason=check_reason,
    )


class _TimeKeys:
    """`time_key` with a one-entry memo: the events of a batch share their recorded_at."""

    __slots__ = ("last", "key")

    def __init__(self) -> None:
        self.last: object = None
        self.key = ""

    def __call__(self, t) -> str:
        if t != self.last:
            self.last, self.key = t, time_key(t)
        return self.key


_COLUMNS = ("event_id", "recorded_at", "actor", "type", "year", "unit_id", "indicator", "key")


def _check_row(row, body, position, leaf, prev, last_time, seen_ids, encode, time_keys) -> str | None:  # noqa: PLR0911
    if row.seq != position:
        if row.seq > position:
            return f"seq {position} is missing (the next stored row has seq {row.seq})"
        return f"row {position} in storage order has seq {row.seq}"
    try:
        event = decode_event(body)
    except DecodeError as exc:
        return f"the stored body does not decode: {exc}"
    if event.seq != position:
        return f"the body is event seq {event.seq}, stored at seq {position}"
    if event.schema == SCHEMA_VERSION and encode(event) != body:
        return "the stored body is not in canonical form"
    payload = event.payload
    expected = (
        event.event_id,
        time_keys(event.recorded_at),
        event.actor,
        PAYLOAD_TAGS[type(payload)],
        getattr(payload, "year", None),
        getattr(payload, "unit_id", None),
        getattr(payload, "indicator", None),
        event.key,
    )
    stored = row[1:9]
    if stored != expected or any(type(a) is not type(b) for a, b in zip(stored, expected)):
        for column, have, want in zip(_COLUMNS, stored, expected):
            if have != want or type(have) is not type(want):
                return f"column {column} is {have!r} but the body says {want!r}"
    if event.prev_hash != prev:
        if position == 1:
            return f"prev_hash of the first event must be 64 zeros, not {event.prev_hash}"
        return (
            f"prev_hash {event.prev_hash} is not the hash {prev} of event {position - 1}: "
            f"event {position - 1} (and its stored hash) changed after this one was written, "
            "or this event was forged"
        )
    if row.hash != leaf:
        return f"the stored hash {row.hash} is not the hash of the stored body ({leaf})"
    if event.event_id in seen_ids:
        return f"event id {event.event_id} is used twice"
    seen_ids.add(event.event_id)
    if row.recorded_at < last_time:
        return f"recorded_at {row.recorded_at} is earlier than the previous event's {last_time}"
    return None


__all__ = ["VerifyReport", "verify"]
