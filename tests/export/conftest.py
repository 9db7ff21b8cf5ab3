from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from ictindex import replay
from ictindex.app import Ictindex
from ictindex.cli import build_cli

# Unit names a spreadsheet would take for formulas, and other awkward text.
HOSTILE_UNITS = [
    ("H1", "=HYPERLINK(\"http://example.invalid/\",\"bấm vào đây\")"),
    ("H2", "+1+1"),
    ("H3", "-2+3"),
    ("H4", "@SUM(A1:A9)"),
    ("H5", "=1+1"),
    ("-H6", "Sở \"Kế hoạch\", Đầu tư; dòng ; phẩy"),
    ("=H7", "Sở Thông tin và Truyền thông"),
]


def _clock():
    t = itertools.count()
    base = dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)
    return lambda: base + dt.timedelta(minutes=next(t))


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory) -> Path:
    """A small department log whose unit names and ids begin with formula characters."""
    d = tmp_path_factory.mktemp("hostile")
    units = d / "units.csv"
    with units.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["unit_id", "tier", "name", "parent_id"])
        for uid, name in HOSTILE_UNITS:
            w.writerow([uid, "department", name, ""])
    subs = d / "submissions.csv"
    with subs.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["year", "unit_id", "indicator", "value", "evidence", "note"])
        for i, (uid, _) in enumerate(HOSTILE_UNITS):
            w.writerow([2020, uid, "staff_computer_pct", 40 + 8 * i, "=cmd|' /C calc'!A0", "@note"])
            w.writerow([2020, uid, "leadership_score", (i * 7) % 10, "", ""])
            w.writerow([2020, uid, "it_plan", "yes" if i % 2 else "no", "", ""])
    path = d / "hostile.db"
    with Ictindex.open(path, clock=_clock()) as app:
        app.import_units(units, actor="tester")
        app.adopt("local-ict@2020", 2020, ["department"], actor="tester")
        app.import_submissions(subs, actor="tester")
        # hostile text, not complete data: published on purpose with the missing-data policy
        replay.publish(app, 2020, "department", decision="=99/QĐ-UBND", actor="tester",
                       allow_missing=True)
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def run(monkeypatch):
    """run(db, *args) -> click Result, in-process."""
    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")
    runner = CliRunner()
    cli = build_cli()

    def _run(db, *args):
        return runner.invoke(cli, ["--db", str(db), *map(str, args)], catch_exceptions=False)

    return _run
