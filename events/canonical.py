"""Canonical bytes of an event, its leaf hash, and decoding (with upcasting).

The canonical form of an `Event` is its msgspec JSON encoding with every object's keys sorted
(`msgspec.json.Encoder(order="sorted")`): no insignificant whitespace, decimals as JSON strings
(`"84.03"`, never a binary float), datetimes in RFC 3339 with `Z`.  Those bytes are what the
store keeps in `events.body`, and what the Merkle tree hashes:

    leaf hash = SHA-256(0x00 ‖ canonical bytes)

`prev_hash` of the event at `seq = n` is the leaf hash (hex) of event `n - 1`, and 64 zeros for
`seq = 1`, so each event's bytes commit to the whole log before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import msgspec

from .types import SCHEMA_VERSION, Event
from .upcast import UPCASTERS, UpcastError, Upcasters

GENESIS_PREV_HASH = "0" * 64

_ENCODER = msgspec.json.Encoder(order="sorted", decimal_format="string")
_DECODER = msgspec.json.Decoder(Event)
_RAW_DECODER = msgspec.json.Decoder(dict[str, Any])
_UTC = dt.timezone.utc
_ZERO = dt.timedelta(0)


class DecodeError(ValueError):
    """Bytes that are not a valid event of any known schema version."""


class _Header(msgspec.Struct):
    """Just the schema version of an event, read without decoding the rest."""

    schema: Any = None


_HEADER_DECODER = msgspec.json.Decoder(_Header)


def encode_event(event: Event) -> bytes:
    """The canonical bytes of `event` (sorted keys, decimals as strings)."""
    return _ENCODER.encode(event)


def encode_canonical(obj: Any) -> bytes:
    """Canonical JSON of any msgspec-encodable object (payloads, checkpoints, reports)."""
    return _ENCODER.encode(obj)


# SHA-256 already fed the 0x00 leaf prefix: copying it is about twice as fast as hashing
# b"\x00" + body from scratch, which matters when a whole log is appended or verified.
LEAF_PREFIX = hashlib.sha256(b"\x00")


def leaf_hasher(body: bytes) -> "hashlib._Hash":
    """A SHA-256 object fed 0x00 ‖ body: `.digest()` / `.hexdigest()` give the leaf hash."""
    h = LEAF_PREFIX.copy()
    h.update(body)
    return h


def leaf_hash(body: bytes) -> bytes:
    """The RFC 6962 leaf hash of canonical bytes: SHA-256(0x00 ‖ body)."""
    return leaf_hasher(body).digest()


def leaf_hash_hex(body: bytes) -> str:
    """`leaf_hash(body)` as 64 lowercase hex digits."""
    return leaf_hasher(body).hexdigest()


def time_key(t: dt.datetime) -> str:
    """A UTC-aware datetime as fixed-width text that sorts like time (the `recorded_at` column).

    Always with microseconds (`2020-03-01T08:00:00.000000Z`), unlike the canonical JSON, which
    omits a zero fraction: fixed width makes string comparison in SQL order by time.
    """
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware (UTC), got naive {t.isoformat()}")
    u = t.astimezone(_UTC)
    # %Y is not zero-padded below year 1000 on every platform: 0221 must sort before 2021.
    return f"{u.year:04d}-{u:%m-%dT%H:%M:%S.%f}Z"


def parse_time_key(text: str) -> dt.datetime:
    """Inverse of `time_key`."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_UTC)


def decode_event(data: bytes, *, upcasters: Upcasters = UPCASTERS) -> Event:
    """Decode stored bytes into an `Event` of the current schema, upcasting older versions.

    Unknown fields, unknown payload tags, wrong types, non-finite decimals, a `recorded_at` that
    is not UTC and a schema newer than this program are all `DecodeError`s.
    """
    try:
        event = _DECODER.decode(data)
    except UnicodeDecodeError as exc:  # msgspec raises this one as it is
        raise DecodeError(f"not UTF-8: {exc}") from exc
    except msgspec.DecodeError as exc:
        # Maybe an old version whose shape no longer decodes as the current type.
        event = _decode_old(data, upcasters, exc)
    else:
        if event.schema != upcasters.current:
            event = _decode_old(data, upcasters, None)
    offset = event.recorded_at.utcoffset()
    if offset is None or offset != _ZERO:
        raise DecodeError(f"seq {event.seq}: recorded_at must be UTC, got {event.recorded_at}")
    return event


def stored_schema(body: bytes) -> Any:
    """The schema version `body` was written with, as stored (`decode_event` gives the upcast
    event, whose `schema` is always the current one); None if it cannot be read.  Only a body
    of the current version must be canonical: an older one re-encodes differently."""
    try:
        return _HEADER_DECODER.decode(body).schema
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


def _decode_old(data: bytes, upcasters: Upcasters, error: Exception | None) -> Event:
    try:
        version = _HEADER_DECODER.decode(data).schema
    except msgspec.DecodeError as exc:
        raise DecodeError(f"not an event: {exc}") from exc
    if type(version) is not int or version >= upcasters.current:
        if type(version) is int and version > upcasters.current:
            raise DecodeError(
                f"event has schema {version}, newer than this program's "
                f"{upcasters.current}: upgrade ictindex"
            )
        raise DecodeError(f"not a valid event: {error}") from error
    try:
        raw = upcasters.upcast(_RAW_DECODER.decode(data))
        return _DECODER.decode(msgspec.json.encode(raw))
    except (msgspec.DecodeError, UpcastError) as exc:
        raise DecodeError(f"schema {version} event cannot be upcast: {exc}") from exc


__all__ = [
    "GENESIS_PREV_HASH",
    "SCHEMA_VERSION",
    "DecodeError",
    "decode_event",
    "encode_canonical",
    "encode_event",
    "leaf_hash",
    "leaf_hash_hex",
    "parse_time_key",
    "stored_schema",
    "time_key",
]
