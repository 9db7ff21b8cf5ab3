"""Every structural error in an edition file is reported with the file and the path inside it.

Table-driven: a small valid edition (a commune tier of four components, a district tier), one
mutation per row, and the path the message must name.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from engine.edition import EditionError, check_edition, content_hash, load_edition
from engine.rules import builtin_rule_kinds

SOURCE = "small/edition.toml"
RULES = builtin_rule_kinds()


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, Decimal)):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_value(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dump(doc: dict) -> bytes:
    """A TOML document with one line per top-level key (inline tables all the way down)."""
    return "\n".join(f"{k} = {toml_value(v)}" for k, v in doc.items()).encode()


def ind(code, type_, **kw):
    return {"code": code, "name_vi": code, "name_en": code, "type": type_, **kw}


def crit(code, mx, rule, indicators, **kw):
    return {"code": code, "name_vi": code, "name_en": code, "max": mx, "rule": rule, "indicators": indicators, **kw}


def comp(code, mx, criteria):
    return {"code": code, "name_vi": code, "name_en": code, "max": mx, "criteria": criteria}


def small_edition() -> dict:
    commune = [
        comp("A", 20, [crit("A1", 10, "ratio", ["share"]), crit("A2", 10, "yes_no", ["has_plan"])]),
        comp("B", 20, [crit("B1", 20, "per_item", ["apps"], params={"points": 5})]),
        comp("C", 20, [crit("C1", 20, "category", ["head"], params={"shares": {"chairman": 1, "deputy": Decimal("0.5")}})]),
        comp(
            "D",
            30,
            [
                crit("D1", 10, "ratio_of_counts", ["done", "total"]),
                crit("D2", 10, "thresholds", ["meetings"], params={"steps": [{"at_least": 2, "points": 5}, {"at_least": 4, "points": 10}]}),
                crit("D3", 10, "assessor", ["council"]),
            ],
        ),
    ]
    district = [comp("A", 100, [crit("A1", 100, "ratio", ["share"])])]
    return {
        "id": "small@2020",
        "title": "Small",
        "legal_basis": {"kind": "decision", "reference": "1/QĐ-UBND", "date": dt.date(2020, 1, 2)},
        "indicators": [
            ind("share", "ratio"),
            ind("has_plan", "yes_no"),
            ind("apps", "count"),
            ind("head", "category", categories=["chairman", "deputy", "none"]),
            ind("done", "count"),
            ind("total", "count"),
            ind("meetings", "count"),
            ind("council", "points", min=0, max=10),
            ind("pct", "percentage"),
        ],
        "tiers": {"commune": {"scale": 90, "components": commune}, "district": {"scale": 100, "components": district}},
        "grading": [{"name_vi": "Tốt", "name_en": "Good", "min_share": Decimal("0.9")}, {"name_vi": "Yếu", "name_en": "Weak", "min_share": 0}],
    }


def commune(doc):
    return doc["tiers"]["commune"]["components"]


def d_crit(doc, k):
    return commune(doc)[3]["criteria"][k]


def setter(fn):
    def mutate(doc):
        fn(doc)
        return doc

    return mutate


C3 = "tiers.commune.components[3]"

# (what, mutation, path, fragment of the message)
DECODE_ERRORS = [
    ("a criterion max that is not a number", setter(lambda d: d_crit(d, 2).update(max="lots")), f"{C3}.criteria[2].max", "decimal"),
    ("an unknown field in a criterion", setter(lambda d: d_crit(d, 2).update(colour="red")), f"{C3}.criteria[2].colour", "unknown field"),
    ("a missing field in a criterion", setter(lambda d: d_crit(d, 1).pop("name_en")), f"{C3}.criteria[1].name_en", "missing required field"),
    ("an unknown indicator type", setter(lambda d: d["indicators"][1].update(type="boolean")), "indicators[1].type", "'boolean' (one of: 'category', 'count'"),
    ("a tier's scale of the wrong type", setter(lambda d: d["tiers"]["district"].update(scale=[1])), "tiers.district.scale", "Expected"),
    ("an unknown field in the second tier", setter(lambda d: d["tiers"]["district"].update(weight=1)), "tiers.district.weight", "unknown field"),
    ("a bad aggregate", setter(lambda d: d["tiers"]["commune"].update(aggregate="median")), "tiers.commune.aggregate", "'median' (one of: 'mean', 'sum')"),
    ("an unknown legal-basis kind", setter(lambda d: d["legal_basis"].update(kind="law")), "legal_basis.kind", "(one of: 'decision', 'reconstruction')"),
    ("an unknown top-level field", setter(lambda d: d.update(year=2020)), "year", "unknown field"),
]

CHECK_ERRORS = [
    ("component maxima that miss the scale", setter(lambda d: commune(d)[0].update(max=25)), "tiers.commune.components", "add up to 95, not the tier's scale 90"),
    ("a criterion above its component", setter(lambda d: d_crit(d, 2).update(max=40)), f"{C3}.criteria[2].max", "exceeds its component D's maximum 30"),
    ("criteria maxima short of the component", setter(lambda d: d_crit(d, 2).update(max=5)), f"{C3}.criteria", "add up to 25, less than the component's maximum 30"),
    ("an unknown rule kind", setter(lambda d: d_crit(d, 2).update(rule="magic")), f"{C3}.criteria[2].rule", "unknown rule kind 'magic'"),
    ("an unknown indicator", setter(lambda d: d_crit(d, 2).update(indicators=["nobody"])), f"{C3}.criteria[2].indicators[0]", "unknown indicator 'nobody'"),
    ("an indicator read twice", setter(lambda d: d_crit(d, 0).update(indicators=["done", "done"])), f"{C3}.criteria[0].indicators[1]", "listed twice"),
    ("too many indicators for the rule", setter(lambda d: d_crit(d, 2).update(indicators=["council", "share"])), f"{C3}.criteria[2].indicators", "reads 1 indicator(s), got 2"),
    ("too few indicators for the rule", setter(lambda d: d_crit(d, 0).update(indicators=["done"])), f"{C3}.criteria[0].indicators", "reads 2 indicator(s), got 1"),
    ("params of the wrong type", setter(lambda d: d_crit(d, 1)["params"]["steps"][0].update(points="five")), f"{C3}.criteria[1].params.steps[0].points", "decimal"),
    ("an unknown param", setter(lambda d: d_crit(d, 1)["params"].update(colour="red")), f"{C3}.criteria[1].params.colour", "unknown field"),
    ("a missing param", setter(lambda d: commune(d)[1]["criteria"][0].update(params={})), "tiers.commune.components[1].criteria[0].params.points", "missing required field"),
    ("a param in a table of the wrong type", setter(lambda d: commune(d)[2]["criteria"][0]["params"]["shares"].update(deputy="half")),
     "tiers.commune.components[2].criteria[0].params.shares.deputy", "decimal"),
    ("steps giving fewer points for more", setter(lambda d: d_crit(d, 1)["params"]["steps"][1].update(points=4)), f"{C3}.criteria[1].params.steps[1].points",
     "must not give fewer points"),
    ("a step above the criterion's max", setter(lambda d: d_crit(d, 1)["params"]["steps"][1].update(points=11)), f"{C3}.criteria[1].params.steps[1].points",
     "outside 0..10"),
    ("a category the indicator does not declare", setter(lambda d: commune(d)[2]["criteria"][0]["params"]["shares"].update(chair=1)),
     "tiers.commune.components[2].criteria[0].params.shares.chair", "not a category of indicator 'head'"),
    ("a rule reading the wrong indicator type", setter(lambda d: commune(d)[0]["criteria"][1].update(indicators=["share"])),
     "tiers.commune.components[0].criteria[1].params", "cannot read a 'ratio' indicator"),
    ("a percentage read as a ratio", setter(lambda d: commune(d)[0]["criteria"][0].update(indicators=["pct"])),
     "tiers.commune.components[0].criteria[0].params.percent", "set percent = true"),
    ("a duplicate component code", setter(lambda d: commune(d)[3].update(code="A")), f"{C3}.code", "duplicate component code 'A'"),
    ("a duplicate criterion code", setter(lambda d: d_crit(d, 2).update(code="A1")), f"{C3}.criteria[2].code", "duplicate criterion code 'A1'"),
    ("a duplicate indicator code", setter(lambda d: d["indicators"][2].update(code="share")), "indicators[2].code", "duplicate indicator code 'share'"),
    ("a category indicator without categories", setter(lambda d: d["indicators"][3].update(categories=[])), "indicators[3].categories", "needs its categories"),
    ("categories on a count", setter(lambda d: d["indicators"][2].update(categories=["x"])), "indicators[2].categories", "only category indicators"),
    ("a ratio indicator allowed above 1", setter(lambda d: d["indicators"][0].update(max=2)), "indicators[0].max", "outside what a ratio can be"),
    ("min above max", setter(lambda d: d["indicators"][7].update(min=11)), "indicators[7].max", "below min"),
    ("an unknown tier", setter(lambda d: d["tiers"].update(county=d["tiers"].pop("district"))), "tiers.county", "unknown tier 'county'"),
    ("a mean tier whose components do not average to the scale", setter(lambda d: d["tiers"]["commune"].update(aggregate="mean")), "tiers.commune.components",
     "mean of the component maxima is 22.5, not the tier's scale 90"),
    ("a tier without components", setter(lambda d: d["tiers"]["district"].update(components=[])), "tiers.district.components", "at least one component"),
    ("a component without criteria", setter(lambda d: commune(d)[1].update(criteria=[])), "tiers.commune.components[1].criteria", "no criteria"),
    ("grading bands out of order", setter(lambda d: d["grading"][1].update(min_share=Decimal("0.95"))), "grading[1].min_share", "must decrease"),
    ("a bad edition id", setter(lambda d: d.update(id="Small 2020")), "id", "not an edition id"),
    ("too many decimals", setter(lambda d: d.update(rounding={"decimals": 12})), "rounding.decimals", "use 0..10"),
]


def test_the_small_edition_is_valid():
    check_edition(load_edition(dump(small_edition()), source=SOURCE), RULES, SOURCE)


@pytest.mark.parametrize("what, mutate, path, fragment", DECODE_ERRORS, ids=[row[0] for row in DECODE_ERRORS])
def test_decoding_errors_name_file_and_path(what, mutate, path, fragment):
    doc = mutate(copy.deepcopy(small_edition()))
    with pytest.raises(EditionError) as e:
        load_edition(dump(doc), source=SOURCE)
    message = str(e.value)
    assert message.startswith(f"{SOURCE}: {path}: "), message
    assert fragment in message


@pytest.mark.parametrize("what, mutate, path, fragment", CHECK_ERRORS, ids=[row[0] for row in CHECK_ERRORS])
def test_structural_errors_name_file_and_path(what, mutate, path, fragment):
    doc = mutate(copy.deepcopy(small_edition()))
    methodology = load_edition(dump(doc), source=SOURCE)
    with pytest.raises(EditionError) as e:
        check_edition(methodology, RULES, SOURCE)
    lines = str(e.value).splitlines()
    hits = [line for line in lines if line.startswith(f"{SOURCE}: {path}: ")]
    assert hits, lines
    assert any(fragment in line for line in hits), lines


def test_every_problem_is_reported_at_once():
    doc = small_edition()
    d_crit(doc, 2)["rule"] = "magic"
    doc["indicators"][2]["code"] = "share"
    with pytest.raises(EditionError) as e:
        check_edition(load_edition(dump(doc), source=SOURCE), RULES, SOURCE)
    paths = [p for p, _ in e.value.problems]
    assert f"{C3}.criteria[2].rule" in paths and "indicators[2].code" in paths


def test_toml_syntax_errors_name_the_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_bytes(dump(small_edition()) + b"\ntitle = \n")
    with pytest.raises(EditionError) as e:
        load_edition(path)
    assert str(e.value).startswith(f"{path}: line ")
    assert "invalid TOML" in str(e.value)


def test_an_unreadable_file_is_an_edition_error(tmp_path):
    with pytest.raises(EditionError, match="cannot read"):
        load_edition(tmp_path / "absent.toml")


def test_numbers_are_exact_decimals_never_floats():
    doc = small_edition()
    d_crit(doc, 1)["params"]["steps"][0]["points"] = Decimal("0.1000000000000000000001")
    d_crit(doc, 2)["max"] = Decimal("9.9999999999999999999999")
    m = load_edition(dump(doc))
    assert m.tiers["commune"].components[3].criteria[2].max == Decimal("9.9999999999999999999999")
    assert m.tiers["commune"].components[3].criteria[1].params["steps"][0]["points"] == Decimal("0.1000000000000000000001")


def test_hash_ignores_formatting_and_follows_content():
    doc = small_edition()
    base = content_hash(load_edition(dump(doc)))
    # Same content, other formatting: comments, 10.0 for 10, a default written out.
    text = b"# a comment\n" + dump(doc).replace(b'"max": 10,', b'"max": 10.0,').replace(b'"scale" = 90', b'"scale" = 90.00') + b"\n# end\n"
    assert content_hash(load_edition(text)) == base
    doc2 = copy.deepcopy(doc)
    doc2["tiers"]["commune"]["missing"] = "zero"  # the default, written out
    doc2["rounding"] = {"decimals": 2}
    assert content_hash(load_edition(dump(doc2))) == base
    # Any content change moves it.
    for change in (
        lambda d: d_crit(d, 2).update(max=Decimal("10.01")),
        lambda d: d_crit(d, 2).update(name_en="Council"),
        lambda d: d_crit(d, 1)["params"]["steps"][0].update(points=4),
        lambda d: d["tiers"]["commune"].update(group_by="parent_id"),
        lambda d: d.update(rounding={"decimals": 3}),
    ):
        changed = copy.deepcopy(doc)
        change(changed)
        assert content_hash(load_edition(dump(changed))) != base
