"""Units without a single value for the year: listed as "no data", not ranked, unless the
edition's `no_data` option lets the missing-data policy score them; and `missing_inputs`, the
units a policy stood in for (what `rank` counts and `publish` refuses)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from engine_testkit import RULES, Log, mini_edition, provenance, run
from engine_testkit import rank_tier_quick as rank_tier

from engine.explain import explain, render_text
from engine.fold import fold
from engine.rescore import rescore_units
from engine.result import canonical_bytes
from engine.score import NO_DATA, missing_inputs, score_tier

FULL = {"pc": "0.8", "bw": "40", "net": True, "head": {"choice": "chairman"}, "lead": "4.5"}


def log_with_an_empty_unit() -> Log:
    """747 and 750 have values; 754 has none this year (it had some in 2019)."""
    log = Log()
    for uid in ("747", "750", "754"):
        log.register(uid, f"UBND {uid}", parent_id="77")
    log.submit_all(2020, "747", FULL)
    log.submit_all(2020, "750", {**FULL, "bw": "20", "lead": "3"})
    log.submit_all(2019, "754", {**FULL, "bw": "80"})
    return log


@pytest.mark.parametrize("policy", ["zero", "carry_forward", "exclude_unit"])
def test_a_unit_without_any_value_is_listed_as_no_data_and_not_ranked(policy):
    scores, ranking = run(log_with_an_empty_unit().events, mini_edition(policy=policy))
    assert [r.unit_id for r in ranking.rows] == ["747", "750"]
    assert [(e.unit_id, e.reason) for e in ranking.excluded] == [("754", NO_DATA)]
    # not a peer either: 754's 80 Mbps of 2019 is not the best of 2020, even carried forward
    i = next(s.index for s in scores.criteria if s.criterion.code == "HT2")
    assert scores.contexts[i] == {"best": D(40)}
    x = explain(scores, "754", ranking=ranking)
    assert x.rank is None and x.total is None and x.excluded == NO_DATA
    assert f"Not ranked: {NO_DATA}" in render_text(x)


def test_no_data_missing_policy_lets_each_policy_decide():
    events = log_with_an_empty_unit().events
    zero, ranked = run(events, mini_edition(policy="zero", no_data="missing_policy"))
    assert [r.unit_id for r in ranked.rows][-1] == "754" and zero.units["754"].total == 0
    carried, ranked = run(events, mini_edition(policy="carry_forward", no_data="missing_policy"))
    assert carried.units["754"].total > 0 and ranked.excluded == ()
    _, ranked = run(events, mini_edition(policy="exclude_unit", no_data="missing_policy"))
    assert [e.unit_id for e in ranked.excluded] == ["754"]
    assert ranked.excluded[0].reason.startswith("missing data (policy exclude_unit)")


def test_a_unit_with_only_a_retracted_value_has_no_data():
    log = log_with_an_empty_unit()
    eid = log.submit(2020, "754", "bw", "10")
    log.retract(eid)
    _, ranking = run(log.events, mini_edition())
    assert [e.unit_id for e in ranking.excluded] == ["754"]


def test_missing_inputs_lists_every_unit_a_policy_stood_in_for():
    log = log_with_an_empty_unit()
    log.submit_all(2020, "754", {"pc": "0.5"})
    scores, _ = run(log.events, mini_edition())
    assert missing_inputs(scores) == {"754": ("bw", "head", "lead", "net")}
    complete = Log()
    complete.register("747", "UBND 747")
    complete.submit_all(2020, "747", FULL)
    assert missing_inputs(run(complete.events, mini_edition())[0]) == {}
    nothing, _ = run(log_with_an_empty_unit().events, mini_edition())
    assert missing_inputs(nothing) == {"754": ("bw", "head", "lead", "net", "pc")}


def test_rescoring_a_unit_that_gets_its_first_value_or_loses_its_last_gives_the_full_replay():
    ed = mini_edition()
    log = log_with_an_empty_unit()
    state = fold(log.events)
    scores = score_tier(state.year_state(2020), "district", ed, RULES)
    ranking = rank_tier(scores, provenance(ed))
    first = log.submit(2020, "754", "bw", "60")  # 754 enters, and is the new best
    state.apply(log.events[-1])
    entered = rescore_units(scores, state.year_state(2020), ["754"])
    full, full_ranking = run(log.events, ed)
    assert entered.units == full.units and entered.excluded == full.excluded
    assert canonical_bytes(rank_tier(entered, provenance(ed), reuse=(scores, ranking))) == \
        canonical_bytes(full_ranking)
    log.retract(first)  # and leaves again
    state.apply(log.events[-1])
    left = rescore_units(entered, state.year_state(2020), ["754"])
    again, _ = run(log.events, ed)
    assert left.units == again.units and list(left.excluded) == ["754"]
    assert left.excluded["754"].reason == NO_DATA
