"""What the database enforces: append-only rows, the writer role's rights, a schema check that
names what was planted, and `verify` catching what a superuser changes by hand."""

from __future__ import annotations

import psycopg
import pytest

from events.interface import LogIntegrityError, LogOpenError
from events.postgres import PostgresEventLog
from events.testing import StepClock, counter_ids, submission
from events.verify import verify


def _db(url: str) -> str:
    return url.split("/")[3].split("?")[0]


@pytest.fixture
def log(pg_url):
    store = PostgresEventLog(pg_url, clock=StepClock(), new_event_id=counter_ids())
    store.append([submission(i) for i in range(5)], actor="a")
    store.append([submission(i) for i in range(5, 8)], actor="b", keys=["k5", "k6", "k7"])
    yield store
    store.close()


@pytest.mark.parametrize("statement", [
    "UPDATE ictindex.events SET actor = 'x' WHERE seq = 2",
    "DELETE FROM ictindex.events WHERE seq = 8",
    "TRUNCATE ictindex.events",
    "INSERT INTO ictindex.events SELECT * FROM ictindex.events WHERE seq = 1 "
    "ON CONFLICT (seq) DO UPDATE SET actor = 'x'",
])
def test_even_the_owner_cannot_change_a_row(log, pg_cluster, pg_url, statement):
    before = list(log.stored_rows())
    with pg_cluster.admin(_db(pg_url)) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(statement)
    assert list(log.stored_rows()) == before


def _units_csv(folder) -> str:
    path = folder / "units.csv"
    path.write_text("unit_id,tier,name,parent_id\n999,department,Sở X,\n", encoding="utf-8")
    return str(path)


def test_the_writer_role_may_only_read_and_append(log, pg_cluster, pg_url, run, tmp_path):
    r = run(pg_url, "init", "--writer-role", "clerk")
    assert r.exit_code == 0, r.output
    assert "Role clerk created" in r.stdout
    clerk = pg_cluster.url(_db(pg_url), user="clerk")
    with PostgresEventLog(clerk) as store:
        store.append([submission(20)], actor="clerk")
        assert store.last_seq() == 9 and verify(store).ok
    with psycopg.connect(clerk, autocommit=True) as conn:
        for statement in ("UPDATE ictindex.events SET actor = 'x' WHERE seq = 2",
                          "DELETE FROM ictindex.events WHERE seq = 9",
                          "TRUNCATE ictindex.events",
                          "ALTER TABLE ictindex.events DISABLE TRIGGER USER",
                          "DROP TRIGGER events_no_change ON ictindex.events",
                          "CREATE TABLE ictindex.planted (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    # what the role is refused reaches the user as one line
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("REVOKE INSERT ON ictindex.events FROM clerk")
    r = run(clerk, "units", "import", _units_csv(tmp_path))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr.startswith("Error: the database refused: permission denied for table events")
    assert run(pg_url, "init", "--writer-role", "clerk").stdout.endswith(
        "Role clerk updated: it may read and append to the log (SELECT, INSERT), never UPDATE, "
        "DELETE or TRUNCATE it\n")


def test_writer_role_needs_postgres(tmp_path, run):
    r = run(tmp_path / "x.db", "init", "--writer-role", "clerk")
    assert r.exit_code == 2 and "needs a log in PostgreSQL" in r.stderr


def test_verify_catches_a_superuser_editing_a_body(log, pg_cluster, pg_url, run):
    assert run(pg_url, "verify").exit_code == 0
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off: superuser only
        changed = conn.execute(
            "UPDATE ictindex.events SET body = convert_to(replace(convert_from(body, 'UTF8'), "
            "'84.03', '94.03'), 'UTF8') WHERE seq = 3").rowcount
    assert changed == 1
    r = run(pg_url, "verify")
    assert r.exit_code != 0
    assert "#3" in r.stdout or "seq 3" in r.stdout, r.stdout
    assert not verify(log).ok


def test_verify_catches_a_deleted_row(log, pg_cluster, pg_url, run):
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("ALTER TABLE ictindex.events DISABLE TRIGGER events_no_change")
        conn.execute("DELETE FROM ictindex.events WHERE seq = 4")
        conn.execute("ALTER TABLE ictindex.events ENABLE TRIGGER events_no_change")
    r = run(pg_url, "verify")
    assert r.exit_code != 0 and "4" in r.stdout
    with pytest.raises(LogIntegrityError):
        log.checkpoint()


PLANTS = {
    "trigger": ("CREATE FUNCTION public.sneaky() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN NULL; END $$; CREATE TRIGGER sneaky BEFORE INSERT ON "
                "ictindex.events FOR EACH ROW WHEN (NEW.actor = 'x') EXECUTE FUNCTION public.sneaky()",
                ["schema: trigger sneaky is not part of a log"]),
    "function": ("CREATE FUNCTION ictindex.helper() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                 ["schema: function helper is not part of a log"]),
    "disabled guard": ("ALTER TABLE ictindex.events DISABLE TRIGGER events_no_change",
                       ["schema: trigger events_no_change enabled is not the expected one: D"]),
    "replaced guard": ("CREATE OR REPLACE FUNCTION ictindex.events_refuse_change() RETURNS "
                       "trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
                       ["schema: function events_refuse_change is not the expected one"]),
    "view": ("CREATE VIEW ictindex.events_2020 AS SELECT * FROM ictindex.events",
             ["schema: view events_2020 is not part of a log"]),
    "index": ("CREATE INDEX sneaky_idx ON ictindex.events (actor)",
              ["schema: index sneaky_idx is not part of a log"]),
    "rule": ("CREATE RULE sneaky AS ON INSERT TO ictindex.events WHERE NEW.actor = 'x' "
             "DO INSTEAD NOTHING", ["schema: rule sneaky is not part of a log"]),
    "policy": ("ALTER TABLE ictindex.events ENABLE ROW LEVEL SECURITY; CREATE POLICY hide ON "
               "ictindex.events USING (actor <> 'b')",
               ["schema: policy hide on events is not part of a log",
                "schema: row level security on events is not part of a log"]),
    "column": ("ALTER TABLE ictindex.events ADD COLUMN note text DEFAULT ''",
               ["schema: column events is not the expected one"]),
}


@pytest.mark.parametrize("plant", PLANTS, ids=list(PLANTS))
def test_verify_names_what_was_planted(plant, log, pg_cluster, pg_url, run, tmp_path):
    sql, lines = PLANTS[plant]
    assert log.check_storage() == []
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute(sql)
    problems = log.check_storage()
    for line in lines:
        assert any(p.startswith(line) for p in problems), problems
    r = run(pg_url, "verify")
    assert r.exit_code != 0
    assert lines[0].removeprefix("schema: ").split(" is ")[0] in r.stdout, r.stdout
    # a writer refuses to open it
    with pytest.raises(LogOpenError, match="not a log's"):
        PostgresEventLog(pg_url)
    r = run(pg_url, "units", "import", _units_csv(tmp_path))
    assert r.exit_code == 2 and "someone changed it" in r.stderr, r.output


def test_read_only_opening_runs_read_only_transactions(log, pg_url):
    with PostgresEventLog(pg_url, read_only=True) as store:
        with pytest.raises(LogOpenError):
            store.append([submission(1)], actor="a")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            store._conn.execute("CREATE TABLE ictindex.x (y int)")
        assert store.last_seq() == 8


def test_has_key_sees_what_other_writers_append(pg_url):
    import time

    from events.postgres import _KEY_CACHE_AFTER

    a, b = PostgresEventLog(pg_url), PostgresEventLog(pg_url)
    try:
        b.append([submission(1)], actor="b", keys=["early"])
        for i in range(_KEY_CACHE_AFTER + 5):  # enough questions for `a` to keep the keys
            assert not a.has_key(f"absent {i}")
        assert a.has_key("early")
        b.append([submission(2)], actor="b", keys=["late"])
        # the notification travels apart from the commit: wait for it (generously)
        for _ in range(3000):
            if a.has_key("late"):
                break
            time.sleep(0.01)
        assert a.has_key("late")
        assert not a.has_key("never") and a.has_key("early")
        a.append([submission(3)], actor="a", keys=["own"])
        assert a.has_key("own")
    finally:
        a.close()
        b.close()


def test_a_dropped_table_is_one_line(log, pg_cluster, pg_url, run):
    with pg_cluster.admin(_db(pg_url)) as conn:
        conn.execute("DROP TABLE ictindex.events")
    for command in ("verify", "log", "checkpoint"):
        r = run(pg_url, command)
        assert r.exit_code == 2 and "Traceback" not in r.output, (command, r.output)
        assert r.stderr.startswith("Error: "), r.stderr


def test_has_key_during_a_streamed_append_that_fails(pg_url):
    """A streamed import asks `has_key` while its batch is being written: the batch's own keys
    must not stay in the filter when it is rolled back, nor hide what others append later."""
    from events.postgres import _KEY_CACHE_AFTER

    a, b = PostgresEventLog(pg_url), PostgresEventLog(pg_url)
    try:
        for i in range(_KEY_CACHE_AFTER + 1):
            assert not a.has_key(f"absent {i}")
        b.append([submission(0)], actor="b", keys=["before"])

        def payloads():
            for i in range(12_000):  # a second chunk: asked inside the transaction
                if i == 11_000:
                    assert a.has_key("before")  # committed before the batch
                    assert not a.has_key("k 5")  # the batch's own, uncommitted
                if i == 11_500:
                    raise RuntimeError("the file's reader failed")
                yield submission(i)

        with pytest.raises(RuntimeError):
            a.extend(payloads(), actor="a", keys=(f"k {i}" for i in range(12_000)))
        assert a.last_seq() == 1
        b.append([submission(5)], actor="b", keys=["k 5"])
        for _ in range(3000):
            if a.has_key("k 5"):
                break
            import time

            time.sleep(0.01)
        assert a.has_key("k 5") and not a.has_key("k 6")
    finally:
        a.close()
        b.close()
