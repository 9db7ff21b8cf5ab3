"""Issue 13, items 8, 9, 10 and 12: nothing a careless officer types changes what a published
year shows without the log saying why.

All on the BR-VT 2020 sample: 2020 is adopted under local-ict@2020 for three tiers and published
by 1018/QĐ-UBND (#4172–#4174); #4175 corrects a commune value after the publication.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from plugins.manager import reset_registry

DECISION = "1018/QĐ-UBND"
# Event #1102: UBND huyện Đất Đỏ (753, a district) reported dossiers_online = 4475.
SUBMISSION = ["submit", "--year", 2020, "753", "dossiers_online", "4475",
              "--evidence", "Báo cáo số 16/BC-753 ngày 11/01/2021"]


def last_seq(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select max(seq) from events").fetchone()[0]


def totals(run, db, tier: str, *, as_of: str = "now") -> dict[str, str]:
    out = run(db, "rank", "--year", 2020, "--tier", tier, "--as-of", as_of, "--format", "json")
    assert out.exit_code == 0, out.output
    return {r["unit_id"]: r["total"] for r in json.loads(out.stdout)["rows"]}


def verify_ok(run, db) -> None:
    out = run(db, "verify")
    assert out.exit_code == 0 and "DOES NOT" not in out.output, out.output


@pytest.fixture
def with_example(installed_example, monkeypatch):
    """The example edition package installed (example-province@2023 scores departments on
    indicators the sample's departments reported)."""
    monkeypatch.delenv("ICTINDEX_LOAD_PLUGINS")
    reset_registry()
    yield
    reset_registry()


# -- 8. re-adopting a published year -------------------------------------------------------


def test_readopting_an_edition_without_data_for_the_year_is_refused(run, sample_copy):
    """On main `adopt local-dti@2022 --year 2020` exits 0 and every 2020 total becomes 0.00."""
    before = totals(run, sample_copy, "district")
    plain = run(sample_copy, "adopt", "local-dti@2022", "--year", 2020)
    assert plain.exit_code == 2
    assert "needs --reason and --authority" in plain.stderr
    forced = run(sample_copy, "adopt", "local-dti@2022", "--year", 2020, "--reason", "new decree",
                 "--authority", "QĐ 9/2021")
    assert forced.exit_code == 2
    assert "local-dti@2022 has no data for 2020" in forced.stderr
    assert last_seq(sample_copy) == 4175
    assert totals(run, sample_copy, "district") == before


def test_readoption_shows_its_diff_needs_reason_and_is_named_as_a_cause(with_example, run,
                                                                         sample_copy, tmp_path):
    adopt = ["adopt", "example-province@2023", "--year", 2020, "--tier", "department"]
    dry = run(sample_copy, *adopt, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "department 2020: now → now (local-ict@2020 → example-province@2023)" in dry.stdout
    assert "19 units changed" in dry.stdout and "nothing was recorded" in dry.stdout
    assert last_seq(sample_copy) == 4175

    assert run(sample_copy, *adopt).exit_code == 2
    assert run(sample_copy, *adopt, "--reason", "only a reason").exit_code == 2
    assert last_seq(sample_copy) == 4175

    done = run(sample_copy, *adopt, "--reason", "Bộ chỉ số mới", "--authority", "QĐ 77/QĐ-UBND")
    assert done.exit_code == 0, done.output
    assert "19 units changed" in done.stdout  # the diff, shown before it is recorded
    assert "Recorded #4176: 2020 department adopts example-province@2023" in done.stdout

    diff = run(sample_copy, "diff", "--year", 2020, "--tier", "department", "--from", "published",
               "--format", "json")
    d = json.loads(diff.stdout)
    assert [(a["seq"], a["edition"], a["reason"], a["authority"]) for a in d["readoptions"]] == [
        (4176, "example-province@2023", "Bộ chỉ số mới", "QĐ 77/QĐ-UBND")]
    for change in d["changes"]:
        if change["delta"] not in (None, "0.00"):
            assert "readopted" in change["causes"] and "edition" not in change["causes"]
            assert 4176 in [e["seq"] for e in change["events"]]
    text = run(sample_copy, "diff", "--year", 2020, "--tier", "department", "--from", "published")
    assert "because: the year was re-adopted under another edition" in text.stdout

    explained = run(sample_copy, "explain", "SCT", "--year", 2020)
    assert "re-adopted: #4176" in explained.stdout and "reason: Bộ chỉ số mới" in explained.stdout

    site = run(sample_copy, "site", "--year", 2020, "--out", tmp_path / "site")
    assert site.exit_code == 0, site.output
    pages = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
    assert "năm được áp dụng lại theo bộ tiêu chí khác" in pages and "Bộ chỉ số mới" in pages
    verify_ok(run, sample_copy)


# -- 9. values after publication -----------------------------------------------------------


def test_a_value_recorded_after_publication_needs_a_reason_and_diff_lists_it(run, sample_copy):
    retracted = run(sample_copy, "retract", "1102", "--reason", "báo cáo nhầm đơn vị")
    assert retracted.exit_code == 0, retracted.output
    new_value = ["submit", "--year", 2020, "753", "dossiers_online", "5000"]
    refused = run(sample_copy, *new_value)
    assert refused.exit_code == 2
    assert "2020 district was published (#4173, decision 1018/QĐ-UBND)" in refused.stderr
    assert "needs --reason" in refused.stderr
    assert last_seq(sample_copy) == 4176

    (sample_copy.parent / "late.csv").write_text(
        "year,unit_id,indicator,value\n2020,753,dossiers_online,5000\n", encoding="utf-8")
    imported = run(sample_copy, "import", sample_copy.parent / "late.csv")
    assert imported.exit_code == 2 and "late.csv:2:value:" in imported.stderr
    assert last_seq(sample_copy) == 4176

    ok = run(sample_copy, *new_value, "--reason", "Báo cáo bổ sung", "--authority", "CV 12/STTTT")
    assert ok.exit_code == 0, ok.output
    d = json.loads(run(sample_copy, "diff", "--year", 2020, "--tier", "district", "--from",
                       "published", "--format", "json").stdout)
    [unit] = [c for c in d["changes"] if c["unit_id"] == "753"]
    [late] = [e for e in unit["events"] if e["seq"] == 4177]
    assert (late["kind"], late["reason"], late["authority"]) == (
        "submitted", "Báo cáo bổ sung", "CV 12/STTTT")
    assert "reason: Báo cáo bổ sung" in run(sample_copy, "explain", "753", "--year", 2020).stdout
    verify_ok(run, sample_copy)


# -- 10. retract, then submit the same value again -----------------------------------------


def test_resubmitting_a_retracted_value_is_refused_with_the_way_to_restore_it(run, sample_copy):
    published = totals(run, sample_copy, "district", as_of="published")
    assert run(sample_copy, "retract", "1102", "--reason", "nhầm").exit_code == 0
    again = run(sample_copy, *SUBMISSION)
    assert again.exit_code == 2, again.output  # main: "Already recorded: nothing new.", exit 0
    assert "Already recorded" not in again.output
    assert "event #1102, which was retracted" in again.stderr
    assert "--reason" in again.stderr
    (sample_copy.parent / "again.csv").write_text(
        "year,unit_id,indicator,value,evidence\n"
        "2020,753,dossiers_online,4475,Báo cáo số 16/BC-753 ngày 11/01/2021\n", encoding="utf-8")
    imported = run(sample_copy, "import", sample_copy.parent / "again.csv")
    assert imported.exit_code == 2 and "which was retracted" in imported.stderr
    assert last_seq(sample_copy) == 4176

    restored = run(sample_copy, *SUBMISSION, "--reason", "rút lại nhầm", "--authority", "CV 3")
    assert restored.exit_code == 0 and "Recorded #4177" in restored.stdout
    assert totals(run, sample_copy, "district") == published  # the value counts again
    same = run(sample_copy, *SUBMISSION, "--reason", "rút lại nhầm", "--authority", "CV 3")
    assert same.stdout.strip() == "Already recorded: nothing new."
    verify_ok(run, sample_copy)


# -- 12. publishing ------------------------------------------------------------------------


def test_the_same_decision_published_again(run, sample_copy):
    same = run(sample_copy, "publish", "--year", 2020, "--tier", "district", "--decision", DECISION)
    assert same.exit_code == 0, same.output
    assert "Already published" in same.stdout and "#4173" in same.stdout
    assert last_seq(sample_copy) == 4175  # main records a second, identical publication

    # The commune ranking moved (#4175): the same decision publishing it needs --supersede.
    other = ["publish", "--year", 2020, "--tier", "commune", "--decision", DECISION]
    refused = run(sample_copy, *other)
    assert refused.exit_code == 2 and "--supersede" in refused.stderr
    assert run(sample_copy, *other, "--supersede").exit_code == 2  # no reason
    assert last_seq(sample_copy) == 4175
    done = run(sample_copy, *other, "--supersede", "--reason", "đính chính #4175")
    assert done.exit_code == 0, done.output
    assert "supersedes #4174: đính chính #4175" in done.stdout
    log = json.loads(run(sample_copy, "log", "--format", "json").stdout)
    assert log[-1]["payload"]["reason"] == "đính chính #4175"
    assert log[-1]["payload"]["supersedes"] == log[4173]["event_id"]
    # A new decision publishing a moved ranking is the ordinary way: no flag needed.
    assert run(sample_copy, "publish", "--year", 2020, "--tier", "department",
               "--decision", "2/QĐ-UBND").exit_code == 0
    verify_ok(run, sample_copy)


def test_rank_as_of_published_says_when_it_does_not_reproduce_the_publication(run, sample_copy):
    ok = run(sample_copy, "rank", "--year", 2020, "--tier", "district", "--as-of", "published",
             "--format", "json")
    assert ok.stderr == "" and json.loads(ok.stdout)["publication"]["reproduces"] is True
    # Whoever can write the file edits a district value before the publication (and puts the
    # append-only trigger back as it was).
    with sqlite3.connect(sample_copy) as conn:
        name, sql = conn.execute("select name, sql from sqlite_master where type = 'trigger' "
                                 "and sql like '%BEFORE UPDATE%'").fetchone()
        conn.execute(f"drop trigger {name}")
        [body] = conn.execute("select body from events where seq = 1102").fetchone()
        conn.execute("update events set body = ? where seq = 1102",
                     (body.replace(b'"value":"4475"', b'"value":"44750"'),))
        conn.execute(sql)
    out = run(sample_copy, "rank", "--year", 2020, "--tier", "district", "--as-of", "published",
              "--format", "json")
    assert "WARNING: this replay does NOT reproduce publication #4173" in out.stderr
    publication = json.loads(out.stdout)["publication"]
    assert publication["reproduces"] is False and publication["seq"] == 4173
    table = run(sample_copy, "rank", "--year", 2020, "--tier", "district", "--as-of", "published")
    assert "does NOT reproduce" in table.stderr


def test_an_old_file_run_again_after_a_value_was_restored_records_nothing(run, sample_copy):
    """Once a retracted value counts again (submitted with a reason), the original submission,
    re-run, is what the log already says: nothing new, not an error."""
    assert run(sample_copy, "retract", "1102", "--reason", "nhầm").exit_code == 0
    assert run(sample_copy, *SUBMISSION, "--reason", "rút lại nhầm").exit_code == 0
    again = run(sample_copy, *SUBMISSION)
    assert again.exit_code == 0 and again.stdout.strip() == "Already recorded: nothing new."
    assert last_seq(sample_copy) == 4177
