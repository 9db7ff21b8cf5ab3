"""The built-in editions: each loads, passes the structural checks, keeps its golden content
hash, has the structure the domain notes describe, and can be scored end to end by its rules."""

from __future__ import annotations

import re
from decimal import Decimal as D
from importlib.resources import files

import pytest

from engine.edition import EditionError, check_edition, content_hash, criterion_rules, load_edition
from engine.model import Methodology
from engine.rules import builtin_rule_kinds
from engine.rules.aggregate import component_points, grade, round_published, tier_total
from engine.values import to_input
from plugins.manager import build_registry

RULES = builtin_rule_kinds()

# Golden hashes: they change only when an edition's content changes.  If you changed an
# edition on purpose, years that adopted the old hash no longer replay under it: say so in
# the edition's page (docs/editions/) and update the hash here.
GOLDEN = {
    "local-ict@2020": "4b12a37bc4de24ca4c2009cc2de9c37a2b9fbb196d4d424c473f941a31c9cd2e",
    "local-dti@2022": "6c4cd5b17e37f6c50e8e9225e8740cd3aa7f5ceca361b973534e4c48fc738430",
    "national-ict@2020": "3b34d1cee537a865a4488c1be3b51f890593cad25a3df8baea8e596167a3c20b",
}
PACKAGES = {"local-ict@2020": "methodologies.local_ict_2020", "local-dti@2022": "methodologies.local_dti_2022", "national-ict@2020": "methodologies.national_ict_2020"}


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def load(edition_id: str) -> Methodology:
    package = PACKAGES[edition_id]
    return load_edition(files(package) / "edition.toml", source=f"{package}/edition.toml")


@pytest.mark.parametrize("edition_id", sorted(PACKAGES))
def test_edition_loads_passes_checks_and_keeps_its_hash(edition_id, registry):
    m = load(edition_id)
    assert m.id == edition_id
    check_edition(m, RULES, edition_id)
    assert content_hash(m) == GOLDEN[edition_id]
    assert content_hash(load(edition_id)) == GOLDEN[edition_id]  # stable across loads
    entry = registry.edition(edition_id)
    assert entry.content_hash == GOLDEN[edition_id]
    assert entry.plugin == PACKAGES[edition_id]
    assert entry.distribution == "ictindex"
    assert m.legal_basis.kind == "reconstruction"


@pytest.mark.parametrize("edition_id", sorted(PACKAGES))
def test_every_edition_has_a_docs_page(edition_id):
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "editions" / f"{edition_id}.md"
    assert page.is_file(), page
    text = page.read_text(encoding="utf-8")
    assert edition_id in text and "reconstruction" in text.lower()


@pytest.mark.parametrize("edition_id", sorted(PACKAGES))
def test_a_content_change_is_caught_by_the_hash(edition_id):
    text = (files(PACKAGES[edition_id]) / "edition.toml").read_text(encoding="utf-8")
    reformatted = "# reformatted\n" + re.sub(r"^max = (\d+)$", r"max = \1.0", text, flags=re.M) + "\n\n# trailing comment\n"
    assert content_hash(load_edition(reformatted.encode())) == GOLDEN[edition_id]
    changed = text.replace('name_en = "', 'name_en = "x', 1)
    assert content_hash(load_edition(changed.encode())) != GOLDEN[edition_id]


# ------------------------------------------------------------------------------ local-ict@2020

ICT_COMPONENTS = ["HT", "UD", "DV", "CT", "AT", "NL", "CS", "LD"]


def test_local_ict_structure():
    m = load("local-ict@2020")
    assert list(m.tiers) == ["department", "district", "commune"]
    for name in ("department", "district"):
        tier = m.tiers[name]
        assert tier.scale == 100 and tier.aggregate == "sum"
        assert [c.code for c in tier.components] == ICT_COMPONENTS
        assert sum(c.max for c in tier.components) == 100
    commune = m.tiers["commune"]
    assert commune.scale == 90
    assert [c.code for c in commune.components] == [c for c in ICT_COMPONENTS if c != "CT"]
    assert commune.group_by is None  # communes are ranked as one tier
    names = {c.code: (c.name_vi, c.name_en) for c in m.tiers["department"].components}
    assert names["HT"] == ("Hạ tầng kỹ thuật", "Technical infrastructure")
    assert names["CT"] == ("Cổng/Trang thông tin điện tử", "E-portal")
    assert names["LD"][1] == "Leadership evaluation"
    assert "2116/QĐ-UBND" in m.legal_basis.reference and str(m.legal_basis.date) == "2018-08-06"
    assert "reconstruction" in m.legal_basis.note
    assert (m.rounding.decimals, m.rounding.mode, m.rounding.applies_to) == (2, "ROUND_HALF_UP", "publication")
    assert m.ties.method == "competition"
    assert [(b.name_en, b.min_share) for b in m.grading] == [("Good", D("0.9")), ("Fair", D("0.7")), ("Average", D("0.5")), ("Weak", D(0))]
    for name, tier in m.tiers.items():
        rules = {c.rule for comp in tier.components for c in comp.criteria}
        expected = {"ratio", "ratio_of_counts", "thresholds", "per_item", "yes_no", "category", "parts", "best_of", "assessor", "deduction"}
        assert expected <= rules, name
        peer = [c.code for comp in tier.components for c in comp.criteria if RULES[c.rule].peer]
        assert len(peer) <= 2, (name, peer)  # relative rules make published totals hard to tune
        leadership = tier.components[-1]
        assert leadership.code == "LD" and leadership.max == 10
        assert [(c.code, c.rule, c.max) for c in leadership.criteria] == [("LD1", "assessor", D(10))]
    assert 35 <= len(m.indicators) <= 45


# Inputs that earn every point of local-ict@2020 (the bandwidth is the best of the tier).
ICT_BEST = {
    "staff_computer_pct": D(100), "computers_total": D(50), "computers_broadband": D(50), "bandwidth_per_staff": D(20),
    "specialised_network": True, "fiber_internet": True, "server_room": True, "server_room_standard": "tcvn9250",
    "server_room_ups": True, "edocs_sent_electronic": D(900), "edocs_sent_total": D(900), "digital_signature_pct": D(100),
    "official_email_ratio": D(1), "wan_applications": D(6), "online_meetings": D(12), "procedures_total": D(80),
    "procedures_level34": D(80), "dossiers_total": D(400), "dossiers_online": D(400), "national_portal": True,
    "online_payment": True, "ontime_ratio": D(1), "portal_required_items": D(8), "portal_updates_per_month": D(25),
    "portal_mobile": True, "portal_english": True, "portal_qa": True, "security_policy": True, "computers_antivirus": D(50),
    "security_classification": "approved", "security_incidents": D(0), "it_staff": D(2), "it_staff_degree": D(2),
    "staff_it_trained_pct": D(100), "it_plan": True, "steering_head": "chairman", "steering_meetings": D(4),
    "it_budget_spent": D(300), "it_budget_allocated": D(300), "leader_attends_sessions": True, "leader_chairs_meetings": True,
    "leadership_score": D(10),
}


def score(m: Methodology, tier_name: str, units: dict[str, dict]) -> dict[str, D]:
    """A minimal scorer (the engine's is engine/score.py): unrounded totals per unit."""
    tier = m.tiers[tier_name]
    bound = criterion_rules(m, RULES)
    totals = {}
    for unit, values in units.items():
        per_component = {}
        for comp in tier.components:
            points = {}
            for crit in comp.criteria:
                rule, params = bound[(tier_name, crit.code)]
                column = [[values.get(code) for code in crit.indicators] for values in units.values()]
                context = rule.prepare(params, column) if rule.peer else None
                out = rule.score(params, crit.max, [values.get(code) for code in crit.indicators], context)
                assert 0 <= out.points <= crit.max, (crit.code, out)
                points[crit.code] = out.points
            per_component[comp.code] = component_points(comp, points)
        totals[unit] = tier_total(tier, per_component)
    return totals


@pytest.mark.parametrize("tier_name", ["department", "district", "commune"])
def test_local_ict_full_marks_reach_the_scale(tier_name):
    m = load("local-ict@2020")
    units = {"best": ICT_BEST, "other": {**ICT_BEST, "bandwidth_per_staff": D(5), "leadership_score": D(3)}}
    totals = score(m, tier_name, units)
    assert totals["best"] == m.tiers[tier_name].scale
    assert totals["other"] < totals["best"]


def test_local_ict_published_totals_can_be_tuned_with_the_assessor_criterion():
    """The leadership evaluation takes any decimal 0..10, so illustrative values can hit the
    published 2020 totals exactly (communes: Phước Hưng 88.98 of 90, Cù Bị 63.81)."""
    m = load("local-ict@2020")
    phuoc_hung = {**ICT_BEST, "leadership_score": D("8.98")}
    cu_bi = {**ICT_BEST, "leadership_score": D("7.81"), "wan_applications": D(0), "online_meetings": D(0),
             "dossiers_online": D(0), "security_incidents": D(3), "steering_head": "deputy", "it_staff": D(0),
             "it_staff_degree": D(0)}
    totals = score(m, "commune", {"phuoc_hung": phuoc_hung, "cu_bi": cu_bi})
    published = {u: round_published(t, m.rounding) for u, t in totals.items()}
    assert published["phuoc_hung"] == D("88.98")
    assert published["cu_bi"] == D("63.81")
    assert grade(m, m.tiers["commune"], totals["phuoc_hung"]).name_en == "Good"
    assert grade(m, m.tiers["commune"], totals["cu_bi"]).name_en == "Fair"


def test_values_of_events_feed_the_rules():
    from events.types import Choice

    m = load("local-ict@2020")
    values = {k: (Choice(v) if isinstance(v, str) else v) for k, v in ICT_BEST.items()}
    inputs = {k: to_input(v) for k, v in values.items()}
    assert score(m, "department", {"u": inputs})["u"] == 100


# ------------------------------------------------------------------------------ local-dti@2022

DTI_COMPONENTS = ["NT", "TC", "HT", "NL", "AT", "HD"]


def test_local_dti_structure_differs():
    m = load("local-dti@2022")
    assert {n: t.scale for n, t in m.tiers.items()} == {"department": 500, "district": 600, "commune": 300}
    for name, tier in m.tiers.items():
        assert [c.code for c in tier.components] == DTI_COMPONENTS
        assert sum(c.max for c in tier.components) == tier.scale
    assert [c.name_en for c in m.tiers["district"].components] == [
        "Digital awareness", "Digital institutions", "Digital infrastructure", "Digital human resources", "Cyber security",
        "Digital government activity",
    ]
    assert m.tiers["district"].components[0].max == 100  # a district's digital awareness is worth 100
    assert m.tiers["commune"].group_by == "parent_id"
    assert all(10 <= c.max <= 40 for t in m.tiers.values() for comp in t.components for c in comp.criteria)
    assert not set(c.code for c in load("local-ict@2020").indicators) & set(c.code for c in m.indicators)


# --------------------------------------------------------------------------- national-ict@2020


def test_national_ict_structure():
    m = load("national-ict@2020")
    assert list(m.tiers) == ["province"]
    tier = m.tiers["province"]
    assert (tier.scale, tier.aggregate) == (1, "mean")
    assert [(c.name_en, c.max) for c in tier.components] == [
        ("Technical infrastructure", 1), ("Human-resource infrastructure", 1), ("IT application", 1),
    ]
    assert m.rounding.decimals == 4
    assert all(RULES[c.rule].peer for comp in tier.components for c in comp.criteria)  # normalised across provinces


# Published figures (domain notes): component values → the published index.
NATIONAL_FIGURES = [
    ("Đà Nẵng 2016", ("0.84", "0.76", "0.89"), "0.83", 2),
    ("Đà Nẵng 2019", ("0.7925", "0.9538", "0.85"), "0.8654", 4),
    ("Đà Nẵng 2023", ("0.7908", "0.7892", "0.9655"), "0.8485", 4),
    ("Ministry of Natural Resources and Environment 2022", ("0.7469", "0.6018", "0.9730"), "0.7739", 4),
]


@pytest.mark.parametrize("who, components, published, decimals", NATIONAL_FIGURES, ids=[f[0] for f in NATIONAL_FIGURES])
def test_national_aggregation_reproduces_published_figures(who, components, published, decimals):
    m = load("national-ict@2020")
    tier = m.tiers["province"]
    total = tier_total(tier, {"HT": D(components[0]), "NL": D(components[1]), "UD": D(components[2])})
    assert round_published(total, m.rounding) == round_published(D(published), m.rounding)
    assert round_published(total, m.rounding, decimals) == D(published)  # as published that year


def test_national_scoring_end_to_end_stays_on_the_0_1_scale():
    m = load("national-ict@2020")
    codes = [i.code for i in m.indicators]
    provinces = {f"p{n}": {code: D(10 + (n * 7 + k * 13) % 60) for k, code in enumerate(codes)} for n in range(8)}
    totals = score(m, "province", provinces)
    assert all(0 <= t <= 1 for t in totals.values())
    assert len({round_published(t, m.rounding) for t in totals.values()}) > 1


def test_a_broken_builtin_edition_would_fail_loudly():
    text = (files("methodologies.local_ict_2020") / "edition.toml").read_text(encoding="utf-8")
    broken = text.replace('rule = "relative_to_best"', 'rule = "relative_to_the_best"', 1)
    with pytest.raises(EditionError) as e:
        check_edition(load_edition(broken.encode(), source="methodologies/local_ict_2020/edition.toml"), RULES, "methodologies/local_ict_2020/edition.toml")
    assert "methodologies/local_ict_2020/edition.toml: tiers.department.components[0].criteria[2].rule: unknown rule kind" in str(e.value)
