"""Robustness of a ranking: how far each unit's rank moves under plausible alternatives to the
methodology's choices (Monte Carlo, in the manner of the JRC's audits of composite indicators).

What a sample varies
- **weights**: every component's weight is drawn around the adopted one, uniformly within
  ±`width` of it (the adopted weight of a component is what lets its points count once, as the
  edition adds them); the weights are then renormalised so that a unit at every component's
  maximum still gets the tier's scale.  A sample's total of a unit is
  ``Σ points_c × w_c`` (divided by the number of components for ``aggregate = "mean"``) with
  ``w_c = r_c × Σ max / Σ r·max`` and ``r_c = 1 + u_c``.  At ``width = 0`` every ``w_c`` is
  exactly 1 and the totals are exactly the edition's;
- **missing-data policy**: each sample takes one of the given scorings of the tier (`Basis`:
  the tier scored once under each policy, by the caller);
- **tie rule**: each sample takes one of the given `TieRule`s.

Criterion and component points do not depend on the weights, so a sample is a re-weighting of
the component points and a ranking, not a replay.  Totals are exact decimals under
`engine.rules.base.DECIMAL_CONTEXT`, clamped to 0..scale and rounded with the edition's
decimals and mode as the published totals are; ranks come from `engine.rank.assign_ranks`
(within each group when the tier ranks by group).

The draws are counter-based, so any one of them can be recomputed on its own, in any process
or language: ``k = int(sha256("ictindex-robustness/1:{seed}:{sample}:{slot}")[:8 bytes], big
endian)``; a weight factor is ``u = width × (k mod 2000001 − 1000000) / 1000000`` (slot = the
component code), a policy or tie rule the ``(k mod n)``-th alternative (slot ``missing`` /
``ties``).  Every sample's factors and choices are kept in the result.

Statistics per unit, over the samples in which it is ranked (an alternative policy may
exclude it): the median and the 5 % and 95 % points by the nearest-rank method (the value at
position ⌈q·n⌉ of the sorted ranks), and the share of all samples in which it has its published
rank.  Spearman's correlation of each sample's ranks with the published ones is Pearson's on
mid-ranks (tied units share the mean of their positions), over the units ranked in both,
computed from exact integer sums and one decimal square root.

Pure and deterministic: same inputs, same result, byte for byte.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, localcontext
from math import ceil
from operator import mul
from typing import Sequence

import msgspec

from engine.model import Rounding, Tier, TieRule
from engine.rank import assign_ranks
from engine.result import Provenance, Ranking
from engine.rules.base import DECIMAL_CONTEXT
from engine.score import TierScores

__all__ = [
    "GENERATOR",
    "Basis",
    "Robustness",
    "SampleDraw",
    "Spearman",
    "UnitRobustness",
    "basis_of",
    "draw",
    "robustness",
]

GENERATOR = "ictindex-robustness/1"
_SPAN = 1_000_000
_SHOWN = 5  # units listed as most / least robust
_ONE = Decimal(1)
_ZERO = Decimal(0)
_SHARE = Decimal("0.0001")
_RHO = Decimal("0.000001")


class _Out(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    pass


class Basis(_Out):
    """One scoring of the tier: each ranked unit's component points (unrounded)."""

    label: str  # e.g. "missing=zero"
    unit_ids: tuple[str, ...]
    groups: tuple[str | None, ...]
    points: tuple[tuple[Decimal, ...], ...]  # per unit, per component


def basis_of(scores: TierScores, label: str) -> Basis:
    group_by = scores.tier_def.group_by
    units = list(scores.units.values())
    return Basis(
        label=label,
        unit_ids=tuple(u.unit.unit_id for u in units),
        groups=tuple(getattr(u.unit, group_by) if group_by else None for u in units),
        points=tuple(u.components for u in units),
    )


class SampleDraw(_Out):
    sample: int
    factors: tuple[Decimal, ...]  # r_c = 1 + u_c, in component order
    missing: str
    ties: str
    spearman: Decimal | None


class UnitRobustness(_Out):
    unit_id: str
    name: str
    group: str | None
    rank: int  # published
    median: int | None  # None when no sample ranked the unit
    p5: int | None
    p95: int | None
    keeps: Decimal  # share of the samples in which it has its published rank
    ranked_in: int  # samples that ranked it (others excluded it for missing data)


class Spearman(_Out):
    median: Decimal | None
    p5: Decimal | None
    min: Decimal | None


class Robustness(_Out):
    year: int
    tier: str
    samples: int
    seed: int
    generator: str
    width: Decimal  # weights vary within ±width of the adopted ones (0.2 = ±20 %)
    components: tuple[str, ...]
    missing: tuple[str, ...]  # the alternatives' labels
    ties: tuple[str, ...]
    units: tuple[UnitRobustness, ...]  # in published order
    most_robust: tuple[str, ...]  # unit ids
    least_robust: tuple[str, ...]
    spearman: Spearman
    draws: tuple[SampleDraw, ...]
    provenance: Provenance  # of the published ranking


def tie_label(rule: TieRule) -> str:
    return f"{rule.method}/{rule.compare}"


def draw(seed: int, sample: int, slot: str) -> int:
    """The counter-based draw for one slot of one sample: 64 bits from SHA-256."""
    digest = hashlib.sha256(f"{GENERATOR}:{seed}:{sample}:{slot}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _factor(width: Decimal, seed: int, sample: int, code: str) -> Decimal:
    if not width:
        return _ONE
    m = draw(seed, sample, code) % (2 * _SPAN + 1) - _SPAN
    return _ONE + width * m / _SPAN


class _Evaluator:
    """Totals and ranks of one basis under given weights and tie rule."""

    def __init__(self, basis: Basis, tier: Tier, rounding: Rounding) -> None:
        self.basis = basis
        self.scale = tier.scale
        self.mean = tier.aggregate == "mean"
        self.n = len(tier.components)
        self.quantum = Decimal(1).scaleb(-rounding.decimals)
        self.mode = rounding.mode
        self.index = {uid: i for i, uid in enumerate(basis.unit_ids)}
        groups: dict[str | None, list[int]] = {}
        for i, g in enumerate(basis.groups):
            groups.setdefault(g, []).append(i)
        self.groups = list(groups.values())

    def totals(self, weights: Sequence[Decimal]) -> tuple[list[Decimal], list[Decimal]]:
        """(exact totals, published totals) per unit."""
        scale, zero, n, mean = self.scale, _ZERO, self.n, self.mean
        exact = []
        with localcontext(DECIMAL_CONTEXT):
            for pts in self.basis.points:
                t = sum(map(mul, pts, weights), zero)
                if mean:
                    t = t / n
                exact.append(scale if t > scale else (zero if t < zero else t))
        # totals are sums of points >= 0 times weights > 0: never a negative zero to clear, so
        # quantize as `engine.score` rounds its published totals
        q, mode = self.quantum, self.mode
        return exact, [t.quantize(q, rounding=mode, context=DECIMAL_CONTEXT) for t in exact]

    def ranks(self, compared: Sequence[Decimal], method: str) -> tuple[list[int], list[int]]:
        """(rank, doubled mid-rank) per unit, ranked within each group."""
        ids = self.basis.unit_ids
        index = self.index
        ranks = [0] * len(ids)
        mids = [0] * len(ids)
        for members in self.groups:
            order = assign_ranks([(ids[i], compared[i]) for i in members], method)
            start = 0
            while start < len(order):
                end = start
                while end + 1 < len(order) and order[end + 1][0] == order[start][0]:
                    end += 1
                for k in range(start, end + 1):
                    i = index[order[k][1]]
                    ranks[i] = order[k][0]
                    mids[i] = start + end + 2  # (start+1) + (end+1): twice the mean position
                start = end + 1
        return ranks, mids


def _nearest(sorted_values: Sequence, q: Decimal):
    n = len(sorted_values)
    return sorted_values[max(1, ceil(q * n)) - 1]


def _pearson(x: Sequence[int], y: Sequence[int]) -> Decimal | None:
    n = len(x)
    if n < 2:
        return None
    sx, sy = sum(x), sum(y)
    num = n * sum(map(mul, x, y)) - sx * sy
    vx = n * sum(map(mul, x, x)) - sx * sx
    vy = n * sum(map(mul, y, y)) - sy * sy
    if vx == 0 or vy == 0:
        return None  # every unit tied: no order to correlate
    with localcontext(DECIMAL_CONTEXT):
        rho = Decimal(num) / (Decimal(vx) * Decimal(vy)).sqrt()
        return rho.quantize(_RHO)


def robustness(
    published: Ranking,
    tier: Tier,
    rounding: Rounding,
    bases: Sequence[Basis],
    ties: Sequence[TieRule],
    *,
    width: Decimal,
    samples: int,
    seed: int,
) -> Robustness:
    """Rank statistics of `published`'s units over `samples` draws.

    `bases[0]` and `ties[0]` must be what `published` was ranked with (checked: at the adopted
    weights they must give its ranks); the other entries are the alternatives drawn from."""
    if samples < 1:
        raise ValueError("robustness needs at least one sample")
    if not 0 <= width < 1:
        raise ValueError(f"the weights' variation must be within 0 and 100 %, got {width}")
    if not bases or not ties:
        raise ValueError("robustness needs the adopted scoring and tie rule")
    codes = tuple(c.code for c in tier.components)
    maxima = [c.max for c in tier.components]
    with localcontext(DECIMAL_CONTEXT):
        total_max = sum(maxima, _ZERO)
    evaluators = [_Evaluator(b, tier, rounding) for b in bases]
    rows = published.rows
    pos = {r.unit_id: k for k, r in enumerate(rows)}
    # each basis's unit index -> published position (-1: ranked there, not published)
    to_pub = [[pos.get(uid, -1) for uid in b.unit_ids] for b in bases]

    def evaluate(e: _Evaluator, weights: Sequence[Decimal], rule: TieRule):
        exact, shown = e.totals(weights)
        return e.ranks(exact if rule.compare == "exact" else shown, rule.method)

    ones = [_ONE] * len(codes)
    ref_ranks, ref_mids = evaluate(evaluators[0], ones, ties[0])
    pub_mid = [0] * len(rows)
    for i, k in enumerate(to_pub[0]):
        if k >= 0:
            if ref_ranks[i] != rows[k].rank:
                raise ValueError(f"the adopted scoring does not give the published rank of "
                                 f"{rows[k].unit_id} ({ref_ranks[i]}, published {rows[k].rank})")
            pub_mid[k] = ref_mids[i]
    if sum(1 for k in to_pub[0] if k >= 0) != len(rows):
        raise ValueError("the adopted scoring does not rank every published unit")

    per_unit: list[list[int]] = [[] for _ in rows]
    kept = [0] * len(rows)
    draws = []
    rhos = []
    for s in range(samples):
        factors = [_factor(width, seed, s, code) for code in codes]
        with localcontext(DECIMAL_CONTEXT):
            if width:
                k = total_max / sum(map(mul, factors, maxima), _ZERO)
                weights = [f * k for f in factors]
            else:
                weights = ones
        b = draw(seed, s, "missing") % len(bases) if len(bases) > 1 else 0
        t = draw(seed, s, "ties") % len(ties) if len(ties) > 1 else 0
        ranks, mids = evaluate(evaluators[b], weights, ties[t])
        xs, ys = [], []
        for i, k in enumerate(to_pub[b]):
            if k < 0:
                continue
            r = ranks[i]
            per_unit[k].append(r)
            if r == rows[k].rank:
                kept[k] += 1
            xs.append(pub_mid[k])
            ys.append(mids[i])
        rho = _pearson(xs, ys)
        rhos.append(rho)
        draws.append(SampleDraw(sample=s, factors=tuple(factors), missing=bases[b].label,
                                ties=tie_label(ties[t]), spearman=rho))

    half, lo, hi = Decimal("0.5"), Decimal("0.05"), Decimal("0.95")
    units = []
    for k, row in enumerate(rows):
        got = sorted(per_unit[k])
        with localcontext(DECIMAL_CONTEXT):
            share = (Decimal(kept[k]) / samples).quantize(_SHARE)
        units.append(UnitRobustness(
            unit_id=row.unit_id, name=row.name, group=row.group, rank=row.rank,
            median=_nearest(got, half) if got else None,
            p5=_nearest(got, lo) if got else None,
            p95=_nearest(got, hi) if got else None,
            keeps=share, ranked_in=len(got)))

    def spread(u: UnitRobustness) -> int:
        return (u.p95 - u.p5) if u.p5 is not None else len(rows)

    order = list(range(len(units)))
    most = sorted(order, key=lambda k: (-kept[k], spread(units[k]), units[k].rank,
                                        units[k].unit_id))
    least = sorted(order, key=lambda k: (kept[k], -spread(units[k]), units[k].rank,
                                         units[k].unit_id))
    known = sorted(r for r in rhos if r is not None)
    return Robustness(
        year=published.year,
        tier=published.tier,
        samples=samples,
        seed=seed,
        generator=GENERATOR,
        width=width,
        components=codes,
        missing=tuple(b.label for b in bases),
        ties=tuple(tie_label(t) for t in ties),
        units=tuple(units),
        most_robust=tuple(units[k].unit_id for k in most[:_SHOWN]),
        least_robust=tuple(units[k].unit_id for k in least[:_SHOWN]),
        spearman=Spearman(median=_nearest(known, half) if known else None,
                          p5=_nearest(known, lo) if known else None,
                          min=known[0] if known else None),
        draws=tuple(draws),
        provenance=published.provenance,
    )
