"""Incremental re-ranking (`engine.rerank`, reached through `rank_incrementally`) gives
byte for byte the ranking a full `rank_tier` gives: under both tie methods and both compare
modes, with and without groups, when a few units move, when every unit is rescored (a peer
rule's context moved), and along chains of corrections each re-ranked from the last."""

from __future__ import annotations

import types
from decimal import ROUND_HALF_UP, Decimal as D

from engine_testkit import RULES, Log, mini_edition, provenance
from engine_testkit import rank_tier_quick as rank_tier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.diff import diff
from engine.fold import UnitInfo, fold
from engine.rerank import rerank
from engine.result import Provenance, canonical_bytes
from engine.rescore import rescore_units
from engine.score import UnitScore, score_tier
from engine.rerank import ranking_diff

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- rankings of hand-made scores: many ties, groups, any subset rescored --------------------

GROUPS = (None, "d1", "d2", "d10")
# few distinct totals, some equal once rounded: runs of ties at both compare modes; two that
# differ only past the 28th digit (exact totals of mean-aggregated thirds have more)
TOTALS = st.sampled_from(["0", "1", "1.004", "1.001", "2.5", "2.495", "7", "10", "-0",
                          "0.33333333333333333333333333333333333333",
                          "0.33333333333333333333333333333333333334"]).map(D)


def _edition(method: str, compare: str, group_by: str | None):
    return types.SimpleNamespace(
        id="fake@2020", ties=types.SimpleNamespace(method=method, compare=compare),
        rounding=types.SimpleNamespace(decimals=2))


def _unit(uid: str, total: D, parent: str | None, name: str = "") -> UnitScore:
    published = total.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    return UnitScore(unit=UnitInfo(unit_id=uid, tier="commune", name=name or f"Xã {uid}",
                                   parent_id=parent),
                     inputs=(), exact=(), outcomes=(), points=(), notes={},
                     components=(total,), total=total, published_components=(published,),
                     published_total=published, band=None)


def _scores(edition, tier_def, units: dict, excluded: dict):
    return types.SimpleNamespace(year=2020, tier="commune", edition=edition, tier_def=tier_def,
                                 units=dict(sorted(units.items())), excluded=excluded)


@st.composite
def histories(draw):
    method = draw(st.sampled_from(["competition", "dense"]))
    compare = draw(st.sampled_from(["published", "exact"]))
    group_by = draw(st.sampled_from([None, "parent_id"]))
    edition = _edition(method, compare, group_by)
    tier_def = _tier_def(group_by)
    n = draw(st.integers(1, 90))
    ids = [f"u{i:03d}" for i in range(n)]
    start = {uid: (draw(TOTALS), draw(st.sampled_from(GROUPS))) for uid in ids}
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["few", "few", "few", "everyone", "none", "membership"]))
        if kind == "everyone":
            picked = ids
        elif kind == "none":
            picked = []
        else:
            picked = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
        moves = {uid: (draw(TOTALS), draw(st.sampled_from(GROUPS)) if draw(st.booleans()) else None)
                 for uid in picked}
        steps.append((kind, moves))
    return edition, tier_def, start, steps


def _tier_def(group_by: str | None):
    return types.SimpleNamespace(group_by=group_by, scale=D(10),
                                 components=(types.SimpleNamespace(code="A"),))


def _move_one(units: dict, uid: str, unit: UnitScore):
    """Rank `units` (competition ties, grouped by parent), then move `uid` to `unit`:
    (the ranking, the quick re-ranking), the latter checked byte for byte against a full one."""
    edition = _edition("competition", "published", "parent_id")
    tier_def = _tier_def("parent_id")
    prov = Provenance(engine_version="t", edition=edition.id, content_hash="h")
    scores = _scores(edition, tier_def, units, {})
    ranking = rank_tier(scores, prov)
    new = _scores(edition, tier_def, {**scores.units, uid: unit}, {})
    quick = rank_tier(new, prov, reuse=(scores, ranking))
    assert canonical_bytes(quick) == canonical_bytes(rank_tier(new, prov))
    return ranking, quick


def _excluded(uid: str):
    return types.SimpleNamespace(unit_id=uid, name=f"Xã {uid}", reason="missing")


@SETTINGS
@given(histories())
def test_incremental_ranking_equals_the_full_ranking(history):
    edition, tier_def, start, steps = history
    units = {uid: _unit(uid, t, g) for uid, (t, g) in start.items()}
    excluded: dict = {}
    scores = _scores(edition, tier_def, units, excluded)
    ranking = rank_tier(scores, Provenance(engine_version="t", edition=edition.id,
                                           content_hash="h", checkpoint_size=0))
    for k, (kind, moves) in enumerate(steps, start=1):
        units = dict(scores.units)
        excluded = dict(scores.excluded)
        for uid, (total, parent) in moves.items():
            if kind == "membership" and uid in units and len(units) > 1:
                del units[uid]  # no longer ranked (a value went missing)
                excluded[uid] = _excluded(uid)
            elif kind == "membership" and uid in excluded:
                del excluded[uid]  # ranked again
                units[uid] = _unit(uid, total, parent)
            elif uid in units:
                old = units[uid]
                units[uid] = _unit(uid, total, old.unit.parent_id if parent is None else parent)
        new = _scores(edition, tier_def, units, dict(sorted(excluded.items())))
        prov = Provenance(engine_version="t", edition=edition.id, content_hash="h",
                          checkpoint_size=k)
        quick = rank_tier(new, prov, reuse=(scores, ranking))
        full = rank_tier(new, prov)
        assert canonical_bytes(quick) == canonical_bytes(full)
        assert quick == full
        if kind in ("few", "none", "everyone") and len(moves) <= 64:
            assert rerank(new, prov, (scores, ranking)) is not None  # the incremental path ran
        # the diff that skips rows kept as they were is the engine's diff
        assert ranking_diff(ranking, quick, []) == diff(ranking, full, [])
        scores, ranking = new, quick  # the next step re-ranks from the incremental result


@SETTINGS
@given(histories())
def test_a_tie_run_crossing_the_moved_units_is_ranked_in_full(history):
    """A unit moved to exactly the total of the run right after the touched stretch."""
    edition, tier_def, start, _ = history
    units = {uid: _unit(uid, t, g) for uid, (t, g) in start.items()}
    scores = _scores(edition, tier_def, units, {})
    prov = Provenance(engine_version="t", edition=edition.id, content_hash="h")
    ranking = rank_tier(scores, prov)
    for row in ranking.rows:
        for target in ranking.rows:
            if target.group != row.group or target is row:
                continue
            moved = dict(scores.units)
            old = moved[row.unit_id]
            moved[row.unit_id] = _unit(row.unit_id, scores.units[target.unit_id].total,
                                       old.unit.parent_id)
            new = _scores(edition, tier_def, moved, {})
            assert canonical_bytes(rank_tier(new, prov, reuse=(scores, ranking))) == \
                canonical_bytes(rank_tier(new, prov))
            break


def test_a_unit_joining_a_group_shifts_the_ranks_after_a_tie_run():
    """X leaves group A for the head of group B's run of equal totals: Z, past the touched
    stretch, keeps its rank within the run, but W after the run moves down one."""
    units = {"b": _unit("b", D(9), "A"), "a": _unit("a", D(5), "B"),
             "c": _unit("c", D(5), "B"), "w": _unit("w", D(3), "B")}
    _, quick = _move_one(units, "b", _unit("b", D(5), "B"))
    assert [(r.unit_id, r.rank) for r in quick.rows] == [("a", 1), ("b", 1), ("c", 1), ("w", 4)]


def test_a_group_starting_one_row_later_shifts_its_competition_ranks():
    """X leaves the head of group d2 for a group of its own listed before it: d2's first row
    (past the touched stretch) still ranks 1, the rows after it move up one."""
    units = {"x": _unit("x", D(1), "d2"), "y": _unit("y", D(1), "d2"),
             "z": _unit("z", D(0), "d2"), "n": _unit("n", D(0), None)}
    _, quick = _move_one(units, "x", _unit("x", D(0), "d1"))
    assert [(r.unit_id, r.rank) for r in quick.rows] == [("n", 1), ("x", 1), ("y", 1), ("z", 2)]


def test_a_group_starting_later_shifts_ranks_past_a_run_that_now_starts_fresh():
    """A leaves group G (for a group listed first): P, past the touched stretch, tied with A
    before and starts a run now, at the same place and rank 2 both times; R after it moves up
    from 4 to 3 because G starts one row later."""
    units = {"w": _unit("w", D(9), "G"), "a": _unit("a", D(5), "G"),
             "p": _unit("p", D(5), "G"), "r": _unit("r", D(2), "G")}
    ranking, quick = _move_one(units, "a", _unit("a", D(5), "F"))
    assert [(r.unit_id, r.rank) for r in ranking.rows] == [("w", 1), ("a", 2), ("p", 2), ("r", 4)]
    assert [(r.unit_id, r.rank) for r in quick.rows] == [("a", 1), ("w", 1), ("p", 2), ("r", 3)]


# -- the real scorer, peer rules included: one correction rescoring everyone -------------------

BW = st.integers(0, 6).map(D)  # bandwidth feeds two peer rules (relative to best, min-max)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 40), st.sampled_from(["competition", "dense"]),
       st.sampled_from(["published", "exact"]), st.sampled_from([None, "parent_id"]), st.data())
def test_rescored_tier_reranks_as_a_full_replay(n, method, compare, group_by, data):
    edition = mini_edition(method=method, compare=compare, group_by=group_by)
    log = Log()
    subs = {}
    for i in range(n):
        uid = f"u{i:02d}"
        log.register(uid, f"Huyện {i}", parent_id=data.draw(st.sampled_from([None, "p1", "p2"])))
        subs[uid] = {
            "pc": log.submit(2020, uid, "pc", D(data.draw(st.integers(0, 10))) / 10),
            "bw": log.submit(2020, uid, "bw", data.draw(BW)),
            "net": log.submit(2020, uid, "net", data.draw(st.booleans())),
            "lead": log.submit(2020, uid, "lead", data.draw(st.integers(0, 5))),
        }
    state = fold(log.events)
    prov = provenance(edition)
    scores = score_tier(state.year_state(2020), "district", edition, RULES)
    ranking = rank_tier(scores, prov)
    for _ in range(data.draw(st.integers(1, 4))):
        uid = data.draw(st.sampled_from(sorted(subs)))
        ind = data.draw(st.sampled_from(["pc", "bw", "net", "lead"]))
        value = {"pc": D(data.draw(st.integers(0, 10))) / 10, "bw": data.draw(BW),
                 "net": data.draw(st.booleans()), "lead": data.draw(st.integers(0, 5))}[ind]
        start = len(log.events)
        subs[uid][ind] = log.correct(subs[uid][ind], value)
        for e in log.events[start:]:
            state.apply(e)
        new = rescore_units(scores, state.year_state(2020), {uid})
        quick = rank_tier(new, prov, reuse=(scores, ranking))
        full_scores = score_tier(fold(log.events).year_state(2020), "district", edition, RULES)
        full = rank_tier(full_scores, prov)
        assert canonical_bytes(quick) == canonical_bytes(full)
        assert ranking_diff(ranking, quick, log.events[start:], old_scores=scores,
                            new_scores=new) == \
            diff(ranking, full, log.events[start:], old_scores=scores, new_scores=new)
        scores, ranking = new, quick
