"""A small log to throw bad inputs at, and a way to prove a refusal changed nothing.

The template log (built once per session through the library API, then copied per test):

    D1, D2  districts              D3  district registered from 2022 (did not exist in 2020)
    C1      commune under D1       D4  district retired after 2019
    2020    adopted: local-ict@2020 (every tier); 2019 has no adopted edition
    seq S   D1 staff_computer_pct = 95                  (a value a file may contradict)
    seq L   D2 leadership_score = 8, corrected by seq K (to 9)
    seq R   D2 official_email_ratio = 0.5, retracted by seq X
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from events.types import UnitRegistered, UnitRetired
from ictindex.app import Ictindex
from ictindex.cli import build_cli


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("hostile") / "template.db"
    seqs: dict[str, int] = {}
    with Ictindex.open(path) as app:
        app.store.append([
            UnitRegistered(unit_id="D1", tier="district", name="UBND huyện Một"),
            UnitRegistered(unit_id="D2", tier="district", name="UBND huyện Hai"),
            UnitRegistered(unit_id="C1", tier="commune", name="UBND xã Phước Hưng", parent_id="D1"),
            UnitRegistered(unit_id="D3", tier="district", name="UBND huyện Ba", from_year=2022),
            UnitRegistered(unit_id="D4", tier="district", name="UBND huyện Bốn"),
        ], actor="setup")
        app.store.append([UnitRetired(unit_id="D4", last_year=2019, reason="sáp nhập")],
                         actor="setup")
        app.adopt("local-ict@2020", 2020, actor="setup")
        seqs["S"] = app.submit(2020, "D1", "staff_computer_pct", "95", actor="setup").seq
        seqs["L"] = app.submit(2020, "D2", "leadership_score", "8", actor="setup").seq
        seqs["K"] = app.correct(seqs["L"], "9", reason="recount", actor="setup").seq
        seqs["R"] = app.submit(2020, "D2", "official_email_ratio", "0.5", actor="setup").seq
        seqs["X"] = app.retract(seqs["R"], reason="wrong letter", actor="setup").seq
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, seqs


@pytest.fixture
def hostile_log(hostile_template, tmp_path) -> tuple[Path, dict[str, int]]:
    """A private copy of the template log."""
    template, seqs = hostile_template
    path = tmp_path / "log.db"
    shutil.copy(template, path)
    return path, seqs


@pytest.fixture
def run(monkeypatch):
    """run(db, *args): the CLI in-process (an uncaught exception fails the test)."""
    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")
    runner = CliRunner()
    cli = build_cli()

    def _run(db, *args, input=None):
        return runner.invoke(cli, ["--db", str(db), *map(str, args)], input=input,
                             catch_exceptions=False)

    return _run
