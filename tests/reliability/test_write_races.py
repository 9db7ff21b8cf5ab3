"""Issue 13, item 7: a write is checked against the log it is appended to, whoever else writes.

Two real processes write to one SQLite file.  Process A runs a write through the API and is
held right after it has checked the request, before it appends (its `store.append` waits for
a signal); meanwhile process B, the `ictindex` command in another Python process, records a
write that makes A's request wrong.  When A goes on, its check must be redone against the log
as it now is: on the original code A appended what it had checked against a stale state.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from events.verify import verify
from ictindex import replay
from ictindex.app import Ictindex

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120  # seconds a process waits for the other before the test fails (never reached)


def _held_write(path: str, op: str, args: tuple, kwargs: dict, checked, go, results) -> None:
    """Process A: run `app.<op>(*args, **kwargs)`, held between its check and its append."""
    try:
        with Ictindex.open(path) as app:
            append = app.store.append
            held = [False]

            def append_when_told(*a, **kw):
                if not held[0]:
                    held[0] = True
                    checked.set()
                    if not go.wait(WAIT):
                        raise TimeoutError("never told to go on")
                return append(*a, **kw)

            app.store.append = append_when_told
            try:
                if op == "publish":
                    replay.publish(app, *args, **kwargs)
                else:
                    getattr(app, op)(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - reported to the test
                results.put(("refused", f"{type(e).__name__}: {e}"))
            else:
                results.put(("recorded", ""))
    except BaseException as e:
        results.put(("crashed", repr(e)))
    finally:
        checked.set()  # refused before appending: the test must not wait for it


def _cli(db: Path, *args) -> subprocess.CompletedProcess:
    """Process B: the ictindex command, in a process of its own."""
    env = dict(os.environ, ICTINDEX_ACTOR="process-b")
    return subprocess.run([sys.executable, "-c", "from ictindex.cli import main; main()",
                           "--db", str(db), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=WAIT)


def _race(db: Path, op: str, args: tuple, kwargs: dict, other: tuple) -> tuple[str, str]:
    ctx = multiprocessing.get_context("fork")
    checked, go, results = ctx.Event(), ctx.Event(), ctx.Queue()
    a = ctx.Process(target=_held_write, args=(str(db), op, args, kwargs, checked, go, results))
    a.start()
    try:
        assert checked.wait(WAIT), "process A never checked its request"
        b = _cli(db, *other)
        assert b.returncode == 0, b.stderr
    finally:
        go.set()
        a.join(WAIT)
    outcome = results.get(timeout=WAIT)
    assert outcome[0] != "crashed", outcome
    return outcome


@pytest.fixture
def db(sample_db, tmp_path) -> Path:
    path = tmp_path / "brvt-2020.db"
    shutil.copy(sample_db, path)
    return path


def _cell_events(db: Path, unit: str, indicator: str, year: int = 2020) -> list[tuple[int, str]]:
    with Ictindex.open(db) as app:
        return [(e.seq, type(e.payload).__struct_config__.tag)
                for e in app.store.read(year=year, unit_id=unit, indicator=indicator)]


def _verified(db: Path) -> None:
    with Ictindex.open(db) as app:
        report = verify(app.store)
        assert report.ok, report


def test_an_import_racing_a_submit_of_the_same_cell_cannot_replace_its_value(db):
    with Ictindex.open(db) as app:  # 2021: adopted, nothing recorded yet, not published
        app.adopt("local-ict@2020", 2021, actor="setup")
    values = db.parent / "2021.csv"
    values.write_text("year,unit_id,indicator,value\n2021,753,dossiers_online,6000\n",
                      encoding="utf-8")
    outcome = _race(db, "submit", (2021, "753", "dossiers_online", "5000"),
                    dict(actor="process-a"), ("import", values))
    # The import came first: the submit, checked against the empty cell, must now be refused
    # (on the original code it was appended and silently replaced the imported 6000).
    assert outcome[0] == "refused", outcome
    assert "753 already has a value for dossiers_online in 2021 (event #4179)" in outcome[1]
    assert _cell_events(db, "753", "dossiers_online", 2021) == [(4179, "indicator_submitted")]
    _verified(db)


def test_a_correction_racing_a_retraction_of_its_submission_is_refused(db):
    # #1133: 753 staff_computer_pct = 76.0
    outcome = _race(db, "correct", (1133, "80"),
                    dict(reason="phúc khảo", authority="CV 5", actor="process-a"),
                    ("retract", 1133, "--reason", "báo cáo sai", "--authority", "CV 6"))
    assert outcome[0] == "refused", outcome
    assert "submission #1133 is retracted: it can no longer be corrected" in outcome[1]
    assert _cell_events(db, "753", "staff_computer_pct") == [
        (1133, "indicator_submitted"), (4176, "indicator_retracted")]
    _verified(db)


def test_a_write_that_still_holds_after_the_other_one_is_recorded_after_it(db):
    """The re-check refuses only what the other write made wrong: here both count."""
    outcome = _race(db, "correct", (1133, "80"),
                    dict(reason="phúc khảo", authority="CV 5", actor="process-a"),
                    ("correct", 1100, "105", "--reason", "đếm lại", "--authority", "CV 7"))
    assert outcome == ("recorded", "")
    with Ictindex.open(db) as app:
        assert [(e.seq, e.actor) for e in app.store.read(4176)] == [
            (4176, "process-b"), (4177, "process-a")]
    _verified(db)


def test_a_publication_overtaken_by_a_correction_publishes_the_corrected_ranking(db):
    """Held after its replay while a district value is corrected, `publish` replays again: the
    publication covers the correction, and reproduces."""
    outcome = _race(db, "publish", (2020, "district"),
                    dict(decision="2/QĐ-UBND", actor="process-a"),
                    ("correct", 1100, "105", "--reason", "đếm lại", "--authority", "CV 7"))
    assert outcome == ("recorded", "")
    with Ictindex.open(db) as app:
        [publication] = list(app.store.read(4177))
        assert publication.payload.decision == "2/QĐ-UBND"
        assert publication.payload.checkpoint_size == 4176  # the correction is in it
        assert all(check.ok for check in replay.check_publications(app))
    _verified(db)
