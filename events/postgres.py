"""The PostgreSQL event store: one shared log that many officers append to at once.

Selected by a `postgresql://` (or `postgres://`) URL given as `--db` or `$ICTINDEX_DB`.  The
log lives in the schema `ictindex` of the database the URL names:

    events             seq BIGINT PRIMARY KEY (gapless from 1), event_id (unique),
                       recorded_at (canonical.time_key text), actor, type, year, unit_id,
                       indicator (copies of body fields), key (unique, NULL allowed),
                       body BYTEA (the canonical bytes: the only source of truth), hash (hex)
    merkle_frontier    the compact range of the Merkle tree (derived, one row)
    merkle_tiles       the tree's subtree hashes as C2SP tlog-tiles (`events.tiles`): level,
                       idx, hashes BYTEA; written in every append's transaction, append-only
    published_results  the canonical bytes of published rankings (derived)

The bytes are SQLite's (`events.canonical`): the same payloads, clock and event ids give the
same bodies, leaf hashes and checkpoints in either store.

What the database itself enforces:

- append-only: triggers refuse UPDATE, DELETE and TRUNCATE of `events` (an `INSERT ... ON
  CONFLICT DO UPDATE` is an UPDATE too); `create_writer_role` makes a role that holds INSERT
  and SELECT on it and nothing else, so only someone who can drop the triggers (the owner, a
  superuser) can change a row, and `verify` finds what they change;
- gapless seqs under concurrent writers: every append takes one transaction-scoped advisory
  lock (`pg_advisory_xact_lock`) before it reads the last seq, so appends are serialised and
  a batch is committed whole or not at all; the Merkle frontier and tiles advance in that
  transaction;
- the tiles only grow: triggers refuse DELETE and TRUNCATE, and an UPDATE other than a partial
  tile replaced by a longer one that begins with it (what SQLite's writer does), so that a
  proof served from them is a proof of the log as it was appended (`_tiles` says what a proof
  checks before it trusts them);
- idempotency keys and event ids are unique indexes;
- a log opened read-only runs every statement under `default_transaction_read_only`;
- `check_storage` compares the schema (tables, columns, constraints, indexes, triggers, rules,
  policies, functions) with exactly the store's, so `verify` names what was planted.

No derived tables in the append's transaction (`events.interface.DerivedTables`): the
application replays.  Reads that stream (`read`, `read_years`, `stored_rows`) run a server-side
cursor on a connection of their own, so each sees one snapshot of whole batches.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

import msgspec

try:
    import psycopg
    from psycopg import sql as _sql
except ImportError:  # the optional extra `postgres`
    psycopg = None  # type: ignore[assignment]

from . import merkle, tiles
from .canonical import GENESIS_PREV_HASH, decode_event, parse_time_key, time_key
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
from .merkle import Checkpoint, ConsistencyProof, InclusionProof, RootAccumulator, hash_children
from .refusal import BadArgument
from .sqlread import read_filter
from .stored import duplicate, new_row, numbered_leaves, same_payload, stored_row
from .types import Event, Payload

__all__ = ["PostgresEventLog", "SCHEMA"]

SCHEMA = "ictindex"
EVENTS = f"{SCHEMA}.events"
FRONTIER = f"{SCHEMA}.merkle_frontier"
PUBLISHED = f"{SCHEMA}.published_results"
TILES = f"{SCHEMA}.{tiles.TABLE}"
COLUMNS = ("seq", "event_id", "recorded_at", "actor", "type", "year", "unit_id", "indicator",
           "key", "body", "hash")
_COPY_TYPES = ["bigint", "text", "text", "text", "text", "integer", "text", "text", "text",
               "bytea", "text"]
_SELECT_ROWS = f"SELECT {', '.join(COLUMNS)} FROM {EVENTS}"
# One number for every append to a log in this database: `pg_advisory_xact_lock` serialises
# them (held until COMMIT or ROLLBACK, released by the server if the writer dies).
APPEND_LOCK = 0x1C71_DE7
CHUNK = 10_000  # payloads encoded and copied per round: bounds memory for huge batches
_FETCH = 5_000  # rows per round trip of a server-side cursor
_KEYS_SQL = f"SELECT key, seq, body FROM {EVENTS} WHERE key = ANY(%s)"
_CHANNEL = "ictindex_appended"  # NOTIFY channel of every append (see `has_key`)
_KEY_CACHE_AFTER = 64  # `has_key` questions before the store keeps the keys' hashes
_KEY_BITS = 1 << 27  # bits of that filter: 16 MiB, about 1 % false positives at 1.3M keys
_KEY_BITS_MASK = _KEY_BITS - 1

_REFUSE = """
BEGIN
    RAISE EXCEPTION 'events are append-only: % is refused', TG_OP;
END
"""
# An UPDATE of a tile may only lengthen a partial tile, keeping its hashes (the `WHERE` of
# `_PUT_TILE` skips every other write of the append's own, so that only a hand edit meets this).
_TILES_REFUSE = """
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.level = OLD.level AND NEW.idx = OLD.idx
           AND length(NEW.hashes) > length(OLD.hashes)
           AND substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) = OLD.hashes THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'merkle tiles are append-only: % is refused', TG_OP;
END
"""
# The tiles' objects: in `DDL`, and created on their own in a log made before them (`_add_tiles`).
TILES_DDL = (
    f"""CREATE TABLE {TILES} (
    level integer NOT NULL,
    idx bigint NOT NULL,
    hashes bytea NOT NULL,
    PRIMARY KEY (level, idx),
    CONSTRAINT merkle_tiles_shape CHECK (level >= 0 AND idx >= 0
        AND length(hashes) BETWEEN {merkle.HASH_SIZE} AND {tiles.WIDTH * merkle.HASH_SIZE}
        AND length(hashes) % {merkle.HASH_SIZE} = 0)
)""",
    f"CREATE OR REPLACE FUNCTION {SCHEMA}.merkle_tiles_refuse_change() RETURNS trigger "
    f"LANGUAGE plpgsql AS $${_TILES_REFUSE}$$",
    f"""CREATE TRIGGER merkle_tiles_only_grow BEFORE UPDATE OR DELETE ON {TILES}
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.merkle_tiles_refuse_change()""",
    f"""CREATE TRIGGER merkle_tiles_no_truncate BEFORE TRUNCATE ON {TILES}
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.merkle_tiles_refuse_change()""",
)
_PUT_TILE = (f"INSERT INTO {TILES} AS t (level, idx, hashes) VALUES (%s, %s, %s) "
             "ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes "
             "WHERE length(EXCLUDED.hashes) > length(t.hashes) "
             "AND substring(EXCLUDED.hashes FROM 1 FOR length(t.hashes)) = t.hashes")
# One round trip under the append lock: the end of the stored tiles (level 0's last) and the
# partial tile of every level at the log's end, which a `tiles.Writer` continues.
_TILE_EDGE = f"""
SELECT -1, idx, length(hashes)::bigint, NULL::bytea FROM {TILES} WHERE level = 0
 AND idx = (SELECT max(idx) FROM {TILES} WHERE level = 0)
UNION ALL
SELECT t.level, t.idx, length(t.hashes)::bigint, t.hashes
  FROM (SELECT coalesce(max(seq), 0) AS s FROM {EVENTS}) m
  CROSS JOIN generate_series(0, 7) AS l(level)
  JOIN {TILES} t ON t.level = l.level AND t.idx = (m.s >> ({tiles.HEIGHT} * l.level)) / {tiles.WIDTH}
 WHERE (m.s >> ({tiles.HEIGHT} * l.level)) % {tiles.WIDTH} <> 0
"""

# The schema, statement by statement (`create_schema` runs them in one transaction).
DDL = (
    f"CREATE SCHEMA {SCHEMA}",
    f"""CREATE TABLE {EVENTS} (
    seq bigint PRIMARY KEY,
    event_id text NOT NULL,
    recorded_at text NOT NULL,
    actor text NOT NULL,
    type text NOT NULL,
    year integer,
    unit_id text,
    indicator text,
    key text,
    body bytea NOT NULL,
    hash text NOT NULL
)""",
    f"CREATE UNIQUE INDEX events_event_id ON {EVENTS} (event_id)",
    f"CREATE UNIQUE INDEX events_key ON {EVENTS} (key)",
    f"CREATE INDEX events_year_unit_id_indicator ON {EVENTS} (year, unit_id, indicator)",
    f"CREATE FUNCTION {SCHEMA}.events_refuse_change() RETURNS trigger LANGUAGE plpgsql "
    f"AS $${_REFUSE}$$",
    f"""CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON {EVENTS}
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.events_refuse_change()""",
    f"""CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {EVENTS}
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.events_refuse_change()""",
    f"""CREATE TABLE {FRONTIER} (
    id integer PRIMARY KEY CHECK (id = 1),
    size bigint NOT NULL,
    stack text NOT NULL
)""",
    f"""CREATE TABLE {PUBLISHED} (
    seq bigint PRIMARY KEY,
    ranking bytea NOT NULL
)""",
    *TILES_DDL,
)

# What the catalog says of that schema, as `_catalog` lists it: any other object, or any of
# these defined otherwise, is a difference that `check_storage` (and `verify`) reports.
_EXPECTED = {
    "table events": "r",
    "table merkle_frontier": "r",
    "table published_results": "r",
    "column events": "seq bigint not null, event_id text not null, recorded_at text not null, "
                     "actor text not null, type text not null, year integer, unit_id text, "
                     "indicator text, key text, body bytea not null, hash text not null",
    "column merkle_frontier": "id integer not null, size bigint not null, stack text not null",
    "column published_results": "seq bigint not null, ranking bytea not null",
    "constraint events_pkey": "PRIMARY KEY (seq)",
    "constraint merkle_frontier_pkey": "PRIMARY KEY (id)",
    "constraint merkle_frontier_id_check": "CHECK ((id = 1))",
    "constraint published_results_pkey": "PRIMARY KEY (seq)",
    "index events_pkey": f"CREATE UNIQUE INDEX events_pkey ON {EVENTS} USING btree (seq)",
    "index events_event_id": f"CREATE UNIQUE INDEX events_event_id ON {EVENTS} USING btree (event_id)",
    "index events_key": f"CREATE UNIQUE INDEX events_key ON {EVENTS} USING btree (key)",
    "index events_year_unit_id_indicator": (
        f"CREATE INDEX events_year_unit_id_indicator ON {EVENTS} USING btree (year, unit_id, indicator)"),
    "index merkle_frontier_pkey": (
        f"CREATE UNIQUE INDEX merkle_frontier_pkey ON {FRONTIER} USING btree (id)"),
    "index published_results_pkey": (
        f"CREATE UNIQUE INDEX published_results_pkey ON {PUBLISHED} USING btree (seq)"),
    "trigger events_no_change": (
        f"CREATE TRIGGER events_no_change BEFORE DELETE OR UPDATE ON {EVENTS} FOR EACH ROW "
        f"EXECUTE FUNCTION {SCHEMA}.events_refuse_change()"),
    "trigger events_no_truncate": (
        f"CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {EVENTS} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {SCHEMA}.events_refuse_change()"),
    "trigger events_no_change enabled": "O",
    "trigger events_no_truncate enabled": "O",
    "function events_refuse_change": f"trigger plpgsql\n{_REFUSE}",
}
# The tiles' part of it: a log made before them has none of it (its next writable open adds
# them, `_add_tiles`); whatever of it is there must be exactly this.
_EXPECTED_TILES = {
    "table merkle_tiles": "r",
    "column merkle_tiles": "level integer not null, idx bigint not null, hashes bytea not null",
    "constraint merkle_tiles_pkey": "PRIMARY KEY (level, idx)",
    "constraint merkle_tiles_shape": (
        f"CHECK (((level >= 0) AND (idx >= 0) AND ((length(hashes) >= {merkle.HASH_SIZE}) AND "
        f"(length(hashes) <= {tiles.WIDTH * merkle.HASH_SIZE})) AND "
        f"((length(hashes) % {merkle.HASH_SIZE}) = 0)))"),
    "index merkle_tiles_pkey": (
        f"CREATE UNIQUE INDEX merkle_tiles_pkey ON {TILES} USING btree (level, idx)"),
    "trigger merkle_tiles_only_grow": (
        f"CREATE TRIGGER merkle_tiles_only_grow BEFORE DELETE OR UPDATE ON {TILES} FOR EACH ROW "
        f"EXECUTE FUNCTION {SCHEMA}.merkle_tiles_refuse_change()"),
    "trigger merkle_tiles_no_truncate": (
        f"CREATE TRIGGER merkle_tiles_no_truncate BEFORE TRUNCATE ON {TILES} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {SCHEMA}.merkle_tiles_refuse_change()"),
    "trigger merkle_tiles_only_grow enabled": "O",
    "trigger merkle_tiles_no_truncate enabled": "O",
    "function merkle_tiles_refuse_change": f"trigger plpgsql\n{_TILES_REFUSE}",
}
_EXPECTED.update(_EXPECTED_TILES)

# Every object of the schema and every object attached to its tables, one (name, definition)
# each.  Triggers, rules and policies are listed whatever schema their function lives in: they
# act on the log's rows.
_CATALOG = """
SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'i' THEN 'index ' WHEN 'v' THEN 'view '
            WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
            WHEN 'p' THEN 'table ' ELSE 'relation ' END || c.relname,
       CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid)
            WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid)
            ELSE c.relkind::text END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind NOT IN ('t', 'c')
UNION ALL
SELECT 'column ' || c.relname,
       string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                  || CASE WHEN a.atthasdef THEN ' default ' || pg_get_expr(d.adbin, d.adrelid)
                          ELSE '' END, ', ' ORDER BY a.attnum)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm')
 GROUP BY c.relname
UNION ALL
SELECT 'constraint ' || con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
 WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND NOT t.tgisinternal
UNION ALL
SELECT 'trigger ' || t.tgname || ' enabled', t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND NOT t.tgisinternal
UNION ALL
SELECT 'rule ' || r.rulename, pg_get_ruledef(r.oid)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind <> 'v'
UNION ALL
SELECT 'policy ' || pol.polname || ' on ' || c.relname, pg_get_expr(pol.polqual, pol.polrelid)
  FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'row level security on ' || c.relname, 'enabled'
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relrowsecurity
UNION ALL
SELECT 'function ' || p.proname,
       format_type(p.prorettype, NULL) || ' ' || l.lanname || E'\n' || p.prosrc
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'type ' || t.typname, t.typtype::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = %(schema)s AND t.typtype NOT IN ('c') AND t.typelem = 0
   AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
"""


def _require_psycopg() -> None:
    if psycopg is None:
        raise LogOpenError("a postgresql:// log needs the PostgreSQL driver: "
                           "pip install 'ictindex[postgres]'")


def _push(stack: list[tuple[int, bytes]], leaf: bytes) -> None:
    """Append a leaf hash to a compact range (one (height, hash) per set bit of its size)."""
    height = 0
    while stack and stack[-1][0] == height:
        leaf = hash_children(stack.pop()[1], leaf)
        height += 1
    stack.append((height, leaf))


def _root(stack: list[tuple[int, bytes]]) -> Checkpoint:
    acc = RootAccumulator()
    for height, h in stack:
        acc.append_subtree(height, h)
    return Checkpoint(acc.size, acc.root().hex())


class _Frontier(msgspec.Struct, frozen=True):
    size: int
    stack: list[tuple[int, str]]


def _redact(url: str) -> str:
    """The URL without its password (in the user part or a `password=` parameter), to name
    the log in messages."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1…", url)


class PostgresEventLog:
    """The event log in a PostgreSQL database (see the module docstring).

    `clock` and `new_event_id` mean what they mean for `events.store.EventStore`."""

    path: str | None = None  # no file: `verify` checks the log in one process

    def __init__(self, url: str, *, clock: Callable[[], dt.datetime] = utc_now,
                 new_event_id: Callable[[], str] = new_event_id, read_only: bool = False,
                 check_schema: bool = True) -> None:
        _require_psycopg()
        self.url = url
        self.read_only = read_only
        self.clock = clock
        self.new_event_id = new_event_id
        self._conn = self._connect()
        self._key_questions = 0
        self._keys: bytearray | None = None
        self._keys_seq = 0
        self._keys_stale = False
        self._keys_unavailable = False
        self._writing_from: int | None = None  # the first seq of the batch being written
        try:
            present = self._conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
            if not present:
                if read_only:
                    raise LogOpenError(f"{_redact(url)} holds no log yet (no schema {SCHEMA}): a "
                                       "command that only reads does not create one")
                self.create_schema()
            elif not read_only:
                self._add_tiles()
            self._with_tiles = self._tiles_present()  # see `_add_tiles`
            if check_schema or not read_only:
                problems = self._schema_problems()
                if problems:
                    raise LogOpenError(
                        f"{_redact(url)}: the schema {SCHEMA} is not a log's, someone changed it: "
                        + "; ".join(problems) + " (nothing was changed; see `ictindex verify`)")
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> "psycopg.Connection":
        options = "-c default_transaction_read_only=on" if self.read_only else None
        try:
            kwargs: dict[str, Any] = {"autocommit": True}
            if options:
                kwargs["options"] = options
            return psycopg.connect(self.url, **kwargs)
        except psycopg.Error as e:
            raise LogOpenError(f"cannot connect to {_redact(self.url)}: {_first_line(e)}") from None

    @property
    def name(self) -> str:
        """The database's name (what pages and exports show of where the log is)."""
        try:
            return psycopg.conninfo.conninfo_to_dict(self.url).get("dbname") or "ictindex"
        except psycopg.Error:
            return "ictindex"

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "PostgresEventLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the schema and its roles ------------------------------------------------------------

    def create_schema(self) -> None:
        """Create the log's schema (under the append lock: two writers may open a new database
        at once)."""
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            if self._conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                                  (SCHEMA,)).fetchone():
                return
            for statement in DDL:
                self._conn.execute(statement)

    def _add_tiles(self) -> None:
        """Create the tiles' table in a log made before it (the next append fills it from the
        leaf hashes, once).  A role that may not create it (a writer role) leaves it to the
        owner: until then appends write no tiles and proofs count the leaves."""
        if self._tiles_present():
            return
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
                if not self._tiles_present():
                    for statement in TILES_DDL:
                        self._conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            pass

    def _tiles_present(self) -> bool:
        return self._conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TILES,)).fetchone()[0]

    def create_writer_role(self, role: str) -> bool:
        """Give `role` (created, without a password, if it does not exist: True then) what
        recording needs and nothing more: SELECT and INSERT on the events, UPDATE, DELETE and
        TRUNCATE revoked; the derived tables it may rewrite."""
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be changed")
        name = _sql.Identifier(role)
        with self._conn.transaction():
            created = not self._conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                             (role,)).fetchone()
            if created:
                self._conn.execute(_sql.SQL("CREATE ROLE {} LOGIN").format(name))
            for statement in (
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                "REVOKE ALL ON {events} FROM {role}",
                "GRANT SELECT, INSERT ON {events} TO {role}",
                "GRANT SELECT, INSERT, UPDATE ON {frontier}, {published} TO {role}",
                "REVOKE DELETE, TRUNCATE ON {frontier}, {published} FROM {role}",
                # an UPDATE of a tile is the upsert lengthening a partial one (the trigger
                # refuses any other)
                "GRANT SELECT, INSERT, UPDATE ON {tiles} TO {role}",
                "REVOKE DELETE, TRUNCATE ON {tiles} FROM {role}",
            ):
                self._conn.execute(_sql.SQL(statement).format(
                    schema=_sql.Identifier(SCHEMA), role=name,
                    events=_sql.Identifier(SCHEMA, "events"),
                    frontier=_sql.Identifier(SCHEMA, "merkle_frontier"),
                    published=_sql.Identifier(SCHEMA, "published_results"),
                    tiles=_sql.Identifier(SCHEMA, tiles.TABLE)))
        return created

    def _schema_problems(self) -> list[str]:
        found = dict(self._conn.execute(_CATALOG, {"schema": SCHEMA}).fetchall())
        out = []
        required = _EXPECTED.keys()
        if "table merkle_tiles" not in found:  # a log made before them: see `_add_tiles`
            required = required - _EXPECTED_TILES.keys()
        for name in sorted(required - found.keys()):
            out.append(f"{name} is missing")
        for name in sorted(found.keys() - _EXPECTED.keys()):
            out.append(f"{name} is not part of a log: {_one_line(found[name])}")
        for name in sorted(found.keys() & _EXPECTED.keys()):
            if found[name] != _EXPECTED[name]:
                out.append(f"{name} is not the expected one: {_one_line(found[name])}")
        return out

    def check_storage(self) -> list[str]:
        """The schema's differences from the store's (see `_EXPECTED`), one line each, and
        whether every index holds exactly the table's rows (a row read through an index and
        the full scan of `stored_rows` must be the same events)."""
        problems = [f"schema: {p}" for p in self._schema_problems()]
        if any(p.startswith("schema: table events is missing") for p in problems):
            return problems
        with self._conn.transaction():  # one snapshot: writers may be appending meanwhile
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self._conn.execute("SET LOCAL enable_indexscan = off")
            self._conn.execute("SET LOCAL enable_bitmapscan = off")
            self._conn.execute("SET LOCAL enable_indexonlyscan = off")
            scanned = self._conn.execute(
                f"SELECT count(*), count(key), coalesce(sum(hashtext(event_id)::bigint), 0) "
                f"FROM {EVENTS}").fetchone()
            self._conn.execute("SET LOCAL enable_indexscan = on")
            self._conn.execute("SET LOCAL enable_bitmapscan = on")
            self._conn.execute("SET LOCAL enable_indexonlyscan = on")
            self._conn.execute("SET LOCAL enable_seqscan = off")
            by_id = self._conn.execute(
                f"SELECT count(*), coalesce(sum(hashtext(event_id)::bigint), 0) FROM {EVENTS} "
                "WHERE event_id IS NOT NULL").fetchone()
            by_key = self._conn.execute(f"SELECT count(*) FROM {EVENTS} WHERE key IS NOT NULL"
                                        ).fetchone()[0]
        if (scanned[0], scanned[2]) != tuple(by_id):
            problems.append("storage: the index on event_id does not hold exactly the table's rows")
        if scanned[1] != by_key:
            problems.append("storage: the index on key does not hold exactly the table's rows")
        return problems

    # -- writing -----------------------------------------------------------------------------

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

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise LogOpenError("the log is open read-only: nothing can be recorded")

    def _write(self, payloads: Iterable[Payload], keys: Iterable[str | None] | None, actor: str,
               expected_last_seq: int | None, out: list[Event] | None) -> AppendResult:
        if not isinstance(actor, str) or not actor.strip():
            raise BadArgument("actor must be a non-empty string")
        items: Iterator[tuple[Payload, str | None]] = iter(
            ((p, None) for p in payloads) if keys is None else zip(payloads, keys, strict=True))
        self._refuse_if_read_only()
        written = hashlib.sha256()
        # The first chunk is read before the transaction, so that its keys are looked up in
        # the same round trip as the lock (`_lock_head`): a writer holds the lock for as few
        # round trips as can be.
        first = list(islice(items, CHUNK))
        conn = self._conn
        try:
            result = self._write_locked(first, items, actor, expected_last_seq, out, written)
        except BaseException as e:
            self._rollback()
            if out is not None:
                out.clear()
            if isinstance(e, psycopg.errors.UniqueViolation):
                raise ValueError(f"an event id or idempotency key is already in the log "
                                 f"({_first_line(e)}): nothing was recorded") from None
            raise
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise LogIntegrityError("the append's transaction did not end")
        if result.appended:
            self._confirm(result, written)
        return result

    def _rollback(self) -> None:
        conn = self._conn
        if conn.closed or conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            return
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()  # a broken connection: the server rolls back when it goes

    def _lock_head(self, keys: list[str]) -> tuple[tuple[int, str, str | None],
                                                   list[tuple[int, bytes]],
                                                   dict[str, tuple[int, bytes]],
                                                   tiles.Writer | None]:
        """BEGIN, take the append lock (until the transaction ends), then read the log's last
        event, its Merkle frontier, the tiles at its end and the events holding `keys`.  One
        round trip (a pipeline): the server runs the reads after the lock is granted, each
        statement with a snapshot of its own, so they see every batch committed before."""
        conn = self._conn
        with_tiles = self._with_tiles
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            last_cur = conn.execute(f"SELECT seq, hash, recorded_at FROM {EVENTS} "
                                    "ORDER BY seq DESC LIMIT 1")
            frontier_cur = conn.execute(f"SELECT size, stack FROM {FRONTIER} WHERE id = 1")
            edge_cur = conn.execute(_TILE_EDGE) if with_tiles else None
            keys_cur = conn.execute(_KEYS_SQL, (keys,)) if keys else None
        last = last_cur.fetchone() or (0, GENESIS_PREV_HASH, None)
        existing = {k: (s, b) for k, s, b in keys_cur} if keys_cur is not None else {}
        writer = self._tile_writer(last[0], edge_cur.fetchall()) if edge_cur is not None else None
        return last, self._frontier_at(last[0], frontier_cur.fetchone()), existing, writer

    def _tile_writer(self, size: int, edge: list[tuple]) -> tiles.Writer:
        """A `tiles.Writer` continuing the stored tiles of a `size`-leaf tree (`_TILE_EDGE`'s
        rows); where they do not stand exactly there (a log made before them), one rebuilt
        from the leaf hashes, whose tiles `_PUT_TILE` adds to those stored."""
        end = next((idx * tiles.WIDTH + n // merkle.HASH_SIZE
                    for level, idx, n, _ in edge if level < 0), 0)
        partial = {(level, idx): bytes(blob) for level, idx, _, blob in edge if level >= 0}
        pending: list[list[bytes]] = []
        level = 0
        while end == size and (count := size >> (tiles.HEIGHT * level)) > 0:
            width = count % tiles.WIDTH
            blob = partial.get((level, count // tiles.WIDTH), b"") if width else b""
            if len(blob) != width * merkle.HASH_SIZE:
                end = -1
            pending.append(tiles.split(blob))
            level += 1
        if end == size:
            return tiles.Writer(size, pending)
        writer = tiles.Writer(0, [])
        writer.extend([bytes.fromhex(h) for (h,) in self._conn.execute(
            f"SELECT hash FROM {EVENTS} WHERE seq <= %s ORDER BY seq", (size,))])
        return writer

    def _write_locked(self, first: list[tuple[Payload, str | None]],
                      items: Iterator[tuple[Payload, str | None]], actor: str,
                      expected_last_seq: int | None, out: list[Event] | None,
                      written: "hashlib._Hash") -> AppendResult:
        (seq, prev, last_time), stack, existing, writer = self._lock_head(_checked_keys(first))
        if expected_last_seq is not None and expected_last_seq != seq:
            raise ConcurrencyError(expected_last_seq, seq)
        self._writing_from = seq + 1
        try:
            return self._write_chunks(first, items, actor, (seq, prev, last_time), stack,
                                      existing, out, written, writer)
        finally:
            self._writing_from = None

    def _write_chunks(self, first: list[tuple[Payload, str | None]],
                      items: Iterator[tuple[Payload, str | None]], actor: str,
                      head: tuple[int, str, str | None], stack: list[tuple[int, bytes]],
                      existing: dict[str, tuple[int, bytes]], out: list[Event] | None,
                      written: "hashlib._Hash", writer: tiles.Writer | None) -> AppendResult:
        conn = self._conn
        seq, prev, last_time = head
        now = self.clock()
        now_key = time_key(now)  # refuses naive datetimes
        now = now.astimezone(dt.timezone.utc)
        if last_time is not None and now_key < last_time:
            now_key, now = last_time, parse_time_key(last_time)
        first_seq = seq + 1
        appended = skipped = 0
        seen: dict[str, Payload] = {}
        encode = msgspec.json.Encoder(order="sorted", decimal_format="string").encode
        new_id = self.new_event_id
        chunk = first
        while chunk:
            if chunk is not first:
                chunk_keys = _checked_keys(chunk)
                existing = ({k: (s, b) for k, s, b in conn.execute(_KEYS_SQL, (chunk_keys,))}
                            if chunk_keys else {})
            rows = []
            for payload, key in chunk:
                if key is not None:
                    earlier = existing.get(key)
                    if earlier is not None or key in seen:
                        same_payload(key, payload, earlier, seen, encode)
                        skipped += 1
                        continue
                    seen[key] = payload
                seq += 1
                row, event = new_row(payload, key, seq, prev, now, now_key, actor, new_id, encode)
                prev = row[10]
                written.update(prev.encode())
                rows.append(row)
                if out is not None:
                    out.append(event)
            self._copy(rows, stack, writer)
            appended += len(rows)
            chunk = list(islice(items, CHUNK))
        with conn.pipeline():
            if appended:
                self._store_frontier(stack, writer)
                conn.execute(f"NOTIFY {_CHANNEL}")  # sent at COMMIT: key caches refresh
            conn.execute("COMMIT")
        return AppendResult(first_seq if appended else None, seq, appended, skipped)

    def _copy(self, rows: list[tuple], stack: list[tuple[int, bytes]] | None,
              writer: tiles.Writer | None = None) -> None:
        """COPY the rows in (binary: the fastest way in) and advance the frontier and the tiles
        over them."""
        if not rows:
            return
        with self._conn.cursor() as cur:
            with cur.copy(f"COPY {EVENTS} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
                          ) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        if stack is not None:
            fromhex = bytes.fromhex
            leaves = [fromhex(row[10]) for row in rows]
            for leaf in leaves:
                _push(stack, leaf)
            if writer is not None:
                writer.extend(leaves)

    def _frontier_at(self, size: int, row: tuple | None) -> list[tuple[int, bytes]]:
        """The stored compact range `row` if it stands at `size`, else rebuilt from the leaf
        hashes."""
        if row is not None and row[0] == size:
            try:
                stored = msgspec.json.decode(row[1], type=_Frontier)
                stack = [(h, bytes.fromhex(x)) for h, x in stored.stack]
                if stored.size == size and sum(1 << h for h, _ in stack) == size:
                    return stack
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
                pass
        stack: list[tuple[int, bytes]] = []
        for (h,) in self._conn.execute(f"SELECT hash FROM {EVENTS} WHERE seq <= %s ORDER BY seq",
                                       (size,)):
            _push(stack, bytes.fromhex(h))
        return stack

    def _store_frontier(self, stack: list[tuple[int, bytes]],
                        writer: tiles.Writer | None = None) -> None:
        """Store the frontier and the tiles completed or lengthened (in the append's
        transaction: the frontier's size is then the size the tiles were last written for,
        which `_tiles` checks)."""
        size = sum(1 << h for h, _ in stack)
        text = msgspec.json.encode(_Frontier(size, [(h, x.hex()) for h, x in stack])).decode()
        self._conn.execute(
            f"INSERT INTO {FRONTIER} (id, size, stack) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size, stack = EXCLUDED.stack",
            (size, text))
        if writer is not None:
            with self._conn.cursor() as cur:
                cur.executemany(_PUT_TILE, writer.take())

    def _confirm(self, result: AppendResult, written: "hashlib._Hash") -> None:
        """The seqs just committed are in the database with the hashes written: nothing (a
        trigger or rule planted by whoever owns the schema) removed or replaced them."""
        back = hashlib.sha256()
        n = 0
        for (h,) in self._conn.execute(
                f"SELECT hash FROM {EVENTS} WHERE seq BETWEEN %s AND %s ORDER BY seq",
                (result.first_seq, result.last_seq)):
            back.update(h.encode() if isinstance(h, str) else b"?")
            n += 1
        if n != result.appended or back.digest() != written.digest():
            raise LogIntegrityError(
                f"events #{result.first_seq}..#{result.last_seq} were committed but the database "
                f"does not hold them as written ({n} of {result.appended} found): it was "
                "tampered with; run `ictindex verify`")

    def append_stored(self, bodies: Iterable[bytes], *, expected_last_seq: int) -> AppendResult:
        """Append events exactly as another store recorded them (`ictindex copy`): each body
        stored verbatim, checked to continue this log (seq, prev_hash), all or nothing;
        a mismatch is a `LogIntegrityError` naming the seq."""
        self._refuse_if_read_only()
        written = hashlib.sha256()
        try:
            result = self._append_stored_locked(iter(bodies), expected_last_seq, written)
        except BaseException:
            self._rollback()
            raise
        if result.appended:
            self._confirm(result, written)
        return result

    def _append_stored_locked(self, items: Iterator[bytes], expected_last_seq: int,
                              written: "hashlib._Hash") -> AppendResult:
        (seq, prev, last_time), stack, _, writer = self._lock_head([])
        if expected_last_seq != seq:
            raise ConcurrencyError(expected_last_seq, seq)
        first_seq = seq + 1
        appended = 0
        while chunk := list(islice(items, CHUNK)):
            rows = []
            checked: list[StoredRow] = []
            for body in chunk:
                seq += 1
                # the same checks, and the same refusals, as every other store (events.stored)
                row, _event = stored_row(body, seq, prev, last_time)
                checked.append(row)
                prev, last_time = row.hash, row.recorded_at
                written.update(prev.encode())
                rows.append(tuple(row))
            # earlier chunks of this call are in the table already: one query per column finds
            # every event id or key taken before, and the chunk is checked against itself
            for column, what in (("event_id", "event id"), ("key", "key")):
                values = [getattr(r, column) for r in checked if getattr(r, column) is not None]
                taken = {v for (v,) in self._conn.execute(
                    f"SELECT {column} FROM {EVENTS} WHERE {column} = ANY(%s)", (values,))}
                for r in checked:
                    value = getattr(r, column)
                    if value is not None and value in taken:
                        raise duplicate(r, what)
                    taken.add(value)
            try:
                with self._conn.transaction():  # a savepoint: the error below names the row
                    self._copy(rows, stack, writer)
            except psycopg.errors.UniqueViolation as e:
                raise LogIntegrityError(
                    f"events #{rows[0][0]}..#{rows[-1][0]}: an event id or idempotency key "
                    f"is there twice ({_first_line(e)}): nothing was copied") from None
            appended += len(rows)
        with self._conn.pipeline():
            if appended:
                self._store_frontier(stack, writer)
                self._conn.execute(f"NOTIFY {_CHANNEL}")
            self._conn.execute("COMMIT")
        return AppendResult(first_seq if appended else None, seq, appended, 0)

    # -- reading -----------------------------------------------------------------------------

    def _stream(self, query: str, params: Any = None) -> Iterator[tuple]:
        """The rows of `query` through a server-side cursor on a connection of its own: one
        snapshot, `_FETCH` rows per round trip, and the caller may query the store meanwhile."""
        conn = self._connect()
        try:
            with conn.transaction():
                with conn.cursor(name="ictindex_stream", binary=True) as cur:
                    cur.itersize = _FETCH
                    cur.execute(query, params)
                    yield from cur
        finally:
            conn.close()

    def last_seq(self) -> int:
        return self._conn.execute(f"SELECT coalesce(max(seq), 0) FROM {EVENTS}").fetchone()[0]

    def read(self, start: int = 1, stop: int | None = None, *, year: int | None = None,
             unit_id: str | None = None, indicator: str | None = None,
             as_of_seq: int | None = None, as_of_time: dt.datetime | None = None
             ) -> Iterator[Event]:
        where, params = read_filter("%s", start, stop, year=year, unit_id=unit_id,
                                    indicator=indicator, as_of_seq=as_of_seq,
                                    as_of_time=as_of_time)
        query = f"SELECT body FROM {EVENTS} WHERE {where} ORDER BY seq"
        return (decode_event(body) for (body,) in self._stream(query, params))

    def read_years(self, years: Iterable[int], *, as_of_seq: int | None = None,
                   as_of_time: dt.datetime | None = None, lean: bool = False) -> Iterator[Event]:
        where, params = ["(year IS NULL OR year = ANY(%s))"], [sorted(set(years))]
        if as_of_seq is not None:
            where.append("seq <= %s")
            params.append(as_of_seq)
        if as_of_time is not None:
            where.append("recorded_at <= %s")
            params.append(time_key(as_of_time))
        query = f"SELECT body FROM {EVENTS} WHERE {' AND '.join(where)} ORDER BY seq"
        bodies = (body for (body,) in self._stream(query, params))
        return _lean(bodies) if lean else map(decode_event, bodies)

    def last_seq_as_of(self, as_of_seq: int | None = None,
                       as_of_time: dt.datetime | None = None) -> int:
        last = self.last_seq()
        if as_of_seq is not None:
            last = min(last, max(as_of_seq, 0))
        if as_of_time is not None:
            row = self._conn.execute(
                f"SELECT max(seq) FROM {EVENTS} WHERE recorded_at <= %s AND seq <= %s",
                (time_key(as_of_time), last)).fetchone()
            last = row[0] or 0
        return last

    def years(self) -> list[int]:
        return [y for (y,) in self._conn.execute(
            f"SELECT DISTINCT year FROM {EVENTS} WHERE year IS NOT NULL ORDER BY year")]

    def get(self, ref: int | str) -> Event:
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise TypeError(f"an event is named by its seq (int) or event id (str), not {ref!r}")
        column = "seq" if isinstance(ref, int) else "event_id"
        if column == "seq" and not -2**63 <= ref < 2**63:
            raise EventNotFound(f"no event with seq {ref}")
        row = self._conn.execute(f"SELECT body FROM {EVENTS} WHERE {column} = %s",
                                 (ref,)).fetchone()
        if row is None:
            raise EventNotFound(f"no event with {column} {ref}")
        return decode_event(row[0])

    def events_by_seq(self, seqs: Iterable[int]) -> dict[int, Event]:
        wanted = sorted({s for s in seqs if type(s) is int and -2**63 <= s < 2**63})
        if not wanted:
            return {}
        out: dict[int, Event] = {}
        for (body,) in self._conn.execute(f"SELECT body FROM {EVENTS} WHERE seq = ANY(%s)",
                                          (wanted,)):
            e = decode_event(body)
            out[e.seq] = e
        return out

    def has_key(self, key: str) -> bool:
        """Whether the key is in the log.  A file's import asks once per row: after
        `_KEY_CACHE_AFTER` questions the store keeps the hashes of every key in the log (kept
        current through LISTEN/NOTIFY, which every append sends at commit), so that a key
        that is not there costs no round trip; a hash that is there is confirmed by a query.
        Whatever this says, the append itself checks every key under the append lock."""
        bits = self._key_bits()
        if bits is not None:
            h = hash(key) & _KEY_BITS_MASK
            if not bits[h >> 3] & (1 << (h & 7)):
                return False
        return self._conn.execute(f"SELECT 1 FROM {EVENTS} WHERE key = %s", (key,)
                                  ).fetchone() is not None

    def _key_bits(self) -> bytearray | None:
        """A bit per hash of every key in the log (a one-hash Bloom filter of fixed size, so
        that a national log's millions of keys take 16 MiB), brought up to date with the
        appends notified since the last call; None while the store has been asked too few
        times to keep it, or where the server cannot LISTEN (a hot standby)."""
        self._key_questions += 1
        if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            # Inside an append (a streamed import asks while its batch is written): the rows
            # before the batch are committed (the append holds the lock), the batch's may yet
            # be rolled back and must not enter the filter.
            if self._keys is None or self._writing_from is None:
                return None
            if self._keys_seq < self._writing_from - 1:
                self._refresh_keys(self._writing_from - 1)
            return self._keys
        if self._keys is None:
            if self._key_questions <= _KEY_CACHE_AFTER or self._keys_unavailable:
                return None
            try:
                self._conn.add_notify_handler(self._on_notify)
                self._conn.execute(f"LISTEN {_CHANNEL}")
            except psycopg.Error:
                self._keys_unavailable = True
                return None
            self._keys, self._keys_seq, self._keys_stale = bytearray(_KEY_BITS // 8), 0, True
        pg = self._conn.pgconn
        pg.consume_input()  # notifications that came while the connection was idle
        while pg.notifies() is not None:
            self._keys_stale = True
        if self._keys_stale:
            self._keys_stale = False
            self._refresh_keys(None)
        return self._keys

    def _refresh_keys(self, upto: int | None) -> None:
        """Add the keys of the events after `_keys_seq`, up to seq `upto` (None: the last)."""
        last = self._keys_seq
        # one statement, one snapshot: the last seq and the keys up to it
        for last, k in self._conn.execute(
                f"WITH m AS (SELECT coalesce(%s, max(seq), 0) AS s FROM {EVENTS}) "
                f"SELECT m.s, e.key FROM m LEFT JOIN {EVENTS} e ON e.seq > %s "
                "AND e.seq <= m.s AND e.key IS NOT NULL", (upto, self._keys_seq)):
            if k is not None:
                h = hash(k) & _KEY_BITS_MASK
                self._keys[h >> 3] |= 1 << (h & 7)
        self._keys_seq = last

    def _on_notify(self, notify: Any) -> None:
        self._keys_stale = True

    def stored_rows(self, start: int | None = None) -> Iterator[StoredRow]:
        if start is None:
            rows = self._stream(f"{_SELECT_ROWS} ORDER BY seq")
        else:
            rows = self._stream(f"{_SELECT_ROWS} WHERE seq >= %s ORDER BY seq", (start,))
        return (StoredRow._make(r) for r in rows)

    def leaf_hashes(self, stop: int | None = None) -> list[bytes]:
        if stop is None:
            rows = self._conn.execute(f"SELECT seq, hash FROM {EVENTS} ORDER BY seq").fetchall()
        else:
            rows = self._conn.execute(f"SELECT seq, hash FROM {EVENTS} WHERE seq <= %s "
                                      "ORDER BY seq", (stop,)).fetchall()
        return numbered_leaves(rows)

    # -- checkpoints and proofs --------------------------------------------------------------

    def _leaves(self, size: int | None) -> list[bytes]:
        leaves = self.leaf_hashes(size)
        if size is not None and (size < 0 or len(leaves) != size):
            raise ValueError(f"the log has {self.last_seq()} events, not {size}")
        return leaves

    def _tiles(self, size: int | None) -> "_TileReader | None":
        """The stored tiles of the first `size` events, for proofs in O(log n), when they stand
        exactly at the log's end and its rows are numbered 1..N; otherwise None, and the proof
        is computed from every leaf, with `leaf_hashes`' refusals.  Call inside a REPEATABLE
        READ transaction: the checks and the tiles read are one snapshot.

        "Numbered 1..N" without counting the rows: min(seq) = 1 and max(seq) = N (two probes of
        the primary key), N the size the last append recorded (the frontier, written in its
        transaction) and the end of the tiles (one probe).  So a proof refuses a log whose
        first row is gone, whose last row was deleted, or a row renumbered past the end, as
        from the leaves.  What it cannot see without reading every row is a row deleted or
        rewritten in the middle by someone who bypassed the triggers (a superuser:
        `session_replication_role = replica`, or the owner dropping them): the proof is then
        that of the log as appended, an inclusion proof of the missing or rewritten row is
        refused (its hash is not the tile's), and `verify` names the row.  A proof from a
        tampered tile cannot mislead: it fails against the published root it is checked with,
        and `verify` names the tile (`tile_problems`)."""
        if not self._tiles_present():
            return None
        lo, hi, recorded, end = self._conn.execute(
            f"SELECT (SELECT min(seq) FROM {EVENTS}), (SELECT max(seq) FROM {EVENTS}), "
            f"(SELECT size FROM {FRONTIER} WHERE id = 1), "
            f"(SELECT idx * {tiles.WIDTH} + length(hashes) / {merkle.HASH_SIZE} FROM {TILES} "
            "WHERE level = 0 ORDER BY idx DESC LIMIT 1)").fetchone()
        last = hi or 0
        if not last or lo != 1 or recorded != last or end != last:
            return None
        if size is None:
            size = last
        if not 0 <= size <= last:
            raise ValueError(f"the log has {last} events, not {size}")
        return _TileReader(self._conn, size)

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One REPEATABLE READ transaction: a proof's reads see one state of the log."""
        with self._conn.transaction():
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """From the leaves, never from a derived table, as SQLite's: what is printed and
        published as the log's checkpoint must be the log's (the tiles serve proofs, which are
        checked against such a root)."""
        return Checkpoint.of(self._leaves(size))

    def latest_checkpoint(self) -> Checkpoint:
        """From the stored frontier when it stands at the log's end (O(log n)), else from
        every leaf."""
        with self._conn.transaction():  # one snapshot for the two reads
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            stored = self.stored_frontier()
            if stored is not None and stored.size == self.last_seq():
                return stored
        return self.checkpoint()

    def stored_frontier(self) -> Checkpoint | None:
        row = self._conn.execute(f"SELECT size, stack FROM {FRONTIER} WHERE id = 1").fetchone()
        if row is None:
            return None
        try:
            stored = msgspec.json.decode(row[1], type=_Frontier)
            return _root([(h, bytes.fromhex(x)) for h, x in stored.stack])
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            return Checkpoint(row[0], "0" * 64)

    def tile_problems(self) -> list[str]:
        """How the stored tiles differ from those of the leaves, one line per tile named by its
        tlog-tiles path (`events.tiles.differences`); none stored: nothing to say."""
        if not self._tiles_present():
            return []
        stored = [(level, idx, bytes(blob)) for level, idx, blob in self._conn.execute(
            f"SELECT level, idx, hashes FROM {TILES} ORDER BY level, idx")]
        return tiles.differences(stored, self.leaf_hashes()) if stored else []

    def inclusion_proof(self, seq: int, size: int | None = None) -> InclusionProof:
        with self._snapshot():
            reader = self._tiles(size)
            if reader is not None:
                n = reader.size
                if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= n:
                    raise ValueError(f"event {seq!r} is not among the first {n} events")
                row = self._conn.execute(f"SELECT hash FROM {EVENTS} WHERE seq = %s",
                                         (seq,)).fetchone()
                try:
                    leaf = reader.node(0, seq - 1)
                    if row is not None and row[0] == leaf.hex():
                        path = merkle.inclusion_path(seq - 1, n, reader.range_root)
                        return InclusionProof(seq - 1, n, leaf.hex(), [p.hex() for p in path])
                except LookupError:  # a tile missing in the middle: the leaves say why
                    pass
            return self._inclusion_from_leaves(seq, size)

    def _inclusion_from_leaves(self, seq: int, size: int | None) -> InclusionProof:
        leaves = self._leaves(size)
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= len(leaves):
            raise ValueError(f"event {seq!r} is not among the first {len(leaves)} events")
        path = merkle.inclusion_proof(leaves, seq - 1)
        return InclusionProof(seq - 1, len(leaves), leaves[seq - 1].hex(), [p.hex() for p in path])

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        with self._snapshot():
            reader = self._tiles(new_size)
            if reader is not None:
                try:
                    path = merkle.consistency_path(old_size, reader.size, reader.range_root)
                    return ConsistencyProof(old_size, reader.size, [p.hex() for p in path])
                except LookupError:  # a tile missing in the middle: the leaves say why
                    pass
            leaves = self._leaves(new_size)
            path = merkle.consistency_proof(leaves, old_size)
            return ConsistencyProof(old_size, len(leaves), [p.hex() for p in path])

    # -- published copies --------------------------------------------------------------------

    def keep_published(self, seq: int, ranking: bytes) -> None:
        self._refuse_if_read_only()
        self._conn.execute(
            f"INSERT INTO {PUBLISHED} (seq, ranking) VALUES (%s, %s) "
            "ON CONFLICT (seq) DO UPDATE SET ranking = EXCLUDED.ranking", (seq, bytes(ranking)))

    def published_copy(self, seq: int) -> bytes | None:
        row = self._conn.execute(f"SELECT ranking FROM {PUBLISHED} WHERE seq = %s",
                                 (seq,)).fetchone()
        return None if row is None else bytes(row[0])


class _TileReader(tiles.Reader):
    """`tiles.Reader` over the tiles of the schema `ictindex` (a psycopg connection)."""

    TILE_QUERY = f"SELECT hashes FROM {TILES} WHERE level = %s AND idx = %s"


def _lean(bodies: Iterable[bytes]) -> Iterator[Any]:
    """`events.lean` decoding of the current schema's bodies in UTC, the full one otherwise
    (as the SQLite store's lean reading)."""
    from .upcast import UPCASTERS

    decode = LEAN_DECODER.decode
    current = UPCASTERS.current
    zero = dt.timedelta(0)
    for body in bodies:
        try:
            e = decode(body)
        except Exception:
            yield decode_event(body)
            continue
        if e.schema != current or e.recorded_at.utcoffset() != zero:
            yield decode_event(body)
        else:
            yield e


def _checked_keys(chunk: list[tuple[Payload, str | None]]) -> list[str]:
    keys = [k for _, k in chunk if k is not None]
    for k in keys:
        if type(k) is not str or not k:
            raise ValueError(f"an idempotency key must be a non-empty string: {k!r}")
    return keys


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _one_line(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= 200 else text[:199] + "…"


def _postgres_problem(error: BaseException) -> str | None:
    """One sentence for what the server refused that the user can act on (the transaction was
    rolled back: nothing was recorded); None for anything else."""
    if psycopg is None or not isinstance(error, psycopg.Error):
        return None
    text = _first_line(error)
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return (f"the database refused: {text} (this role may not do that; see docs/deploy.md "
                "for the roles `ictindex init --writer-role` sets up): nothing was recorded")
    if isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
        return f"the database is read-only here ({text}): nothing was recorded"
    if isinstance(error, psycopg.OperationalError):
        return f"the database connection failed: {text}; nothing was recorded"
    if isinstance(error, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                          psycopg.errors.UndefinedObject)):
        return (f"the log's schema {SCHEMA} in the database is not whole ({text}): someone "
                "changed it; nothing was recorded")
    if isinstance(error, psycopg.errors.RaiseException) and "append-only" in text:
        return f"the database refused: {text}"
    return None


register_problem_reader(_postgres_problem)
