"""Each built-in rule kind on worked examples: exact points and the formula with its numbers."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.rules import builtin_rule_kinds, convert_params
from engine.rules.base import ParamsError

RULES = builtin_rule_kinds()

# (rule, params, max, inputs, peers (other units' inputs), points, formula)
CASES = [
    ("ratio", {}, "20", [D("0.85")], None, "17", "0.85 × 20 = 17"),
    ("ratio", {"percent": True}, "4", [D("85")], None, "3.4", "85% × 4 = 3.4"),
    ("ratio", {"percent": True, "full_at": 80}, "20", [D("90")], None, "20", "min(90% ÷ 80%, 1) × 20 = 20"),
    ("ratio_of_counts", {}, "20", [D(12), D(15)], None, "16", "12 ÷ 15 × 20 = 16"),
    ("ratio_of_counts", {}, "20", [D(18), D(15)], None, "20", "min(18 ÷ 15, 1) × 20 = 20"),
    ("ratio_of_counts", {}, "6", [D(0), D(0)], None, "0", "0 ÷ 0: no denominator → 0"),
    ("ratio_of_counts", {"if_zero": "full"}, "6", [D(0), D(0)], None, "6", "0 ÷ 0: no denominator → 6"),
    ("ratio_of_counts", {}, "20", [D(1), D(3)], None, "6.666666666666666666666666666", "1 ÷ 3 × 20 = 6.66666667…"),
    ("relative_to_best", {}, "40", [D(45)], [[D(90)], [D(30)]], "20", "45 ÷ 90 (best) × 40 = 20"),
    ("relative_to_best", {"better": "lower"}, "10", [D(4)], [[D(2)], [D(8)]], "5", "2 (best) ÷ 4 × 10 = 5"),
    ("relative_to_best", {}, "3", [D(0)], [[D(0)]], "0", "best of the tier is 0 → 0"),
    ("min_max", {}, "10", [D(30)], [[D(10)], [D(50)]], "5", "(30 − 10) ÷ (50 − 10) × 10 = 5"),
    ("min_max", {"better": "lower"}, "10", [D(20)], [[D(10)], [D(50)]], "7.5", "(50 − 20) ÷ (50 − 10) × 10 = 7.5"),
    ("min_max", {}, "10", [D(7)], [[D(7)]], "10", "all units of the tier have 7 → 10"),
    ("min_max", {"if_all_equal": "zero"}, "10", [D(7)], [[D(7)]], "0", "all units of the tier have 7 → 0"),
    ("zscore", {}, "1", [D(3)], [[D(1)], [D(2)], [D(4)], [D(5)]], "0.5", None),
    ("zscore", {"spread": 1}, "1", [D(100)], [[D(0)], [D(0)], [D(0)]], "1", None),
    ("thresholds", {"steps": [{"at_least": 4, "points": 20}, {"at_least": 3, "points": 15}, {"at_least": 2, "points": 10}, {"at_least": 1, "points": 5}]},
     "20", [D(3)], None, "15", "3 ≥ 3 → 15"),
    ("thresholds", {"steps": [{"at_least": 1, "points": 5}, {"at_least": 4, "points": 20}]}, "20", [D(9)], None, "20", "9 ≥ 4 → 20"),
    ("thresholds", {"steps": [{"at_least": 1, "points": 5}]}, "20", [D(0)], None, "0", "0 < 1 → 0"),
    ("per_item", {"points": 1}, "5", [D(4)], None, "4", "4 × 1 = 4"),
    ("per_item", {"points": 1}, "5", [D(7)], None, "5", "min(7 × 1, 5) = 5"),
    ("yes_no", {}, "2", [True], None, "2", "yes → 2"),
    ("yes_no", {}, "2", [False], None, "0", "no → 0"),
    ("yes_no", {"points": 1}, "2", [True], None, "1", "yes → 1"),
    ("category", {"shares": {"chairman": 1, "deputy": D("0.5")}}, "10", ["deputy"], None, "5", "“deputy” → 0.5 × 10 = 5"),
    ("category", {"shares": {"chairman": 1, "deputy": D("0.5")}}, "10", ["none"], None, "0", "“none” (not listed) → 0 × 10 = 0"),
    ("parts", {"parts": [{"indicator": "attends", "points": 5}, {"indicator": "chairs", "points": 5}]}, "10", [True, False], None, "5",
     "attends yes → 5 + chairs no → 0 = 5"),
    ("parts", {"parts": [{"points": 3}, {"at_least": 2, "points": 3}]}, "5", [True, D(2)], None, "5",
     "input 1 yes → 3 + input 2 2 ≥ 2 → 3 = 5, capped at 5"),
    ("best_of", {"base": 35, "cases": [{"equals": "tier3", "points": 25}, {"any_of": ["tier2", "tier3"], "points": 15}]}, "60", ["tier3"], None, "60",
     "base 35 + best case: input 1 “tier3” = “tier3” → 25 = 60"),
    ("best_of", {"base": 35, "cases": [{"equals": "tier3", "points": 25}, {"any_of": ["tier2", "tier3"], "points": 15}]}, "60", ["tier2"], None, "50",
     "base 35 + best case: input 1 “tier2” in (“tier2”, “tier3”) → 15 = 50"),
    ("best_of", {"base": 1, "base_when": {"indicator": "room"}, "cases": [{"input": 2, "points": 2}]}, "3", [False, False], None, "0",
     "base (room no) 0 + no case holds → 0 = 0"),
    ("best_of", {"base": 50, "cases": [{"equals": "tier3", "points": 25}]}, "60", ["tier3"], None, "60", "base 50 + best case: input 1 “tier3” = “tier3” → 25 = 60, capped at 60"),
    ("assessor", {}, "10", [D("8.75")], None, "8.75", "assessed 8.75 of 10 = 8.75"),
    ("assessor", {}, "10", [D("12")], None, "10", "assessed 12 of 10 (clamped to 0..10) = 10"),
    ("assessor", {"out_of": 100}, "10", [D("87.5")], None, "8.75", "assessed 87.5 ÷ 100 × 10 = 8.75"),
    ("deduction", {"per_item": 2}, "10", [D(3)], None, "4", "max(10 − 3 × 2, 0) = 4"),
    ("deduction", {"per_item": 5}, "10", [D(3)], None, "0", "max(10 − 3 × 5, 0) = 0"),
    ("informational", {}, "0", [D(12)], None, "0", "informational: 12, not scored"),
]


@pytest.mark.parametrize("rule_name, params, mx, inputs, peers, points, formula", CASES)
def test_worked_example(rule_name, params, mx, inputs, peers, points, formula):
    rule = RULES[rule_name]
    p = convert_params(rule, params)
    context = rule.prepare(p, (peers or []) + [inputs]) if rule.peer else None
    out = rule.score(p, D(mx), inputs, context)
    assert out.points == D(points)
    if formula is not None:
        assert out.formula == formula
    if rule.peer:
        assert out.peers  # the trace shows what the unit was compared with


def test_relative_rules_report_the_peer_values():
    rule = RULES["relative_to_best"]
    p = convert_params(rule, {})
    out = rule.score(p, D(40), [D(45)], rule.prepare(p, [[D(90)], [D(45)], [None]]))
    assert out.peers == {"best": D(90)}


def test_peer_rules_refuse_to_score_without_the_tier_context():
    rule = RULES["min_max"]
    with pytest.raises(TypeError, match="prepare"):
        rule.score(convert_params(rule, {}), D(10), [D(1)], None)


@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_a_missing_input_scores_zero_and_says_so(rule_name):
    rule = RULES[rule_name]
    params = {
        "per_item": {"points": 1}, "thresholds": {"steps": [{"at_least": 1, "points": 1}]}, "category": {"shares": {"a": 1}},
        "parts": {"parts": [{"points": 1}]}, "best_of": {"cases": [{"points": 1}], "base": 1}, "deduction": {"per_item": 1},
    }.get(rule_name, {})
    p = convert_params(rule, params)
    inputs = [None] * (rule.arity or 1)
    context = rule.prepare(p, [inputs]) if rule.peer else None
    out = rule.score(p, D(0) if rule_name == "informational" else D(5), inputs, context)
    assert out.points == 0
    assert "missing" in out.formula


@pytest.mark.parametrize("rule_name, bad_input", [("ratio", True), ("yes_no", D(1)), ("category", True), ("per_item", "a")])
def test_a_rule_refuses_inputs_of_the_wrong_type(rule_name, bad_input):
    rule = RULES[rule_name]
    params = {"category": {"shares": {"a": 1}}, "per_item": {"points": 1}}.get(rule_name, {})
    with pytest.raises(TypeError):
        rule.score(convert_params(rule, params), D(5), [bad_input], None)


@pytest.mark.parametrize(
    "rule_name, params, mx, types, path",
    [
        ("thresholds", {"steps": [{"at_least": 1, "points": 5}, {"at_least": 2, "points": 3}]}, "5", ["count"], "steps[1].points"),
        ("thresholds", {"steps": [{"at_least": 1, "points": 9}]}, "5", ["count"], "steps[0].points"),
        ("thresholds", {"steps": []}, "5", ["count"], "steps"),
        ("ratio", {}, "5", ["percentage"], "percent"),
        ("per_item", {"points": 0}, "5", ["count"], "points"),
        ("yes_no", {"points": 6}, "5", ["yes_no"], "points"),
        ("yes_no", {}, "5", ["count"], ""),
        ("category", {"shares": {"a": 2}}, "5", ["category"], "shares.a"),
        ("parts", {"parts": [{"at_least": 1, "points": 1}]}, "5", ["yes_no"], "parts[0].at_least"),
        ("parts", {"parts": [{"points": 1}]}, "5", ["yes_no", "yes_no"], "parts"),
        ("best_of", {"cases": [{"input": 3, "points": 1}]}, "5", ["yes_no"], "cases[0].input"),
        ("deduction", {"per_item": 1, "start": 9}, "5", ["count"], "start"),
        ("zscore", {"spread": 0}, "5", ["number"], "spread"),
        ("informational", {}, "5", ["count"], ""),
    ],
)
def test_check_refuses_params_that_do_not_fit(rule_name, params, mx, types, path):
    rule = RULES[rule_name]
    with pytest.raises(ParamsError) as e:
        rule.check(convert_params(rule, params), D(mx), types)
    assert e.value.path == path
