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

Every row is read, whatever its seq (a row at seq 0 or below fails at position 1).  Beside the
rows, the database itself is checked (`EventLog.check_storage`; for a log in a file, in a thread
while the pass runs): a schema other than a log's
(a planted trigger, view or index) or an index that does not hold exactly the table's rows (the
replay reads a year and the unit registry through one) fails verify, as the read paths could
then see other events than this full scan.

A consistent rewrite (an event changed and every later hash recomputed) passes all of these:
only a checkpoint that left the database catches it.  With `checkpoint=(size, root)`, the log
must have at least `size` events and the root recomputed from the first `size` bodies must be
`root`.

How: rows are read in chunks, and each chunk is first checked as a whole by C-level passes
(`map` over msgspec, hashlib and builtins; list comparisons) that accept a chunk only if the
row-by-row check below would accept every row of it.  A chunk they do not accept (a failure, an
old schema version to upcast, an odd column type) is checked again row by row, which names the
first failure exactly as before: the fast pass decides nothing but "no problem here".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from itertools import islice, repeat
from operator import attrgetter

import msgspec

from .canonical import (
    GENESIS_PREV_HASH,
    LEAF_PREFIX,
    DecodeError,
    decode_event,
    leaf_hasher,
    parse_time_key,
    stored_schema,
    time_key,
)
from .interface import EventLog
from .merkle import HASH_SIZE, Checkpoint, RootAccumulator, subtree_root
from .tiles import WIDTH, Check
from .types import PAYLOAD_TAGS, SCHEMA_VERSION, Event
from .upcast import UPCASTERS

# Leaves per chunk: a power of two, so that a full chunk read from an aligned position is one
# perfect Merkle subtree, hashed level by level instead of leaf by leaf.  Small enough that a
# chunk's rows, decoded events and hashes stay in the CPU's caches between the passes: 128 rows
# take ~20 % less CPU over a national log than 4,096 (the passes' own overhead shows below 64).
# 256 (= tiles.HEIGHT): a whole chunk is one level-0 tile, and its root the pass's own.
CHUNK_BITS = 8
CHUNK = 1 << CHUNK_BITS
_TILE_BYTES = WIDTH * HASH_SIZE


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
    storage: list[str] = []  # `EventLog.check_storage`: problems of the database itself

    @property
    def current(self) -> Checkpoint:
        """The log's checkpoint as recomputed from its bodies (meaningful when `ok`)."""
        return Checkpoint(self.size, self.root)

    def __str__(self) -> str:
        lines = [f"log BROKEN: {problem}" for problem in self.storage]
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


def verify(store: EventLog, checkpoint: Checkpoint | str | None = None, *,
           parallel: bool = True, tiles: Check | None = None) -> VerifyReport:
    """Recompute everything from the stored bytes; see the module docstring.

    Without a failure, the report's `size`/`root` are the log's recomputed checkpoint.  After a
    failure at seq k they describe the verified prefix, seqs 1..k-1.  `parallel`: let a
    forked process check the second half of a big log kept in a file (`verify_parallel`); the
    report is the same either way.  `tiles`: fed every leaf hash the pass recomputes, in order
    (`events.tiles.Check`; what it says counts only when the report is ok).
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
    times_of = TimesOfKeys()
    rows_left = iter(store.stored_rows())
    from .verify_parallel import start as speculate

    second_half = speculate(store, store.last_seq(), want) if parallel else None
    # A log in a file checks its schema and indexes on a connection of its own, inside SQLite
    # (`events.indexcheck`), which works without the GIL: in a thread (started after the fork
    # above) beside this pass.  Any other store checks once the pass is done.
    storage_check = None
    if getattr(store, "path", None):
        pool = ThreadPoolExecutor(1)
        storage_check = pool.submit(store.check_storage)
        pool.shutdown(wait=False)

    while bad_seq is None or acc.size < want:
        if second_half is not None and acc.size + 1 == second_half.start:
            got = second_half.take() if bad_seq is None else None
            second_half = None
            if (got is not None and (got.assumed_prev, got.assumed_time) == (prev, last_time)
                    and seen_ids.isdisjoint(got.ids)):
                for root, blob in got.chunks:
                    if tiles is not None:
                        tiles.extend(blob, root if len(blob) == _TILE_BYTES else None)
                    if root is not None:
                        acc.append_subtree(CHUNK_BITS, root)
                        continue
                    for i in range(0, len(blob), HASH_SIZE):
                        acc.append(blob[i:i + HASH_SIZE])
                        if acc.size == want:
                            checkpoint_root = acc.root()
                seen_ids.update(got.ids)
                prev, last_time = got.prev, got.last_time
                rows_left = iter(store.stored_rows(got.stop))
        rows = list(islice(rows_left, CHUNK))
        if not rows:
            break
        if bad_seq is None:
            fast = check_chunk(rows, acc.size + 1, prev, last_time, seen_ids, times_of)
            if fast is not None:
                digests, prev, last_time = fast
                whole = len(rows) == CHUNK and acc.size % CHUNK == 0
                root = subtree_root(digests) if whole else None
                if tiles is not None:
                    tiles.extend(b"".join(digests), root if len(rows) == WIDTH else None)
                if whole and not acc.size < want <= acc.size + CHUNK:
                    acc.append_subtree(CHUNK_BITS, root)
                else:
                    for digest in digests:
                        acc.append(digest)
                        if acc.size == want:
                            checkpoint_root = acc.root()
                continue
        # Row by row: the fast pass found something (or cannot tell), or a failure came before.
        leaves = []
        for row in rows:
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
            leaves.append(digest.digest())
            acc.append(leaves[-1])
            if acc.size == want:
                checkpoint_root = acc.root()
            if bad_seq is not None and acc.size >= want:
                break  # past the first failure, rows are read only to check the checkpoint's root
        if tiles is not None and bad_seq is None:
            tiles.extend(b"".join(leaves))

    if second_half is not None:  # a failure before the middle: its work is not needed
        second_half.cancel()
    storage = storage_check.result() if storage_check is not None else store.check_storage()
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
        ok=bad_seq is None and check_ok is not False and not storage,
        size=good[0],
        root=good[1].hex(),
        first_bad_seq=bad_seq,
        reason=reason,
        checkpoint=checkpoint,
        checkpoint_ok=check_ok,
        checkpoint_reason=check_reason,
        storage=storage,
    )


class _TimeKeys(dict):
    """`time_key` memoised: the events of a batch share their recorded_at.

    A dict so that the fast pass can look keys up with `map(time_keys.__getitem__, ...)` in C;
    equal datetimes are the same instant, which `time_key` maps to the same text.
    """

    __slots__ = ()

    def __missing__(self, t: dt.datetime) -> str:
        if len(self) >= CHUNK:
            self.clear()  # bounded: a log of many small batches has as many distinct times
        key = self[t] = time_key(t)
        return key

    __call__ = dict.__getitem__


class TimesOfKeys(dict):
    """The inverse of `time_key` on its image: column text -> its datetime, or a sentinel.

    The fast pass looks stored column texts up here (hashing a str is cached, hashing an
    aware datetime is not) and compares with the decoded datetimes: `self[text] == t` implies
    `time_key(t) == time_key(self[text]) == text`, since only texts `time_key` gives map to a
    datetime.
    """

    __slots__ = ()

    def __missing__(self, text: str) -> object:
        if len(self) >= CHUNK:
            self.clear()
        try:
            t = parse_time_key(text)
        except (TypeError, ValueError):
            t = None
        if t is None or time_key(t) != text:
            t = _NO_TIME
        self[text] = t
        return t


_NO_TIME = object()  # equal to no datetime


_sha256 = hashlib.sha256
_HASH = type(_sha256())
_DIGEST = _HASH.digest
_UPDATE = _HASH.update


def _leaf_digests(bodies) -> list[bytes]:
    """`leaf_hash` of every body, hashing in C: the prefix copy saves hashing 0x00 each time."""
    hashers = [_copy_prefix() for _ in bodies]
    for _ in map(_UPDATE, hashers, bodies):
        pass
    return list(map(_DIGEST, hashers))


_copy_prefix = LEAF_PREFIX.copy


_DECODE = msgspec.json.Decoder(Event).decode
_ENCODE = msgspec.json.Encoder(order="sorted", decimal_format="string").encode
_SEQ = attrgetter("seq")
_EVENT_ID = attrgetter("event_id")
_RECORDED_AT = attrgetter("recorded_at")
_TZINFO = attrgetter("tzinfo")
_ACTOR = attrgetter("actor")
_PAYLOAD = attrgetter("payload")
_PREV_HASH = attrgetter("prev_hash")
_SCHEMA = attrgetter("schema")
_KEY = attrgetter("key")
_UTC = {dt.timezone.utc}  # msgspec decodes every zero offset (Z, +00:00) to this one object
# A stored year equal to the body's int (or None) may still be 2020.0; every other column is
# compared with a str or None, which nothing sqlite3 returns equals but a str or None.
_YEAR_TYPES = frozenset({int, type(None)})


def check_chunk(rows, first, prev, last_time, seen_ids, times_of):  # noqa: PLR0911
    """`(leaf digests, last leaf hex, last recorded_at)` if every row checks out, else None.

    Each comparison below is one check of `_check_row` over the whole chunk at once; None
    means only "look row by row", never "broken".  `seen_ids` changes only on success.
    """
    n = len(rows)
    cols = tuple(zip(*rows))
    seqs, ids, times, actors, types, years, units, indicators, keys, bodies, hashes = cols
    if set(map(type, bodies)) != {bytes} or seqs != tuple(range(first, first + n)):
        return None
    if not _YEAR_TYPES.issuperset(map(type, years)):
        return None
    try:
        events = list(map(_DECODE, bodies))
    except Exception:  # noqa: BLE001 -- whatever it is, the row-by-row check reports it
        return None
    # decode_event upcasts other schema versions (and checks nothing else then): not here.
    if list(map(_SCHEMA, events)).count(UPCASTERS.current) != n:
        return None
    recorded = list(map(_RECORDED_AT, events))
    if set(map(_TZINFO, recorded)) != _UTC:
        return None
    if tuple(map(_SEQ, events)) != seqs or tuple(map(_ENCODE, events)) != bodies:
        return None
    payloads = list(map(_PAYLOAD, events))
    if (
        tuple(map(_EVENT_ID, events)) != ids
        or list(map(times_of.__getitem__, times)) != recorded
        or tuple(map(_ACTOR, events)) != actors
        or tuple(map(PAYLOAD_TAGS.__getitem__, map(type, payloads))) != types
        or tuple(map(getattr, payloads, repeat("year"), repeat(None))) != years
        or tuple(map(getattr, payloads, repeat("unit_id"), repeat(None))) != units
        or tuple(map(getattr, payloads, repeat("indicator"), repeat(None))) != indicators
        or tuple(map(_KEY, events)) != keys
    ):
        return None
    digests = _leaf_digests(bodies)
    leaves = tuple(map(bytes.hex, digests))
    if leaves != hashes or tuple(map(_PREV_HASH, events)) != (prev, *leaves[:-1]):
        return None
    if last_time > times[0] or sorted(times) != list(times):
        return None
    new_ids = set(ids)
    if len(new_ids) != n or not seen_ids.isdisjoint(new_ids):
        return None
    seen_ids |= new_ids
    return digests, leaves[-1], times[-1]


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
    if encode(event) != body and stored_schema(body) == SCHEMA_VERSION:
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


__all__ = ["CHUNK", "CHUNK_BITS", "TimesOfKeys", "VerifyReport", "check_chunk", "verify"]
