"""Cross-indicator constraints: declared in an edition's TOML, checked with the edition, left
out of the content hash, enforced by import, submit and correct; and the example of
docs/methodologies.md really loads and is really enforced."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from test_edition_errors import dump, small_edition

from engine.edition import EditionError, check_edition, content_hash, load_edition, scoring_model
from engine.model import PartOf, RequiredIf, SumOf
from engine.rules import builtin_rule_kinds
from events.inputs import InputErrors
from ictindex.app import Ictindex
from ictindex.errors import UsageError
from plugins.manager import EditionEntry, build_registry

RULES = builtin_rule_kinds()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "methodologies.md"


def test_the_built_in_editions_declare_constraints_outside_their_content_hash():
    registry = build_registry()
    ict = registry.edition("local-ict@2020")
    pairs = {(c.part, c.whole) for c in ict.methodology.constraints if isinstance(c, PartOf)}
    assert ("dossiers_online", "dossiers_total") in pairs
    assert ("computers_broadband", "computers_total") in pairs
    assert any(isinstance(c, RequiredIf) for c in ict.methodology.constraints)
    assert registry.edition("local-dti@2022").methodology.constraints
    for entry in registry.editions.values():
        bare = scoring_model(entry.methodology)
        assert bare.constraints == () and content_hash(bare) == entry.content_hash
    # the golden hash of the year the sample adopted: its replay and publications still hold
    assert ict.content_hash == "4b12a37bc4de24ca4c2009cc2de9c37a2b9fbb196d4d424c473f941a31c9cd2e"


def test_constraints_and_the_no_data_option_change_no_hash_of_an_edition_without_them():
    doc = small_edition()
    base = content_hash(load_edition(dump(doc)))
    written_out = {**copy.deepcopy(doc), "no_data": "not_ranked", "constraints": []}
    assert content_hash(load_edition(dump(written_out))) == base
    constrained = {**copy.deepcopy(doc),
                   "constraints": [{"kind": "part_of", "part": "done", "whole": "total"}]}
    assert content_hash(load_edition(dump(constrained))) == base
    # no_data changes how units score: it is content
    other = {**copy.deepcopy(doc), "no_data": "missing_policy"}
    assert content_hash(load_edition(dump(other))) != base


BAD_CONSTRAINTS = [
    ({"kind": "part_of", "part": "done", "whole": "nope"}, "constraints[0].whole", "unknown indicator 'nope'"),
    ({"kind": "part_of", "part": "done", "whole": "done"}, "constraints[0].whole", "named twice"),
    ({"kind": "part_of", "part": "has_plan", "whole": "total"}, "constraints[0].part",
     "has_plan is a yes_no indicator: a part_of constraint compares numbers"),
    ({"kind": "sum", "parts": ["done"], "whole": "total"}, "constraints[0].parts", "at least two parts"),
    ({"kind": "required_if", "indicator": "done", "when": "total"}, "constraints[0].when",
     "total is a count indicator: `when` names a yes_no one"),
    ({"kind": "part_of", "part": "done", "whole": "pct"}, "constraints[0]",
     "no tier reads all of done, pct: the constraint could never apply"),
]


@pytest.mark.parametrize("constraint,path,fragment", BAD_CONSTRAINTS,
                         ids=[b[2][:30] for b in BAD_CONSTRAINTS])
def test_a_bad_constraint_is_reported_at_its_path(constraint, path, fragment):
    doc = {**small_edition(), "constraints": [constraint]}
    m = load_edition(dump(doc), source="small/edition.toml")
    with pytest.raises(EditionError) as e:
        check_edition(m, RULES, "small/edition.toml")
    assert any(p == path and fragment in msg for p, msg in e.value.problems), e.value.problems


def test_an_unknown_constraint_kind_names_the_kinds():
    doc = {**small_edition(), "constraints": [{"kind": "at_most", "part": "done", "whole": "total"}]}
    with pytest.raises(EditionError) as e:
        load_edition(dump(doc), source="small/edition.toml")
    assert str(e.value) == ("small/edition.toml: constraints[0].kind: Invalid value 'at_most' "
                            "(one of: 'part_of', 'sum', 'required_if')")


# -- the example of docs/methodologies.md ---------------------------------------------------------

BASE = '''
id = "docs-example@2024"
title = "Ví dụ"
[legal_basis]
kind = "reconstruction"
reference = "docs/methodologies.md"

[[indicators]]
code = "dossiers_online"
name_vi = "Hồ sơ trực tuyến"
name_en = "Dossiers online"
type = "count"

[[indicators]]
code = "dossiers_paper"
name_vi = "Hồ sơ giấy"
name_en = "Paper dossiers"
type = "count"

[[indicators]]
code = "dossiers_total"
name_vi = "Tổng số hồ sơ"
name_en = "Dossiers"
type = "count"

[[indicators]]
code = "server_room"
name_vi = "Có phòng máy chủ"
name_en = "Has a server room"
type = "yes_no"

[[indicators]]
code = "server_room_standard"
name_vi = "Tiêu chuẩn phòng máy chủ"
name_en = "Server room standard"
type = "category"
categories = ["tcvn9250", "basic", "none"]

[tiers.commune]
scale = 10

[[tiers.commune.components]]
code = "DV"
name_vi = "Dịch vụ công"
name_en = "Public services"
max = 10

[[tiers.commune.components.criteria]]
code = "DV1"
name_vi = "Tỷ lệ hồ sơ trực tuyến"
name_en = "Share of dossiers online"
max = 5
rule = "ratio_of_counts"
indicators = ["dossiers_online", "dossiers_total"]

[[tiers.commune.components.criteria]]
code = "DV2"
name_vi = "Hồ sơ giấy"
name_en = "Paper dossiers"
max = 0
rule = "informational"
indicators = ["dossiers_paper"]

[[tiers.commune.components.criteria]]
code = "DV3"
name_vi = "Phòng máy chủ"
name_en = "Server room"
max = 5
rule = "best_of"
indicators = ["server_room", "server_room_standard"]
params = { base = 2, base_when = { indicator = "server_room" }, cases = [{ input = 2, equals = "tcvn9250", points = 3 }] }
'''


def docs_example() -> str:
    section = re.search(r"^## Constraints\n(.*?)^## ", DOCS.read_text(encoding="utf-8"),
                        flags=re.M | re.S).group(1)
    return re.search(r"```toml\n(.*?)```", section, flags=re.S).group(1)


@pytest.fixture
def example_app(tmp_path):
    """A log whose 2024 communes adopted the docs' example edition (through a registry that
    holds it beside the built-ins)."""
    m = load_edition((BASE + docs_example()).encode(), source="docs/methodologies.md")
    check_edition(m, RULES, "docs/methodologies.md")
    builtins = build_registry()
    entry = EditionEntry(methodology=m, source="docs/methodologies.md", plugin="docs",
                         distribution=None, version=None)
    registry = attrs.evolve(builtins, editions={**builtins.editions, m.id: entry})
    units = tmp_path / "units.csv"
    units.write_text("unit_id,tier,name,parent_id\nX1,commune,Xã Một,\nX2,commune,Xã Hai,\n",
                     encoding="utf-8")
    app = Ictindex.open(tmp_path / "log.db", registry=registry)
    app.import_units(units, actor="t")
    app.adopt(m.id, 2024, actor="t")
    yield app, m
    app.close()


def test_the_docs_example_loads_and_its_hash_ignores_it(example_app):
    _, m = example_app
    assert [type(c) for c in m.constraints] == [PartOf, SumOf, RequiredIf]
    assert m.constraints[1].exact is True
    assert content_hash(m) == content_hash(load_edition(BASE.encode()))


def test_the_docs_example_is_enforced_by_import_and_correct(example_app, tmp_path):
    app, _ = example_app
    bad = tmp_path / "bad.csv"
    bad.write_text("year,unit_id,indicator,value\n"
                   "2024,X1,dossiers_total,100\n"
                   "2024,X1,dossiers_online,70\n"
                   "2024,X1,dossiers_paper,20\n"
                   "2024,X2,server_room,yes\n", encoding="utf-8")
    with pytest.raises(InputErrors) as e:
        app.import_submissions(bad, actor="t")
    assert [str(x) for x in e.value.errors] == [
        f"{bad}:4:value: dossiers_online 70 (row 3) + dossiers_paper 20 (row 4) = 90, not "
        "dossiers_total 100 (row 2) for X1 in 2024 (docs-example@2024: dossiers_online + "
        "dossiers_paper = dossiers_total)",
        f"{bad}:5:value: server_room yes (row 5) but server_room_standard has no value for X2 in "
        "2024: docs-example@2024 requires server_room_standard when server_room is yes (give "
        "both in one file, or submit server_room_standard first)",
    ]
    assert app.store.last_seq() == 3  # the units and the adoption only
    good = tmp_path / "good.csv"
    good.write_text("year,unit_id,indicator,value\n"
                    "2024,X1,dossiers_total,100\n"
                    "2024,X1,dossiers_online,70\n"
                    "2024,X1,dossiers_paper,30\n"
                    "2024,X2,server_room_standard,basic\n"
                    "2024,X2,server_room,yes\n", encoding="utf-8")
    recorded = app.import_submissions(good, actor="t")
    online = next(e for e in recorded if e.payload.indicator == "dossiers_online")
    with pytest.raises(UsageError, match=r"dossiers_online 110 \(the value given\) is more than "
                                         r"dossiers_total 100 \(#\d+\)"):
        app.correct(online.seq, "110", reason="x", actor="t")
    with pytest.raises(UsageError, match=r"dossiers_online 60 \(the value given\) \+ "
                                         r"dossiers_paper 30 \(#\d+\) = 90, not dossiers_total 100"):
        app.correct(online.seq, "60", reason="x", actor="t")
    assert app.submit(2024, "X2", "dossiers_total", "5", actor="t") is not None
    assert app.store.last_seq() == 9


def test_values_recorded_before_a_constraint_existed_do_not_block_other_values(example_app):
    """The check runs on the constraints a new value takes part in: a contradiction already in
    the log (recorded before the edition declared the constraint) blocks only values that
    touch it."""
    app, _ = example_app
    from events.types import IndicatorSubmitted

    app.store.append([IndicatorSubmitted(year=2024, unit_id="X1", indicator=code,
                                         value=Decimal(v))
                      for code, v in (("dossiers_online", 90), ("dossiers_total", 10))],
                     actor="before")
    assert app.submit(2024, "X1", "server_room", "no", actor="t") is not None
    with pytest.raises(UsageError, match=r"= 90, not dossiers_total 10 \(#5\)"):
        app.submit(2024, "X1", "dossiers_paper", "0", actor="t")
