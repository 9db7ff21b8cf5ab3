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
from ictindex.site import build_site

from hostile_site_data import HOSTILE_AUTHORITY, HOSTILE_REASON, HOSTILE_UNITS


def _clock():
    t = itertools.count()
    base = dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)
    return lambda: base + dt.timedelta(minutes=next(t))


@pytest.fixture(scope="session")
def sample_site(sample_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample-site") / "site"
    with Ictindex.open(sample_db) as app:
        build_site(app, 2020, out, show_progress=False)
    return out


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory) -> Path:
    """A small log, made with the API, whose names, evidence and reasons are HTML."""
    d = tmp_path_factory.mktemp("hostile")
    units = d / "units.csv"
    with units.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["unit_id", "tier", "name", "parent_id"])
        w.writerows(HOSTILE_UNITS)
    subs = d / "submissions.csv"
    with subs.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["year", "unit_id", "indicator", "value", "evidence", "note"])
        for i, (uid, *_rest) in enumerate(HOSTILE_UNITS):
            w.writerow([2020, uid, "staff_computer_pct", 50 + 6 * i,
                        "<img src=x onerror=alert(5)> Báo cáo số 1", "<b>ghi chú</b>"])
            w.writerow([2020, uid, "computers_total", 10 + 3 * i, "", ""])
            w.writerow([2020, uid, "leadership_score", (i * 7) % 10, "", ""])
    path = d / "hostile.db"
    with Ictindex.open(path, clock=_clock()) as app:
        app.import_units(units, actor="tester")
        app.adopt("local-ict@2020", 2020, actor="tester")
        app.import_submissions(subs, actor="tester")
        # hostile text, not complete data: published on purpose with the missing-data policy
        replay.publish(app, 2020, "department", decision="99/QĐ-UBND <script>x</script>",
                       actor="<b>ubnd</b>", allow_missing=True)
        target = next(iter(app.store.read(year=2020, unit_id="D2", indicator="leadership_score")))
        app.correct(target.seq, "9", reason=HOSTILE_REASON, authority=HOSTILE_AUTHORITY,
                    actor="so-tttt")
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def hostile_site(hostile_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile-site") / "site"
    with Ictindex.open(hostile_db) as app:
        build_site(app, 2020, out, show_progress=False)
    return out


@pytest.fixture
def run(monkeypatch):
    """run(db, *args) -> click Result, in-process."""
    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")
    runner = CliRunner()
    cli = build_cli()

    def _run(db, *args):
        return runner.invoke(cli, ["--db", str(db), *map(str, args)], catch_exceptions=False)

    return _run


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the system's, driven by playwright), one for every browser test of
    the session (playwright's sync API allows one running instance); skips, saying why,
    without Chromium or playwright (`.ci/install-browser` installs both)."""
    from screenshots import chromium

    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or $ICTINDEX_CHROMIUM): "
                    "run .ci/install-browser (Debian's chromium) to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed: run .ci/install-browser "
                    "(pip install playwright; it drives the system Chromium, nothing downloaded)")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=exe, headless=True)
    except Exception:
        pw.stop()
        raise
    yield b
    b.close()
    pw.stop()
