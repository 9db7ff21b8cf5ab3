"""The whole application on PostgreSQL: the same sample, bytes, checkpoint and output as SQLite.

The sample is built in a database of the throwaway cluster through `--db postgresql://...`, and
every replay command prints what it prints on the SQLite sample, byte for byte.  The store keeps
no derived tables, so every ranking is a replay.
"""

from __future__ import annotations

import json
import shutil

import pytest

from events.interface import DerivedTables
from events.postgres import PostgresEventLog
from ictindex.app import Ictindex
from ictindex.sample import CORRECTION, YEAR, build_sample

SAMPLE_CHECKPOINT = "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba"


def _db(url: str) -> str:
    return url.split("/")[3].split("?")[0]


@pytest.fixture(scope="module")
def pg_sample(pg_cluster) -> str:
    url = pg_cluster.url(pg_cluster.new_database())
    with Ictindex.open(url) as app:
        build_sample(app)
    return url


def test_the_sample_on_postgres_has_the_sqlite_bytes_and_checkpoint(pg_sample, sample_db):
    with Ictindex.open(pg_sample, read_only=True) as pg, \
            Ictindex.open(sample_db, read_only=True) as lite:
        assert isinstance(pg.store, PostgresEventLog)
        assert not isinstance(pg.store, DerivedTables)
        assert str(pg.store.checkpoint()) == SAMPLE_CHECKPOINT
        assert pg.store.latest_checkpoint() == pg.store.checkpoint()
        assert pg.store.stored_frontier() == pg.store.checkpoint()
        assert list(pg.store.stored_rows()) == list(lite.store.stored_rows())
        assert pg.store.years() == lite.store.years()
        assert list(pg.store.read_years([YEAR], lean=True, as_of_seq=3000)) == \
            list(lite.store.read_years([YEAR], lean=True, as_of_seq=3000))
        for size in (42, 100, 4175):
            assert pg.store.inclusion_proof(42, size) == lite.store.inclusion_proof(42, size)
            assert pg.store.consistency_proof(7, size) == lite.store.consistency_proof(7, size)


READS = [
    ("rank", "--year", YEAR, "--tier", "district"),
    ("rank", "--year", YEAR, "--tier", "commune", "--format", "json"),
    ("rank", "--year", YEAR, "--tier", "department", "--as-of", "published"),
    ("explain", CORRECTION["unit_id"], "--year", YEAR),
    ("explain", "754", "--year", YEAR, "--format", "json"),
    ("diff", "--year", YEAR, "--tier", "commune", "--from", "published"),
    ("checkpoint",),
    ("checkpoint", "--size", "100"),
    ("prove", "42", "--checkpoint", SAMPLE_CHECKPOINT),
    ("log", "--unit", CORRECTION["unit_id"], "--format", "json"),
    ("verify",),
    ("verify", "--checkpoint", "100:" + "0" * 64),
]


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(map(str, a)))
def test_every_read_command_prints_what_it_prints_on_sqlite(args, pg_sample, sample_db, run):
    expected = run(sample_db, *args)
    got = run(pg_sample, *args)
    assert (got.exit_code, got.stdout) == (expected.exit_code, expected.stdout)


def test_the_export_is_the_same_from_either_store(pg_sample, sample_db, run, tmp_path):
    args = ("export", "--year", YEAR, "--tier", "district", "--as-of", "published")
    assert run(sample_db, *args, "--out", tmp_path / "sqlite.csv").exit_code == 0
    assert run(pg_sample, *args, "--out", tmp_path / "pg.csv").exit_code == 0
    assert (tmp_path / "pg.csv").read_bytes() == (tmp_path / "sqlite.csv").read_bytes()


def _correct_and_publish(r) -> str:
    target = json.loads(r("log", "--unit", "753", "--indicator", "it_plan",
                          "--format", "json").stdout)[0]["seq"]
    corrected = r("correct", target, "no", "--reason", "plan not approved")
    assert corrected.exit_code == 0, corrected.output
    published = r("publish", "--year", YEAR, "--tier", "district", "--decision", "123/QĐ-UBND",
                  "--allow-missing")
    assert published.exit_code == 0, published.output
    ranked = r("rank", "--year", YEAR, "--tier", "district", "--as-of", "published").stdout
    return "\n".join(line for line in ranked.splitlines() if "checkpoint" not in line)


def test_correct_publish_verify_on_postgres(pg_sample, pg_cluster, sample_db, run, tmp_path):
    copy = tmp_path / "brvt-2020.db"
    shutil.copy(sample_db, copy)
    pg_url = pg_cluster.url(pg_cluster.new_database(template=pg_sample.split("/")[3].split("?")[0]))
    on_sqlite = _correct_and_publish(lambda *a: run(copy, *a))
    assert _correct_and_publish(lambda *a: run(pg_url, *a)) == on_sqlite
    verified = run(pg_url, "verify")
    assert verified.exit_code == 0 and verified.stdout.count("reproduces") == 4, verified.output


def test_the_demo_prints_what_it_prints_on_sqlite(pg_url, run, tmp_path):
    lite = tmp_path / "demo.db"
    expected = run(lite, "demo")
    got = run(pg_url, "demo")
    assert got.exit_code == expected.exit_code == 0, got.output
    assert got.stdout.replace(pg_url, "DB") == expected.stdout.replace(str(lite), "DB")
    assert f"Checkpoint to publish now: {SAMPLE_CHECKPOINT}" in got.stdout


def test_a_command_that_reads_creates_nothing(pg_url, pg_cluster, run):
    r = run(pg_url, "log")
    assert r.exit_code == 2 and "holds no log yet" in r.stderr
    with pg_cluster.admin(pg_url.split("/")[3].split("?")[0]) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'ictindex'"
                            ).fetchone()[0] == 0
    r = run(pg_url, "init")
    assert r.exit_code == 0 and r.stdout == f"Created the database {_db(pg_url)} (0 events)\n"
    assert run(pg_url, "log").exit_code == 0


def test_a_server_that_is_not_there_is_one_line(tmp_path, run):
    r = run(f"postgresql://nobody@/nothing?host={tmp_path}", "log")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: cannot connect to postgresql://") and "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["postgresql://nobody:s3cret@/nothing?host={}",
                                 "postgresql://nobody@/nothing?password=s3cret&host={}"])
def test_a_password_is_not_shown(url, tmp_path, run):
    r = run(url.format(tmp_path), "log")
    assert r.exit_code == 2 and "s3cret" not in r.output and "nobody" in r.stderr


def test_without_the_driver_the_error_says_what_to_install(monkeypatch, pg_url, run):
    import events.postgres

    monkeypatch.setattr(events.postgres, "psycopg", None)
    r = run(pg_url, "log")
    assert r.exit_code == 2
    assert "pip install 'ictindex[postgres]'" in r.stderr and "Traceback" not in r.output


def test_the_database_in_ictindex_db(pg_sample, monkeypatch):
    from click.testing import CliRunner

    from ictindex.cli import build_cli

    monkeypatch.setenv("ICTINDEX_DB", pg_sample)
    r = CliRunner().invoke(build_cli(), ["checkpoint"], catch_exceptions=False)
    assert r.exit_code == 0 and SAMPLE_CHECKPOINT in r.stdout
