"""Issue 14, items 2, 4 and 5: values that contradict each other, broken unit hierarchies, and
tiers published with units that have no values.

The refusals run as the corpus of test_hostile_inputs.py does (the real CLI in-process, a copy
of the template log, the log compared before and after), with stricter checks: exit status 2
exactly, every expected line with its exact `FILE:ROW:COLUMN: ` (or `Error: `) prefix, no
traceback, and the log byte-identical.  The files are written into tmp_path by the cases.

The log here is the template log (conftest.py) plus, for the constraint cases, D1's values of
two part/whole pairs: dossiers_total 12921 with dossiers_online 12000, procedures_total 40,
edocs_sent_total 500.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hostile_kit import snapshot
from test_hostile_inputs import HEADER, Case

from ictindex.app import Ictindex

UNIT_HEADER = ["unit_id", "tier", "name", "parent_id"]


def _csv(name: str, header: list[str], rows: list[list]):
    def build(tmp: Path) -> Path:
        path = tmp / name
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        return path
    return build


def submissions(name: str, rows: list[list]):
    return _csv(name, HEADER, rows)


def units(name: str, rows: list[list]):
    return _csv(name, UNIT_HEADER, rows)


def units_xlsx(tmp: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Đơn vị"
    wb.active.append(UNIT_HEADER)
    wb.active.append(["C9", "commune", "UBND xã Chín", "D1"])
    wb.create_sheet("Ghi chú").append(["ghi chú"])
    path = tmp / "units-two-sheets.xlsx"
    wb.save(path)
    return path


UNITS = ("units", "import", "{f}")

CASES = [
    # -- item 2: parts larger than their whole, required values --------------------------------
    Case("constraint-part-above-whole-in-one-file",
         submissions("part_above_whole.csv", [[2020, "D2", "computers_total", 12, "CV 1", ""],
                                              [2020, "D2", "computers_broadband", 20, "CV 1", ""]]),
         [("{f}:3:value: ", "computers_broadband 20 (row 3) is more than computers_total 12 (row 2) for D2 in 2020")]),
    Case("constraint-whole-below-part-in-one-file",
         submissions("whole_below_part.csv", [[2020, "D2", "computers_antivirus", 20, "CV 1", ""],
                                              [2020, "D2", "computers_total", 12, "CV 1", ""]]),
         [("{f}:3:value: ", "computers_total 12 (row 3) is less than its part computers_antivirus 20 (row 2)")]),
    Case("constraint-part-above-whole-in-the-log",
         submissions("part_above_logged_whole.csv", [[2020, "D1", "procedures_level34", 55, "CV 1", ""]]),
         [("{f}:2:value: ", "procedures_level34 55 (row 2) is more than procedures_total 40 (#")]),
    Case("constraint-correct-part-above-whole", "",
         [("Error: ", "dossiers_online 99999 (the value given) is more than dossiers_total 12921 (#")],
         args=lambda s: ("correct", s["online"], "99999", "--reason", "x")),
    Case("constraint-correct-whole-below-part", "",
         [("Error: ", "dossiers_total 100 (the value given) is less than its part dossiers_online 12000 (#")],
         args=lambda s: ("correct", s["total"], "100", "--reason", "x")),
    Case("constraint-submit-part-above-whole", "",
         [("Error: ", "edocs_sent_electronic 600 (the value given) is more than edocs_sent_total 500 (#")],
         args=lambda s: ("submit", "--year", 2020, "D1", "edocs_sent_electronic", "600")),
    Case("constraint-required-if",
         submissions("required_if.csv", [[2020, "D2", "server_room", "yes", "CV 1", ""],
                                         [2020, "D2", "server_room_ups", "no", "CV 1", ""]]),
         [("{f}:2:value: ", "server_room yes (row 2) but server_room_standard has no value for D2 in 2020")]),
    Case("constraint-every-unit-reported",
         submissions("two_units.csv", [[2020, "D2", "it_staff", 1, "", ""],
                                       [2020, "D2", "it_staff_degree", 3, "", ""],
                                       [2020, "C1", "dossiers_total", 10, "", ""],
                                       [2020, "C1", "dossiers_online", 11, "", ""]]),
         [("{f}:3:value: ", "it_staff_degree 3 (row 3) is more than it_staff 1 (row 2) for D2"),
          ("{f}:5:value: ", "dossiers_online 11 (row 5) is more than dossiers_total 10 (row 4) for C1")]),
    # -- item 4: the unit hierarchy --------------------------------------------------------------
    Case("units-self-parent", units("self_parent.csv", [["C9", "commune", "UBND xã Chín", "C9"]]),
         [("{f}:2:parent_id: ", "unit C9 names itself as its parent")], command=UNITS),
    Case("units-parent-cycle",
         units("cycle.csv", [["D8", "district", "UBND huyện Tám", "D9"],
                             ["D9", "district", "UBND huyện Chín", "D8"]]),
         [("{f}:2:parent_id: ", "parent cycle: D8 → D9 → D8"),
          ("{f}:3:parent_id: ", "parent cycle: D9 → D8 → D9")], command=UNITS),
    Case("units-commune-as-parent-of-a-district",
         units("commune_parent.csv", [["D9", "district", "UBND huyện Chín", "C1"]]),
         [("{f}:2:parent_id: ", "the parent of a district is a province, and C1 is a commune")],
         command=UNITS),
    Case("units-district-under-a-department",
         units("under_department.csv", [["SX", "department", "Sở X", ""],
                                         ["D9", "district", "UBND huyện Chín", "SX"]]),
         [("{f}:3:parent_id: ", "the parent of a district is a province, and SX is a department")],
         command=UNITS),
    Case("units-department-with-a-parent",
         units("department_parent.csv", [["SY", "department", "Sở Y", "D1"]]),
         [("{f}:2:parent_id: ", "a department has no parent unit (leave parent_id empty); D1 is a district")],
         command=UNITS),
    Case("units-commune-under-a-commune-of-the-log",
         units("commune_under_commune.csv", [["C9", "commune", "UBND xã Chín", "C1"]]),
         [("{f}:2:parent_id: ", "the parent of a commune is a district or a province, and C1 is a commune")],
         command=UNITS),
    Case("units-every-error-in-one-pass",
         units("all_at_once.csv", [["D1", "district", "UBND huyện Khác", ""],
                                   ["X1", "county", "Quận X", ""],
                                   ["C9", "commune", "UBND xã Chín", "C9"]]),
         [("{f}:2:unit_id: ", "unit D1 is already registered with other facts"),
          ("{f}:3:tier: ", "unknown tier 'county'"),
          ("{f}:4:parent_id: ", "names itself as its parent")], command=UNITS),
    Case("units-xlsx-no-such-sheet", units_xlsx,
         [("{f}:1:*: ", "the workbook has no sheet 'Units' (it has: Đơn vị, Ghi chú)")],
         command=("units", "import", "{f}", "--sheet", "Units")),
    # -- item 5: publishing a tier with missing inputs --------------------------------------------
    Case("publish-with-missing-inputs", "",
         [("Error: ", "district 2020: 2 unit(s) with missing inputs: D1 (")],
         args=lambda s: ("publish", "--year", 2020, "--tier", "district", "--decision", "1/QĐ")),
]


@pytest.fixture
def values_log(hostile_log) -> tuple[Path, dict[str, int]]:
    """The template log plus D1's part/whole values (see the module docstring)."""
    db, seqs = hostile_log
    seqs = dict(seqs)
    with Ictindex.open(db) as app:
        seqs["total"] = app.submit(2020, "D1", "dossiers_total", "12921", actor="setup").seq
        seqs["online"] = app.submit(2020, "D1", "dossiers_online", "12000", actor="setup").seq
        app.submit(2020, "D1", "procedures_total", "40", actor="setup")
        app.submit(2020, "D1", "edocs_sent_total", "500", actor="setup")
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, seqs


def test_at_least_eight_new_kinds_for_constraints_and_for_units():
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids)
    assert sum(i.startswith("constraint-") for i in ids) >= 8
    assert sum(i.startswith("units-") for i in ids) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_contradiction_is_refused_with_exit_2_and_the_log_untouched(case, values_log, run,
                                                                      tmp_path):
    db, seqs = values_log
    path = None if case.args is not None else case.source(tmp_path)
    before = snapshot(db)
    if case.args is not None:
        args = case.args(seqs)
    else:
        args = [str(path) if a == "{f}" else a for a in case.command]
    result = run(db, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for prefix, text in case.expect:
        prefix = prefix.replace("{f}", str(path))
        assert any(line.startswith(prefix) and text in line for line in lines), (
            f"no line starting {prefix!r} containing {text!r} in:\n{result.stderr}")
    if case.args is None:
        errors = [line for line in lines if not line.endswith("nothing was recorded.")]
        assert len(errors) == len(case.expect), result.stderr
    else:
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert snapshot(db) == before


# -- what is accepted --------------------------------------------------------------------------


def test_values_within_their_constraints_are_recorded(values_log, run, tmp_path):
    db, seqs = values_log
    f = submissions("fine.csv", [[2020, "D2", "computers_total", 12, "", ""],
                                 [2020, "D2", "computers_broadband", 12, "", ""],
                                 [2020, "D2", "server_room", "yes", "", ""],
                                 [2020, "D2", "server_room_standard", "basic", "", ""],
                                 [2020, "D2", "server_room_ups", "no", "", ""],
                                 [2020, "C1", "server_room", "no", "", ""]])(tmp_path)
    result = run(db, "import", f)
    assert result.exit_code == 0, result.output
    assert run(db, "correct", seqs["online"], "12921", "--reason", "recount").exit_code == 0


def test_the_sample_refuses_a_correction_above_its_whole(sample_db, tmp_path, run):
    """The issue's own case: `correct 3240 99999` (dossiers_online of 12,921 dossiers) got full
    marks through the ratio's clamp; it is refused, naming both values."""
    import shutil

    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)
    before = snapshot(db)
    result = run(db, "correct", "3240", "99999", "--reason", "x")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: dossiers_online 99999 (the value given) is more than dossiers_total 12921 (#3241) "
        "for 26656 in 2020")
    assert snapshot(db) == before


def test_units_import_reads_the_named_sheet_of_a_workbook(hostile_log, run, tmp_path):
    db, _ = hostile_log
    path = units_xlsx(tmp_path)
    refused = run(db, "units", "import", path)
    assert refused.exit_code == 2 and "--sheet NAME" in refused.stderr
    result = run(db, "units", "import", path, "--sheet", "Đơn vị")
    assert result.exit_code == 0, result.output
    with Ictindex.open(db) as app:
        assert app.state().unit("C9", 2020).parent_id == "D1"


def test_units_under_a_province_and_communes_without_parent_are_accepted(hostile_log, run, tmp_path):
    db, _ = hostile_log
    f = units("fine_units.csv", [["P1", "province", "Tỉnh Một", ""],
                                 ["D9", "district", "UBND huyện Chín", "P1"],
                                 ["C9", "commune", "UBND xã Chín", "D9"],
                                 ["C8", "commune", "UBND xã Tám", ""],
                                 ["C7", "commune", "UBND xã Bảy", "D1"]])(tmp_path)
    result = run(db, "units", "import", f)
    assert result.exit_code == 0, result.output


def test_rank_counts_units_with_missing_inputs_and_publish_allows_them_on_purpose(hostile_log, run):
    db, _ = hostile_log
    table = run(db, "rank", "--year", 2020, "--tier", "district")
    assert table.exit_code == 0
    # D1 and D2 have a few values each: ranked under the zero policy, and counted
    assert "2 unit(s) with missing inputs: D1 (" in table.stdout
    commune = run(db, "rank", "--year", 2020, "--tier", "commune")
    assert "not ranked: C1 UBND xã Phước Hưng: no data (not a single value this year)" in commune.stdout
    assert "1 unit(s) with missing inputs: C1 (36)" in commune.stdout
    import json

    as_json = json.loads(run(db, "rank", "--year", 2020, "--tier", "commune", "--format", "json").stdout)
    assert as_json["rows"] == [] and [e["unit_id"] for e in as_json["excluded"]] == ["C1"]
    assert list(as_json["missing_inputs"]) == ["C1"]
    published = run(db, "publish", "--year", 2020, "--tier", "district", "--decision", "1/QĐ",
                    "--allow-missing")
    assert published.exit_code == 0, published.output
    assert "2 unit(s) with missing inputs" in published.stdout
    assert "published with the missing-data policy applied" in published.stdout


def test_the_sample_publishes_without_missing_inputs(sample_db, tmp_path, run):
    """The sample's units all have every value: its tiers publish without --allow-missing (the
    demo publishes them through the same check) and rank prints no missing-inputs line."""
    import shutil

    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)
    for tier in ("department", "district", "commune"):
        ranked = run(db, "rank", "--year", 2020, "--tier", tier)
        assert "missing inputs" not in ranked.stdout and "not ranked" not in ranked.stdout
    result = run(db, "publish", "--year", 2020, "--tier", "commune", "--decision", "1502/QĐ-UBND")
    assert result.exit_code == 0, result.output
