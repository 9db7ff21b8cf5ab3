"""Issue 17, item 1: `units rename|retire|merge|split|list`, names for units, and lineage, end
to end on the BR-VT sample log (refusals: tests/hostile/test_hostile_units.py)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from events.types import UnitRegistered
from ictindex.app import Ictindex
from ictindex.errors import UsageError

DECISION = "Nghị quyết 1656/NQ-UBTVQH15"
CHANGE = ("--date", "2025-07-01", "--reason", "Sắp xếp đơn vị hành chính", "--decision", DECISION)


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.stdout


def _events(db):
    with Ictindex.open(db, read_only=True) as app:
        return list(app.log())


def test_a_merge_is_one_event_and_leaves_the_2020_ranking_as_published(sample_copy, run):
    before = json.loads(_ok(run(sample_copy, "rank", "--year", 2020, "--tier", "commune",
                                "--format", "json")))
    out = _ok(run(sample_copy, "units", "merge", "thi tran dat do", "phuoc long tho",
                  "--into", "26680", "--name", "UBND xã Đất Đỏ", *CHANGE))
    assert out.startswith("Recorded #4176 ")
    (event,) = _events(sample_copy)[4175:]
    p = event.payload
    assert (p.sources, p.target, p.tier, p.name, p.authority, p.date.isoformat()) == (
        ("26680", "26683"), "26680", "commune", "UBND xã Đất Đỏ", DECISION, "2025-07-01")
    after = json.loads(_ok(run(sample_copy, "rank", "--year", 2020, "--tier", "commune",
                               "--format", "json")))
    assert after["rows"] == before["rows"]
    assert "reproduces" in _ok(run(sample_copy, "verify"))


def test_units_list_shows_each_year_as_it_was(sample_copy, run):
    _ok(run(sample_copy, "units", "merge", "26683", "26686", "--into", "N2025",
            "--name", "UBND xã Phước Hội Thọ", "--tier", "commune", *CHANGE))
    _ok(run(sample_copy, "units", "retire", "753", *CHANGE))
    y2024 = json.loads(_ok(run(sample_copy, "units", "list", "--year", 2024, "--format", "json")))
    y2025 = json.loads(_ok(run(sample_copy, "units", "list", "--year", 2025, "--format", "json")))
    ids24, ids25 = {u["unit_id"] for u in y2024}, {u["unit_id"] for u in y2025}
    assert {"26683", "26686", "753"} <= ids24 and "N2025" not in ids24
    assert not {"26683", "26686", "753"} & ids25 and "N2025" in ids25
    assert len(ids24) == 109 and len(ids25) == 107
    new = next(u for u in y2025 if u["unit_id"] == "N2025")
    assert new == {"unit_id": "N2025", "tier": "commune", "name": "UBND xã Phước Hội Thọ",
                   "parent_id": "753", "from_year": 2025, "last_year": None, "merged_into": None}
    rows = list(csv.DictReader(io.StringIO(_ok(run(sample_copy, "units", "list", "--tier",
                                                   "district", "--format", "csv")))))
    assert [r["unit_id"] for r in rows] == ["747", "748", "750", "751", "752", "753", "754", "755"]
    assert rows[5]["last_year"] == "2024" and rows[5]["name"] == "UBND huyện Đất Đỏ"
    table = _ok(run(sample_copy, "units", "list", "--year", 2020, "--tier", "department"))
    assert table.splitlines()[0].split() == ["unit_id", "tier", "name", "parent_id", "from_year",
                                             "last_year", "merged_into"]
    assert len(table.splitlines()) == 2 + 19


def test_rename_counts_from_the_year_of_its_date(sample_copy, run):
    _ok(run(sample_copy, "units", "rename", "phu my", "UBND thành phố Phú Mỹ",
            "--date", "2025-04-01", "--reason", "Thành lập thành phố", "--authority", "NQ 1"))
    (event,) = _events(sample_copy)[4175:]
    assert (event.payload.unit_id, event.payload.from_year) == ("754", 2025)

    def name(year):
        rows = json.loads(_ok(run(sample_copy, "units", "list", "--year", year, "--format", "json")))
        return next(u["name"] for u in rows if u["unit_id"] == "754")

    assert (name(2024), name(2025)) == ("UBND thị xã Phú Mỹ", "UBND thành phố Phú Mỹ")


def test_a_split_makes_new_units_and_the_unit_split_ends(sample_copy, run):
    _ok(run(sample_copy, "units", "split", "lang dai", "--into", "LD1:UBND xã Láng Dài Một",
            "--into", "LD2:UBND xã Láng Dài Hai", *CHANGE))
    rows = {u["unit_id"]: u for u in json.loads(_ok(run(
        sample_copy, "units", "list", "--year", 2025, "--tier", "commune", "--format", "json")))}
    assert "26698" not in rows
    assert rows["LD1"]["parent_id"] == rows["LD2"]["parent_id"] == "753"
    assert rows["LD2"]["from_year"] == 2025
    x = json.loads(_ok(run(sample_copy, "explain", "26698", "--year", 2020, "--format", "json")))
    (step,) = x["lineage"]
    assert step["kind"] == "split_into" and step["units"] == [["LD1", "UBND xã Láng Dài Một"],
                                                              ["LD2", "UBND xã Láng Dài Hai"]]


def test_a_change_that_would_alter_a_published_ranking_is_refused(sample_copy, run):
    before = _ok(run(sample_copy, "checkpoint"))
    result = run(sample_copy, "units", "retire", "753", "--date", "2020-12-31", "--reason", "r",
                 "--authority", "a")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("Error: retiring 753 effective 2020-12-31 would change the "
                                    "district ranking of 2020, which is already published")
    assert _ok(run(sample_copy, "checkpoint")) == before


def test_explain_shows_the_lineage_and_the_json_has_it_only_when_there_is_one(sample_copy, run):
    plain = json.loads(_ok(run(sample_copy, "explain", "26683", "--year", 2020, "--format", "json")))
    assert "lineage" not in plain  # the JSON of a unit that never changed is as it was
    _ok(run(sample_copy, "units", "merge", "26683", "26686", "--into", "26686", *CHANGE))
    text = _ok(run(sample_copy, "explain", "phuoc long tho", "--year", 2020))
    assert text.splitlines()[2:4] == [
        "Lineage:",
        f"  2025-07-01 (counts from 2025): merged into 26686 UBND xã Phước Hội, #4176; by {DECISION}; "
        "reason: Sắp xếp đơn vị hành chính"]
    x = json.loads(_ok(run(sample_copy, "explain", "26686", "--year", 2020, "--format", "json")))
    (step,) = x["lineage"]
    assert (step["kind"], step["units"], step["date"]) == (
        "merged_from", [["26683", "UBND xã Phước Long Thọ"]], "2025-07-01")


def test_the_site_shows_a_units_lineage(sample_copy, run, tmp_path):
    _ok(run(sample_copy, "units", "merge", "26683", "26686", "--into", "26686", *CHANGE))
    _ok(run(sample_copy, "site", "--year", 2020, "--out", tmp_path / "site"))
    page = (tmp_path / "site" / "units" / "26683.html").read_text(encoding="utf-8")
    assert "Lịch sử đơn vị" in page
    assert "sáp nhập vào" in page and "UBND xã Phước Hội" in page and DECISION in page
    other = (tmp_path / "site" / "units" / "26656.html").read_text(encoding="utf-8")
    assert "Lịch sử đơn vị" not in other


def test_submit_and_explain_take_a_name(sample_copy, run):
    x = _ok(run(sample_copy, "explain", "DAT DO", "--year", 2020))
    assert x.startswith("UBND huyện Đất Đỏ (753) — district, 2020")
    x = _ok(run(sample_copy, "explain", "thị trấn đất đỏ", "--year", 2020))
    assert x.startswith("UBND thị trấn Đất Đỏ (26680) — commune, 2020")
    # the name is resolved before the submission's own checks, which then name the unit
    result = run(sample_copy, "submit", "--year", 2020, "xa binh chau", "dossiers_online", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: 26656 already has a value for dossiers_online")


def test_submit_records_under_the_id_of_the_unit_named(tmp_path, run):
    db = tmp_path / "log.db"
    with Ictindex.open(db) as app:
        app.store.append([UnitRegistered(unit_id="D1", tier="district", name="UBND huyện Một")],
                         actor="t")
        app.adopt("local-ict@2020", 2020, ["district"], actor="t")
    _ok(run(db, "submit", "--year", 2020, "huyện một", "computers_total", "5"))
    assert _events(db)[-1].payload.unit_id == "D1"


def test_an_exact_id_wins_over_a_name_and_the_year_narrows_a_name():
    with Ictindex.open("memory:") as app:
        app.store.append([
            UnitRegistered(unit_id="753", tier="district", name="UBND huyện Đất Đỏ"),
            UnitRegistered(unit_id="X", tier="district", name="753"),
            UnitRegistered(unit_id="Y", tier="district", name="Huyện Đất Đỏ mới", from_year=2026),
        ], actor="t")
        assert app.resolve_unit("753") == "753"
        assert app.resolve_unit("dat do", year=2020) == "753"
        assert app.resolve_unit("đất đỏ mới") == "Y"
        with pytest.raises(UsageError, match="'dat do' matches 2 units: 753 UBND huyện Đất Đỏ; "
                                             "Y Huyện Đất Đỏ mới"):
            app.resolve_unit("dat do")
        assert app.resolve_unit("no such unit") == "no such unit"


def test_rank_of_the_merge_year_has_the_merged_unit_and_not_its_sources(sample_copy, run):
    _ok(run(sample_copy, "units", "merge", "26683", "26686", "--into", "N25", "--name", "Xã Mới",
            *CHANGE))
    _ok(run(sample_copy, "adopt", "local-ict@2020", "--year", 2025, "--tier", "commune"))
    _ok(run(sample_copy, "submit", "--year", 2025, "xa moi", "computers_total", "5"))
    refused = run(sample_copy, "submit", "--year", 2025, "26683", "computers_total", "5")
    assert refused.exit_code == 2 and "unit 26683 did not exist in 2025" in refused.stderr
    r2025 = json.loads(_ok(run(sample_copy, "rank", "--year", 2025, "--tier", "commune",
                               "--format", "json")))
    listed = [r["unit_id"] for r in r2025["rows"]] + [e["unit_id"] for e in r2025["excluded"]]
    assert [r["unit_id"] for r in r2025["rows"]] == ["N25"]
    assert "26683" not in listed and "26686" not in listed and len(listed) == 82 - 2 + 1
    r2020 = json.loads(_ok(run(sample_copy, "rank", "--year", 2020, "--tier", "commune",
                               "--format", "json")))
    ranked = {r["unit_id"]: r["name"] for r in r2020["rows"]}
    assert ranked["26683"] == "UBND xã Phước Long Thọ" and "N25" not in ranked


def test_log_unit_takes_a_name(sample_copy, run):
    by_id = _ok(run(sample_copy, "log", "--unit", "26656", "--format", "json"))
    assert json.loads(by_id) and _ok(run(sample_copy, "log", "--unit", "xã bình châu",
                                         "--format", "json")) == by_id


def test_log_unit_lists_the_merges_and_splits_that_name_the_unit(sample_copy, run):
    _ok(run(sample_copy, "units", "merge", "26683", "26686", "--into", "N25", "--name", "Xã Mới",
            *CHANGE))
    merge_seq = 4176
    for unit in ("26683", "26686", "N25"):
        listed = json.loads(_ok(run(sample_copy, "log", "--unit", unit, "--format", "json")))
        seqs = [e["seq"] for e in listed]
        assert merge_seq in seqs, unit
        assert seqs == sorted(seqs)  # still oldest first
    # a unit the merge does not name does not see it; a year's listing is of that year's events
    other = json.loads(_ok(run(sample_copy, "log", "--unit", "26656", "--format", "json")))
    assert merge_seq not in [e["seq"] for e in other]
    of_year = json.loads(_ok(run(sample_copy, "log", "--unit", "26683", "--year", 2020,
                                 "--format", "json")))
    assert merge_seq not in [e["seq"] for e in of_year]
    before = json.loads(_ok(run(sample_copy, "log", "--unit", "26683", "--until", merge_seq - 1,
                                "--format", "json")))
    assert merge_seq not in [e["seq"] for e in before]
