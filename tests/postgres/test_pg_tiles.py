"""The PostgreSQL store's Merkle tiles (`ictindex.merkle_tiles`): written in every append's
transaction, append-only by trigger, checked by `verify`, and serving proofs byte-identical to
those computed from every leaf without reading the leaves."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import merkle, tiles
from events.interface import LogIntegrityError, LogOpenError
from events.postgres import PostgresEventLog
from events.testing import StepClock, counter_ids, submission
from events.verify import verify

# batches crossing a tile's end, filling one exactly, and spanning several: the writer resumes
# from the partial tiles each append leaves
BATCHES = (1, 254, 1, 256, 3, 300, 512, 2)


def _db(url: str) -> str:
    return url.split("/")[3].split("?")[0]


def _open(url: str, **kw) -> PostgresEventLog:
    return PostgresEventLog(url, clock=StepClock(), new_event_id=counter_ids(), **kw)


def _fill(store: PostgresEventLog, batches=BATCHES) -> None:
    i = store.last_seq()
    for n in batches:
        store.append([submission(j) for j in range(i, i + n)], actor="a")
        i += n
        assert store.tile_problems() == []  # the tiles are exactly the leaves' after each


def _no_leaves(store: PostgresEventLog, monkeypatch) -> None:
    """Make reading every leaf fail: a proof that still comes is served from the tiles."""
    def refuse(stop=None):
        raise AssertionError("the proof read every leaf")

    monkeypatch.setattr(store, "leaf_hashes", refuse)


def test_proofs_from_the_tiles_are_those_of_the_leaves(pg_url, monkeypatch):
    with _open(pg_url) as store:
        _fill(store)
        leaves = store.leaf_hashes()
        n = len(leaves)
        assert n == sum(BATCHES)
        _no_leaves(store, monkeypatch)

        @settings(max_examples=60, deadline=None)
        @given(st.data())
        def check(data):
            size = data.draw(st.integers(1, n))
            index = data.draw(st.integers(0, size - 1))
            old = data.draw(st.integers(0, size))
            head = leaves[:size]
            whole = data.draw(st.booleans()) and size == n
            p = store.inclusion_proof(index + 1, None if whole else size)
            assert (p.index, p.size, p.leaf_hash) == (index, size, head[index].hex())
            assert p.path == [h.hex() for h in merkle.inclusion_proof(head, index)]
            c = store.consistency_proof(old, None if whole else size)
            assert (c.old_size, c.new_size) == (old, size)
            assert c.path == [h.hex() for h in merkle.consistency_proof(head, old)]

        check()


def test_the_tiles_are_append_only(pg_url, pg_cluster):
    with _open(pg_url) as store:
        _fill(store, (300,))
    with pg_cluster.admin(_db(pg_url)) as conn:
        full, partial = conn.execute("SELECT hashes FROM ictindex.merkle_tiles WHERE level = 0 "
                                     "ORDER BY idx").fetchall()
        for statement in (
            "DELETE FROM ictindex.merkle_tiles WHERE level = 0 AND idx = 1",
            "TRUNCATE ictindex.merkle_tiles",
            "UPDATE ictindex.merkle_tiles SET hashes = substring(hashes FROM 33) "
            "WHERE level = 0 AND idx = 1",  # shortened
            "UPDATE ictindex.merkle_tiles SET hashes = '\\x00'::bytea || hashes "
            "WHERE level = 0 AND idx = 1",  # lengthened, but not its prefix kept
            "UPDATE ictindex.merkle_tiles SET idx = 5 WHERE level = 0 AND idx = 1",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
        # a full tile cannot grow, a partial one only into a longer tile beginning with it
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE ictindex.merkle_tiles SET hashes = hashes || hashes "
                         "WHERE level = 0 AND idx = 0")
        conn.execute("BEGIN")
        conn.execute("UPDATE ictindex.merkle_tiles SET hashes = hashes || %s "
                     "WHERE level = 0 AND idx = 1", (bytes(32),))
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT hashes FROM ictindex.merkle_tiles WHERE level = 0 "
                            "ORDER BY idx").fetchall() == [full, partial]


def test_verify_names_a_tile_a_superuser_changed(pg_url, pg_cluster, run):
    with _open(pg_url) as store:
        _fill(store, (300,))
    assert run(pg_url, "verify").exit_code == 0
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off: superuser only
        conn.execute("UPDATE ictindex.merkle_tiles SET hashes = overlay(hashes PLACING "
                     "'\\xff'::bytea FROM 1) WHERE level = 0 AND idx = 1")
    r = run(pg_url, "verify")
    assert r.exit_code != 0
    assert "merkle tile tile/0/001.p/44: its hashes are not those recomputed" in r.stdout, r.stdout
    with _open(pg_url) as store:
        assert store.tile_problems()[0].startswith("merkle tile tile/0/001.p/44")


def test_prove_refuses_rows_not_numbered_one_to_n(pg_url, pg_cluster, monkeypatch):
    with _open(pg_url) as store:
        _fill(store, (300,))
        leaves = store.leaf_hashes()
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM ictindex.events WHERE seq = 150")
    with _open(pg_url, check_schema=False, read_only=True) as store:
        # a row gone in the middle: the proof of that row is refused; the others are those of
        # the log as appended, from the tiles (verify names the row)
        with pytest.raises(LogIntegrityError, match="not numbered 1..299"):
            store.inclusion_proof(150)
        _no_leaves(store, monkeypatch)
        assert store.inclusion_proof(10).path == [
            h.hex() for h in merkle.inclusion_proof(leaves, 9)]
        assert not verify(store).ok
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM ictindex.events WHERE seq = 1")
    with _open(pg_url, check_schema=False, read_only=True) as store:
        # the first row gone: min(seq) is not 1, the proof counts the rows and refuses
        for prove in (lambda: store.inclusion_proof(10), lambda: store.consistency_proof(5)):
            with pytest.raises(LogIntegrityError, match="not numbered 1..298"):
                prove()


def test_the_last_row_deleted_is_not_proved_from_the_tiles(pg_url, pg_cluster):
    with _open(pg_url) as store:
        _fill(store, (300,))
        leaves = store.leaf_hashes()
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM ictindex.events WHERE seq = 300")
    with _open(pg_url, check_schema=False, read_only=True) as store:
        # max(seq) is not the size the last append recorded: proofs of the 299 rows there are
        p = store.inclusion_proof(10)
        assert p.size == 299 and p.path == [
            h.hex() for h in merkle.inclusion_proof(leaves[:299], 9)]


def test_a_log_made_before_the_tiles_gets_them(pg_url, pg_cluster, monkeypatch):
    with _open(pg_url) as store:
        _fill(store, (300,))
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("DROP TABLE ictindex.merkle_tiles")
        conn.execute("DROP FUNCTION ictindex.merkle_tiles_refuse_change()")
    with _open(pg_url, read_only=True) as store:  # not a schema problem; proofs count leaves
        assert store.check_storage() == [] and store.tile_problems() == []
        assert store.inclusion_proof(7).size == 300
    with PostgresEventLog(pg_url, clock=StepClock(), new_event_id=counter_ids("late")
                          ) as store:  # a writer adds the table, the next append fills it
        assert store.check_storage() == []
        _fill(store, (5,))
        leaves = store.leaf_hashes()
        _no_leaves(store, monkeypatch)
        assert store.inclusion_proof(7).path == [
            h.hex() for h in merkle.inclusion_proof(leaves, 6)]


def test_a_copy_has_the_same_tiles(pg_url, pg_second_url, monkeypatch):
    with _open(pg_url) as source, _open(pg_second_url) as copy:
        _fill(source, (260,))
        bodies = [bytes(r.body) for r in source.stored_rows()]
        copy.append_stored(bodies[:100], expected_last_seq=0)
        copy.append_stored(bodies[100:], expected_last_seq=100)
        assert copy.tile_problems() == []
        leaves = copy.leaf_hashes()
        _no_leaves(copy, monkeypatch)
        assert copy.consistency_proof(100).path == [
            h.hex() for h in merkle.consistency_proof(leaves, 100)]


PLANTS = {
    "tile trigger": ("CREATE FUNCTION public.sneaky() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RETURN NULL; END $$; CREATE TRIGGER sneaky BEFORE INSERT ON "
                     "ictindex.merkle_tiles FOR EACH ROW EXECUTE FUNCTION public.sneaky()",
                     "schema: trigger sneaky is not part of a log"),
    "disabled tile guard": ("ALTER TABLE ictindex.merkle_tiles DISABLE TRIGGER "
                            "merkle_tiles_only_grow",
                            "schema: trigger merkle_tiles_only_grow enabled is not the expected "
                            "one: D"),
    "dropped tile guard": ("DROP TRIGGER merkle_tiles_no_truncate ON ictindex.merkle_tiles",
                           "schema: trigger merkle_tiles_no_truncate is missing"),
    "replaced tile guard": ("CREATE OR REPLACE FUNCTION ictindex.merkle_tiles_refuse_change() "
                            "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                            "schema: function merkle_tiles_refuse_change is not the expected one"),
}


@pytest.mark.parametrize("plant", PLANTS, ids=list(PLANTS))
def test_the_schema_check_names_what_was_planted_on_the_tiles(plant, pg_url, pg_cluster):
    sql, line = PLANTS[plant]
    with _open(pg_url) as store:
        _fill(store, (3,))
        assert store.check_storage() == []
        with pg_cluster.admin(_db(pg_url)) as conn:
            conn.execute(sql)
        assert any(p.startswith(line) for p in store.check_storage()), store.check_storage()
    with pytest.raises(LogOpenError, match="not a log's"):
        PostgresEventLog(pg_url)


def test_each_append_continues_the_stored_tiles(pg_url, monkeypatch):
    """An append hashes only its own leaves into the tiles (it resumes from the partial tiles
    stored), never the whole log again."""
    fed = []
    extend = tiles.Writer.extend
    monkeypatch.setattr(tiles.Writer, "extend", lambda self, leaves: (
        fed.append(len(leaves)), extend(self, leaves))[1])
    with _open(pg_url) as store:
        i = 0
        for n in BATCHES:
            store.append([submission(j) for j in range(i, i + n)], actor="a")
            i += n
        assert sum(fed) == i  # each leaf once
        assert store.tile_problems() == []
