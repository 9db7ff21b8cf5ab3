"""The whole application on the in-memory store: the app needs nothing beyond `EventLog`.

The sample is built on `events.memory.MemoryEventLog` and every replay command (rank, explain,
diff, checkpoint, prove, verify, log, then correct and publish) prints what it prints on the
SQLite sample, byte for byte; the checkpoint is the same.  The memory store keeps no derived
tables, so this also runs every ranking without projections.
"""

from __future__ import annotations

import json

import pytest

from events.interface import DerivedTables
from events.memory import MemoryEventLog
from ictindex.app import Ictindex
from ictindex.projections import Projections
from ictindex.sample import CORRECTION, YEAR, build_sample

SAMPLE_CHECKPOINT = "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba"


def _memory_sample() -> Ictindex:
    app = Ictindex.open("memory:")
    build_sample(app)
    return app


@pytest.fixture(scope="module")
def memory_app():
    """The sample on the memory store, shared by the tests that only read it."""
    return _memory_sample()


def _cli_on(app, run, monkeypatch):
    """run_memory(*args): the CLI with every command opening `app` (closing it keeps it)."""
    monkeypatch.setattr(Ictindex, "open", classmethod(lambda cls, *a, **kw: app))
    return lambda *args, input=None: run("memory:", *args, input=input)


@pytest.fixture
def on_memory(memory_app, run, monkeypatch):
    return _cli_on(memory_app, run, monkeypatch)


def test_the_sample_on_memory_has_the_sqlite_checkpoint(memory_app, sample_db):
    assert isinstance(memory_app.store, MemoryEventLog)
    assert str(memory_app.store.checkpoint()) == SAMPLE_CHECKPOINT
    with Ictindex.open(sample_db, read_only=True) as app:
        assert str(app.store.checkpoint()) == SAMPLE_CHECKPOINT
        assert [r.body for r in memory_app.store.stored_rows()] == \
            [r.body for r in app.store.stored_rows()]


def test_no_projections_without_derived_tables(memory_app):
    assert not isinstance(memory_app.store, DerivedTables)
    assert not Projections.of(memory_app).exists()


READS = [
    ("rank", "--year", YEAR, "--tier", "district"),
    ("rank", "--year", YEAR, "--tier", "commune", "--format", "json"),
    ("rank", "--year", YEAR, "--tier", "department", "--as-of", "published"),
    ("explain", CORRECTION["unit_id"], "--year", YEAR),
    ("explain", "754", "--year", YEAR, "--format", "json"),
    ("diff", "--year", YEAR, "--tier", "commune", "--from", "published"),
    ("diff", "--year", YEAR, "--tier", "commune", "--from", "published", "--format", "json"),
    ("checkpoint",),
    ("checkpoint", "--size", "100"),
    ("prove", "42", "--checkpoint", SAMPLE_CHECKPOINT),
    ("log", "--unit", CORRECTION["unit_id"], "--format", "json"),
    ("verify",),
]


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(map(str, a)))
def test_every_read_command_prints_what_it_prints_on_sqlite(args, on_memory, sample_db, run):
    expected = run(sample_db, *args)
    got = on_memory(*args)
    assert (got.exit_code, got.stdout) == (expected.exit_code, expected.stdout)
    assert expected.exit_code == 0, expected.output


def _correct_and_publish(r) -> str:
    target = json.loads(r("log", "--unit", "753", "--indicator", "it_plan",
                          "--format", "json").stdout)[0]["seq"]
    corrected = r("correct", target, "no", "--reason", "plan not approved")
    assert corrected.exit_code == 0, corrected.output
    published = r("publish", "--year", YEAR, "--tier", "district", "--decision", "123/QĐ-UBND",
                  "--allow-missing")
    assert published.exit_code == 0, published.output
    ranked = r("rank", "--year", YEAR, "--tier", "district", "--as-of", "published").stdout
    # the new events carry the wall clock's time and random ids: only the checkpoint differs
    return "\n".join(line for line in ranked.splitlines() if "checkpoint" not in line)


def test_correct_publish_verify_on_memory(sample_copy, run, monkeypatch):
    on_sqlite = _correct_and_publish(lambda *a: run(sample_copy, *a))
    on_memory = _cli_on(_memory_sample(), run, monkeypatch)  # from here on, every open is it
    assert _correct_and_publish(on_memory) == on_sqlite
    verified = on_memory("verify")
    assert verified.exit_code == 0 and verified.stdout.count("reproduces") == 4
    d = json.loads(on_memory("diff", "--year", YEAR, "--tier", "district", "--from", "seq:4175",
                             "--format", "json").stdout)
    moved = {c["unit_id"]: c for c in d["changes"]}
    assert [e["reason"] for e in moved["753"]["events"]] == ["plan not approved"]


def test_the_site_is_the_same_from_either_store(memory_app, sample_db, tmp_path):
    from ictindex.site.build import build_site

    with Ictindex.open(sample_db, read_only=True) as app:
        build_site(app, YEAR, tmp_path / "sqlite", db_name="brvt-2020.db", show_progress=False)
    build_site(memory_app, YEAR, tmp_path / "memory", db_name="brvt-2020.db", show_progress=False)
    files = sorted(p.relative_to(tmp_path / "sqlite") for p in (tmp_path / "sqlite").rglob("*")
                   if p.is_file())
    assert files
    assert files == sorted(p.relative_to(tmp_path / "memory")
                           for p in (tmp_path / "memory").rglob("*") if p.is_file())
    for rel in files:
        assert (tmp_path / "memory" / rel).read_bytes() == (tmp_path / "sqlite" / rel).read_bytes(), rel


@pytest.mark.parametrize("tier,as_of", [("district", "published"), ("commune", "now")])
def test_the_export_is_the_same_from_either_store(tier, as_of, on_memory, sample_db, run, tmp_path):
    args = ("export", "--year", YEAR, "--tier", tier, "--as-of", as_of)
    assert run(sample_db, *args, "--out", tmp_path / "sqlite.csv").exit_code == 0
    assert on_memory(*args, "--out", tmp_path / "memory.csv").exit_code == 0
    assert (tmp_path / "memory.csv").read_bytes() == (tmp_path / "sqlite.csv").read_bytes()
