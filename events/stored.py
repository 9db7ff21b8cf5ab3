"""What every store does the same way: the row it records for a new payload; the checks of an
event body another store recorded, before storing it verbatim; of an idempotency key used again;
of the leaf hashes it reads back for a proof.

`EventLog.append_stored` (what `ictindex copy` appends with) takes canonical bodies rather than
payloads: the copy must hold the very bytes, leaf hashes and checkpoint of its source, so the
store assigns nothing.  Every store checks each body the same way here, with the checks
`verify` makes of a stored row, so that what it appends verifies: the body decodes (upcasting
an old schema version, whose bytes stay as they were), it is the event at the seq it is
appended as, it is canonical (current schema), it chains onto the event before it, and time
does not go back.  The indexed columns are read from the decoded body and the hash is
computed from it, so they cannot disagree with it.  Uniqueness of event ids and keys is the
store's to check against what it holds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import datetime as dt

from .canonical import LEAF_PREFIX, DecodeError, decode_event, encode_event, leaf_hash_hex, stored_schema, time_key
from .checks import check_payload
from .interface import LogIntegrityError, StoredRow
from .refusal import BadArgument
from .types import PAYLOAD_TAGS, SCHEMA_VERSION, Event, Payload

# The events of a batch share their recorded_at: formatting it once per batch, not per event,
# is a fifth of a copy's time.
_time_key = lru_cache(maxsize=256)(time_key)


def new_row(payload: Payload, key: str | None, seq: int, prev_hash: str, recorded_at: dt.datetime,
            time_text: str, actor: str, new_event_id: Callable[[], str],
            encode: Callable[[object], bytes] = encode_event) -> tuple[tuple, Event]:
    """The row (a tuple in `StoredRow`'s order) a store records for `payload` appended as event
    `seq` after the leaf `prev_hash` (at `recorded_at`, whose column text is `time_text`), and
    the event: the payload's types checked first (every stored body must decode again), then a
    new event id asked for.  The SQLite store inlines it in its append loop."""
    tag = check_payload(payload)
    event_id = new_event_id()
    if type(event_id) is not str or not event_id:
        raise ValueError(f"event ids must be non-empty strings: {event_id!r}")
    event = Event(seq=seq, event_id=event_id, recorded_at=recorded_at, actor=actor,
                  payload=payload, prev_hash=prev_hash, key=key)
    body = encode(event)
    h = LEAF_PREFIX.copy()
    h.update(body)
    # a plain tuple in `StoredRow`'s order: building the named tuple costs a fifth of an append
    return (seq, event_id, time_text, actor, tag, getattr(payload, "year", None),
            getattr(payload, "unit_id", None), getattr(payload, "indicator", None), key, body,
            h.hexdigest()), event


def stored_row(body: bytes, seq: int, prev_hash: str, last_time: str | None) -> tuple[StoredRow, Event]:
    """The row to store for `body` appended as event `seq` after an event whose leaf hash is
    `prev_hash` and whose `recorded_at` column is `last_time` (None: the first event), and the
    event it decodes to; `LogIntegrityError` naming `seq` if the body is not that event."""
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    if type(body) is not bytes:
        raise _refused(seq, f"a body must be bytes, not {type(body).__name__}")
    try:
        event = decode_event(body)
    except DecodeError as exc:
        raise _refused(seq, f"the body does not decode: {exc}") from None
    if event.seq != seq:
        raise _refused(seq, f"the body is event seq {event.seq}")
    if encode_event(event) != body and stored_schema(body) == SCHEMA_VERSION:
        raise _refused(seq, "the body is not in canonical form")
    if event.prev_hash != prev_hash:
        raise _refused(seq, f"its prev_hash {event.prev_hash} is not the leaf hash {prev_hash} "
                            "of the event before it")
    recorded_at = _time_key(event.recorded_at)
    if last_time is not None and recorded_at < last_time:
        raise _refused(seq, f"recorded_at {recorded_at} is earlier than the previous event's "
                            f"{last_time}")
    payload = event.payload
    row = StoredRow(seq, event.event_id, recorded_at, event.actor, PAYLOAD_TAGS[type(payload)],
                    getattr(payload, "year", None), getattr(payload, "unit_id", None),
                    getattr(payload, "indicator", None), event.key, body, leaf_hash_hex(body))
    return row, event


def duplicate(row: StoredRow, what: str) -> LogIntegrityError:
    """The refusal of a row whose event id (`what="event id"`) or key (`"key"`) is taken."""
    value = row.event_id if what == "event id" else row.key
    return _refused(row.seq, f"its {what} {value!r} is already in the log")


def same_payload(key: str, payload: Payload, stored: tuple[int, bytes] | None,
                 batch: dict[str, Payload], encode: Callable[[object], bytes]) -> None:
    """A payload whose key is already used (by event `stored` = (seq, body) of the log, or
    else earlier in `batch`) is skipped only if it is the very same payload: another one under
    that key would otherwise be dropped without a word."""
    if stored is not None:
        seq, body = stored
        if encode(decode_event(body).payload) != encode(payload):
            raise BadArgument(
                f"idempotency key {key!r} is already used by event #{seq}, with another "
                "payload: nothing was recorded"
            )
    elif encode(batch[key]) != encode(payload):
        raise BadArgument(
            f"idempotency key {key!r} is used twice in this batch, with different payloads: "
            "nothing was recorded"
        )


def numbered_leaves(rows: Sequence[tuple[int, str]]) -> list[bytes]:
    """The leaf hashes of stored (seq, hash) rows read in seq order, refusing
    (`LogIntegrityError`) rows not numbered exactly 1, 2, 3, ...: a row at seq 0 or below, a
    gap or a hash that is not hex would otherwise be counted, or shift every later leaf, in a
    checkpoint or a proof without a word."""
    if not rows:
        return []
    seqs, hashes = zip(*rows)
    if seqs != tuple(range(1, len(seqs) + 1)):
        bad = next(i for i, s in enumerate(seqs, 1) if s != i)
        raise LogIntegrityError(
            f"the log's rows are not numbered 1..{len(seqs)}: the row at position {bad} has "
            f"seq {seqs[bad - 1]!r}; no checkpoint or proof counts such rows (run "
            "`ictindex verify`)")
    try:
        return list(map(bytes.fromhex, hashes))
    except (TypeError, ValueError):
        raise LogIntegrityError("a stored leaf hash is not hex: no checkpoint or proof can be "
                                "computed (run `ictindex verify`)") from None


def _refused(seq: int, reason: str) -> LogIntegrityError:
    return LogIntegrityError(f"event #{seq} cannot be appended as stored: {reason}; "
                             "nothing was recorded")


__all__ = ["duplicate", "new_row", "numbered_leaves", "same_payload", "stored_row"]
