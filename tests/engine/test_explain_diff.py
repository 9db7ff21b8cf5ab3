"""Explain (the tree down to the events) and diff (what moved, and which events moved it)."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec
import pytest
from engine_testkit import Log, mini_edition, provenance, run
from engine_testkit import rank_tier_quick as rank_tier

from engine.diff import diff, render_diff_text
from engine.explain import explain, render_text
from engine.fold import fold
from engine.result import canonical_bytes
from engine.rescore import rescore_units

FULL = {"pc": "0.8", "bw": "40", "net": True, "head": {"choice": "chairman"}, "lead": "4.5"}


def district_log() -> tuple[Log, dict[str, dict[str, str]]]:
    log = Log(actor="sotttt")
    log.register("747", "Thành phố Vũng Tàu", parent_id="77")
    log.register("750", "UBND huyện Long Điền", parent_id="77")
    log.register("754", "UBND huyện Đất Đỏ", parent_id="77")
    ids = {
        "747": log.submit_all(2020, "747", FULL, actor="ubnd-747"),
        "750": log.submit_all(2020, "750", {**FULL, "bw": "20", "lead": "4"}, actor="ubnd-750"),
        "754": {},
    }
    ids["754"] = {ind: log.submit(2020, "754", ind, v, evidence="45/BC-UBND", actor="ubnd-754")
                  for ind, v in {**FULL, "pc": "0.5", "bw": "10", "lead": "2"}.items()}
    return log, ids


def test_explanation_tree_down_to_the_events():
    log, ids = district_log()
    c = log.correct(ids["754"]["pc"], "0.6", reason="Biên bản kiểm tra", authority="Sở TT&TT",
                    actor="thanhtra")
    ed = mini_edition()
    scores, ranking = run(log.events, ed)
    x = explain(scores, "754", ranking=ranking)
    assert (x.name, x.rank, x.total, x.band) == ("UBND huyện Đất Đỏ", 3, D("10.85"), "Trung bình")
    assert [comp.code for comp in x.components] == ["HT", "UD", "LD"]
    ht = x.components[0]
    assert ht.points == D("4.85") and not ht.capped
    ht1 = ht.criteria[0]
    assert (ht1.code, ht1.rule, ht1.formula) == ("HT1", "ratio", "0.6 × 6 = 3.6")
    [inp] = ht1.inputs
    assert inp.value == D("0.6") and inp.status == "present" and inp.name_vi == "Tỷ lệ cán bộ có máy tính"
    assert [(e.kind, e.actor, e.status) for e in inp.events] == [
        ("submitted", "ubnd-754", "overridden"), ("corrected", "thanhtra", "current")]
    assert inp.events[0].evidence == "45/BC-UBND" and inp.events[1].event_id == c
    ht2 = ht.criteria[1]
    assert ht2.peers == {"best": D(40)}
    ud = x.components[1]
    assert ud.capped is False and ud.sum == D(4)
    # the sums in the tree
    for comp in x.components:
        assert comp.sum == sum(k.points for k in comp.criteria)
    assert D(x.total_exact) == sum(comp.points_exact for comp in x.components)
    # the text: Vietnamese names, points with 2 decimals, the events
    text = render_text(x)
    assert "UBND huyện Đất Đỏ (754) — district, 2020" in text
    assert "Total: 10.85 / 19.00 — rank 3 — Trung bình" in text
    assert "HT Hạ tầng kỹ thuật: 4.85 / 10.00" in text
    assert "HT1 Máy tính: 3.60 / 6.00  [ratio] 0.6 × 6 = 3.6" in text
    assert "#14 submitted by ubnd-754 2021-03-01 08:14Z value 0.5 evidence: 45/BC-UBND [overridden]" in text
    assert "reason: Biên bản kiểm tra authority: Sở TT&TT" in text
    assert "bw (Băng thông bình quân) = 10 Mbps  #15 submitted by ubnd-754" in text
    assert "peers: best 40" in text


def test_explanation_of_missing_carried_and_excluded():
    log, ids = district_log()
    log.retract(ids["754"]["lead"], reason="không có biên bản")
    log.submit(2019, "750", "net", False, evidence="2019")
    log.retract(ids["750"]["net"])
    scores, ranking = run(log.events, mini_edition(criterion_policy={"UD1": "carry_forward"}))
    x = explain(scores, "754", ranking=ranking)
    ld1 = x.components[2].criteria[0]
    assert ld1.points == 0 and ld1.missing_policy == "zero"
    assert ld1.missing == "policy zero: lead missing: 0 points"
    assert ld1.inputs[0].status == "missing"
    assert [e.status for e in ld1.inputs[0].events] == ["retracted", "retraction"]
    text = render_text(x)
    assert "! policy zero: lead missing: 0 points" in text
    y = explain(scores, "750", ranking=ranking)
    ud1 = y.components[1].criteria[0]
    assert ud1.inputs[0].status == "carried" and ud1.inputs[0].from_year == 2019
    assert ud1.inputs[0].events[0].evidence == "2019"
    assert "carried forward from 2019" in ud1.missing
    assert "(carried from 2019)" in render_text(y)
    scores, ranking = run(log.events, mini_edition(policy="exclude_unit"))
    z = explain(scores, "754", ranking=ranking)
    assert z.rank is None and z.total is None and "lead (LD1)" in z.excluded
    assert "Not ranked: missing data" in render_text(z)
    with pytest.raises(KeyError, match="did not exist"):
        explain(scores, "nope")


def test_explanation_json_is_canonical():
    log, _ = district_log()
    scores, ranking = run(log.events, mini_edition())
    x = explain(scores, "747", ranking=ranking)
    raw = canonical_bytes(x)
    data = msgspec.json.decode(raw)
    assert data["total"] == "18.30" and data["provenance"]["edition"] == "mini@2020"
    ev = data["components"][0]["criteria"][0]["inputs"][0]["events"][0]
    assert ev["recorded_at"] == "2021-03-01T08:04:00Z" and ev["value"] == "0.8"
    assert canonical_bytes(explain(scores, "747", ranking=ranking)) == raw


def test_diff_names_the_correction_that_moved_a_unit():
    log, ids = district_log()
    ed = mini_edition()
    a_seq = len(log.events)
    old_scores, old = run(log.events, ed, prov=provenance(ed, as_of=f"seq {a_seq}", checkpoint_size=a_seq))
    c1 = log.correct(ids["754"]["pc"], "1", reason="Biên bản kiểm tra")
    c = log.correct(ids["754"]["lead"], "5", reason="Hội đồng chấm lại", authority="QĐ 99")
    log.submit(2020, "754", "note_only", "1")  # an indicator the edition does not score
    new_scores, new = run(log.events, ed, prov=provenance(ed, as_of="now"))
    d = diff(old, new, log.events[a_seq:], old_scores=old_scores, new_scores=new_scores)
    assert d.events_between == 3 and d.unchanged == 1
    moved = {ch.unit_id: ch for ch in d.changes}
    assert set(moved) == {"754", "750"}
    ch = moved["754"]
    assert (ch.old_rank, ch.new_rank, ch.old_total, ch.new_total) == (3, 2, D("10.25"), D("16.25"))
    assert ch.delta == D("6.00") and ch.causes == ("own_inputs",)
    assert [(k.code, k.old, k.new) for k in ch.components] == [("HT", D("4.25"), D("7.25")), ("LD", D("2.00"), D("5.00"))]
    assert [(k.code, k.moved_by) for k in ch.criteria] == [("HT1", "own_inputs"), ("LD1", "own_inputs")]
    assert [e.event_id for e in ch.events if e.read] == [c1, c]
    assert [e.indicator for e in ch.events if not e.read] == ["note_only"]
    other = moved["750"]
    assert other.causes == ("others_moved",) and other.old_total == other.new_total
    text = render_diff_text(d)
    assert "district 2020: seq 18 → now (mini@2020); 3 events between" in text
    assert "754 UBND huyện Đất Đỏ: rank 3 → 2, total 10.25 → 16.25 (+6.00)" in text
    assert "#20 corrected by sotttt 2021-03-01 08:20Z lead = 5 (names" in text
    assert "reason: Hội đồng chấm lại authority: QĐ 99" in text
    assert "because: other units moved" in text


def test_diff_says_when_peers_moved_a_unit():
    log, ids = district_log()
    ed = mini_edition()
    a = len(log.events)
    old_scores, old = run(log.events, ed)
    log.correct(ids["747"]["bw"], "80", reason="đo lại")  # the best bandwidth doubles
    new_scores, new = run(log.events, ed)
    d = diff(old, new, log.events[a:], old_scores=old_scores, new_scores=new_scores)
    moved = {ch.unit_id: ch for ch in d.changes}
    assert moved["750"].causes == ("peers",)
    assert {k.code for k in moved["750"].criteria} == {"HT2", "UD3"}
    assert all(k.moved_by == "peers" for k in moved["750"].criteria)
    assert moved["750"].events == ()
    # without the scores, the diff still tells own events from the rest
    d2 = diff(old, new, log.events[a:])
    assert {ch.unit_id: ch.causes for ch in d2.changes}["750"] == ("peers",)
    assert "peer values moved (relative rule)" in render_diff_text(d)


def test_diff_of_entering_and_leaving_units_and_identical_rankings():
    log, ids = district_log()
    ed = mini_edition(policy="exclude_unit")
    a = len(log.events)
    old_scores, old = run(log.events, ed)
    assert diff(old, old, []).changes == ()
    assert "no unit's points or rank changed" in render_diff_text(diff(old, old, []))
    log.retract(ids["750"]["lead"])
    new_scores, new = run(log.events, ed)
    d = diff(old, new, log.events[a:], old_scores=old_scores, new_scores=new_scores)
    left = {ch.unit_id: ch for ch in d.changes}["750"]
    assert left.causes == ("left",) and left.new_rank is None and left.events[0].kind == "retracted"
    with pytest.raises(ValueError, match="year and tier must match"):
        _, other = run(log.events, ed, year=2021)
        diff(old, other, [])


def test_incremental_rescore_after_a_correction_gives_the_full_replay():
    log, ids = district_log()
    ed = mini_edition()
    state = fold(log.events)
    scores, ranking = run(log.events, ed)
    log.correct(ids["747"]["bw"], "5")  # the best drops: every unit's HT2 moves
    state.apply(log.events[-1])
    inc = rescore_units(scores, state.year_state(2020), ["747"])
    inc_ranking = rank_tier(inc, provenance(ed), reuse=(scores, ranking))
    full_scores, full = run(log.events, ed)
    assert canonical_bytes(inc_ranking) == canonical_bytes(full)
    assert inc.units == full_scores.units


def test_a_publication_rederives_to_its_hash_after_later_corrections():
    from engine.asof import published_seq
    from engine.result import result_hash

    log, ids = district_log()
    ed = mini_edition()
    _, published = run(log.events, ed)
    recorded = result_hash(published)
    log.publish(2020, "district", recorded)
    c = log.correct(ids["750"]["pc"], "0.1", reason="thanh tra")
    state = fold(log.events)
    at = published_seq(state, 2020, "district")
    old_scores, again = run(log.events, ed, as_of_seq=at)
    assert result_hash(again) == recorded
    new_scores, now = run(log.events, ed)
    assert result_hash(now) != recorded
    d = diff(again, now, log.events[at:], old_scores=old_scores, new_scores=new_scores)
    assert [e.event_id for ch in d.changes for e in ch.events] == [c]
