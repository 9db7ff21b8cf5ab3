"""How the command line fails: the tool's own errors as one line (exit 2), a bug with its
traceback, a closed pipe quietly, as-of times compared as times (issues 14.8 and 13.11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ictindex.app import Ictindex

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bug", [ValueError("bug"), KeyError("bug"), OSError(5, "bug"),
                                 LookupError("bug"), OverflowError("bug")],
                         ids=lambda e: type(e).__name__)
def test_a_bug_keeps_its_traceback(bug, sample_db, run, monkeypatch):
    """Only the tool's own error types become `Error: ...`; anything else is a bug to see."""
    from ictindex import replay

    def broken(*args, **kwargs):
        raise bug

    monkeypatch.setattr(replay, "replay", broken)
    with pytest.raises(type(bug)):
        run(sample_db, "rank", "--year", 2020, "--tier", "district")


def test_a_closed_pipe_ends_the_command_quietly(sample_db):
    """`ictindex rank ... | head -1`: no message, no traceback, the status Python's docs give
    (1).  The reader here closes before the command writes, so the write always meets it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ictindex.cli import main; main()", "--db", str(sample_db),
         "rank", "--year", "2020", "--tier", "commune"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=ROOT, env=dict(os.environ, ICTINDEX_ACTOR="tester"))
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait() == 1
    assert stderr == b""


def test_an_as_of_date_before_year_1000_is_a_time_not_text(sample_db, run):
    """0221-06-16 is long before anything was recorded: the log as of then is empty (it
    used to compare as text, after 2021, and print today's ranking under that label)."""
    with Ictindex.open(sample_db) as app:
        assert app.state("0221-06-16").last_seq == 0
        assert app.state("2021-06-16").last_seq == app.store.last_seq()
    result = run(sample_db, "rank", "--year", 2020, "--tier", "district", "--as-of", "0221-06-16")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no methodology adopted for 2020 district")
    ok = run(sample_db, "rank", "--year", 2020, "--tier", "district", "--as-of", "2021-04-01")
    assert ok.exit_code == 0 and "as of time 2021-04-01T23:59:59.999999Z" in ok.stdout
