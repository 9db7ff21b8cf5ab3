"""The rule kinds' fast path: `points(...)` gives exactly `score(...).points` (the same Decimal,
representation included) for every built-in rule kind, on every criterion of the built-in
editions and on generated inputs and peer columns."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.rules import BUILTIN_RULE_KINDS, builtin_rule_kinds
from engine.rules.common import NoParams
from plugins.manager import get_registry

RULES = builtin_rule_kinds()


def _criteria():
    out = []
    for edition_id, edition in sorted(get_registry().editions.items()):
        m = edition.methodology
        types = {i.code: i for i in m.indicators}
        for tier_name, tier in sorted(m.tiers.items()):
            for comp in tier.components:
                for crit in comp.criteria:
                    rule = RULES.get(crit.rule)
                    if rule is None:
                        continue
                    params = msgspec.convert(dict(crit.params), rule.params_type, str_keys=True)
                    out.append(pytest.param(
                        rule, params, crit.max, tuple(types[c] for c in crit.indicators),
                        id=f"{edition_id}-{tier_name}-{crit.code}"))
    return out


CRITERIA = _criteria()
NUMBERS = st.one_of(
    st.integers(-5, 400).map(D),
    st.integers(-500, 10_000).map(lambda i: D(i).scaleb(-2)),
    st.sampled_from([D(0), D("0.0"), D("1.000"), D(100)]),
)


def _input(indicator):
    t = indicator.type
    if t == "yes_no":
        v = st.booleans()
    elif t == "category":
        v = st.sampled_from(list(indicator.categories))
    else:
        v = NUMBERS
    return st.one_of(st.none(), v)


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def test_every_builtin_rule_kind_has_a_fast_path_and_is_covered():
    assert all(callable(getattr(r, "points", None)) for r in BUILTIN_RULE_KINDS)
    covered = {p.values[0].name for p in CRITERIA} | {"informational"}
    assert covered == set(RULES)


@pytest.mark.parametrize("rule, params, max_points, indicators", CRITERIA)
@SETTINGS
@given(data=st.data())
def test_points_equals_score_points(rule, params, max_points, indicators, data):
    row_strategy = st.tuples(*(_input(i) for i in indicators))
    row = data.draw(row_strategy)
    context = None
    if rule.peer:
        column = data.draw(st.lists(row_strategy, max_size=6))
        if data.draw(st.booleans()):
            column.append(row)  # usually the unit is among its peers
        column = [r for r in column if None not in r]
        context = rule.prepare(params, column)
    expected = rule.score(params, max_points, row, context).points
    got = rule.points(params, max_points, row, context)
    assert type(got) is D
    assert str(got) == str(expected), (row, context)


@SETTINGS
@given(st.one_of(st.none(), NUMBERS, st.booleans()))
def test_informational_points(v):
    r = RULES["informational"]
    assert r.points(NoParams(), D(0), (v,), None) == r.score(NoParams(), D(0), (v,), None).points
