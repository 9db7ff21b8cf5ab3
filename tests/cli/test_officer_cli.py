"""The officer's everyday commands: `log` filters, `prove --unit`, `--db` after the command,
one `--format table|json|csv` across commands, `methodologies show` with the indicators."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

from events.schema import TRIGGERS
from events.merkle import Checkpoint, InclusionProof
from ictindex.cli import build_cli

# The sample: units and values of 2020, the adoption, the three publications (#4172–#4174,
# decision 1018/QĐ-UBND) and one correction after them (#4175).


def seqs(result) -> list[int]:
    assert result.exit_code == 0, result.output
    return [e["seq"] for e in json.loads(result.stdout)]


def test_log_since_and_until_take_a_seq_a_time_or_published(run, sample_db):
    assert seqs(run(sample_db, "log", "--since", 4170, "--until", 4172, "--format", "json")) == [4171, 4172]
    assert seqs(run(sample_db, "log", "--since", "published", "--year", 2020, "--format", "json")) == [4175]
    assert seqs(run(sample_db, "log", "--until", "published", "--year", 2020, "--since", 4173,
                    "--format", "json")) == [4174]
    # a date is the end of that day, as everywhere an as-of point is taken
    after = seqs(run(sample_db, "log", "--since", "2021-04-28", "--format", "json"))
    assert after == [4175]
    upto = seqs(run(sample_db, "log", "--until", "2021-04-28T08:59:59Z", "--since", 4160,
                    "--format", "json"))
    assert upto == list(range(4161, 4172))
    r = run(sample_db, "log", "--since", "published")
    assert r.exit_code == 2 and "--since published needs --year" in r.stderr
    r = run(sample_db, "log", "--since", "yesterday")
    assert r.exit_code == 2 and "cannot read as-of point 'yesterday'" in r.stderr


def test_log_type_unit_and_limit_filters(run, sample_db):
    published = run(sample_db, "log", "--type", "ranking_published", "--format", "json")
    assert seqs(published) == [4172, 4173, 4174]
    both = run(sample_db, "log", "--type", "ranking_published", "--type", "indicator_corrected",
               "--year", 2020, "--format", "json")
    assert seqs(both) == [4172, 4173, 4174, 4175]
    unit = json.loads(run(sample_db, "log", "--unit", "26656", "--year", 2020, "--format", "json").stdout)
    assert unit and all(e["payload"]["unit_id"] == "26656" for e in unit)
    assert unit[-1]["seq"] == 4175
    assert seqs(run(sample_db, "log", "--unit", "26656", "--year", 2020, "--limit", 2, "--format", "json")) == \
        [e["seq"] for e in unit[:2]]
    assert seqs(run(sample_db, "log", "--limit", 0, "--format", "json")) == []
    r = run(sample_db, "log", "--type", "submitted")
    assert r.exit_code == 2 and "indicator_submitted" in r.stderr


def test_log_csv_is_the_table_as_csv(run, sample_db):
    r = run(sample_db, "log", "--type", "ranking_published", "--format", "csv")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["seq", "recorded (UTC)", "actor", "type", "what"]
    assert [row[0] for row in rows[1:]] == ["4172", "4173", "4174"]


def test_prove_unit_proves_each_event_of_the_unit_for_the_year(run, sample_db):
    cp = run(sample_db, "checkpoint", "--size", 4174).stdout.strip()
    r = run(sample_db, "prove", "--unit", "26656", "--year", 2020, "--checkpoint", cp,
            "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    unit_events = json.loads(run(sample_db, "log", "--unit", "26656", "--year", 2020,
                                 "--format", "json").stdout)
    assert [p["seq"] for p in data["proofs"]] == [e["seq"] for e in unit_events if e["seq"] <= 4174]
    assert data["after_checkpoint"] == [4175] and data["ok"] is True
    root = Checkpoint.parse(cp)
    for p in data["proofs"]:  # each proof checks on its own, from the bytes shown
        from events.canonical import leaf_hash_hex

        proof = InclusionProof(p["proof"]["index"], p["proof"]["size"],
                               leaf_hash_hex(p["event"].encode()), p["proof"]["path"])
        assert proof.verify(root)
    text = run(sample_db, "prove", "--unit", "26656", "--year", 2020, "--checkpoint", cp)
    assert text.exit_code == 0
    last = text.stdout.rstrip().splitlines()
    assert last[-2] == "recorded after the checkpoint (not in it): #4175"
    assert last[-1] == f"VERIFIED: {len(data['proofs'])} of {len(data['proofs'])} events of 26656 for 2020 are in checkpoint {cp}"


def test_prove_unit_fails_on_a_tampered_event_and_names_it(run, sample_copy):
    cp = run(sample_copy, "checkpoint", "--size", 4174).stdout.strip()
    seq = json.loads(run(sample_copy, "log", "--unit", "26656", "--year", 2020,
                         "--format", "json").stdout)[3]["seq"]
    with sqlite3.connect(sample_copy) as db:
        body = db.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()[0]
        db.execute("DROP TRIGGER events_no_update")
        db.execute("UPDATE events SET body = ? WHERE seq = ?",
                   (bytes(body).replace(b'"value":', b'"value": '), seq))
        db.execute(TRIGGERS["events_no_update"])
    r = run(sample_copy, "prove", "--unit", "26656", "--year", 2020, "--checkpoint", cp)
    assert r.exit_code == 1
    assert f"not shown: #{seq}" in r.stdout.splitlines()[-1]
    assert r.stdout.splitlines()[-1].startswith("NOT VERIFIED: ")


@pytest.mark.parametrize("args, message", [
    (["--checkpoint", "1:" + "0" * 64], "give an EVENT to prove, or --unit and --year"),
    (["5", "--unit", "26656", "--year", "2020", "--checkpoint", "1:" + "0" * 64], "not both"),
    (["--unit", "26656", "--checkpoint", "1:" + "0" * 64], "--unit and --year go together"),
    (["--unit", "nobody", "--year", "2020", "--checkpoint", "1:" + "0" * 64], "no event of unit nobody for 2020"),
])
def test_prove_refusals(run, sample_db, args, message):
    r = run(sample_db, "prove", *args)
    assert r.exit_code == 2 and message in r.stderr


def test_db_is_taken_before_or_after_the_command(sample_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./ictindex.db here: a command that ignored --db fails
    cli, runner = build_cli(), CliRunner()
    before = runner.invoke(cli, ["--db", str(sample_db), "rank", "--year", "2020", "--tier", "district"])
    after = runner.invoke(cli, ["rank", "--db", str(sample_db), "--year", "2020", "--tier", "district"])
    last = runner.invoke(cli, ["rank", "--year", "2020", "--tier", "district", "--db", str(sample_db)])
    assert before.exit_code == 0, before.output
    assert before.stdout == after.stdout == last.stdout
    sub = runner.invoke(cli, ["methodologies", "show", "local-ict@2020", "--db", str(sample_db)])
    assert sub.exit_code == 0
    assert not (tmp_path / "ictindex.db").exists()
    # a subcommand of a group, writing: the log named after the command is the one written
    new = tmp_path / "new.db"
    (tmp_path / "u.csv").write_text("unit_id,tier,name,parent_id\nD1,district,Huyện Một,\n",
                                    encoding="utf-8")
    r = runner.invoke(cli, ["units", "import", "u.csv", "--db", str(new)])
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "ictindex.db").exists() and new.exists()


def test_demo_keeps_a_db_given_after_the_command(tmp_path):
    cli, runner = build_cli(), CliRunner()
    db = tmp_path / "demo.db"
    r = runner.invoke(cli, ["demo", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert f"Sample log: {db} — 4175 events" in r.stdout and db.exists()


@pytest.mark.parametrize("command", [
    ["rank", "--year", "2020", "--tier", "district"],
    ["diff", "--year", "2020", "--tier", "commune", "--from", "published"],
    ["log", "--type", "ranking_published"],
    ["methodologies"],
])
def test_format_table_json_csv_where_the_output_is_a_table(run, sample_db, command):
    for fmt in ("table", "json", "csv"):
        r = run(sample_db, *command, "--format", fmt)
        assert r.exit_code == 0, (fmt, r.output)
    rows = list(csv.reader(io.StringIO(run(sample_db, *command, "--format", "csv").stdout)))
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)


def test_diff_csv_has_one_row_per_changed_unit(run, sample_db):
    d = json.loads(run(sample_db, "diff", "--year", 2020, "--tier", "commune", "--from",
                       "published", "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(run(sample_db, "diff", "--year", 2020, "--tier", "commune",
                                               "--from", "published", "--format", "csv").stdout)))
    assert [r["unit_id"] for r in rows] == [c["unit_id"] for c in d["changes"]]
    assert rows[0]["events"] == "4175" and rows[0]["new_rank"] == str(d["changes"][0]["new_rank"])


def test_explain_takes_format_table_and_still_text(run, sample_db):
    table = run(sample_db, "explain", "26656", "--year", 2020, "--format", "table")
    text = run(sample_db, "explain", "26656", "--year", 2020, "--format", "text")
    default = run(sample_db, "explain", "26656", "--year", 2020)
    assert table.exit_code == text.exit_code == default.exit_code == 0
    assert table.stdout == text.stdout == default.stdout
    assert "text" not in run(sample_db, "explain", "--help").stdout.split("--format")[1].split("\n")[0]


def test_methodologies_show_lists_each_indicators_type_range_and_allowed_values(run, sample_db):
    out = run(sample_db, "methodologies", "show", "local-ict@2020").stdout
    indicators = out.split("\nindicators\n")[1].splitlines()
    assert indicators[0].split() == ["code", "name", "type", "unit", "range", "allowed", "values"]
    by_code = {line.split()[0]: line for line in indicators[2:]}
    assert by_code["staff_computer_pct"].split()[-2:] == ["percentage", "%", "0..100"][-2:]
    assert "0..100" in by_code["staff_computer_pct"] and "percentage" in by_code["staff_computer_pct"]
    assert by_code["steering_head"].rstrip().endswith(
        "category                        chairman (Chủ tịch), deputy (Phó Chủ tịch), none (Không có)"[-64:])
    assert by_code["server_room"].rstrip().endswith("yes_no                          có, không"[-20:])
    assert "≥ 0" in by_code["computers_total"]
    data = json.loads(run(sample_db, "methodologies", "show", "local-ict@2020", "--format", "json").stdout)
    head = next(i for i in data["indicators"] if i["code"] == "steering_head")
    assert head["labels_vi"]["chairman"] == "Chủ tịch" and head["range"] == ""
