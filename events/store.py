"""The SQLite event store: one file, WAL, append-only, tamper-evident.

Table `events` (`events.schema`): seq (gapless from 1, assigned here), event_id, recorded_at,
copies of body fields for indexed queries, the idempotency key, the canonical body (the only
source of truth) and its leaf hash.

Triggers refuse UPDATE and DELETE, and any INSERT that collides with an existing seq, event id
or key, which closes the `INSERT OR REPLACE` back door (REPLACE deletes the rows it collides
with without firing delete triggers).  Gaps or forged rows inserted by hand are not prevented
(whoever can write the file can drop the triggers anyway): `verify` finds them.  Everything
else in the database is derived.

Indexes: event_id and key (unique), and (year, unit_id, indicator) for the per-year queries.
Each index costs append throughput (random uuid4 keys especially); a query by unit or
indicator alone scans the table, which takes well under a second even for a national log.

Appends run under `BEGIN IMMEDIATE`: the last seq and hash are read inside the write
transaction, so concurrent writers (threads or processes) serialise and the chain stays gapless.
A batch is all or nothing.  After COMMIT the writer reads its seqs back (present, same hashes):
"Recorded #N" is never printed for an event the file does not hold.

Every opening checks the schema (`events.schema.differences`): a file with another table,
index, trigger or view than a log's (its own and the declared derived tables) is refused, and
so is a SQLite file that is not a log (unless it is empty) or a file that is not SQLite at all.
`read_only=True` opens the file with SQLite's `mode=ro`: nothing is created or changed (no
WAL switch, no schema, no derived table), and a missing file is an error, not a new log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from contextlib import contextmanager
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import msgspec
import sqlite_utils

from . import frontier, indexcheck, merkle, tiles
from .canonical import GENESIS_PREV_HASH, LEAF_PREFIX, decode_event, parse_time_key, time_key
from .checks import check_payload
from .interface import (
    AppendResult,
    ConcurrencyError,
    EventNotFound,
    LogIntegrityError,
    LogOpenError,
    StoredRow,
    new_event_id,
    register_problem_reader,
    utc_now,
)
from .lean import LEAN_DECODER
from .merkle import Checkpoint, ConsistencyProof, InclusionProof, RootAccumulator
from .refusal import BadArgument
from .schema import (
    GUARD,
    INSERT,
    SELECT_ROWS,
    TABLE,
    TRIGGERS,
    YEAR_INDEX,
    SchemaError,
    declare_derived,
    differences,
    ensure_schema,
    is_empty,
)
from .sqlread import read_filter
from .stored import duplicate, numbered_leaves, same_payload, stored_row
from .types import Event, Payload
from .upcast import UPCASTERS

Clock = Callable[[], dt.datetime]
IdFactory = Callable[[], str]

_BULK_ROWS = 1_000  # rows of one executemany from which the guard's drop/re-create pays off
CHUNK = 10_000  # payloads encoded per executemany: bounds memory for huge batches


def _connect(path: str | Path, timeout: float, read_only: bool) -> sqlite_utils.Database:
    """Open the file, refusing with one sentence what cannot be a log (see the module doc)."""
    p = Path(path)
    if read_only and not p.exists():
        raise LogOpenError(f"{path} does not exist (a command that only reads does not create "
                           "a log: check the path or --db)")
    if not read_only and not p.exists() and not p.parent.is_dir():
        raise LogOpenError(f"cannot create {path}: the folder {p.parent} does not exist")
    if p.is_dir():
        raise LogOpenError(f"{path} is a folder, not a log file")
    try:
        if read_only:
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
        else:
            conn = sqlite3.connect(str(path), timeout=timeout)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        raise LogOpenError(f"{path} is not a SQLite database ({e})") from None
    return sqlite_utils.Database(conn, execute_plugins=False)


def _check_schema(conn: sqlite3.Connection, name: str, exact: bool = True) -> None:
    """Refuse a database that is not a log; with `exact`, one whose schema differs at all."""
    problems = differences(conn)
    if not problems:
        return
    if conn.execute(f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'"
                    ).fetchone() is None:
        tables = [n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        raise SchemaError(f"{name} is not an ictindex log: it holds no events table but "
                          f"{', '.join(tables) or 'other objects'}; nothing was changed")
    if not exact:
        return
    raise SchemaError(f"{name}: the database schema is not a log's, someone changed it: "
                      + "; ".join(problems) + " (nothing was changed; see `ictindex verify`)")


def _decode_rows(bodies: Iterable[bytes], decoder: msgspec.json.Decoder | None = None
                 ) -> Iterator[Event]:
    """`decode_event` of each body, with its common case inlined (current schema, recorded in
    UTC): a year's replay decodes hundreds of thousands of rows.  Anything else goes through
    `decode_event` itself (upcasting, or the precise error).  `decoder`: decode the common case
    into another type (`events.lean.LEAN_DECODER`)."""
    decode = (decoder or _EVENT_DECODER).decode
    current = UPCASTERS.current
    utc = dt.timezone.utc
    for body in bodies:
        try:
            e = decode(body)
        except Exception:
            e = decode_event(body)
        else:
            tz = e.recorded_at.tzinfo
            if e.schema != current or (tz is not utc and e.recorded_at.utcoffset() != _NO_OFFSET):
                e = decode_event(body)
        yield e


_EVENT_DECODER = msgspec.json.Decoder(Event)


# Published rankings, kept beside the log so that verify can name the first unit that differs.
# Derived: a copy counts only while its hash equals the result hash recorded in the log.
PUBLISHED_TABLE = "published_results"
# as sqlite-utils first created it (the schema check compares the exact text)
PUBLISHED_SCHEMA = (f'CREATE TABLE IF NOT EXISTS "{PUBLISHED_TABLE}" (\n   "seq" INTEGER PRIMARY KEY,\n'
                    '   "ranking" BLOB\n)')
declare_derived(PUBLISHED_SCHEMA)

_WRITE_CACHE_KIB = -65536  # negative: KiB, as PRAGMA cache_size reads it
_READ_CACHE_KIB = -2000  # SQLite's default
_STORED_ROW = partial(tuple.__new__, StoredRow)
_SEQ_CHUNK = 500  # seqs per IN (...) query: well under SQLite's limit on bound parameters
_NO_OFFSET = dt.timedelta(0)


def _storage_problems(conn: sqlite3.Connection) -> list[str]:
    problems = [f"schema: {d}" for d in differences(conn)]
    if conn.execute(f"SELECT 1 FROM sqlite_master WHERE name = '{TABLE}'").fetchone():
        problems += [f"storage: {p}" for p in indexcheck.check(conn)]
    return problems


def _log_end(conn: sqlite3.Connection, expected_last_seq: int | None) -> tuple[int, str, str | None]:
    """(last seq, its leaf hash, its recorded_at), read under the write lock; with
    `expected_last_seq`, a `ConcurrencyError` unless the log ends there."""
    last = conn.execute(
        f"SELECT seq, hash, recorded_at FROM {TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev, last_time = last if last else (0, GENESIS_PREV_HASH, None)
    if expected_last_seq is not None and expected_last_seq != seq:
        raise ConcurrencyError(expected_last_seq, seq)
    return seq, prev, last_time


class EventStore:
    """The event log in one SQLite file (see the module docstring).

    `clock` returns the current time as a timezone-aware datetime (converted to UTC); it is read
    once per batch, inside the write transaction, and never allowed to go back: a batch recorded
    after another is stamped no earlier than it, so `recorded_at` is non-decreasing in seq
    order and "as of a time" is a prefix of the log.  `new_event_id` makes event ids.
    """

    def __init__(
        self,
        path: str | Path | sqlite_utils.Database,
        *,
        clock: Clock = utc_now,
        new_event_id: IdFactory = new_event_id,
        timeout: float = 30.0,
        read_only: bool = False,
        check_schema: bool = True,
    ) -> None:
        self.read_only = read_only
        if isinstance(path, sqlite_utils.Database):
            self.db = path
        else:
            self.db = _connect(path, timeout, read_only)
        name = str(path) if not isinstance(path, sqlite_utils.Database) else "the database"
        self._file = self.db.execute("PRAGMA database_list").fetchone()[2] or None
        try:
            if read_only:
                if is_empty(self.db.conn):
                    raise LogOpenError(f"{name} is empty: it holds no log yet")
                # `verify` opens without `check_schema`, to report every difference
                _check_schema(self.db.conn, name, exact=check_schema)
            else:
                if not is_empty(self.db.conn):
                    _check_schema(self.db.conn, name)  # before anything is added to it
                if not self.db.memory and self.db.execute("PRAGMA database_list").fetchone()[2]:
                    self.db.enable_wal()
                ensure_schema(self.db)
                frontier.ensure(self.db.conn)
                tiles.ensure(self.db.conn)
        except BaseException:
            if not isinstance(path, sqlite_utils.Database):
                self.db.close()
            raise
        self.clock = clock
        self.new_event_id = new_event_id
        # Called inside the write transaction, after each chunk of a batch is inserted, with the
        # connection and the events of that chunk: derived tables (projections) kept in the same
        # file are updated atomically with the log.  An exception aborts the whole batch.
        self.on_append: list[Callable[[sqlite3.Connection, list[Event]], None]] = []
        # Called once per batch that recorded something, inside the write transaction, after the
        # last chunk (e.g. to rescore what the batch changed).
        self.before_commit: list[Callable[[sqlite3.Connection], None]] = []
        self._projectors: list[Any] = []  # `add_projector`

    @property
    def path(self) -> str | None:
        """The database file, None for a database in memory (another process can read a file:
        `verify` checks half of a big log in a second process)."""
        name = self.db.execute("PRAGMA database_list").fetchone()[2]
        return name or None

    @property
    def name(self) -> str:
        """The file's name (`ictindex.db` for a database in memory)."""
        path = self.path
        return Path(path).name if path else "ictindex.db"

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "EventStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        payloads: Iterable[Payload],
        *,
        actor: str,
        keys: Iterable[str | None] | None = None,
        expected_last_seq: int | None = None,
    ) -> list[Event]:
        """Append `payloads` as one atomic batch and return the events recorded.

        `keys[i]` (optional) is the idempotency key of `payloads[i]`: a payload whose key is
        already in the log, or earlier in the same batch, is skipped and not returned; under
        another payload than the one recorded with that key, the batch is refused
        (`ValueError`).  With `expected_last_seq`, the batch is refused with
        `ConcurrencyError` unless the log ends at that seq when the write transaction starts.
        Any error records nothing.
        """
        out: list[Event] = []
        self._write(payloads, keys, actor, expected_last_seq, out)
        return out

    def extend(
        self,
        payloads: Iterable[Payload],
        *,
        actor: str,
        keys: Iterable[str | None] | None = None,
        expected_last_seq: int | None = None,
    ) -> AppendResult:
        """`append` for huge batches (a national import): streams, returns only a summary."""
        return self._write(payloads, keys, actor, expected_last_seq, None)

    def append_stored(self, bodies: Iterable[bytes], *, expected_last_seq: int) -> AppendResult:
        """Append events exactly as another store recorded them (`ictindex copy`); see
        `events.interface.EventLog.append_stored`.  The same write path as `append`: one
        transaction under the write lock, streamed in chunks of `CHUNK` bodies, the Merkle
        frontier and tiles advanced and the projectors called as the rows go in."""
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")
        return self._transaction(lambda conn, written: self._append_stored_locked(
            conn, iter(bodies), expected_last_seq, written))

    def _append_stored_locked(
        self,
        conn: sqlite3.Connection,
        bodies: Iterator[bytes],
        expected_last_seq: int,
        written: "hashlib._Hash",
    ) -> tuple[AppendResult, RootAccumulator | None, tiles.Writer | None]:
        seq, prev, last_time = _log_end(conn, expected_last_seq)
        first_seq = seq + 1
        acc = frontier.resume(conn, seq)
        tile_writer = tiles.resume(conn, seq)
        while chunk := list(islice(bodies, CHUNK)):
            rows: list[StoredRow] = []
            made: list[Event] = []
            for body in chunk:
                seq += 1
                row, event = stored_row(body, seq, prev, last_time)
                rows.append(row)
                made.append(event)
                prev, last_time = row.hash, row.recorded_at
            # Earlier chunks of this call are in the table already: one query per chunk finds
            # every event id or key taken before, and the chunk is checked against itself.
            for column, what in (("event_id", "event id"), ("key", "key")):
                values = [getattr(r, column) for r in rows if getattr(r, column) is not None]
                taken = {v for (v,) in conn.execute(
                    f"SELECT {column} FROM {TABLE} WHERE {column} IN "
                    "(SELECT value FROM json_each(?))", (msgspec.json.encode(values),))}
                for r in rows:
                    value = getattr(r, column)
                    if value is not None and value in taken:
                        raise duplicate(r, what)
                    taken.add(value)
            digests = [bytes.fromhex(r.hash) for r in rows]
            for r in rows:
                written.update(r.hash.encode())
            self._insert(conn, rows, digests, made if self.on_append else None, acc, tile_writer)
        appended = seq - first_seq + 1
        return (AppendResult(first_seq if appended else None, seq, appended, 0), acc, tile_writer)

    def _write(
        self,
        payloads: Iterable[Payload],
        keys: Iterable[str | None] | None,
        actor: str,
        expected_last_seq: int | None,
        out: list[Event] | None,
    ) -> AppendResult:
        if not isinstance(actor, str) or not actor.strip():
            raise BadArgument("actor must be a non-empty string")
        items: Iterable[tuple[Payload, str | None]]
        if keys is None:
            items = ((p, None) for p in payloads)
        else:
            items = zip(payloads, keys, strict=True)
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")
        return self._transaction(lambda conn, written: self._write_locked(
            conn, iter(items), actor, expected_last_seq, out, written), out)

    def _transaction(
        self,
        write_locked: Callable[[sqlite3.Connection, "hashlib._Hash"],
                               tuple[AppendResult, RootAccumulator | None, tiles.Writer | None]],
        out: list[Event] | None = None,
    ) -> AppendResult:
        """Run `write_locked` (which inserts rows) as one write transaction: schema check under
        the write lock, Merkle frontier and tiles advanced, projectors' `before_commit`, COMMIT,
        then the rows read back; `append` and `append_stored` share it."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        # A bigger page cache keeps the unique indexes (random uuid4 event ids) in memory while
        # a large batch is inserted; only then: a replay reads each page once, and a big cache
        # would only add to its peak memory.
        conn.execute(f"PRAGMA cache_size = {_WRITE_CACHE_KIB}")
        try:
            # under the write lock: what another process planted since this store opened
            _check_schema(conn, self.path or "the database")
            written = hashlib.sha256()  # of the leaf hashes appended, to read back after COMMIT
            result, acc, tile_writer = write_locked(conn, written)
            if result.appended:
                frontier.advance(conn, acc)
                tiles.advance(conn, tile_writer)
                for hook in self.before_commit:
                    hook(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if out is not None:
                out.clear()
            raise
        finally:
            conn.execute(f"PRAGMA cache_size = {_READ_CACHE_KIB}")
        if result.appended:
            self._confirm(result, written)
        return result

    def _confirm(self, result: AppendResult, written: "hashlib._Hash") -> None:
        """The seqs just committed are in the file with the hashes written: nothing (a trigger
        planted by whoever can write the file) removed or replaced them in the transaction."""
        first, last = result.first_seq, result.last_seq
        back = hashlib.sha256()
        n = 0
        for (h,) in self.db.conn.execute(
                f"SELECT hash FROM {TABLE} WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last)):
            back.update(h.encode() if isinstance(h, str) else b"?")
            n += 1
        if n != result.appended or back.digest() != written.digest():
            raise LogIntegrityError(
                f"events #{first}..#{last} were committed but the file does not hold them as "
                f"written ({n} of {result.appended} found): the database was tampered with; "
                "run `ictindex verify`")

    def _write_locked(
        self,
        conn: sqlite3.Connection,
        items: Iterator[tuple[Payload, str | None]],
        actor: str,
        expected_last_seq: int | None,
        out: list[Event] | None,
        written: "hashlib._Hash",
    ) -> tuple[AppendResult, RootAccumulator | None, tiles.Writer | None]:
        seq, prev, last_time = _log_end(conn, expected_last_seq)
        now = self.clock()
        now_key = time_key(now)  # refuses naive datetimes
        now = now.astimezone(dt.timezone.utc)
        if last_time is not None and now_key < last_time:
            now_key, now = last_time, parse_time_key(last_time)

        first_seq = seq + 1
        # the Merkle frontier, advanced here over the leaf hashes as they are computed
        # (without a stored frontier to resume, `frontier.advance` rebuilds it from the table)
        acc = frontier.resume(conn, seq)
        tile_writer = tiles.resume(conn, seq)  # the stored subtree hashes, likewise
        appended = skipped = 0
        seen: dict[str, Payload] = {}  # key -> payload, earlier in this batch
        encode = msgspec.json.Encoder(order="sorted", decimal_format="string").encode
        leaf_prefix = LEAF_PREFIX
        new_id = self.new_event_id
        hooks = self.on_append
        while chunk := list(islice(items, CHUNK)):
            chunk_keys = [k for _, k in chunk if k is not None]
            existing: dict[str, tuple[int, bytes]] = {}
            if chunk_keys:
                for k in chunk_keys:
                    if type(k) is not str or not k:
                        raise ValueError(f"an idempotency key must be a non-empty string: {k!r}")
                existing = {
                    k: (s, b)
                    for k, s, b in conn.execute(
                        f"SELECT key, seq, body FROM {TABLE} "
                        "WHERE key IN (SELECT value FROM json_each(?))",
                        (msgspec.json.encode(chunk_keys),),
                    )
                }
            rows = []
            digests: list[bytes] = []
            made: list[Event] | None = [] if hooks else None
            for payload, key in chunk:
                if key is not None:
                    earlier = existing.get(key)
                    if earlier is not None or key in seen:
                        same_payload(key, payload, earlier, seen, encode)
                        skipped += 1
                        continue
                    seen[key] = payload
                # events.stored.new_row, inlined: a call per event costs this hot loop ~10 %
                tag = check_payload(payload)  # every stored body must decode again
                event_id = new_id()
                if type(event_id) is not str or not event_id:
                    raise ValueError(f"event ids must be non-empty strings: {event_id!r}")
                seq += 1
                event = Event(
                    seq=seq, event_id=event_id, recorded_at=now, actor=actor, payload=payload,
                    prev_hash=prev, key=key,
                )
                body = encode(event)
                h = leaf_prefix.copy()
                h.update(body)
                digest = h.digest()
                digests.append(digest)
                prev = digest.hex()
                written.update(prev.encode())
                rows.append((
                    seq, event_id, now_key, actor, tag,
                    getattr(payload, "year", None),
                    getattr(payload, "unit_id", None),
                    getattr(payload, "indicator", None),
                    key, body, prev,
                ))  # fmt: skip
                if out is not None:
                    out.append(event)
                if made is not None:
                    made.append(event)
            self._insert(conn, rows, digests, made, acc, tile_writer)
            appended += len(rows)
        return (AppendResult(first_seq if appended else None, seq, appended, skipped), acc,
                tile_writer)

    def _insert(self, conn: sqlite3.Connection, rows: list[tuple], digests: list[bytes],
                made: list[Event] | None, acc: RootAccumulator | None,
                tile_writer: tiles.Writer | None) -> None:
        """Insert one chunk of rows (seqs after the log's last) under the write lock, advance
        the Merkle frontier and tiles over their leaf hashes, and give `made` (the chunk's
        events) to the projectors."""
        # The hot path: one executemany per chunk on the connection that holds the write
        # lock.  sqlite-utils' insert_all would rebuild each row as a dict, re-derive the
        # SQL per chunk and open its own savepoint; rows here are already positional tuples
        # in column order, so the driver's executemany is the cheapest correct call.
        if len(rows) >= _BULK_ROWS:
            # The append-only INSERT trigger guards against *other* writers' REPLACE-style
            # inserts; this plain INSERT of seqs after the last one already aborts on any
            # seq, event_id or key conflict, so the trigger only costs it (~1/3 of the
            # insert time).  Dropped and re-created inside this write transaction, it is
            # never missing for anyone else: no other writer can run until we commit, and a
            # rollback (or a crash) restores it with the rest.
            conn.execute(f"DROP TRIGGER IF EXISTS {GUARD}")
            conn.executemany(INSERT, rows)
            conn.execute(TRIGGERS[GUARD])
        else:
            conn.executemany(INSERT, rows)
        if acc is not None:
            acc.extend(digests)
        if tile_writer is not None:
            tile_writer.extend(digests)
        if made:
            for hook in self.on_append:
                hook(conn, made)

    # -- reading ---------------------------------------------------------------------------

    def last_seq(self) -> int:
        row = self.db.execute(f"SELECT max(seq) FROM {TABLE}").fetchone()
        return row[0] or 0

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
        """Events with `start <= seq < stop`, matching every filter given, in seq order.

        `as_of_seq` keeps events with `seq <= as_of_seq`; `as_of_time` (timezone-aware) keeps
        events recorded at or before it.  `year`, `unit_id`, `indicator` match the payload
        fields of that name (unit events have no year).
        """
        where, params = read_filter("?", start, stop, year=year, unit_id=unit_id,
                                    indicator=indicator, as_of_seq=as_of_seq,
                                    as_of_time=as_of_time)
        sql = f"SELECT body FROM {TABLE} WHERE {where} ORDER BY seq"
        return (decode_event(body) for (body,) in self.db.execute(sql, params))

    def read_years(
        self,
        years: Iterable[int],
        *,
        as_of_seq: int | None = None,
        as_of_time: dt.datetime | None = None,
        lean: bool = False,
    ) -> Iterator[Event]:
        """In seq order, the events of `years` and every event without a year (the unit
        registry), up to `as_of_seq` / `as_of_time`: what folding some years needs, without
        reading or decoding the other years' rows.

        `lean`: indicator events of the current schema come as `events.lean.LeanEvent`s (what a
        replay reads of them; `events_by_seq` gives the full events back).

        The rows of a year are found through the (year, unit_id, indicator) index: when they
        lie in a compact seq range (a year's import, its corrections soon after) that range is
        scanned in rowid order; otherwise the index gives the rows and SQLite sorts them.
        """
        years = sorted(set(years))
        limits, params = [], []
        if as_of_seq is not None:
            limits.append("seq <= ?")
            params.append(as_of_seq)
        if as_of_time is not None:
            limits.append("recorded_at <= ?")
            params.append(time_key(as_of_time))
        marks = ", ".join("?" * len(years))
        wanted = f"(year IS NULL OR year IN ({marks}))" if years else "year IS NULL"
        db = self.db
        if years:
            n, lo, hi = db.execute(
                f"SELECT count(*), min(seq), max(seq) FROM {TABLE} WHERE year IN ({marks})", years
            ).fetchone()
        else:
            n = 0
        if n and (hi - lo + 1) <= 2 * n:
            # registry events before the range (through the index), then the range itself
            head = " AND ".join(["year IS NULL", "seq < ?", *limits])
            body = " AND ".join([wanted, "seq BETWEEN ? AND ?", *limits])
            tail = " AND ".join(["year IS NULL", "seq > ?", *limits])
            queries = [
                (f"SELECT body FROM {TABLE} INDEXED BY {YEAR_INDEX} WHERE {head} ORDER BY seq",
                 [lo, *params]),
                (f"SELECT body FROM {TABLE} WHERE {body} ORDER BY seq", [*years, lo, hi, *params]),
                (f"SELECT body FROM {TABLE} INDEXED BY {YEAR_INDEX} WHERE {tail} ORDER BY seq",
                 [hi, *params]),
            ]
        else:
            where = " AND ".join([wanted, *limits])
            queries = [(f"SELECT body FROM {TABLE} WHERE {where} ORDER BY seq", [*years, *params])]
        return _decode_rows((body for sql, args in queries for (body,) in db.execute(sql, args)),
                            LEAN_DECODER if lean else None)

    def last_seq_as_of(self, as_of_seq: int | None = None,
                       as_of_time: dt.datetime | None = None) -> int:
        """The last seq of the log's prefix up to `as_of_seq` / `as_of_time` (0 if empty)."""
        last = self.last_seq()
        if as_of_seq is not None:
            last = min(last, max(as_of_seq, 0))
        if as_of_time is not None:
            row = self.db.execute(
                f"SELECT max(seq) FROM {TABLE} WHERE recorded_at <= ? AND seq <= ?",
                (time_key(as_of_time), last)).fetchone()
            last = row[0] or 0
        return last

    def years(self) -> list[int]:
        """The distinct years of the log's events (one probe of the year index per year)."""
        out: list[int] = []
        y = self.db.execute(f"SELECT min(year) FROM {TABLE}").fetchone()[0]
        while y is not None:
            out.append(y)
            y = self.db.execute(f"SELECT min(year) FROM {TABLE} WHERE year > ?", (y,)).fetchone()[0]
        return out

    def get(self, ref: int | str) -> Event:
        """The event with seq `ref` (an int) or event id `ref` (a str)."""
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise TypeError(f"an event is named by its seq (int) or event id (str), not {ref!r}")
        column = "seq" if isinstance(ref, int) else "event_id"
        row = self.db.execute(f"SELECT body FROM {TABLE} WHERE {column} = ?", (ref,)).fetchone()
        if row is None:
            raise EventNotFound(f"no event with {column} {ref}")
        return decode_event(row[0])

    def events_by_seq(self, seqs: Iterable[int]) -> dict[int, Event]:
        """The events with these seqs, by seq (seqs not in the log are left out): how a folded
        state reads back the events behind the values it traces."""
        wanted = sorted(set(seqs))
        out: dict[int, Event] = {}
        for i in range(0, len(wanted), _SEQ_CHUNK):
            chunk = wanted[i:i + _SEQ_CHUNK]
            sql = f"SELECT body FROM {TABLE} WHERE seq IN ({', '.join('?' * len(chunk))})"
            for e in _decode_rows(body for (body,) in self.db.execute(sql, chunk)):
                out[e.seq] = e
        return out

    def has_key(self, key: str) -> bool:
        """Whether an event with this idempotency key is in the log."""
        return self.db.execute(f"SELECT 1 FROM {TABLE} WHERE key = ?", (key,)).fetchone() is not None

    def stored_rows(self, start: int | None = None) -> Iterator[StoredRow]:
        if start is None:  # every row, those numbered below 1 too: verify must see them
            cursor = self.db.execute(f"{SELECT_ROWS} ORDER BY seq")
        else:
            cursor = self.db.execute(f"{SELECT_ROWS} WHERE seq >= ? ORDER BY seq", (start,))
        return map(_STORED_ROW, cursor)  # `StoredRow._make` without a Python call per row

    def leaf_hashes(self, stop: int | None = None) -> list[bytes]:
        """Stored leaf hashes of seqs `1..stop` (the first `stop` leaves), in order.

        Refuses (`LogIntegrityError`) rows that are not numbered exactly 1, 2, 3, ...: a row at seq 0
        or below, a gap or a hash that is not hex would otherwise be counted, or shift every
        later leaf, in a checkpoint or a proof without a word."""
        if stop is None:
            cursor = self.db.execute(f"SELECT seq, hash FROM {TABLE} ORDER BY seq")
        else:
            cursor = self.db.execute(
                f"SELECT seq, hash FROM {TABLE} WHERE seq <= ? ORDER BY seq", (stop,)
            )
        return numbered_leaves(cursor.fetchall())

    # -- checkpoints and proofs ------------------------------------------------------------

    def _leaves(self, size: int | None) -> list[bytes]:
        leaves = self.leaf_hashes(size)
        if size is not None and (size < 0 or len(leaves) != size):
            raise ValueError(f"the log has {self.last_seq()} events, not {size}")
        return leaves

    def _tiles(self, size: int | None) -> tiles.Reader | None:
        """The stored subtree hashes of the first `size` events, for proofs in O(log n), when
        they stand exactly at the log's end and its rows are numbered 1..N; otherwise None, and
        the proof is computed from every leaf, with `leaf_hashes`' refusals.  A proof from a
        tampered tile cannot mislead: it fails against the published root it is checked with.

        "Numbered 1..N" without counting the rows: min and max of seq (two probes of the
        primary key) and the tiles' seal (`tiles.sealed_size`: the size the last append wrote,
        with the schema unchanged since, so no trigger was dropped to delete or renumber a row).
        Without a seal standing, the rows are counted (O(n), as before the seal)."""
        # a lone min() or max() is one probe of the primary key; count() reads an index
        lo, hi = self.db.execute(
            f"SELECT (SELECT min(seq) FROM {TABLE}), (SELECT max(seq) FROM {TABLE})").fetchone()
        last = hi or 0
        if (last and lo != 1) or tiles.stored_size(self.db.conn) != last:
            return None
        if tiles.sealed_size(self.db.conn) != last:
            (n,) = self.db.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
            if n != last:
                return None
        if size is None:
            size = last
        if not 0 <= size <= last:
            raise ValueError(f"the log has {last} events, not {size}")
        return tiles.Reader(self.db.conn, size)

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """(size, root) of the first `size` events, from the stored hashes.

        Run `verify` first before publishing one: it recomputes the hashes from the bodies.
        Computed from the leaves, never from a derived table (the tiles serve proofs, which are
        checked against a published root).
        """
        return Checkpoint.of(self._leaves(size))

    def latest_checkpoint(self) -> Checkpoint:
        """The checkpoint of the whole log in O(log n), from the derived Merkle frontier.

        For measuring; whatever is shown as a checkpoint is computed by `checkpoint`.
        """
        if self.read_only:
            return self.checkpoint()
        return frontier.current(self.db.conn)

    def stored_frontier(self) -> Checkpoint | None:
        """The derived Merkle frontier as stored (see `events.frontier`), None if there is none."""
        return frontier.stored(self.db.conn)

    def tile_problems(self) -> list[str]:
        return tiles.problems(self.db.conn, self.leaf_hashes())

    def tile_check(self) -> tiles.Check:
        """`tile_problems` for `verify` to feed with the leaf hashes it recomputes anyway."""
        return tiles.Check(self.db.conn)

    def check_storage(self) -> list[str]:
        """What is wrong with the database itself, beyond its rows (empty: nothing).

        The schema must be a log's (`events.schema.differences`), and every index on the
        events table must hold exactly the table's rows (`events.indexcheck`): an index that
        misses or misplaces a row (a hand edit with `writable_schema`) hides it from the queries
        that read through the index (a year's replay, the registry, lookups by event id or key)
        while a full scan, which `verify` does, still sees it.

        For a log in a file, safe to call from another thread: the check runs on a connection
        of its own (read-only), inside SQLite, so `verify` runs it beside its own pass."""
        path = self._file
        if path is None:
            return _storage_problems(self.db.conn)
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return _storage_problems(conn)
        finally:
            conn.close()

    def inclusion_proof(self, seq: int, size: int | None = None) -> InclusionProof:
        """Proof that event `seq` is among the first `size` events (the whole log by default)."""
        reader = self._tiles(size)
        if reader is not None:
            n = reader.size
            if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= n:
                raise ValueError(f"event {seq!r} is not among the first {n} events")
            row = self.db.execute(f"SELECT hash FROM {TABLE} WHERE seq = ?", (seq,)).fetchone()
            leaf = reader.node(0, seq - 1)
            if row is not None and row[0] == leaf.hex():
                path = merkle.inclusion_path(seq - 1, n, reader.range_root)
                return InclusionProof(seq - 1, n, leaf.hex(), [p.hex() for p in path])
        leaves = self._leaves(size)
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= len(leaves):
            raise ValueError(f"event {seq!r} is not among the first {len(leaves)} events")
        path = merkle.inclusion_proof(leaves, seq - 1)
        return InclusionProof(seq - 1, len(leaves), leaves[seq - 1].hex(), [p.hex() for p in path])

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the first `new_size` events (default: all) extend the first `old_size`."""
        reader = self._tiles(new_size)
        if reader is not None:
            path = merkle.consistency_path(old_size, reader.size, reader.range_root)
            return ConsistencyProof(old_size, reader.size, [p.hex() for p in path])
        leaves = self._leaves(new_size)
        path = merkle.consistency_proof(leaves, old_size)
        return ConsistencyProof(old_size, len(leaves), [p.hex() for p in path])

    # -- published copies ------------------------------------------------------------------

    def keep_published(self, seq: int, ranking: bytes) -> None:
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")
        with self.db.conn:
            self.db.execute(PUBLISHED_SCHEMA)
            self.db.execute(f"INSERT OR REPLACE INTO {PUBLISHED_TABLE} (seq, ranking) VALUES (?, ?)",
                            (seq, ranking))

    def published_copy(self, seq: int) -> bytes | None:
        if not self.db[PUBLISHED_TABLE].exists():
            return None
        row = self.db.execute(f"SELECT ranking FROM {PUBLISHED_TABLE} WHERE seq = ?",
                              (seq,)).fetchone()
        return None if row is None else row[0]

    # -- derived tables in the append's transaction (`events.interface.DerivedTables`) ----------
    # A projector's two methods go straight into the hook lists the writer calls: no wrapper
    # between the insert loop and the projector.

    def add_projector(self, projector: Any) -> None:
        if projector not in self._projectors:
            self._projectors.append(projector)
            self.on_append.append(projector.on_events)
            self.before_commit.append(projector.before_commit)

    def remove_projector(self, projector: Any) -> None:
        if projector in self._projectors:
            self._projectors.remove(projector)
            for hooks, hook in ((self.on_append, projector.on_events),
                                (self.before_commit, projector.before_commit)):
                if hook in hooks:
                    hooks.remove(hook)

    def projectors(self) -> list[Any]:
        return list(self._projectors)

    def has_tables(self, names: Sequence[str]) -> bool:
        row = self.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name IN (%s)" % ",".join("?" * len(names)), list(names)).fetchone()
        return row[0] == len(set(names))

    @contextmanager
    def derived_transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`: serialised with every writer of the file."""
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def derived_reader(self) -> sqlite3.Connection:
        return self.db.conn


def _sqlite_problem(error: BaseException) -> str | None:
    """The message for a refusal SQLite reports about the log's file; None for anything else.

    SQLite rolls a failed write transaction back, so a batch that met one of these is not in
    the log: "nothing was recorded" is true of every command that stops here.
    """
    if not isinstance(error, sqlite3.OperationalError):
        return None
    text = str(error).lower()
    if "database is locked" in text or "database table is locked" in text:
        return ("the log is locked: another process (another ictindex command, or a program "
                "holding the file open for writing) is writing to it; nothing was recorded. "
                "Run the command again when it has finished")
    if "database or disk is full" in text:
        return "the disk holding the log is full: nothing was recorded. Free some space and run it again"
    if "disk i/o error" in text:
        return ("the log's file could not be written (disk I/O error: full, removed or read-only?): "
                "nothing was recorded")
    if "attempt to write a readonly database" in text:
        return "the log's file is read-only for this user: nothing was recorded"
    return None


register_problem_reader(_sqlite_problem)


__all__ = ["EventStore", "PUBLISHED_TABLE", "StorageCheck", "ensure_schema", "new_event_id",
           "utc_now"]
