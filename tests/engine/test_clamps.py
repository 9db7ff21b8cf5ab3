"""Rules that clamp say so: a share above 1 counted as 1, an assessor's mark outside 0..max.

A clamp can hide an impossible input (a part above its whole gets full points), so the rule
reports it in `Outcome.clamped` and the explanation shows it (`! clamped: ...`)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from engine_testkit import Log, run

from engine.explain import explain, render_text
from engine.rules import builtin_rule_kinds, convert_params
from plugins.manager import build_registry

RULES = builtin_rule_kinds()

# (rule, params, max, inputs, clamped)
CASES = [
    ("ratio_of_counts", {}, "6", [D(99999), D(12921)], "99999 ÷ 12921 = 7.73926167… is above 1: counted as 1"),
    ("ratio_of_counts", {"full_at": D("0.5")}, "6", [D(9), D(10)], "9 ÷ 10 ÷ 0.5 = 1.8 is above 1: counted as 1"),
    ("ratio_of_counts", {}, "6", [D(-2), D(10)], "-2 ÷ 10 = -0.2 is below 0: counted as 0"),
    ("ratio", {"percent": True, "full_at": 80}, "20", [D(90)], "90% ÷ 80% = 1.125 is above 1: counted as 1"),
    ("ratio", {}, "4", [D("1.5")], "1.5 is above 1: counted as 1"),
    ("assessor", {}, "10", [D(12)], "the mark 12 is outside 0..10: counted as 10"),
    ("assessor", {"out_of": 100}, "10", [D(120)], "120 ÷ 100 = 1.2 is above 1: counted as 1"),
]
UNCLAMPED = [
    ("ratio_of_counts", {}, "6", [D(12727), D(12921)]),
    ("ratio", {"percent": True}, "4", [D(76)]),
    ("assessor", {}, "10", [D("8.5")]),
]


@pytest.mark.parametrize("rule,params,mx,inputs,clamped", CASES, ids=[c[-1][:24] for c in CASES])
def test_a_clamping_rule_says_what_it_clamped(rule, params, mx, inputs, clamped):
    kind = RULES[rule]
    out = kind.score(convert_params(kind, params), D(mx), inputs, None)
    assert out.clamped == clamped


@pytest.mark.parametrize("rule,params,mx,inputs", UNCLAMPED, ids=[c[0] for c in UNCLAMPED])
def test_nothing_is_said_when_nothing_was_clamped(rule, params, mx, inputs):
    kind = RULES[rule]
    assert kind.score(convert_params(kind, params), D(mx), inputs, None).clamped == ""


def test_the_explanation_shows_the_clamp_of_a_part_above_its_whole():
    """The issue's case, recorded before the edition declared its constraint: 99999 dossiers
    online of 12,921 gets full marks for DV2, and the trace says it was clamped."""
    edition = build_registry().methodology("local-ict@2020")
    log = Log()
    log.register("26656", "UBND xã Bình Châu", tier="commune")
    log.submit(2020, "26656", "dossiers_total", "12921")
    log.submit(2020, "26656", "dossiers_online", "99999")
    scores, ranking = run(log.events, edition, tier="commune")
    x = explain(scores, "26656", ranking=ranking)
    dv2 = next(k for c in x.components for k in c.criteria if k.code == "DV2")
    assert dv2.points == 6 and dv2.clamped == "99999 ÷ 12921 = 7.73926167… is above 1: counted as 1"
    assert "      ! clamped: 99999 ÷ 12921 = 7.73926167… is above 1: counted as 1" in render_text(x).splitlines()
    dv1 = next(k for c in x.components for k in c.criteria if k.code == "DV1")
    assert dv1.clamped is None
