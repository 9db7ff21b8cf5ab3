"""Re-score a tier after some units' values changed, without scoring the others again.

`rescore_units` is what keeps the projections exact under a correction: it gathers and scores
again only the changed units, and a peer rule (relative to the best, min–max) is prepared again
only when a changed unit's inputs to it moved, and re-scored for every unit only when its context
moved.  It gives exactly what `engine.score.score_tier` gives on the new state
(`tests/engine/test_properties.py` holds the two to it).
"""

from __future__ import annotations

from decimal import localcontext
from typing import Iterable

from engine.fold import EMPTY, YearState
from engine.score import DECIMAL_CONTEXT, TierScores, exclusion, Gathered, Scorer

__all__ = ["rescore_units"]


def rescore_units(
    scores: TierScores,
    year_state: YearState,
    changed: Iterable[str],
    *,
    previous: YearState | None = None,
) -> TierScores:
    """`scores` brought up to date after the values of the `changed` units moved.

    Gathers and scores again only the changed units; a peer rule is prepared again only when a
    changed unit's inputs to it moved, and re-scored for every unit only when its context moved.
    When the unit registry changed too (a different `year_state.units` snapshot), every unit is
    gathered again.  Gives exactly what `score_tier` would on `year_state` (with the same
    `previous`), provided `changed` names every unit whose values of this year (or, under
    carry_forward, of the previous year) changed.
    """
    specs = scores.criteria
    sc = Scorer(scores.edition, scores.tier_def, specs, year_state.cells,
                 previous.cells if previous is not None else EMPTY,
                 previous.year if previous is not None else None)
    tier = scores.tier
    changed = set(changed)
    with localcontext(DECIMAL_CONTEXT):
        if year_state.units is scores.year_state.units:
            # Same registry: only the changed units of this tier need gathering.
            units = dict(scores.units)
            excluded = dict(scores.excluded)
            fresh: dict[str, Gathered] = {}
            moved_in = False
            for uid in sorted(changed):
                unit = year_state.units.get(uid)
                if unit is None or unit.tier != tier:
                    continue
                g = sc.gather(unit)
                if g.excluded:
                    units.pop(uid, None)
                    excluded[uid] = exclusion(g)
                    excluded = dict(sorted(excluded.items()))
                else:
                    fresh[uid] = g
                    if uid not in units:  # newly ranked (was excluded)
                        excluded.pop(uid, None)
                        moved_in = True
            gathered_rows = {uid: g for uid, g in fresh.items()}
            membership = moved_in or any(uid not in fresh and uid in scores.units
                                         for uid in changed)
            # peer criteria whose column may have moved
            touched = set()
            for spec in specs:
                if not spec.peer:
                    continue
                i = spec.index
                if membership:
                    touched.add(i)
                    continue
                for uid, g in fresh.items():
                    old = scores.units[uid]
                    if g.rows[i] != old.inputs[i] or (i in g.zeroed) != (old.exact[i] is None):
                        touched.add(i)
                        break
            contexts = dict(scores.contexts)
            stale: set[int] = set()
            if touched:
                ranked = []
                for uid in sorted(set(units) | set(fresh)):
                    g = fresh.get(uid)
                    if g is None:
                        u = units[uid]
                        g = Gathered(u.unit, u.inputs, u.notes,
                                      frozenset(i for i, x in enumerate(u.exact) if x is None), None)
                    ranked.append(g)
                for i, ctx in sc.prepare(ranked, touched).items():
                    if ctx != scores.contexts.get(i):
                        stale.add(i)
                    contexts[i] = ctx
            if stale:
                for uid, u in list(units.items()):
                    if uid not in fresh:
                        g = Gathered(u.unit, u.inputs, u.notes,
                                      frozenset(i for i, x in enumerate(u.exact) if x is None), None)
                        units[uid] = sc.finish(g, contexts, u, stale)
            for uid, g in gathered_rows.items():
                units[uid] = sc.finish(g, contexts)
            if moved_in:
                units = dict(sorted(units.items()))
            return TierScores(year_state.year, tier, scores.edition, scores.tier_def, specs,
                              units, excluded, contexts, year_state, previous)

        # The registry changed: gather every unit whose entry or values changed.
        gathered: dict[str, Gathered] = {}
        fresh_ids: set[str] = set()
        excluded = {}
        for unit in year_state.tier_units(tier):
            uid = unit.unit_id
            old = scores.units.get(uid)
            was_excluded = scores.excluded.get(uid)
            if uid in changed or (old is None and was_excluded is None) or \
                    (old is not None and old.unit != unit):
                g = sc.gather(unit)
                fresh_ids.add(uid)
            elif old is None:  # excluded before and untouched
                excluded[uid] = was_excluded
                continue
            else:
                zeroed = frozenset(i for i, x in enumerate(old.exact) if x is None)
                g = Gathered(unit, old.inputs, old.notes, zeroed, None)
            if g.excluded:
                excluded[uid] = exclusion(g)
            else:
                gathered[uid] = g
        ranked = list(gathered.values())  # tier_units is sorted by unit_id
        contexts = dict(scores.contexts)
        stale = set()
        for i, ctx in sc.prepare(ranked).items():
            if ctx != scores.contexts.get(i):
                stale.add(i)
            contexts[i] = ctx
        units = {}
        for uid, g in gathered.items():
            if uid in fresh_ids:
                units[uid] = sc.finish(g, contexts)
            elif not stale:
                units[uid] = scores.units[uid]
            else:
                units[uid] = sc.finish(g, contexts, scores.units[uid], stale)
    return TierScores(year_state.year, tier, scores.edition, scores.tier_def, specs, units,
                      excluded, contexts, year_state, previous)
