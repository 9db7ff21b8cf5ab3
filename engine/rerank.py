"""Incremental re-ranking: a tier's new ranking made from its previous one when only a few
units were rescored (a correction), by moving those units in the previous order instead of
sorting the whole tier again.

`rerank` gives exactly what `engine.rank.rank_tier` would (same rows, ranks, order, excluded
list), or None when it cannot say so cheaply (many units rescored — a peer rule's context moved
—, units entered or left the ranking, another edition): the caller then ranks in full.

Why it is exact.  `rank_tier` lists rows sorted by (group, compared total descending, unit_id);
the key is unique per unit, so that order is a total order, and a row's rank depends only on
the rows before it in its group (competition: its position in the group at the start of a run
of equal totals; dense: one more than the row before when the total differs).  Taking the
rescored units out of the old order and putting each back at its new key's position (bisect)
leaves every row before the first touched position where it was, with the same rank; past the
last touched position rows are again where they were, and once a row there starts a new run
of totals (or a group) with the rank it had, every row after it has its old rank too.  Only the
stretch in between is walked.
"""

from __future__ import annotations

from bisect import bisect_left
from decimal import Decimal
from itertools import compress
from operator import is_not
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import msgspec

from engine.rank import excluded_rows, group_key, make_row, rank_tier, ranking_of
from engine.result import Provenance, RankedUnit, Ranking
from events.types import Event

if TYPE_CHECKING:
    from engine.score import TierScores

__all__ = ["moved_rows", "rank_incrementally", "ranking_diff", "rerank"]

# Moving units one by one (a bisect and a list insert each) beats a full sort only while they
# are few: up to _FEW of them, or 1/_SHARE of the tier when that is more.
_FEW = 64
_SHARE = 16


def rank_incrementally(scores: "TierScores", provenance: Provenance,
                       previous: tuple["TierScores", Ranking]) -> Ranking:
    """`rank_tier(scores, provenance, reuse=previous)`, the same ranking, made by `rerank` when
    it can (a few units rescored) and by the full sort otherwise."""
    quick = rerank(scores, provenance, previous)
    return quick if quick is not None else rank_tier(scores, provenance, reuse=previous)


def rerank(scores: Any, provenance: Provenance, previous: tuple[Any, Ranking]) -> Ranking | None:
    """The ranking of `scores` made from `previous` = (earlier scores, `rank_tier` of them),
    or None when a full `rank_tier` is the way (see the module docstring)."""
    old_scores, old = previous
    edition = scores.edition
    if edition is not old_scores.edition or scores.tier_def is not old_scores.tier_def:
        return None
    if provenance.edition != edition.id:
        return None  # rank_tier raises the error
    units, old_units = scores.units, old_scores.units
    n = len(units)
    if n != len(old_units) or n != len(old.rows):
        return None
    # scores.units and old_scores.units are both in unit_id order, so a rescored unit shows as a
    # different object at its position (misaligned keys show as many, and fall back)
    changed = list(compress(units, map(is_not, units.values(), old_units.values())))
    if len(changed) > max(_FEW, n // _SHARE):
        return None
    if not changed:
        return _ranking(scores, provenance, old.rows, old_scores, old)
    for uid in changed:
        if uid not in old_units:
            return None  # another unit in its place: membership changed

    exact = edition.ties.compare == "exact"
    group_by = scores.tier_def.group_by

    def key_in(table: dict) -> Any:
        def key(row: RankedUnit) -> tuple:
            u = table[row.unit_id]
            g = getattr(u.unit, group_by) if group_by else None
            # copy_negate is exact (unary minus would round to the context's precision)
            return (group_key(g), (u.total if exact else u.published_total).copy_negate(),
                    row.unit_id)
        return key

    old_key, new_key = key_in(old_units), key_in(units)
    rows = list(old.rows)
    gone = []
    for uid in changed:
        i = bisect_left(rows, old_key(_probe(uid)), key=old_key)
        if i >= n or rows[i].unit_id != uid:
            return None  # `old` was not ranked from `old_scores`
        gone.append(i)
    gone.sort()
    for i in reversed(gone):
        del rows[i]
    for uid in changed:  # a stand-in row: the walk below makes the real one
        probe = _probe(uid)
        rows.insert(bisect_left(rows, new_key(probe), key=new_key), probe)
    placed = [bisect_left(rows, new_key(_probe(uid)), key=new_key) for uid in changed]
    lo = min(gone[0], min(placed))
    hi = max(gone[-1], max(placed))
    return _ranking(scores, provenance, _walk(scores, old_units, old, rows, set(changed), lo, hi,
                                                     exact),
                    old_scores, old)


def _probe(uid: str) -> RankedUnit:
    return RankedUnit(rank=0, unit_id=uid, name="", parent_id=None, group=None,
                      total=Decimal(0), total_exact="0", band=None, components={})


def _walk(scores: Any, old_units: dict, old: Ranking, rows: list, changed: set[str], lo: int,
          hi: int, exact: bool) -> list:
    """Rank rows[lo:] in place, stopping where the old ranks are sure to hold again."""
    units = scores.units
    edition = scores.edition
    group_by = scores.tier_def.group_by
    competition = edition.ties.method == "competition"
    if edition.ties.method not in ("competition", "dense"):
        raise ValueError(f"unknown tie method {edition.ties.method!r} (competition or dense)")
    codes = [c.code for c in scores.tier_def.components]
    n = len(rows)

    def group_of(uid: str) -> str | None:
        return getattr(units[uid].unit, group_by) if group_by else None

    def compared(uid: str) -> Decimal:
        u = units[uid]
        return u.total if exact else u.published_total

    def old_compared(uid: str) -> Decimal:
        u = old_units[uid]
        return u.total if exact else u.published_total

    if lo > 0:
        prev = rows[lo - 1]  # before the first touched position: as it was
        prev_g, prev_t, prev_rank = prev.group, compared(prev.unit_id), prev.rank
    else:
        prev_g, prev_t, prev_rank = object(), None, 0
    gstart = 0
    if group_by and lo > 0:  # rows before lo are as they were: their group field holds
        gk = group_key(group_of(rows[lo].unit_id))
        gstart = bisect_left(rows, gk, 0, lo, key=lambda r: group_key(r.group))
    old_rows = old.rows
    for p in range(lo, n):
        row = rows[p]
        uid = row.unit_id
        g = group_of(uid) if uid in changed else row.group
        t = compared(uid)
        if g != prev_g:
            rank, gstart, fresh_run = 1, p, True
        elif t != prev_t:
            rank, fresh_run = (p - gstart + 1) if competition else prev_rank + 1, True
        else:
            rank, fresh_run = prev_rank, False
        if uid in changed:
            rows[p] = make_row(units[uid], rank, g, codes)
        elif row.rank != rank:
            rows[p] = RankedUnit(rank=rank, unit_id=uid, name=row.name, parent_id=row.parent_id,
                                 group=row.group, total=row.total, total_exact=row.total_exact,
                                 band=row.band, components=row.components)
        elif p > hi and fresh_run and old_rows[p] is row and (
                p == 0 or old_rows[p - 1].group != g
                or old_compared(old_rows[p - 1].unit_id) != t):
            # Same place, same rank, starting a run (or a group) before and now: every later
            # row is where it was, and its rank follows from this one's as it did (competition
            # counts from the group's start, which the equal ranks of two run starts pin).
            break
        prev_g, prev_t, prev_rank = g, t, rank
    return rows


def _ranking(scores: Any, provenance: Provenance, rows: Sequence[RankedUnit], old_scores: Any,
             old: Ranking) -> Ranking:
    excluded = scores.excluded
    before = old_scores.excluded
    same_excluded = excluded is before or (
        len(excluded) == len(before) and all(before.get(k) is v for k, v in excluded.items()))
    return ranking_of(scores, provenance, rows,
                      old.excluded if same_excluded else excluded_rows(scores))


def moved_rows(old: Ranking, new: Ranking) -> tuple[list[RankedUnit], list[RankedUnit]]:
    """The rows of `old` and of `new` that are not the very same object in both (what
    `rank_tier(reuse=...)` / `rerank` made anew): every other unit is known unchanged."""
    a, b = old.rows, new.rows
    if len(a) != len(b):  # units entered or left: positions shifted, match by identity
        ids = {id(r) for r in b}
        same = {r.unit_id for r in a if id(r) in ids}
        return [r for r in a if r.unit_id not in same], [r for r in b if r.unit_id not in same]
    # by position, at C speed: after a correction nearly every row is where it was
    at = list(compress(range(len(a)), map(is_not, a, b)))
    olds = [a[i] for i in at]
    news = [b[i] for i in at]
    # a reused row that moved (a tie shifted by one place) sits at two touched positions
    both = {id(r) for r in olds} & {id(r) for r in news}
    if both:
        olds = [r for r in olds if id(r) not in both]
        news = [r for r in news if id(r) not in both]
    return olds, news


def ranking_diff(old: Ranking, new: Ranking, events: Iterable[Event], *,
                 old_scores: TierScores | None = None, new_scores: TierScores | None = None):
    """`engine.diff.diff` of two rankings where `new` was made from `old` with
    `rank_tier(reuse=...)`: rows that are the very same object in both (same score, same rank)
    are counted unchanged without being compared — exactly what `diff` would conclude — so a
    correction's diff costs what changed, not the size of the tier."""
    from engine.diff import diff as diff_rankings  # engine.diff imports the scorer: lazily

    old_rows, new_rows = moved_rows(old, new)
    unchanged = len(new.rows) - len(new_rows)
    if unchanged:
        old = msgspec.structs.replace(old, rows=tuple(old_rows))
        new = msgspec.structs.replace(new, rows=tuple(new_rows))
    d = diff_rankings(old, new, list(events), old_scores=old_scores, new_scores=new_scores)
    return msgspec.structs.replace(d, unchanged=d.unchanged + unchanged) if unchanged else d
