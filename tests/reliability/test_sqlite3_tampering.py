"""Issue 7, part 4: the database edited with the sqlite3 tool, triggers dropped first.

The edits are SQL run by Debian's `sqlite3` command-line tool when it is installed, else by
Python's sqlite3 module executing the same SQL; the test ids say which (`[sqlite3-cli]` or
`[python-sqlite3]`).  Every case first checks that the triggers refuse the edit, then drops
them, edits, and runs `ictindex verify`:

- a value changed in place          -> exit 1, "log BROKEN at seq 7" (stored hash ≠ body hash)
- a row deleted                     -> exit 1, "seq K is missing"
- two rows' positions swapped       -> exit 1, names the first moved seq
- history rewritten consistently    -> bodies re-encoded, prev_hash chain and leaf hashes
  recomputed with the project's own functions, and the derived Merkle frontier dropped:
  `verify` alone finds nothing (nothing inside the file can), `verify --checkpoint` with the
  checkpoint published before the rewrite exits 1.  (A naive cut of the tail is noticed by the
  frontier, which every append advances in its transaction; dropping it defeats that.)  That is why checkpoints must leave the machine (docs/reliability.md).
"""

from __future__ import annotations

import json
from decimal import Decimal
import shutil
import sqlite3
import subprocess
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from events.canonical import encode_event, leaf_hash_hex
from events.schema import TRIGGERS
from events.store import EventStore
from ictindex.app import Ictindex
from ictindex.cli import build_cli

SQLITE3 = shutil.which("sqlite3")
TOOL = "sqlite3-cli" if SQLITE3 else "python-sqlite3"
DROP_TRIGGERS = """
DROP TRIGGER events_no_update;
DROP TRIGGER events_no_delete;
DROP TRIGGER events_append_only;
"""
# ...and put back after the edit, as a careful forger does: a log without them fails verify
RESTORE_TRIGGERS = "".join(f"{sql};\n" for sql in TRIGGERS.values())

UNITS = """unit_id,tier,name,parent_id
D1,district,UBND huyện Một,
D2,district,UBND huyện Hai,
C1,commune,UBND xã Phước Hưng,D1
"""
GOOD = """year,unit_id,indicator,value,evidence,note
2020,D1,staff_computer_pct,95,12/BC-UBND 05/01/2021,
2020,D1,leadership_score,8.5,Biên bản 10/03/2021,
2020,D2,staff_computer_pct,80,7/BC-UBND 06/01/2021,
2020,D2,leadership_score,9,Biên bản 10/03/2021,
"""


def sql(db: Path, script: str) -> tuple[int, str]:
    """Run `script` against the database file with the tool in use: (status, stderr)."""
    if SQLITE3:
        proc = subprocess.run([SQLITE3, "-bail", str(db)], input=script, capture_output=True,
                              text=True)
        return proc.returncode, proc.stderr
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.executescript(script)
        return 0, ""
    except sqlite3.DatabaseError as exc:
        return 1, str(exc)
    finally:
        conn.close()


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")
    runner, command = CliRunner(), build_cli()

    def run(db, *args):
        return runner.invoke(command, ["--db", str(db), *map(str, args)], catch_exceptions=False)

    return run


@pytest.fixture
def log(tmp_path, cli) -> tuple[Path, str]:
    """A log of 15 events, and the checkpoint published after the first 10 (3 units, 3 tiers
    adopted, the import of 4 rows) as it would be printed in the decision's annex."""
    db = tmp_path / "log.db"
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "good.csv").write_text(GOOD, encoding="utf-8")
    assert cli(db, "units", "import", tmp_path / "units.csv").exit_code == 0
    assert cli(db, "adopt", "local-ict@2020", "--year", 2020).exit_code == 0
    assert cli(db, "import", tmp_path / "good.csv").exit_code == 0
    published = cli(db, "checkpoint", "--format", "json")
    cp = json.loads(published.stdout)
    for args in (("submit", "--year", 2020, "C1", "leadership_score", "7"),
                 ("submit", "--year", 2020, "D1", "official_email_ratio", "0.5"),
                 ("correct", 7, "96", "--reason", "recount", "--authority", "CV 9/STTTT"),
                 ("submit", "--year", 2020, "D2", "official_email_ratio", "0.25"),
                 ("retract", 12, "--reason", "wrong letter")):
        assert cli(db, *args).exit_code == 0
    assert cli(db, "verify").exit_code == 0
    with Ictindex.open(db) as app:
        assert app.store.last_seq() == 15 and cp["size"] == 10
        assert app.store.get(7).payload.unit_id == "D1"
    return db, f"{cp['size']}:{cp['root']}"


def _tamper(db: Path, script: str) -> None:
    status, err = sql(db, script)
    assert status != 0 and "append-only" in err, err  # the triggers refuse it...
    status, err = sql(db, DROP_TRIGGERS + script + "\n" + RESTORE_TRIGGERS)
    assert status == 0, err  # ...until they are dropped


@pytest.mark.parametrize("tool", [TOOL])
def test_a_value_changed_in_place_is_named(log, cli, tool):
    db, _ = log
    _tamper(db, """UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '"value":"95"',
                   '"value":"59"') AS BLOB) WHERE seq = 7;""")
    result = cli(db, "verify")
    assert result.exit_code == 1
    assert "log BROKEN at seq 7: the stored hash" in result.stdout


@pytest.mark.parametrize("tool", [TOOL])
def test_a_deleted_row_is_named(log, cli, tool):
    db, cp = log
    _tamper(db, "DELETE FROM events WHERE seq = 9;")
    result = cli(db, "verify")
    assert result.exit_code == 1
    assert "log BROKEN at seq 9: seq 9 is missing" in result.stdout
    assert cli(db, "verify", "--checkpoint", cp).exit_code == 1


@pytest.mark.parametrize("tool", [TOOL])
def test_a_deleted_last_row_is_caught_by_a_checkpoint_that_covers_it(log, cli, tool):
    """Cutting the tail leaves a shorter log that is consistent in itself."""
    db, _ = log
    last = cli(db, "checkpoint").stdout.strip()
    _tamper(db, "DELETE FROM events WHERE seq = 15;")
    # The derived Merkle frontier, advanced in every append's transaction, notices a naive cut...
    naive = cli(db, "verify")
    assert naive.exit_code == 1 and "merkle frontier: covers more events" in naive.stdout
    # ...but it lives in the same file: whoever also drops it (and the tiles) leaves nothing
    # inside to tell.
    status, err = sql(db, "DROP TABLE merkle_frontier; DROP TABLE merkle_tiles;")
    assert status == 0, err
    assert cli(db, "verify").exit_code == 0
    result = cli(db, "verify", "--checkpoint", last)
    assert result.exit_code == 1 and "events were removed" in result.stdout


@pytest.mark.parametrize("tool", [TOOL])
def test_rows_reordered_are_named(log, cli, tool):
    db, _ = log
    _tamper(db, """UPDATE events SET seq = -8 WHERE seq = 8;
                   UPDATE events SET seq = 8 WHERE seq = 11;
                   UPDATE events SET seq = 11 WHERE seq = -8;""")
    result = cli(db, "verify")
    assert result.exit_code == 1
    assert "log BROKEN at seq 8: the body is event seq 11, stored at seq 8" in result.stdout


def _consistent_rewrite(db: Path, seq: int, new_value: str) -> str:
    """UPDATE statements that change event `seq`'s value and re-chain every later event, with
    the project's own encoder and hash functions: a rewrite nothing inside the file detects."""
    with EventStore(db) as store:
        events = list(store.read())
    statements = []
    prev = leaf_hash_hex(encode_event(events[seq - 2])) if seq > 1 else "0" * 64
    for e in events[seq - 1:]:
        if e.seq == seq:
            e = msgspec.structs.replace(e, payload=msgspec.structs.replace(
                e.payload, value=Decimal(new_value)))
        e = msgspec.structs.replace(e, prev_hash=prev)
        body = encode_event(e)
        prev = leaf_hash_hex(body)
        statements.append(f"UPDATE events SET body = X'{body.hex()}', hash = '{prev}' "
                          f"WHERE seq = {e.seq};")
    return "\n".join(statements)


@pytest.mark.parametrize("tool", [TOOL])
def test_a_consistent_rewrite_is_caught_only_by_an_earlier_published_checkpoint(log, cli, tool):
    db, published = log
    before = cli(db, "verify").stdout
    script = _consistent_rewrite(db, 7, "59")  # D1 staff_computer_pct 95 -> 59
    # A thorough forger also drops the derived Merkle frontier and tiles (rebuilt from the
    # forged hashes).
    _tamper(db, script + "\nDROP TABLE merkle_frontier;\nDROP TABLE merkle_tiles;")
    with EventStore(db) as store:
        assert str(store.get(7).payload.value) == "59"
    inside = cli(db, "verify")
    assert inside.exit_code == 0, inside.stdout  # nothing inside the file can tell
    assert inside.stdout != before  # but the log's checkpoint changed
    result = cli(db, "verify", "--checkpoint", published)
    assert result.exit_code == 1
    assert f"checkpoint {published} FAILED: the root of the first 10 events" in result.stdout
    # the unit's own receipt (an inclusion proof against the published checkpoint) fails too
    assert cli(db, "prove", 7, "--checkpoint", published).exit_code == 1
