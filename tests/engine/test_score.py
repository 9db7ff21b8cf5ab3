"""Score: points per criterion and component, missing-data policies, rounding, bands, peers."""

from __future__ import annotations

from decimal import Decimal as D

import attrs
import pytest
from engine_testkit import RULES, Log, mini_edition, run

from engine.fold import fold
from engine.rules.base import Outcome
from engine.score import needs_previous, score_tier

FULL = {"pc": "0.8", "bw": "40", "net": True, "head": {"choice": "chairman"}, "lead": "4.5"}


def three_units(log: Log | None = None) -> Log:
    log = log or Log()
    log.register("747", "Thành phố Vũng Tàu", parent_id="77")
    log.register("750", "UBND huyện Long Điền", parent_id="77")
    log.register("754", "UBND huyện Đất Đỏ", parent_id="77")
    return log


def test_points_per_criterion_component_total():
    log = three_units()
    log.submit_all(2020, "747", FULL)
    log.submit_all(2020, "750", {**FULL, "bw": "20", "net": False, "head": {"choice": "deputy"}})
    log.submit_all(2020, "754", {**FULL, "pc": "0.5", "bw": "10", "lead": "2"})
    scores, ranking = run(log.events, mini_edition())
    u = scores.units["747"]
    by = {s.criterion.code: u.points[s.index] for s in scores.criteria}
    # HT1 0.8×6, HT2 40/40×5 = 5 → HT 9.8; UD1 2, UD2 2, UD3 1 → UD capped at 4; LD 4.5
    assert by == {"HT1": D("4.8"), "HT2": D(5), "UD1": D(2), "UD2": D(2), "UD3": D(1), "LD1": D("4.5")}
    assert u.components == (D("9.8"), D(4), D("4.5"))
    assert u.total == D("18.3") and u.published_total == D("18.30")
    assert u.band.name_vi == "Tốt"  # 18.3 >= 0.9 × 19
    v = scores.units["750"]
    by = {s.criterion.code: v.points[s.index] for s in scores.criteria}
    assert by["HT2"] == D("2.5") and by["UD2"] == D(1) and by["UD3"] == D("1") * D(10) / D(30)
    assert [r.unit_id for r in ranking.rows] == ["747", "750", "754"]
    assert ranking.rows[0].components == {"HT": D("9.80"), "UD": D("4.00"), "LD": D("4.50")}
    assert str(ranking.rows[0].components["HT"]) == "9.80"


def test_missing_zero_policy_zeroes_the_criterion_and_says_so():
    log = three_units()
    log.submit_all(2020, "747", FULL)
    log.submit_all(2020, "750", {k: v for k, v in FULL.items() if k != "pc"})
    # no_data = "missing_policy": a unit without any value is scored by the policy too
    scores, _ = run(log.events, mini_edition(policy="zero", no_data="missing_policy"))
    u = scores.units["750"]
    i = next(s.index for s in scores.criteria if s.criterion.code == "HT1")
    assert u.points[i] == 0 and u.exact[i] is None and u.outcomes[i] is None
    assert u.notes[i].policy == "zero" and u.notes[i].missing == ("pc",) and u.notes[i].zeroed
    # 754 has nothing at all: every criterion zeroed, still ranked, last
    assert scores.units["754"].total == 0


def test_exclude_unit_policy_lists_the_unit_and_keeps_it_out_of_peer_comparisons():
    log = three_units()
    log.submit_all(2020, "747", {**FULL, "bw": "40"})
    log.submit_all(2020, "750", {**FULL, "bw": "20"})
    log.submit_all(2020, "754", {**{k: v for k, v in FULL.items() if k != "lead"}, "bw": "80"})
    scores, ranking = run(log.events, mini_edition(policy="exclude_unit"))
    assert list(scores.excluded) == ["754"]
    assert "lead (LD1)" in scores.excluded["754"].reason
    assert [e.unit_id for e in ranking.excluded] == ["754"]
    # 754's 80 Mbps is not the best: it is not ranked
    i = next(s.index for s in scores.criteria if s.criterion.code == "HT2")
    assert scores.contexts[i] == {"best": D(40)}
    assert scores.units["747"].points[i] == D(5)


def test_criterion_policy_overrides_the_tier_policy():
    log = three_units()
    log.submit_all(2020, "747", FULL)
    log.submit_all(2020, "750", {k: v for k, v in FULL.items() if k != "lead"})
    scores, _ = run(log.events, mini_edition(policy="exclude_unit", criterion_policy={"LD1": "zero"}))
    assert "750" in scores.units and list(scores.excluded) == ["754"]  # 754 has nothing


def test_carry_forward_uses_last_years_value_and_names_it():
    log = three_units()
    log.submit(2019, "750", "lead", "3", evidence="BB 2019")
    log.submit_all(2020, "747", FULL)
    log.submit_all(2020, "750", {k: v for k, v in FULL.items() if k not in ("lead", "pc")})
    ed = mini_edition(policy="carry_forward")
    assert needs_previous(ed, "district")
    assert not needs_previous(mini_edition(), "district")
    scores, _ = run(log.events, ed)
    u = scores.units["750"]
    idx = {s.criterion.code: s.index for s in scores.criteria}
    assert u.points[idx["LD1"]] == D(3)
    note = u.notes[idx["LD1"]]
    assert note.carried == ("lead",) and note.from_year == 2019 and not note.zeroed
    # pc has no value in 2019 either: zero, said so
    assert u.points[idx["HT1"]] == 0 and u.notes[idx["HT1"]].zeroed
    # without the previous year given, carry_forward finds nothing
    state = fold(log.events)
    alone = score_tier(state.year_state(2020), "district", ed, RULES)
    assert alone.units["750"].points[idx["LD1"]] == 0


def test_rounding_per_criterion_vs_publication():
    log = three_units()
    # HT1 = 0.333 × 6 = 1.998; LD1 = 1.005
    for uid in ("747", "750", "754"):
        log.submit_all(2020, uid, {**FULL, "pc": "0.333", "lead": "1.005", "bw": "40"})
    pub, _ = run(log.events, mini_edition(applies_to="publication"))
    crit, _ = run(log.events, mini_edition(applies_to="criterion"))
    idx = {s.criterion.code: s.index for s in pub.criteria}
    assert pub.units["747"].points[idx["HT1"]] == D("1.998")
    assert crit.units["747"].points[idx["HT1"]] == D("2.00")
    assert crit.units["747"].points[idx["LD1"]] == D("1.01")  # half up
    assert pub.units["747"].total == D("1.998") + D(5) + D(4) + D("1.005")
    assert pub.units["747"].published_total == D("12.00")  # 12.003
    assert crit.units["747"].total == D("12.01")


def test_rounding_modes():
    log = three_units()
    log.submit_all(2020, "747", {**FULL, "pc": "0", "bw": "40", "net": False,
                                 "head": {"choice": "none"}, "lead": "0.125"})
    # total = 0 + 5 + 0 + 0 + 1 + 0.125 = 6.125
    for mode, want in (("ROUND_HALF_UP", "6.13"), ("ROUND_HALF_EVEN", "6.12"), ("ROUND_DOWN", "6.12")):
        scores, _ = run(log.events, mini_edition(mode=mode))
        assert str(scores.units["747"].published_total) == want, mode


def test_mean_aggregate():
    log = three_units()
    log.submit_all(2020, "747", FULL)
    scores, _ = run(log.events, mini_edition(aggregate="mean"))
    u = scores.units["747"]
    assert u.total == (D("9.8") + D(4) + D("4.5")) / 3
    assert u.published_total == D("6.10")


def test_peers_are_the_whole_tier_even_when_ranked_by_group():
    log = Log()
    log.register("a1", "Xã A1", parent_id="A")
    log.register("a2", "Xã A2", parent_id="A")
    log.register("b1", "Xã B1", parent_id="B")
    log.submit_all(2020, "a1", {**FULL, "bw": "10"})
    log.submit_all(2020, "a2", {**FULL, "bw": "20"})
    log.submit_all(2020, "b1", {**FULL, "bw": "40"})
    scores, ranking = run(log.events, mini_edition(group_by="parent_id"))
    i = next(s.index for s in scores.criteria if s.criterion.code == "HT2")
    assert scores.contexts[i] == {"best": D(40)}
    assert scores.units["a2"].points[i] == D("2.5")
    assert [(r.group, r.rank, r.unit_id) for r in ranking.rows] == [
        ("A", 1, "a2"), ("A", 2, "a1"), ("B", 1, "b1")]


def test_only_units_of_the_tier_that_existed_that_year_are_scored():
    log = three_units()
    log.register("26560", "Xã Long Mỹ", tier="commune", parent_id="754")
    log.register("999", "Huyện mới", from_year=2021)
    log.retire("754", last_year=2019)
    for uid in ("747", "750", "754", "26560", "999"):
        log.submit_all(2020, uid, FULL)
    scores, ranking = run(log.events, mini_edition())
    assert list(scores.units) == ["747", "750"]


def test_unknown_rule_kind_and_bad_params_are_named():
    log = three_units()
    ed = mini_edition()
    with pytest.raises(ValueError, match="rule kind 'relative_to_best', which is not registered"):
        run(log.events, ed, rules={k: v for k, v in RULES.items() if k != "relative_to_best"})
    import msgspec

    comp = ed.tiers["district"].components[1]
    crit = msgspec.structs.replace(comp.criteria[1], params={"shares": "oops"})
    comp = msgspec.structs.replace(comp, criteria=(comp.criteria[0], crit, comp.criteria[2]))
    tier = msgspec.structs.replace(ed.tiers["district"], components=(
        ed.tiers["district"].components[0], comp, ed.tiers["district"].components[2]))
    ed2 = msgspec.structs.replace(ed, tiers={"district": tier})
    with pytest.raises(ValueError, match="criterion UD2: params for rule 'category'"):
        run(log.events, ed2)
    with pytest.raises(ValueError, match="has no tier 'commune'"):
        run(log.events, ed, tier="commune")


def test_a_rule_giving_points_above_its_max_is_an_error():
    @attrs.frozen
    class Greedy:
        name = "assessor"
        description = "gives too much"
        params_type = RULES["assessor"].params_type
        arity = 1
        monotone = True
        peer = False

        def prepare(self, params, column):
            return None

        def score(self, params, max_points, inputs, context):
            return Outcome(max_points + 1, "too much")

    log = three_units()
    log.submit_all(2020, "747", FULL)
    with pytest.raises(ValueError, match="gave 6 points for criterion LD1 of unit 747"):
        run(log.events, mini_edition(), rules={**RULES, "assessor": Greedy()})


def test_a_fast_points_method_scores_and_explain_still_gets_the_formula():
    calls = {"score": 0, "points": 0}
    base = RULES["ratio"]

    class FastRatio:
        name = "ratio"
        description = base.description
        params_type = base.params_type
        arity = 1
        monotone = True
        peer = False

        def prepare(self, params, column):
            return None

        def points(self, params, max_points, inputs, context):
            calls["points"] += 1
            return base.score(params, max_points, inputs, context).points

        def score(self, params, max_points, inputs, context):
            calls["score"] += 1
            return base.score(params, max_points, inputs, context)

    log = three_units()
    for uid in ("747", "750", "754"):
        log.submit_all(2020, uid, FULL)
    scores, ranking = run(log.events, mini_edition(), rules={**RULES, "ratio": FastRatio()})
    assert calls == {"score": 0, "points": 1}  # the same input once: memoised
    from engine.explain import explain

    x = explain(scores, "750", ranking=ranking)
    ht1 = x.components[0].criteria[0]
    assert ht1.formula == "0.8 × 6 = 4.8" and calls["score"] == 1
    plain, _ = run(log.events, mini_edition())
    assert plain.units["750"].total == scores.units["750"].total


def test_many_units_with_repeating_and_distinct_inputs():
    """Past 2048 units the outcome memo drops criteria whose inputs hardly repeat;
    either way every unit gets its own inputs' points."""
    log = Log()
    n = 2100
    for i in range(n):
        uid = f"u{i:04d}"
        log.register(uid, f"Xã {i}")
        log.submit_all(2020, uid, {**FULL, "pc": f"0.{i:04d}", "lead": str(i % 5),
                                   "bw": "1.0" if i % 2 else "1"})
    scores, ranking = run(log.events, mini_edition())
    idx = {s.criterion.code: s.index for s in scores.criteria}
    for i in range(n):
        u = scores.units[f"u{i:04d}"]
        assert u.points[idx["HT1"]] == D(f"0.{i:04d}") * 6
        assert u.points[idx["LD1"]] == i % 5
        # 1.0 and 1 are the same number but keep their own representation
        assert str(u.inputs[idx["HT2"]][0]) == ("1.0" if i % 2 else "1")
        assert u.exact[idx["HT2"]] == 5
    assert len(ranking.rows) == n
