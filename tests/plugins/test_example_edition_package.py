"""The external example package (examples/ictindex-edition-example) is found through its
`ictindex` entry point, listed with the plugins, and its edition loads and passes the checks.

Installing it with pip would be slow and would pollute the venv: instead the package directory
goes on sys.path and a throwaway `*.dist-info` with the same entry point as its pyproject.toml
goes on sys.path too, so importlib.metadata sees an installed distribution.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.edition import check_edition, criterion_rules
from engine.rules.aggregate import component_points, tier_total
from plugins.manager import ENTRY_POINT_GROUP, build_registry, list_methodologies, list_plugins

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ictindex-edition-example"
PYPROJECT = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
DIST_NAME = PYPROJECT["project"]["name"]
VERSION = PYPROJECT["project"]["version"]
ENTRY_POINTS = PYPROJECT["project"]["entry-points"][ENTRY_POINT_GROUP]


def test_the_example_declares_its_entry_point():
    assert ENTRY_POINTS == {"example-province": "ictindex_edition_example"}
    assert (EXAMPLE / "ictindex_edition_example" / "edition.toml").is_file()


def test_found_through_the_entry_point_when_plugins_are_not_limited(installed_example, monkeypatch):
    monkeypatch.delenv("ICTINDEX_LOAD_PLUGINS")
    registry = build_registry()
    entry = registry.edition("example-province@2023")
    assert (entry.plugin, entry.distribution, entry.version) == ("example-province", DIST_NAME, VERSION)
    assert registry.rule_kinds["target_share"].plugin == "example-province"
    # It passed the structural checks (build_registry is strict); check again explicitly.
    check_edition(entry.methodology, registry.rules, entry.source)
    plugin = {p["name"]: p for p in list_plugins(registry)}["example-province"]
    assert plugin == {
        "name": "example-province", "distribution": DIST_NAME, "version": VERSION, "builtin": False,
        "hooks": ["register_methodologies", "register_rule_kinds"], "editions": ["example-province@2023"],
        "rule_kinds": ["target_share"], "problems": [],
    }
    assert "example-province@2023" in {m["id"] for m in list_methodologies(registry)}


@pytest.mark.parametrize("selection", ["example-province", DIST_NAME, "ictindex_edition_example, "])
def test_selected_by_name_in_the_environment_variable(installed_example, monkeypatch, selection):
    monkeypatch.setenv("ICTINDEX_LOAD_PLUGINS", selection)
    assert "example-province@2023" in build_registry().editions


def test_kept_out_when_the_environment_variable_is_empty(installed_example):
    registry = build_registry()  # tests/conftest.py sets ICTINDEX_LOAD_PLUGINS=""
    assert "example-province@2023" not in registry.editions
    assert "target_share" not in registry.rule_kinds


def test_the_example_edition_scores_with_its_custom_rule(installed_example, monkeypatch):
    monkeypatch.setenv("ICTINDEX_LOAD_PLUGINS", "example-province")
    registry = build_registry()
    m = registry.methodology("example-province@2023")
    bound = criterion_rules(m, registry.rules)
    tier = m.tiers["department"]
    values = {"dossiers_total": D(200), "dossiers_online": D(150), "e_services_used": D(40), "data_sharing": True,
              "staff_computer_pct": D(100), "security_incidents": D(1), "specialised_network": True,
              "certified_staff": D(2), "council_score": D("12.5")}
    per_component = {}
    formulas = {}
    for comp in tier.components:
        points = {}
        for crit in comp.criteria:
            rule, params = bound[("department", crit.code)]
            out = rule.score(params, crit.max, [values[c] for c in crit.indicators], None)
            points[crit.code], formulas[crit.code] = out.points, out.formula
        per_component[comp.code] = component_points(comp, points)
    assert formulas["CQ2"] == "min(40 ÷ 50, 1) × 10 = 8"
    # CQ 15 + 8 + 10, HT 10 + 5 + 10, NL 10 + 12.5
    assert tier_total(tier, per_component) == D("80.5")
