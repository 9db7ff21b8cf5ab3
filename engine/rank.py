"""Rank: totals → ranks by the edition's tie rule.

- ``competition`` (the published convention): rank = 1 + the number of units with a strictly
  greater compared total (1, 2, 2, 4); ``dense``: 1 + the number of distinct greater totals
  (1, 2, 2, 3).
- ``compare = "published"`` compares the rounded totals, as the published table does;
  ``"exact"`` compares the unrounded ones.
- Units sharing a rank are listed by `unit_id` (code-point order): never by dict order, hash
  seed or locale.
- With `tier.group_by = "parent_id"` each group (e.g. the communes of one district) is ranked on
  its own; rows are listed group by group (groups in id order, a missing parent first).
"""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import Any, Sequence

from engine.result import ExcludedUnit, Provenance, RankedUnit, Ranking
from engine.score import TierScores
from engine.text import plain

__all__ = ["assign_ranks", "excluded_rows", "group_key", "make_row", "rank_tier", "ranking_of"]

_first = itemgetter(0)
_second = itemgetter(1)


def assign_ranks(items: Sequence[tuple[str, Decimal]], method: str = "competition") -> list[tuple[int, str]]:
    """(unit_id, compared total) pairs → (rank, unit_id), best first, ties by unit_id."""
    if method not in ("competition", "dense"):
        raise ValueError(f"unknown tie method {method!r} (competition or dense)")
    ordered = sorted(items, key=_first)
    ordered.sort(key=_second, reverse=True)  # stable: ties stay in unit_id order
    out: list[tuple[int, str]] = []
    prev: Decimal | None = None
    rank = 0
    distinct = 0
    for position, (uid, value) in enumerate(ordered, start=1):
        if prev is None or value != prev:
            distinct += 1
            rank = position if method == "competition" else distinct
            prev = value
        out.append((rank, uid))
    return out


def group_key(g: str | None) -> tuple[bool, str]:
    """Groups in id order, a missing parent first (the order `rank_tier` lists them in)."""
    return (g is not None, g or "")


def make_row(u: Any, rank: int, group: str | None, codes: Sequence[str]) -> RankedUnit:
    """The ranked row of one scored unit (`engine.score.UnitScore`)."""
    return RankedUnit(
        rank=rank,
        unit_id=u.unit.unit_id,
        name=u.unit.name,
        parent_id=u.unit.parent_id,
        group=group,
        total=u.published_total,
        total_exact=plain(u.total),
        band=None if u.band is None else u.band.name_vi,
        components=dict(zip(codes, u.published_components)),
    )


def excluded_rows(scores: Any) -> tuple[ExcludedUnit, ...]:
    return tuple(ExcludedUnit(unit_id=e.unit_id, name=e.name, reason=e.reason)
                 for _, e in sorted(scores.excluded.items()))


def ranking_of(scores: Any, provenance: Provenance, rows: Sequence[RankedUnit],
               excluded: tuple[ExcludedUnit, ...]) -> Ranking:
    """The `Ranking` of a scored tier's ranked `rows` (`rank_tier` and `rerank` alike)."""
    edition = scores.edition
    tier_def = scores.tier_def
    return Ranking(
        year=scores.year,
        tier=scores.tier,
        decimals=edition.rounding.decimals,
        scale=tier_def.scale,
        tie_rule=f"{edition.ties.method}/{edition.ties.compare}",
        group_by=tier_def.group_by,
        rows=tuple(rows),
        excluded=excluded,
        provenance=provenance,
    )


def rank_tier(
    scores: TierScores,
    provenance: Provenance,
    *,
    reuse: tuple[TierScores, Ranking] | None = None,
) -> Ranking:
    """The ranking of a scored tier; `provenance` must name the edition that scored it.

    `reuse` = (earlier scores, the ranking made from them): rows of units whose score object and
    rank did not change are taken over as they are.  `engine.rerank.rank_incrementally` also
    avoids sorting the tier when only a few units were rescored.
    """
    edition = scores.edition
    if provenance.edition != edition.id:
        raise ValueError(
            f"provenance names edition {provenance.edition!r} but the tier was scored with {edition.id!r}"
        )
    ties = edition.ties
    tier_def = scores.tier_def
    group_by = tier_def.group_by
    exact = ties.compare == "exact"
    groups: dict[str | None, list[tuple[str, Decimal]]] = {}
    for uid, u in scores.units.items():
        g = getattr(u.unit, group_by) if group_by else None
        groups.setdefault(g, []).append((uid, u.total if exact else u.published_total))
    codes = [c.code for c in tier_def.components]
    old_units: dict = {}
    old_rows: dict[str, RankedUnit] = {}
    if reuse is not None:
        old_units = reuse[0].units
        old_rows = {r.unit_id: r for r in reuse[1].rows}
    rows = []
    for g in sorted(groups, key=group_key):
        for rank, uid in assign_ranks(groups[g], ties.method):
            u = scores.units[uid]
            if old_units.get(uid) is u:
                old = old_rows.get(uid)
                if old is not None and old.rank == rank and old.group == g:
                    rows.append(old)
                    continue
            rows.append(make_row(u, rank, g, codes))
    return ranking_of(scores, provenance, rows, excluded_rows(scores))
