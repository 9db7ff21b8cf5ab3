"""Units that change (merges, splits, renames, retirements with a date): the fold ranks each
year with the units of that year, and a change never reaches back before its year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from engine_testkit import Log, mini_edition, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.fold import fold
from engine.result import canonical_bytes
from events.types import SplitPart, UnitRenamed, UnitRetired, UnitSplit, UnitsMerged

VALUES = {"pc": "0.5", "bw": "10", "net": True, "head": {"choice": "deputy"}, "lead": "3"}
JULY = dt.date(2025, 7, 1)


def _merge(log: Log, sources, target, *, name=None, date=JULY, tier="district") -> str:
    return log.add(UnitsMerged(sources=tuple(sources), target=target, tier=tier, date=date,
                               reason="sáp nhập", authority="Nghị quyết 1656/NQ-UBTVQH15",
                               name=name or ""))


def _small_log() -> Log:
    log = Log()
    for uid, name in (("A", "Huyện A"), ("B", "Huyện B"), ("C", "Huyện C")):
        log.register(uid, name)
    for year in (2024, 2025):
        log.adopt(year, "district", "mini@2020")
    for uid, lead in (("A", "1"), ("B", "2"), ("C", "3")):
        log.submit_all(2024, uid, {**VALUES, "lead": lead})
    return log


def _ranked(events, year):
    _, ranking = run(events, mini_edition(), year=year)
    return {r.unit_id: r.name for r in ranking.rows}


def test_a_merge_into_a_new_unit_ranks_the_sources_before_and_the_new_unit_from_its_year():
    log = _small_log()
    _merge(log, ["A", "B"], "N", name="Huyện Mới")
    log.submit_all(2025, "N", VALUES)
    log.submit_all(2025, "C", VALUES)
    log.submit_all(2025, "A", VALUES)  # A no longer exists in 2025: not scored
    assert _ranked(log.events, 2024) == {"A": "Huyện A", "B": "Huyện B", "C": "Huyện C"}
    assert _ranked(log.events, 2025) == {"C": "Huyện C", "N": "Huyện Mới"}
    ys = fold(log.events).year_state(2025)
    assert ys.unknown_units() == ["A"]
    assert ys.units["N"].from_year == 2025 and ys.units["N"].tier == "district"


def test_a_merge_into_one_of_its_sources_keeps_that_unit_under_its_new_name():
    log = _small_log()
    _merge(log, ["A", "B"], "A", name="Huyện A mở rộng")
    log.submit_all(2025, "A", VALUES)
    log.submit_all(2025, "C", VALUES)
    assert _ranked(log.events, 2024) == {"A": "Huyện A", "B": "Huyện B", "C": "Huyện C"}
    assert _ranked(log.events, 2025) == {"A": "Huyện A mở rộng", "C": "Huyện C"}
    state = fold(log.events)
    assert state.unit("B", 2024).merged_into == "A" and state.unit("B", 2025) is None


def test_a_change_effective_on_the_first_of_january_counts_from_that_year():
    log = _small_log()
    _merge(log, ["A", "B"], "N", name="N", date=dt.date(2026, 1, 1))
    state = fold(log.events)
    assert set(state.year_units(2025)) == {"A", "B", "C"}
    assert set(state.year_units(2026)) == {"C", "N"}


def test_a_split_makes_new_units_of_the_same_tier_and_parent():
    log = Log()
    log.register("P", "Tỉnh", tier="province")
    log.register("X", "Xã X", tier="commune", parent_id="P")
    log.add(UnitSplit(unit_id="X", into=(SplitPart(unit_id="X1", name="Xã X Một"),
                                         SplitPart(unit_id="X2", name="Xã X Hai")),
                      date=JULY, reason="chia tách", authority="NQ 1"))
    state = fold(log.events)
    assert set(state.year_units(2024)) == {"P", "X"}
    assert set(state.year_units(2025)) == {"P", "X1", "X2"}
    assert state.unit("X1", 2025).parent_id == "P" and state.unit("X2", 2025).tier == "commune"
    assert [s.kind for s in state.lineage("X")] == ["split_into"]
    assert state.lineage("X2")[0].units == (("X", "Xã X"),)


def test_lineage_names_the_other_units_the_decision_and_the_date():
    log = _small_log()
    log.add(UnitRenamed(unit_id="C", name="Thị xã C", from_year=2023, date=dt.date(2023, 3, 1),
                        reason="nâng cấp", authority="NQ 5"))
    _merge(log, ["A", "B"], "N", name="Huyện Mới")
    state = fold(log.events)
    (merged_from,) = state.lineage("N")
    assert (merged_from.kind, merged_from.units, merged_from.date, merged_from.authority) == (
        "merged_from", (("A", "Huyện A"), ("B", "Huyện B")), JULY, "Nghị quyết 1656/NQ-UBTVQH15")
    (into,) = state.lineage("A")
    assert (into.kind, into.units, into.year) == ("merged_into", (("N", "Huyện Mới"),), 2025)
    (renamed,) = state.lineage("C")
    assert (renamed.old_name, renamed.name, renamed.year) == ("Huyện C", "Thị xã C", 2023)
    assert state.unit_names("C") == ("Huyện C", "Thị xã C")


def test_a_merge_of_an_unregistered_unit_is_an_anomaly_and_changes_nothing():
    log = _small_log()
    _merge(log, ["A", "Z"], "N", name="N")
    state = fold(log.events)
    assert [a.kind for a in state.anomalies] == ["units_merged"]
    assert set(state.year_units(2025)) == {"A", "B", "C"}


# -- property: a year's ranking is unchanged by unit changes effective after it -------------

UNITS = [f"u{i}" for i in range(5)]
later = st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2030, 12, 31))
unit = st.sampled_from(UNITS + ["new1", "new2"])

changes = st.one_of(
    st.builds(lambda u, d, n: UnitRenamed(unit_id=u, name=n, from_year=d.year, date=d,
                                          reason="r", authority="a"),
              unit, later, st.sampled_from(["Tên mới", "Khác"])),
    st.builds(lambda u, d: UnitRetired(unit_id=u, last_year=d.year - 1, reason="r", date=d,
                                       authority="a"), unit, later),
    st.builds(lambda us, t, d, n: UnitsMerged(sources=tuple(us), target=t, tier="district",
                                              date=d, reason="r", authority="a", name=n),
              st.lists(unit, min_size=1, max_size=3, unique=True), unit, later,
              st.sampled_from(["", "Huyện gộp"])),
    st.builds(lambda u, ps, d: UnitSplit(unit_id=u, into=tuple(SplitPart(unit_id=p, name=p)
                                                               for p in ps),
                                         date=d, reason="r", authority="a"),
              unit, st.lists(unit, min_size=2, max_size=3, unique=True), later),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leads=st.lists(st.integers(0, 50), min_size=len(UNITS), max_size=len(UNITS)),
       later_changes=st.lists(changes, max_size=6))
def test_ranking_a_year_is_unchanged_by_unit_changes_effective_after_it(leads, later_changes):
    log = Log()
    for uid in UNITS:
        log.register(uid, f"Huyện {uid}")
    log.adopt(2020, "district", "mini@2020")
    for uid, lead in zip(UNITS, leads):
        log.submit_all(2020, uid, {**VALUES, "lead": str(D(lead).scaleb(-1))})
    edition = mini_edition()
    _, before = run(log.events, edition)
    for payload in later_changes:
        log.add(payload)
    _, after = run(log.events, edition)
    assert canonical_bytes(after) == canonical_bytes(before)
    # the units of 2020 too, as a ranking shows them (their end, if any, is known by now)
    def shown(events):
        return {u: (i.name, i.tier, i.parent_id) for u, i in fold(events).year_units(2020).items()}
    assert shown(log.events) == shown(log.events[:len(log.events) - len(later_changes)])
