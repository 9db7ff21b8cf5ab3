"""Properties every built-in rule kind keeps, for any valid input and params (hypothesis):

- 0 <= points <= max;
- monotone: moving one input in its better direction (rule.direction) never lowers the points,
  peer rules included (the tier context is recomputed with the unit's new value);
- a component's points never exceed its maximum; a tier's total never exceeds its scale.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from engine.model import Component, Criterion, Tier
from engine.rules import builtin_rule_kinds, convert_params
from engine.rules.aggregate import component_points, tier_total
from engine.rules.base import ParamsError

RULES = builtin_rule_kinds()
CATEGORIES = ("a", "b", "c")

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def dec(lo, hi, places=3):
    return st.decimals(min_value=Decimal(lo), max_value=Decimal(hi), places=places, allow_nan=False, allow_infinity=False)


counts = st.integers(min_value=0, max_value=2000).map(Decimal)

VALUES = {
    "ratio": dec(0, 1, 4),
    "percentage": dec(0, 100, 2),
    "count": counts,
    "number": dec(0, 100000, 3),
    "signed": dec(-1000, 1000, 3),  # a "number" indicator without a declared minimum
    "points": dec(0, 200, 2),
    "yes_no": st.booleans(),
    "category": st.sampled_from(CATEGORIES),
}
TYPE_OF = {"signed": "number"}

max_points = dec(0, 100, 2)


def condition(kind: str, position: int | None):
    """A parts/best_of condition for an input of `kind` at 1-based `position` (None: default)."""
    base = {} if position is None else {"input": position}
    if kind == "yes_no":
        return st.just(base)
    if kind == "category":
        return st.one_of(
            st.sampled_from(CATEGORIES).map(lambda c: {**base, "equals": c}),
            st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True).map(lambda cs: {**base, "any_of": cs}),
        )
    return VALUES[kind].map(lambda v: {**base, "at_least": v})


@st.composite
def spec(draw, name: str):
    """(params dict, input kinds, max points) valid for rule `name`."""
    m = draw(max_points)
    if name == "ratio":
        kind = draw(st.sampled_from(["ratio", "percentage", "number"]))
        percent = kind == "percentage" or (kind == "number" and draw(st.booleans()))
        params = {"percent": percent}
        if draw(st.booleans()):
            params["full_at"] = draw(dec("0.01", 100 if percent else 1, 2))
        return params, [kind], m
    if name == "ratio_of_counts":
        return {"full_at": draw(dec("0.01", 1, 2)), "if_zero": draw(st.sampled_from(["zero", "full"]))}, ["count", "count"], m
    if name == "relative_to_best":
        return {"better": draw(st.sampled_from(["higher", "lower"]))}, ["number"], m
    if name == "min_max":
        return {"better": draw(st.sampled_from(["higher", "lower"])), "if_all_equal": draw(st.sampled_from(["full", "zero"]))}, ["signed"], m
    if name == "zscore":
        return {
            "better": draw(st.sampled_from(["higher", "lower"])),
            "spread": draw(dec("0.5", 5, 2)),
        }, ["signed"], m
    if name == "thresholds":
        n = draw(st.integers(1, 5))
        at = sorted(draw(st.lists(dec(-10, 100, 1), min_size=n, max_size=n, unique=True)))
        shares = sorted(draw(st.lists(dec(0, 1, 3), min_size=n, max_size=n)))
        steps = [{"at_least": a, "points": (s * m).quantize(Decimal("0.001"))} for a, s in zip(at, shares)]
        steps = [dict(s, points=min(s["points"], m)) for s in steps]
        otherwise = (draw(dec(0, 1, 3)) * steps[0]["points"]).quantize(Decimal("0.001"))
        return {"steps": draw(st.permutations(steps)), "otherwise": min(otherwise, steps[0]["points"])}, ["signed"], m
    if name == "per_item":
        return {"points": draw(dec("0.01", 20, 2))}, ["count"], m
    if name == "yes_no":
        return ({"points": (draw(dec(0, 1, 3)) * m).quantize(Decimal("0.001"))} if draw(st.booleans()) else {}), ["yes_no"], m
    if name == "category":
        keys = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True))
        return {"shares": {k: draw(dec(0, 1, 3)) for k in keys}, "otherwise": draw(dec(0, 1, 3))}, ["category"], m
    if name in ("parts", "best_of"):
        kinds = draw(st.lists(st.sampled_from(["yes_no", "count", "category", "percentage"]), min_size=1, max_size=3))
        points = dec(0, 1, 3).map(lambda s: min((s * m).quantize(Decimal("0.001")), m))
        if name == "parts":
            parts = [dict(draw(condition(k, None)), points=draw(points)) for k in kinds]
            for _ in range(draw(st.integers(0, 2))):
                i = draw(st.integers(1, len(kinds)))
                parts.append(dict(draw(condition(kinds[i - 1], i)), points=draw(points)))
            return {"parts": parts}, kinds, m
        cases = [dict(draw(condition(k, i + 1)), points=draw(points)) for i, k in enumerate(kinds)]
        for _ in range(draw(st.integers(0, 2))):
            i = draw(st.integers(1, len(kinds)))
            cases.append(dict(draw(condition(kinds[i - 1], i)), points=draw(points)))
        params = {"cases": cases, "base": draw(points)}
        if draw(st.booleans()):
            i = draw(st.integers(1, len(kinds)))
            params["base_when"] = draw(condition(kinds[i - 1], i))
        return params, kinds, m
    if name == "assessor":
        return ({"out_of": draw(dec(1, 100, 1))} if draw(st.booleans()) else {}), ["points"], m
    if name == "deduction":
        params = {"per_item": draw(dec("0.01", 10, 2))}
        if draw(st.booleans()):
            params["start"] = (draw(dec(0, 1, 3)) * m).quantize(Decimal("0.001"))
        return params, ["count"], m
    if name == "informational":
        return {}, [draw(st.sampled_from(list(VALUES)))], Decimal(0)
    raise AssertionError(f"no strategy for rule kind {name!r}: add one")


def test_every_builtin_rule_kind_is_covered():
    assert set(RULES) == {
        "ratio", "ratio_of_counts", "relative_to_best", "min_max", "zscore", "thresholds", "per_item",
        "yes_no", "category", "parts", "best_of", "assessor", "deduction", "informational",
    }


def _prepared(rule, raw_params, kinds, m):
    params = convert_params(rule, raw_params)
    try:
        rule.check(params, m, [TYPE_OF.get(k, k) for k in kinds])
    except ParamsError:
        assume(False)
    return params


def _row(draw, kinds, allow_missing=False):
    return [draw(st.none() | VALUES[k]) if allow_missing else draw(VALUES[k]) for k in kinds]


@pytest.mark.parametrize("name", sorted(RULES))
@SETTINGS
@given(data=st.data())
def test_points_stay_within_zero_and_max(name, data):
    rule = RULES[name]
    raw_params, kinds, m = data.draw(spec(name))
    params = _prepared(rule, raw_params, kinds, m)
    peers = [_row(data.draw, kinds, allow_missing=True) for _ in range(data.draw(st.integers(0, 6)))]
    unit = _row(data.draw, kinds, allow_missing=True)
    context = rule.prepare(params, peers + [unit])
    outcome = rule.score(params, m, unit, context)
    assert isinstance(outcome.points, Decimal)
    assert 0 <= outcome.points <= m, outcome.formula
    assert outcome.formula


def _better_pair(data, kind, direction):
    a, b = data.draw(VALUES[kind]), data.draw(VALUES[kind])
    if kind == "yes_no":
        low, high = (False, True) if a != b else (a, b)
    else:
        low, high = min(a, b), max(a, b)
    return (low, high) if direction > 0 else (high, low)


@pytest.mark.parametrize("name", sorted(set(RULES) - {"category"}))  # categories are unordered
@SETTINGS
@given(data=st.data())
def test_a_better_value_never_gives_fewer_points(name, data):
    rule = RULES[name]
    raw_params, kinds, m = data.draw(spec(name))
    params = _prepared(rule, raw_params, kinds, m)
    directions = rule.direction(params)
    assert len(directions) >= len(kinds) or rule.arity is None
    ordered = [i for i, d in enumerate(directions[: len(kinds)]) if d != 0]
    assume(ordered)
    i = data.draw(st.sampled_from(ordered))
    worse_value, better_value = _better_pair(data, kinds[i], directions[i])
    peers = [_row(data.draw, kinds) for _ in range(data.draw(st.integers(0, 6)))]
    unit = _row(data.draw, kinds)
    worse, better = list(unit), list(unit)
    worse[i], better[i] = worse_value, better_value
    note(f"params={raw_params} max={m} peers={peers} worse={worse} better={better}")
    # Peer rules see the whole tier, the unit included: the context moves with the value.
    worse_points = rule.score(params, m, worse, rule.prepare(params, peers + [worse])).points
    better_points = rule.score(params, m, better, rule.prepare(params, peers + [better])).points
    assert better_points >= worse_points, (worse, better, worse_points, better_points)


# ------------------------------------------------------------------- components and tiers


def _criterion(code: str, mx: Decimal) -> Criterion:
    return Criterion(code=code, name_vi=code, name_en=code, max=mx, rule="assessor", indicators=("x",))


@st.composite
def component_with_points(draw):
    cmax = draw(dec("0.01", 100, 2))
    n = draw(st.integers(1, 6))
    maxima = [draw(dec(0, cmax, 2)) for _ in range(n)]
    comp = Component(code="K", name_vi="K", name_en="K", max=cmax, criteria=tuple(_criterion(f"K{i}", mx) for i, mx in enumerate(maxima)))
    points = {f"K{i}": draw(dec(0, mx, 6)) for i, mx in enumerate(maxima)}
    return comp, points


@SETTINGS
@given(component_with_points())
def test_a_component_never_exceeds_its_maximum(case):
    comp, points = case
    got = component_points(comp, points)
    assert 0 <= got <= comp.max
    assert got == min(sum(points.values()), comp.max)
    assert component_points(comp, list(points.values())) == got


@SETTINGS
@given(st.lists(component_with_points(), min_size=1, max_size=8), st.sampled_from(["sum", "mean"]))
def test_a_tier_total_never_exceeds_its_scale(cases, aggregate):
    comps = tuple(Component(code=f"C{i}", name_vi="c", name_en="c", max=c.max, criteria=c.criteria) for i, (c, _) in enumerate(cases))
    total_max = sum((c.max for c in comps), Decimal(0))
    scale = total_max if aggregate == "sum" else total_max / len(comps)
    tier = Tier(scale=scale, components=comps, aggregate=aggregate)
    per_component = {f"C{i}": component_points(c, p) for i, (c, p) in enumerate(cases)}
    total = tier_total(tier, per_component)
    assert 0 <= total <= tier.scale
