"""The log's commands end to end: imports are all or nothing, idempotent, and errors name the row."""

from __future__ import annotations

import json
import sqlite3

import pytest

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


@pytest.fixture
def db(tmp_path, run):
    path = tmp_path / "log.db"
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    assert run(path, "units", "import", tmp_path / "units.csv").exit_code == 0
    assert run(path, "adopt", "local-ict@2020", "--year", 2020).exit_code == 0
    return path


def checkpoint(run, db) -> str:
    result = run(db, "checkpoint", "--format", "json")
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_same_file_twice_is_recorded_once(db, run, tmp_path):
    again = run(db, "units", "import", tmp_path / "units.csv")
    assert again.exit_code == 0 and "nothing new" in again.stdout
    f = tmp_path / "good.csv"
    f.write_text(GOOD, encoding="utf-8")
    first = run(db, "import", f)
    assert first.exit_code == 0 and "Recorded 4 submission(s)" in first.stdout
    cp = checkpoint(run, db)
    second = run(db, "import", f)
    assert second.exit_code == 0 and "nothing new" in second.stdout
    assert checkpoint(run, db) == cp


def test_a_bad_row_anywhere_records_nothing_and_names_every_bad_row(db, run, tmp_path):
    bad = GOOD + ("2020,D9,staff_computer_pct,50,,\n"          # row 6: unknown unit
                  "2020,D2,no_such_indicator,1,,\n"           # row 7: unknown indicator
                  "2020,C1,staff_computer_pct,150,,\n"        # row 8: out of range
                  "2020,D1,staff_computer_pct,96,,\n")        # row 9: contradicts row 2
    f = tmp_path / "bad.csv"
    f.write_text(bad, encoding="utf-8")
    cp = checkpoint(run, db)
    result = run(db, "import", f)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{f}:6:unit_id: unknown unit 'D9'" in lines
    assert any(line.startswith(f"{f}:7:indicator:") for line in lines)
    assert any(line.startswith(f"{f}:8:value:") and "150" in line for line in lines)
    assert any(line.startswith(f"{f}:9:indicator:") and "row 2" in line for line in lines)
    assert "Traceback" not in result.output
    assert checkpoint(run, db) == cp


def test_semicolon_file_is_refused_with_the_option_to_use(db, run, tmp_path):
    f = tmp_path / "vn.csv"
    f.write_text("year;unit_id;indicator;value\n2020;D1;official_email_ratio;0,75\n",
                 encoding="utf-8-sig")
    refused = run(db, "import", f)
    assert refused.exit_code == 2 and "--delimiter ';'" in refused.stderr
    ok = run(db, "import", f, "--delimiter", ";", "--decimal-comma")
    assert ok.exit_code == 0, ok.output
    log = json.loads(run(db, "log", "--unit", "D1", "--format", "json").stdout)
    assert log[-1]["payload"]["value"] == "0.75"


def test_submit_correct_retract_and_their_refusals(db, run):
    r = run(db, "submit", "--year", 2020, "D1", "official_email_ratio", "0.5", "--evidence", "CV 1")
    assert r.exit_code == 0, r.output
    seq = int(r.stdout.split("#")[1].split()[0])
    again = run(db, "submit", "--year", 2020, "D1", "official_email_ratio", "0.6")
    assert again.exit_code == 2 and f"correct {seq}" in again.stderr

    c = run(db, "correct", seq, "0.7", "--reason", "recount", "--authority", "CV 9/STTTT")
    assert c.exit_code == 0, c.output
    corr = int(c.stdout.split("#")[1].split()[0])
    not_submission = run(db, "correct", corr, "0.8", "--reason", "x")
    assert not_submission.exit_code == 2 and "not a submission" in not_submission.stderr
    out_of_range = run(db, "correct", seq, "1.7", "--reason", "x")
    assert out_of_range.exit_code == 2 and "0..1" in out_of_range.stderr

    assert run(db, "retract", corr, "--reason", "wrong letter").exit_code == 0
    twice = run(db, "retract", corr, "--reason", "again")
    assert twice.exit_code == 2 and "already retracted" in twice.stderr
    missing = run(db, "correct", 99999, "0.1", "--reason", "x")
    assert missing.exit_code == 2 and "Traceback" not in missing.output

    log = json.loads(run(db, "log", "--unit", "D1", "--indicator", "official_email_ratio",
                         "--format", "json").stdout)
    assert [e["payload"]["type"] for e in log] == [
        "indicator_submitted", "indicator_corrected", "indicator_retracted"]


def test_update_and_delete_are_refused_by_the_database(db):
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM events WHERE seq = 1")
    conn.close()


def test_prove_and_verify_against_a_published_checkpoint(db, run, tmp_path):
    f = tmp_path / "good.csv"
    f.write_text(GOOD, encoding="utf-8")
    run(db, "import", f)
    cp = checkpoint(run, db)
    text = f"{cp['size']}:{cp['root']}"
    run(db, "submit", "--year", 2020, "C1", "leadership_score", "7")
    proof = run(db, "prove", 5, "--checkpoint", text)
    assert proof.exit_code == 0 and "VERIFIED" in proof.stdout
    assert run(db, "verify", "--checkpoint", text).exit_code == 0
    forged = text[:-1] + ("0" if text[-1] != "0" else "1")
    assert run(db, "verify", "--checkpoint", forged).exit_code == 1
    assert run(db, "prove", 5, "--checkpoint", forged).exit_code == 1
