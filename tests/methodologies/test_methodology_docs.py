"""The documentation stays consistent with the model, the rule kinds and the editions."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from engine import model
from engine.rules import builtin_rule_kinds
from plugins.manager import build_registry

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = (DOCS / "methodologies.md").read_text(encoding="utf-8")


def test_the_toml_reference_names_every_field_of_the_model():
    structs = [model.Methodology, model.LegalBasis, model.Rounding, model.TieRule, model.GradingBand, model.Indicator,
               model.Tier, model.Component, model.Criterion, model.PartOf, model.SumOf, model.RequiredIf]
    missing = [f"{s.__name__}.{f.encode_name}" for s in structs for f in msgspec.structs.fields(s) if f"`{f.encode_name}`" not in GUIDE]
    assert not missing, f"docs/methodologies.md does not document: {missing}"


@pytest.mark.parametrize("name", sorted(builtin_rule_kinds()))
def test_every_rule_kind_is_documented_with_its_params(name):
    rule = builtin_rule_kinds()[name]
    match = re.search(rf"^### `{name}`\n(.*?)(?=^### |^## )", GUIDE, flags=re.M | re.S)
    assert match, f"no section for rule kind {name!r}"
    section = match.group(1)
    for field in msgspec.structs.fields(rule.params_type):
        assert f"`{field.encode_name}`" in section, f"{name}: param {field.encode_name!r} undocumented"


@pytest.mark.parametrize("edition_id", ["local-ict@2020", "local-dti@2022", "national-ict@2020"])
def test_edition_pages_list_every_criterion_and_the_current_hash(edition_id):
    page = (DOCS / "editions" / f"{edition_id}.md").read_text(encoding="utf-8")
    entry = build_registry().edition(edition_id)
    assert entry.content_hash in page, "regenerate the page's tables: the edition changed"
    for tier_name, tier in entry.methodology.tiers.items():
        assert f"## Tier `{tier_name}`" in page
        for comp in tier.components:
            for crit in comp.criteria:
                assert re.search(rf"^\| {re.escape(crit.code)} \| .* \| {crit.max.normalize():f} \| `{crit.rule}` \|", page, flags=re.M), (tier_name, crit.code)
