"""From criterion points to a component, from components to a tier's total, and publication.

Pure helpers the scoring engine uses: a component is the sum of its criteria, never above its
maximum ("sum with a block maximum"); a tier's total is the sum of its components (local
indices, out of 100 or 90) or their plain mean (the national index, 0..1).  Totals are computed
from unrounded parts; `round_published` applies the edition's rounding to what is published.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Iterable, Mapping

from engine.model import Component, GradingBand, Methodology, Rounding, Tier
from engine.rules.base import DECIMAL_CONTEXT

ZERO = Decimal(0)


def _values(parts: Mapping[str, Decimal] | Iterable[Decimal], codes: list[str], what: str) -> list[Decimal]:
    if isinstance(parts, Mapping):
        unknown = sorted(set(parts) - set(codes))
        if unknown:
            raise ValueError(f"not {what} of this block: {', '.join(unknown)}")
        return [parts.get(code, ZERO) for code in codes]
    values = list(parts)
    if len(values) > len(codes):
        raise ValueError(f"{len(values)} values for {len(codes)} {what}")
    return values


def component_points(component: Component, criterion_points: Mapping[str, Decimal] | Iterable[Decimal]) -> Decimal:
    """The component's points: the sum of its criteria's points (by criterion code, or in
    order), clamped to 0..component.max."""
    values = _values(criterion_points, [c.code for c in component.criteria], "criteria")
    with decimal.localcontext(DECIMAL_CONTEXT):
        total = sum(values, ZERO)
        return min(max(total, ZERO), component.max)


def tier_total(tier: Tier, component_points: Mapping[str, Decimal] | Iterable[Decimal]) -> Decimal:
    """A unit's unrounded total: the sum (aggregate "sum") or the plain mean over all the tier's
    components (aggregate "mean") of the component points, by component code or in order;
    a component not given counts 0."""
    codes = [c.code for c in tier.components]
    values = _values(component_points, codes, "components")
    with decimal.localcontext(DECIMAL_CONTEXT):
        total = sum(values, ZERO)
        if tier.aggregate == "mean":
            total = total / len(codes)
        return min(max(total, ZERO), tier.scale)


def round_published(value: Decimal, rounding: Rounding, decimals: int | None = None) -> Decimal:
    """`value` rounded as the edition publishes it (decimals and mode of `rounding`)."""
    places = rounding.decimals if decimals is None else decimals
    with decimal.localcontext(DECIMAL_CONTEXT):
        return value.quantize(Decimal(1).scaleb(-places), rounding=getattr(decimal, rounding.mode))


def grade(methodology: Methodology, tier: Tier, total: Decimal) -> GradingBand | None:
    """The first grading band (listed best first) whose min_share × scale the total reaches."""
    with decimal.localcontext(DECIMAL_CONTEXT):
        for band in methodology.grading:
            if total >= band.min_share * tier.scale:
                return band
    return None
