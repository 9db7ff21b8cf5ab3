"""Properties of the engine over generated small logs (units, submissions, corrections,
retractions) and generated editions (policies, aggregation, rounding, ties)."""

from __future__ import annotations

from decimal import Decimal as D

from engine_testkit import RULES, build, mini_edition, provenance, run
from engine_testkit import rank_tier_quick as rank_tier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.explain import explain
from engine.fold import fold
from engine.result import canonical_bytes, result_hash
from engine.rules.aggregate import component_points, grade, tier_total
from engine.rescore import rescore_units
from engine.score import score_tier
from events.types import Choice

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VALUES = {
    "pc": st.integers(0, 100).map(lambda i: D(i).scaleb(-2)),
    "bw": st.integers(0, 12).map(D),  # small: ties and a best of 0 happen
    "net": st.booleans(),
    "head": st.sampled_from(["chairman", "deputy", "none"]).map(Choice),
    "lead": st.integers(0, 50).map(lambda i: D(i).scaleb(-1)),
}
INDICATORS = tuple(VALUES)


@st.composite
def scenarios(draw, max_units: int = 6):
    """(units, submissions, amendments): submissions are independent (one per key);
    amendments (corrections, retractions) name submissions or earlier corrections."""
    n = draw(st.integers(2, max_units))
    units = [(f"u{i}", f"Xã {i}") for i in range(n)]
    subs = []
    for uid, _ in units:
        for ind in INDICATORS:
            if draw(st.integers(0, 9)) < 9:  # about one value in ten is missing
                subs.append(("sub", f"s-{uid}-{ind}", 2020, uid, ind, draw(VALUES[ind])))
            if draw(st.integers(0, 4)) == 0:  # last year's value, for carry_forward
                subs.append(("sub", f"p-{uid}-{ind}", 2019, uid, ind, draw(VALUES[ind])))
    current = [s for s in subs if s[2] == 2020]
    amends = []
    targets: list[tuple[str, str]] = []  # (label, indicator) of submissions and corrections
    for k in range(draw(st.integers(0, 5))):
        if not current:
            break
        if targets and draw(st.booleans()):
            label, _ = draw(st.sampled_from(targets))
            amends.append(("ret", f"r{k}", label))
        else:
            s = draw(st.sampled_from(current))
            label = f"c{k}"
            amends.append(("cor", label, s[1], draw(VALUES[s[4]])))
            targets.append((label, s[4]))
        if draw(st.booleans()):
            targets.append((draw(st.sampled_from(current))[1], ""))
    # a retraction may only name an event once (the app refuses a second one)
    seen, clean = set(), []
    for op in amends:
        if op[0] == "ret":
            if op[2] in seen:
                continue
            seen.add(op[2])
        clean.append(op)
    return units, subs, clean


editions = st.builds(
    mini_edition,
    policy=st.sampled_from(["zero", "carry_forward", "exclude_unit"]),
    aggregate=st.sampled_from(["sum", "mean"]),
    applies_to=st.sampled_from(["publication", "criterion"]),
    mode=st.sampled_from(["ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN"]),
    method=st.sampled_from(["competition", "dense"]),
    compare=st.sampled_from(["published", "exact"]),
    group_by=st.sampled_from([None, "parent_id"]),
    decimals=st.sampled_from([1, 2, 4]),
)


def events_of(units, subs, amends):
    return build(list(subs) + list(amends), units=units)


@SETTINGS
@given(scenarios(), editions)
def test_criterion_points_add_up_to_the_unrounded_total(scenario, edition):
    scores, ranking = run(events_of(*scenario), edition)
    tier = scores.tier_def
    for uid, u in scores.units.items():
        comps = []
        for ci, comp in enumerate(tier.components):
            pts = [u.points[s.index] for s in scores.criteria if s.component_index == ci]
            for s in scores.criteria:
                if s.component_index == ci:
                    assert 0 <= u.points[s.index] <= s.criterion.max
            assert u.components[ci] == component_points(comp, pts)
            assert u.components[ci] == min(max(sum(pts, D(0)), D(0)), comp.max)
            comps.append(u.components[ci])
        assert u.total == tier_total(tier, comps)
        assert u.band == grade(edition, tier, u.published_total)
        x = explain(scores, uid, ranking=ranking)
        assert D(x.total_exact) == u.total
        for c in x.components:
            assert c.sum == sum((k.points for k in c.criteria), D(0))
            assert c.points_exact == min(c.sum, c.max)


@SETTINGS
@given(scenarios(), editions, st.randoms(use_true_random=False))
def test_the_order_of_independent_submissions_changes_nothing(scenario, edition, rnd):
    units, subs, amends = scenario
    shuffled = list(subs)
    rnd.shuffle(shuffled)
    _, a = run(events_of(units, subs, amends), edition)
    _, b = run(events_of(units, shuffled, amends), edition)
    assert canonical_bytes(a) == canonical_bytes(b)
    assert result_hash(a) == result_hash(b)


@SETTINGS
@given(scenarios(), editions, st.data())
def test_a_correction_then_its_retraction_gives_back_the_earlier_result(scenario, edition, data):
    units, subs, amends = scenario
    current = [s for s in subs if s[2] == 2020]
    target = data.draw(st.sampled_from(current))
    value = data.draw(VALUES[target[4]])
    before_scores, before = run(events_of(units, subs, amends), edition)
    extra = [("cor", "cx", target[1], value), ("ret", "rx", "cx")]
    after_scores, after = run(events_of(units, subs, list(amends) + extra), edition)
    assert canonical_bytes(before) == canonical_bytes(after)
    assert before_scores.units == after_scores.units or all(
        before_scores.units[u].total == after_scores.units[u].total for u in before_scores.units)


@SETTINGS
@given(scenarios(), editions)
def test_retracting_a_correction_is_as_if_it_had_never_been_made(scenario, edition):
    units, subs, amends = scenario
    retracted = {op[2] for op in amends if op[0] == "ret"}
    corrections = [op for op in amends if op[0] == "cor" and op[1] not in retracted]
    if not corrections:
        return
    c = corrections[-1]
    without = [op for op in amends if op is not c]
    _, a = run(events_of(units, subs, list(amends) + [("ret", "rz", c[1])]), edition)
    _, b = run(events_of(units, subs, without), edition)
    assert canonical_bytes(a) == canonical_bytes(b)


@SETTINGS
@given(scenarios(), editions)
def test_ranks_follow_the_tie_rule(scenario, edition):
    scores, ranking = run(events_of(*scenario), edition)
    exact = edition.ties.compare == "exact"
    compared = {uid: (u.total if exact else u.published_total) for uid, u in scores.units.items()}
    for row in ranking.rows:
        group = [r.unit_id for r in ranking.rows if r.group == row.group]
        greater = [compared[g] for g in group if compared[g] > compared[row.unit_id]]
        n = len(greater) if edition.ties.method == "competition" else len(set(greater))
        assert row.rank == 1 + n
    keys = [(r.group is not None, r.group or "", r.rank, r.unit_id) for r in ranking.rows]
    assert keys == sorted(keys)
    assert {r.unit_id for r in ranking.rows} | set(scores.excluded) == {
        u for u, info in fold(events_of(*scenario)).year_state(2020).units.items()}


@SETTINGS
@given(scenarios(), editions, st.data())
def test_incremental_rescore_equals_a_full_replay(scenario, edition, data):
    units, subs, amends = scenario
    events = events_of(units, subs, amends)
    state = fold(events)
    prov = provenance(edition)
    scores = score_tier(state.year_state(2020), "district", edition, RULES,
                        previous=state.year_state(2019))
    ranking = rank_tier(scores, prov)
    current = [s for s in subs if s[2] == 2020]
    ops = list(amends)
    changed = set()
    for k in range(data.draw(st.integers(1, 3))):
        t = data.draw(st.sampled_from(current))
        if data.draw(st.booleans()):
            ops.append(("cor", f"ci{k}", t[1], data.draw(VALUES[t[4]])))
        else:
            ops.append(("ret", f"ri{k}", t[1]))
        changed.add(t[3])
    more = events_of(units, subs, ops)[len(events):]
    for e in more:
        state.apply(e)
    inc = rescore_units(scores, state.year_state(2020), changed, previous=state.year_state(2019))
    inc_ranking = rank_tier(inc, prov, reuse=(scores, ranking))
    full_scores, full = run(events_of(units, subs, ops), edition, prov=prov)
    assert canonical_bytes(inc_ranking) == canonical_bytes(full)
    assert list(inc.units) == list(full_scores.units)
    for uid in full_scores.units:
        assert inc.units[uid].points == full_scores.units[uid].points
        assert inc.units[uid].total == full_scores.units[uid].total
