"""`ictindex whatif` and `ictindex robustness` on the BR-VT 2020 sample log."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from engine.edition import content_hash
from engine.whatif import apply_assignments, parse_assignment
from plugins.manager import get_registry


def digest(db) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def test_whatif_tie_rule_names_the_changed_edition_and_every_moved_unit(run, sample_copy):
    before = digest(sample_copy)
    r = run(sample_copy, "whatif", "--year", "2020", "--tier", "commune", "--as-of", "published",
            "--set", "ties.method=dense")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    registry = get_registry()
    adopted = registry.methodology("local-ict@2020")
    changed = apply_assignments(adopted, [parse_assignment("ties.method=dense")], registry.rules)
    assert f"what-if edition: local-ict@2020 with content hash {content_hash(changed)[:12]}…" \
        in r.stdout
    assert "  set ties.method = dense" in lines
    # competition 12, 12, 14 becomes dense 12, 12, 13: the unit after the tie moves up
    assert "26719 UBND phường Mỹ Xuân: rank 14 → 12, total 86.92 → 86.92" in lines
    assert "    because: the edition differs" in lines
    assert digest(sample_copy) == before  # never writes to the log


def test_whatif_criterion_params_show_which_criteria_moved(run, sample_copy):
    r = run(sample_copy, "whatif", "--year", "2020", "--tier", "commune", "--format", "json",
            "--set", "tiers.commune.criteria.NL1.params.steps=[{at_least = 3, points = 3}, "
                     "{at_least = 2, points = 2}]")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["whatif_hash"] != out["edition_hash"]
    assert out["ranking"]["edition_hash"] == out["whatif_hash"]
    moved = [c for c in out["diff"]["changes"] if c["criteria"]]
    assert moved, "fewer points for dedicated IT staff must move some commune"
    for c in moved:
        assert [k["code"] for k in c["criteria"]] == ["NL1"]
        assert c["criteria"][0]["moved_by"] == "edition"
        assert Decimal(c["criteria"][0]["new"]) < Decimal(c["criteria"][0]["old"])


def test_whatif_refuses_bad_paths_values_and_editions_that_fail_the_checks(run, sample_copy):
    before = digest(sample_copy)
    cases = [
        ("tiers.commune.compnents.HT.max=12", "Error: --set tiers.commune.compnents.HT.max: "
         "tiers.commune has no 'compnents' (it has: aggregate, components, group_by, missing, scale)"),
        ("tiers.commune.components.XX.max=12", "Error: --set tiers.commune.components.XX.max: "
         "tiers.commune.components has no 'XX' (codes: HT, UD, DV, AT, NL, CS, LD)"),
        ("tiers.commune.missing=sometimes",
         "Error: --set tiers.commune.missing=sometimes: Invalid enum value 'sometimes'"),
        ("tiers.commune.components.HT.max=abc",
         "Error: --set tiers.commune.components.HT.max=abc: Invalid decimal string"),
        ("tiers.commune.components.HT.max=13", "Error: local-ict@2020 with --set: "
         "tiers.commune.components: component maxima add up to 88, not the tier's scale 90"),
        ("no-equals-sign", "Error: --set 'no-equals-sign': write PATH=VALUE"),
        # numbers the decimal context cannot compare or hold (were tracebacks)
        ("tiers.commune.components.HT.max=nan",
         "Error: --set tiers.commune.components.HT.max=nan: NaN is not a finite number"),
        ("tiers.commune.criteria.HT1.max=1e999999999",
         "Error: --set tiers.commune.criteria.HT1.max=1e999999999: 1E+999999999 is out of range"),
    ]
    for assignment, message in cases:
        r = run(sample_copy, "whatif", "--year", "2020", "--tier", "commune", "--set", assignment)
        assert r.exit_code == 2, (assignment, r.output)
        assert r.stderr.startswith(message), (assignment, r.stderr)
        assert "Traceback" not in r.output
    r = run(sample_copy, "whatif", "--year", "2020", "--tier", "commune")
    assert r.exit_code == 2 and "Error: name at least one change" in r.stderr
    assert digest(sample_copy) == before


def test_robustness_without_variation_gives_every_unit_its_published_rank(run, sample_copy):
    r = run(sample_copy, "robustness", "--year", "2020", "--tier", "commune", "--samples", "5",
            "--seed", "1", "--as-of", "published", "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    published = json.loads(run(sample_copy, "rank", "--year", "2020", "--tier", "commune",
                               "--as-of", "published", "--format", "json").stdout)
    assert [u["unit_id"] for u in out["units"]] == [row["unit_id"] for row in published["rows"]]
    for u, row in zip(out["units"], published["rows"]):
        assert u["rank"] == u["median"] == u["p5"] == u["p95"] == row["rank"]
        assert u["keeps"] == "1.0000"
    assert out["spearman"] == {"median": "1.000000", "p5": "1.000000", "min": "1.000000"}


def test_robustness_is_byte_identical_across_processes_and_moves_with_the_seed(
        run_process, sample_copy):
    args = ("robustness", "--year", "2020", "--tier", "commune", "--samples", "50",
            "--vary", "weights=±20%", "--vary", "ties=dense", "--format", "json")
    a = run_process(sample_copy, *args, "--seed", "42", env_overrides={"PYTHONHASHSEED": "1"})
    b = run_process(sample_copy, *args, "--seed", "42", env_overrides={"PYTHONHASHSEED": "2"})
    c = run_process(sample_copy, *args, "--seed", "43", env_overrides={"PYTHONHASHSEED": "1"})
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert a.stdout != c.stdout
    out = json.loads(a.stdout)
    assert out["seed"] == 42 and len(out["draws"]) == 50
    assert {d["ties"] for d in out["draws"]} == {"competition/published", "dense/published"}
    assert any(u["keeps"] != "1.0000" for u in out["units"])


def test_robustness_table_chart_and_errors(run, sample_copy, tmp_path):
    before = digest(sample_copy)
    chart = tmp_path / "ranks.svg"
    r = run(sample_copy, "robustness", "--year", "2020", "--tier", "district", "--samples", "100",
            "--seed", "3", "--vary", "weights=±20%", "--vary", "missing=zero,exclude_unit",
            "--chart", chart)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[1].startswith("100 samples, seed 3 (ictindex-robustness/1): weights ±20%; "
                               "missing=zero, missing=exclude_unit; ties competition/published")
    assert lines[2].startswith("Spearman with the published ranking: median ")
    assert any(line.startswith("most robust: ") for line in lines)
    assert any(line.startswith("least robust: ") for line in lines)
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("<circle") == 8
    assert digest(sample_copy) == before
    for vary, message in (("weights=20", "Error: --vary weights=20: write the variation as a "
                                         "percentage"),
                          ("missing=maybe", "Error: --vary missing=maybe: 'maybe' is not a "
                                            "missing-data policy"),
                          ("ties=alphabetical", "Error: --vary ties=alphabetical: 'alphabetical' "
                                                "is not a tie rule"),
                          ("colour=red", "Error: --vary 'colour=red': can vary weights, missing "
                                         "or ties")):
        r = run(sample_copy, "robustness", "--year", "2020", "--tier", "district", "--seed", "1",
                "--vary", vary)
        assert r.exit_code == 2 and r.stderr.startswith(message), (vary, r.output)
    r = run(sample_copy, "robustness", "--year", "2020", "--tier", "district", "--seed", "1",
            "--samples", "0")
    assert r.exit_code == 2 and r.stderr.startswith("Error: --samples must be at least 1")


def test_the_chart_in_the_docs_is_what_the_tool_draws(run, sample_copy, tmp_path):
    from pathlib import Path

    chart = tmp_path / "robustness-commune.svg"
    r = run(sample_copy, "robustness", "--year", "2020", "--tier", "commune", "--samples", "1000",
            "--seed", "2020", "--vary", "weights=±20%", "--as-of", "published", "--chart", chart)
    assert r.exit_code == 0, r.output
    docs = Path(__file__).resolve().parents[2] / "docs" / "robustness-commune.svg"
    assert chart.read_bytes() == docs.read_bytes()


def test_robustness_annex_sheet_lists_every_unit_and_is_byte_reproducible(run, sample_copy,
                                                                          tmp_path):
    import openpyxl

    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for path in paths:
        r = run(sample_copy, "robustness", "--year", "2020", "--tier", "district", "--samples",
                "40", "--seed", "9", "--vary", "weights=±30%", "--annex", path, "--lang", "en",
                "--format", "json")
        assert r.exit_code == 0, r.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    out = json.loads(r.stdout)
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames == ["Rank robustness", "About"]
    rows = list(wb["Rank robustness"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[3], row[4], row[5]) for row in rows] == [
        (u["rank"], u["unit_id"], u["median"], u["p5"], u["p95"]) for u in out["units"]]
    about = dict(wb["About"].iter_rows(values_only=True))
    assert about["seed"] == "9" and about["weights"] == "±30%"
