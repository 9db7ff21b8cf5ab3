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
the component points and a ranking, not a replay.  A sample's totals are exact: the rational
``Σ p_c × w_c``, computed in integers without intermediate rounding, clamped to 0..scale and
rounded with the edition's decimals and mode (exactly, as `decimal` would round that number);
at the adopted weights a sample takes the edition's own totals (`engine.score`), so it is the
adopted ranking.  Ranks come from `engine.rank.assign_ranks` with the sample's tie rule
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
from array import array
from decimal import Decimal, localcontext
from fractions import Fraction
from math import ceil
from itertools import groupby
from operator import itemgetter, mul
from typing import Sequence

import msgspec

from engine.model import Rounding, Tier, TieRule
from engine.rank import assign_ranks
from engine.result import Provenance, Ranking
from engine.rules.base import DECIMAL_CONTEXT
from engine.score import TierScores
from events.refusal import BadArgument

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
_first = itemgetter(0)
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
    totals: tuple[Decimal, ...]  # per unit, the edition's unrounded total


def basis_of(scores: TierScores, label: str) -> Basis:
    group_by = scores.tier_def.group_by
    units = list(scores.units.values())
    return Basis(
        label=label,
        unit_ids=tuple(u.unit.unit_id for u in units),
        groups=tuple(getattr(u.unit, group_by) if group_by else None for u in units),
        points=tuple(u.components for u in units),
        totals=tuple(u.total for u in units),
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


def _fraction(d: Decimal) -> Fraction:
    return Fraction(d)


def _decimals(values) -> int:
    """The most decimal places among `values` (0 for whole numbers)."""
    return max([0] + [-v.as_tuple().exponent for v in values if v.as_tuple().exponent < 0])


class _Evaluator:
    """Totals and ranks of one basis under given weights and tie rule.

    A sample's total of a unit is the exact rational ``Σ p_c × w_c`` (no intermediate
    rounding), computed in integers: the points are scaled to whole numbers once
    (``P_c = p_c × 10^E``), a sample's factors too (``R_c = r_c × 10^G``), so a unit costs
    one integer dot product; the edition's rounding is then applied exactly to
    ``S × num / den``.  At the adopted weights (every r_c = 1) a sample takes the edition's
    own totals, so it is the adopted ranking exactly."""

    def __init__(self, basis: Basis, tier: Tier, rounding: Rounding) -> None:
        self.basis = basis
        self.scale = _fraction(tier.scale)
        self.mean = tier.aggregate == "mean"
        self.n = len(tier.components)
        self.decimals = rounding.decimals
        self.mode = rounding.mode
        self.maxima = [_fraction(c.max) for c in tier.components]
        self.total_max = sum(self.maxima, Fraction(0))
        self.e = _decimals(p for pts in basis.points for p in pts)
        scale_e = Decimal(1).scaleb(self.e)
        with localcontext(DECIMAL_CONTEXT) as ctx:
            ctx.prec = 2 * DECIMAL_CONTEXT.prec + 10  # room for the shift: exact
            self.points = [tuple(int(p * scale_e) for p in pts) for pts in basis.points]
        groups: dict[str | None, list[int]] = {}
        for i, g in enumerate(basis.groups):
            groups.setdefault(g, []).append(i)
        self.groups = list(groups.values())
        quantum = Decimal(1).scaleb(-rounding.decimals)
        # at the adopted weights: the edition's totals, as `engine.score` made them
        self.adopted_exact = list(basis.totals)
        self.adopted_shown = [t.quantize(quantum, rounding=self.mode, context=DECIMAL_CONTEXT)
                              for t in basis.totals]

    def keys(self, factors: Sequence[Decimal], compare: str) -> list:
        """Per unit, what the tie rule compares under the weights `factors` make."""
        if all(f == _ONE for f in factors):
            return self.adopted_exact if compare == "exact" else self.adopted_shown
        g = _decimals(factors)
        rs = [int(f.scaleb(g, context=DECIMAL_CONTEXT)) for f in factors]
        k = self.total_max / sum((_fraction(f) * m for f, m in zip(factors, self.maxima)),
                                 Fraction(0))
        # total = S × k / 10^(e+g) [/ n]: one fraction for the sample
        ratio = k / (10 ** (self.e + g)) / (self.n if self.mean else 1)
        num, den = ratio.numerator, ratio.denominator
        sums = [sum(map(mul, pts, rs)) for pts in self.points]
        if compare == "exact":
            # clamped to the scale; a common positive denominator: numerators compare
            cap = self.scale * den
            cap_n, cap_d = cap.numerator, cap.denominator
            return [min(s * num * cap_d, cap_n) for s in sums]
        shift = 10 ** self.decimals
        mode = self.mode
        cap_q = _round(self.scale.numerator * shift, self.scale.denominator, mode)
        a = num * shift
        if mode == "ROUND_HALF_UP":  # floor(x + 1/2), in one integer division
            a2, den2 = 2 * a, 2 * den
            shown = [(s * a2 + den) // den2 for s in sums]
        elif mode == "ROUND_DOWN":
            shown = [s * a // den for s in sums]
        else:
            shown = [_round(s * a, den, mode) for s in sums]
        if shown and max(shown) > cap_q:
            shown = [min(q, cap_q) for q in shown]
        return shown

    def ranks(self, keys: Sequence, method: str) -> tuple[list[int], list[int]]:
        """(rank, doubled mid-rank) per unit, ranked within each group; one more entry, 0, at
        the end (where units the basis does not rank point)."""
        n = len(keys)
        ranks = [0] * (n + 1)
        mids = [0] * (n + 1)
        for members in self.groups:
            order = assign_ranks([(i, keys[i]) for i in members], method)
            position = 0
            for rank, run in groupby(order, key=_first):
                run = list(run)
                mid = 2 * position + len(run) + 1  # first + last + 2: twice the mean position
                for _, i in run:
                    ranks[i] = rank
                    mids[i] = mid
                position += len(run)
        return ranks, mids


def _round(num: int, den: int, mode: str) -> int:
    """num / den (both >= 0) rounded to a whole number by `mode`."""
    q, rem = divmod(num, den)
    if mode == "ROUND_DOWN" or not rem:
        return q
    twice = 2 * rem
    if twice > den or (twice == den and (mode == "ROUND_HALF_UP" or q & 1)):
        return q + 1
    return q


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
        raise BadArgument("robustness needs at least one sample")
    if not 0 <= width < 1:
        raise BadArgument(f"the weights' variation must be within 0 and 100 %, got {width}")
    if not bases or not ties:
        raise ValueError("robustness needs the adopted scoring and tie rule")
    codes = tuple(c.code for c in tier.components)
    evaluators = [_Evaluator(b, tier, rounding) for b in bases]
    rows = published.rows
    pos = {r.unit_id: k for k, r in enumerate(rows)}
    # per basis, for each published unit its index there (the basis's length, where a 0
    # stands, when the basis does not rank it)
    pick = []
    for b in bases:
        where = {uid: i for i, uid in enumerate(b.unit_ids)}
        idx = [where.get(r.unit_id, len(b.unit_ids)) for r in rows]
        pick.append(lambda seq, idx=idx: [seq[i] for i in idx])
    complete = [len(set(b.unit_ids) & pos.keys()) == len(rows) for b in bases]

    def evaluate(b: int, factors: Sequence[Decimal], rule: TieRule):
        e = evaluators[b]
        ranks, mids = e.ranks(e.keys(factors, rule.compare), rule.method)
        return pick[b](ranks), pick[b](mids)

    ones = (_ONE,) * len(codes)
    ref_ranks, pub_mid = evaluate(0, ones, ties[0])
    if not complete[0]:
        raise ValueError("the adopted scoring does not rank every published unit")
    for row, rank in zip(rows, ref_ranks):
        if rank != row.rank:
            raise ValueError(f"the adopted scoring does not give the published rank of "
                             f"{row.unit_id} ({rank}, published {row.rank})")

    columns = []  # per sample, the ranks in published order (0: not ranked in that sample)
    draws = []
    rhos = []
    for s in range(samples):
        factors = tuple(_factor(width, seed, s, code) for code in codes)
        b = draw(seed, s, "missing") % len(bases) if len(bases) > 1 else 0
        t = draw(seed, s, "ties") % len(ties) if len(ties) > 1 else 0
        ranks, mids = evaluate(b, factors, ties[t])
        columns.append(array("i", ranks))
        if complete[b]:
            rho = _pearson(pub_mid, mids)
        else:
            both = [(x, y) for x, y in zip(pub_mid, mids) if y]
            rho = _pearson([x for x, _ in both], [y for _, y in both])
        rhos.append(rho)
        draws.append(SampleDraw(sample=s, factors=factors, missing=bases[b].label,
                                ties=tie_label(ties[t]), spearman=rho))

    half, lo, hi = Decimal("0.5"), Decimal("0.05"), Decimal("0.95")
    units = []
    kept = []
    for row, column in zip(rows, zip(*columns)):
        got = sorted(r for r in column if r)
        kept.append(column.count(row.rank))
        with localcontext(DECIMAL_CONTEXT):
            share = (Decimal(kept[-1]) / samples).quantize(_SHARE)
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
