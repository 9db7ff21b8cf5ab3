"""A province's own edition, shipped as a separate package, is found, adopted and scored."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from plugins.manager import reset_registry

UNITS = "unit_id,tier,name,parent_id\nS1,department,Sở Một,\nS2,department,Sở Hai,\n"


def submissions(show: dict) -> str:
    """One plausible value for every indicator the department tier reads, two units."""
    used = {code for c in show["tiers"]["department"]["components"] for cr in c["criteria"]
            for code in cr["indicators"]}
    rows = ["year,unit_id,indicator,value,evidence"]
    for unit, good in (("S1", True), ("S2", False)):
        for ind in show["indicators"]:
            if ind["code"] not in used:
                continue
            value = {"yes_no": "yes" if good else "no", "percentage": "90" if good else "40",
                     "ratio": "0.9" if good else "0.4", "points": "12" if good else "6",
                     "count": "5" if good else "1"}.get(ind["type"], "1")
            if ind["code"] == "dossiers_total":
                value = "10"
            if ind["code"] == "security_incidents":
                value = "0" if good else "2"
            rows.append(f"2023,{unit},{ind['code']},{value},BC-{unit}/2024")
    return "\n".join(rows) + "\n"


@pytest.fixture
def with_example(installed_example, monkeypatch):
    monkeypatch.delenv("ICTINDEX_LOAD_PLUGINS")
    reset_registry()
    yield
    reset_registry()


def test_external_edition_is_listed_adopted_and_scored(with_example, run, tmp_path):
    db = tmp_path / "p.db"
    plugins = json.loads(run(db, "plugins", "--format", "json").stdout)
    example = {p["name"]: p for p in plugins}["example-province"]
    assert example["editions"] == ["example-province@2023"] and not example["builtin"]

    show = json.loads(run(db, "methodologies", "show", "example-province@2023", "--format", "json").stdout)
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "values.csv").write_text(submissions(show), encoding="utf-8")
    assert run(db, "units", "import", tmp_path / "units.csv").exit_code == 0
    adopted = run(db, "adopt", "example-province@2023", "--year", 2023, "--tier", "department")
    assert adopted.exit_code == 0 and show["hash"][:12] in adopted.stdout
    imported = run(db, "import", tmp_path / "values.csv")
    assert imported.exit_code == 0, imported.output

    ranking = json.loads(run(db, "rank", "--year", 2023, "--tier", "department", "--format", "json").stdout)
    assert ranking["edition"] == "example-province@2023"
    assert ranking["plugin"] == "ictindex-edition-example" and ranking["plugin_version"] == "0.1.0"
    assert [r["unit_id"] for r in ranking["rows"]] == ["S1", "S2"]
    assert Decimal(ranking["rows"][0]["total"]) > Decimal(ranking["rows"][1]["total"])
    assert set(ranking["rows"][0]["components"]) == {c["code"] for c in show["tiers"]["department"]["components"]}
