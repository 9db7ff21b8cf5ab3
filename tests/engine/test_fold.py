"""Fold: current values and the events behind them, units per year, as-of points, anomalies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from engine_testkit import T0, Log

from engine.asof import parse_as_of, published_seq
from engine.fold import fold
from events.types import Choice


def test_submission_then_corrections_latest_counts():
    log = Log()
    log.register("747", "Thành phố Vũng Tàu")
    s = log.submit(2020, "747", "pc", "0.5", evidence="45/BC-UBND")
    c1 = log.correct(s, "0.6", reason="kiểm tra")
    c2 = log.correct(s, "0.7", reason="thanh tra", authority="QĐ 12")
    ys = fold(log.events).year_state(2020)
    assert ys.value("747", "pc") == D("0.7")
    refs = ys.history("747", "pc")
    assert [(r.event_id, r.kind, r.status) for r in refs] == [
        (s, "submitted", "overridden"), (c1, "corrected", "overridden"), (c2, "corrected", "current")]
    assert refs[0].evidence == "45/BC-UBND" and refs[2].authority == "QĐ 12"
    assert refs[2].target == s


def test_retracting_a_correction_falls_back_to_the_previous_one_then_the_submission():
    log = Log()
    log.register("747", "Vũng Tàu")
    s = log.submit(2020, "747", "pc", "0.5")
    c1 = log.correct(s, "0.6")
    c2 = log.correct(s, "0.7")
    log.retract(c2)
    assert fold(log.events).year_state(2020).value("747", "pc") == D("0.6")
    log.retract(c1)
    ys = fold(log.events).year_state(2020)
    assert ys.value("747", "pc") == D("0.5")
    statuses = [r.status for r in ys.history("747", "pc")]
    assert statuses == ["current", "retracted", "retracted", "retraction", "retraction"]


def test_retracting_the_submission_removes_the_value_and_a_new_submission_restores_one():
    log = Log()
    log.register("747", "Vũng Tàu")
    s = log.submit(2020, "747", "pc", "0.5")
    log.correct(s, "0.6")
    log.retract(s)
    state = fold(log.events)
    assert state.year_state(2020).value("747", "pc") is None
    assert len(state.year_state(2020).history("747", "pc")) == 3  # still explained
    log.submit(2020, "747", "pc", "0.9")
    assert fold(log.events).year_state(2020).value("747", "pc") == D("0.9")


def test_a_second_submission_supersedes_the_first_and_its_corrections():
    log = Log()
    log.register("747", "Vũng Tàu")
    s1 = log.submit(2020, "747", "pc", "0.5")
    log.correct(s1, "0.6")
    s2 = log.submit(2020, "747", "pc", "0.8")
    ys = fold(log.events).year_state(2020)
    assert ys.value("747", "pc") == D("0.8")
    assert [r.status for r in ys.history("747", "pc")] == ["superseded", "superseded", "current"]
    # correcting the superseded submission does not bring it back
    log.correct(s1, "0.1")
    assert fold(log.events).year_state(2020).value("747", "pc") == D("0.8")
    # retracting the newer one does
    log.retract(s2)
    assert fold(log.events).year_state(2020).value("747", "pc") == D("0.1")


def test_anomalies_are_reported_and_left_out():
    log = Log()
    log.register("747", "Vũng Tàu")
    s = log.submit(2020, "747", "pc", "0.5")
    other = log.submit(2020, "747", "bw", "10")
    c = log.correct(s, "0.6")
    from events.types import IndicatorCorrected, IndicatorRetracted, UnitRenamed

    log.add(IndicatorCorrected(corrects="nope", year=2020, unit_id="747", indicator="pc",
                               value=D(1), reason="x"))
    log.add(IndicatorCorrected(corrects=other, year=2020, unit_id="747", indicator="pc",
                               value=D(1), reason="names an event of another key"))
    log.add(IndicatorCorrected(corrects=c, year=2020, unit_id="747", indicator="pc",
                               value=D(1), reason="corrects a correction"))
    r = log.retract(c)
    log.add(IndicatorRetracted(retracts=c, year=2020, unit_id="747", indicator="pc", reason="twice"))
    log.add(IndicatorRetracted(retracts=r, year=2020, unit_id="747", indicator="pc", reason="of a retraction"))
    log.add(IndicatorCorrected(corrects="x", year=2020, unit_id="999", indicator="pc",
                               value=D(1), reason="no such key"))
    log.add(UnitRenamed(unit_id="999", name="?", from_year=2020))
    state = fold(log.events)
    assert state.year_state(2020).value("747", "pc") == D("0.5")
    msgs = [a.message for a in state.anomalies]
    assert len(msgs) == 7, msgs
    assert "not an event of (2020, 747, pc)" in msgs[0]
    assert "not an event of" in msgs[1]
    assert "which is a correction" in msgs[2]
    assert "already retracted" in msgs[3]
    assert "itself a retraction" in msgs[4]
    assert "has no submission" in msgs[5]
    assert "not registered" in msgs[6]
    assert state.anomalies[0].kind == "indicator_corrected"


def test_units_of_a_year_follow_registration_renames_and_retirement():
    log = Log()
    log.register("26560", "Xã Long Mỹ", tier="commune", parent_id="754")
    log.register("26561", "Xã Phước Hội", tier="commune", parent_id="754", from_year=2019)
    log.rename("26560", "Xã Long Mỹ mới", from_year=2021)
    log.retire("26561", last_year=2024, merged_into="26560")
    # 2025: districts are abolished; the commune now hangs off the province
    log.register("26560", "Xã Long Mỹ mới", tier="commune", parent_id=None, from_year=2025)
    state = fold(log.events)
    assert list(state.year_state(2018).units) == ["26560"]
    y2020 = state.year_state(2020).units
    assert y2020["26560"].name == "Xã Long Mỹ" and y2020["26561"].parent_id == "754"
    assert state.year_state(2021).units["26560"].name == "Xã Long Mỹ mới"
    assert state.year_state(2024).units["26561"].merged_into == "26560"
    assert "26561" not in state.year_state(2025).units
    assert state.year_state(2025).units["26560"].parent_id is None
    assert state.year_state(2024).units["26560"].parent_id == "754"
    assert [u.unit_id for u in state.year_state(2020).tier_units("commune")] == ["26560", "26561"]


def test_adoptions_latest_wins_and_publications_in_order():
    log = Log()
    log.adopt(2020, "district", "local-ict@2020", "h1")
    log.adopt(2020, "district", "local-ict@2020", "h2")
    p1 = log.publish(2020, "district", "r1")
    p2 = log.publish(2020, "district", "r2")
    ys = fold(log.events).year_state(2020)
    assert ys.adoption("district").content_hash == "h2"
    assert ys.adoption("commune") is None
    assert [e.event_id for e in ys.publications("district")] == [p1, p2]
    assert ys.latest_publication("district").result_hash == "r2"
    state = fold(log.events)
    assert published_seq(state, 2020, "district") == 3  # the log size p2 was computed from
    with pytest.raises(LookupError):
        published_seq(state, 2020, "commune")


def test_as_of_seq_and_time_stop_at_the_point():
    log = Log()
    log.register("747", "Vũng Tàu")
    s = log.submit(2020, "747", "pc", "0.5")
    log.correct(s, "0.6")
    assert fold(log.events, as_of_seq=2).year_state(2020).value("747", "pc") == D("0.5")
    assert fold(log.events, as_of_seq=2).last_seq == 2
    t2 = log.events[1].recorded_at
    assert fold(log.events, as_of_time=t2).year_state(2020).value("747", "pc") == D("0.5")
    assert fold(log.events, as_of_time=t2 + dt.timedelta(hours=1)).year_state(2020).value("747", "pc") == D("0.6")
    with pytest.raises(ValueError, match="timezone-aware"):
        fold(log.events, as_of_time=dt.datetime(2021, 3, 1))


def test_fold_refuses_events_out_of_order():
    log = Log()
    log.register("747", "Vũng Tàu")
    log.submit(2020, "747", "pc", "0.5")
    with pytest.raises(ValueError, match="out of order"):
        fold(list(reversed(log.events)))


def test_apply_extends_the_state_like_a_fresh_fold():
    log = Log()
    log.register("747", "Vũng Tàu")
    s = log.submit(2020, "747", "pc", "0.5")
    state = fold(log.events)
    log.correct(s, "0.9")
    state.apply(log.events[-1])
    assert state.year_state(2020).value("747", "pc") == D("0.9")
    assert state.last_seq == 3


def test_categories_and_values_view():
    log = Log()
    log.register("747", "Vũng Tàu")
    log.submit(2020, "747", "head", {"choice": "chairman"})
    log.submit(2020, "747", "net", True)
    ys = fold(log.events).year_state(2020)
    assert ys.values("747") == {"head": Choice("chairman"), "net": True}
    assert ys.unknown_units() == []
    log.submit(2020, "999", "net", True)
    assert fold(log.events).year_state(2020).unknown_units() == ["999"]


@pytest.mark.parametrize("text,kind,seq", [
    ("now", "now", None), ("published", "published", None), ("120", "seq", 120),
    ("seq:7", "seq", 7),
])
def test_parse_as_of(text, kind, seq):
    a = parse_as_of(text)
    assert (a.kind, a.seq) == (kind, seq)


def test_parse_as_of_times():
    a = parse_as_of("2021-04-01T10:00:00Z")
    assert a.time == dt.datetime(2021, 4, 1, 10, tzinfo=dt.timezone.utc)
    assert a.describe() == "time 2021-04-01T10:00:00Z"
    assert parse_as_of("2021-04-01").time.hour == 23
    with pytest.raises(ValueError, match="time zone"):
        parse_as_of("2021-04-01T10:00:00")
    with pytest.raises(ValueError, match="cannot read"):
        parse_as_of("yesterday")
    assert T0.tzinfo is not None
