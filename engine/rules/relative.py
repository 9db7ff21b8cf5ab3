"""Rule kinds that compare a unit with its peers in the tier: relative to the best, min–max,
z-score.  `prepare` sees every ranked unit's inputs and returns the tier-wide context (plain
data: a dict of Decimals), which `score` uses and the trace shows as `peers`."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, Sequence

import attrs

from engine.rules.base import DECIMAL_CONTEXT, Input, Outcome, ParamsError
from engine.rules.common import (
    NUMERIC_TYPES,
    ONE,
    ZERO,
    Params,
    RuleBase,
    check_types,
    clamp,
    fmt,
    missing,
    number,
)

Better = Literal["higher", "lower"]


def _values(rule: str, column: Sequence[Sequence[Input]]) -> list[Decimal]:
    out = []
    for row in column:
        v = number(row[0], rule)
        if v is not None:
            out.append(v)
    return out


def _need(context: Any, rule: str) -> dict:
    if context is None:
        raise TypeError(f"rule {rule!r} compares units: score() needs the context from prepare()")
    return context


class _PeerRule(RuleBase):
    peer = True

    def direction(self, params: Any) -> tuple[int, ...]:
        return (1 if params.better == "higher" else -1,)


# --------------------------------------------------------------------------- relative to best


class RelativeToBestParams(Params):
    # "higher": points = value ÷ best × max with best the largest value of the tier;
    # "lower": points = best ÷ value × max with best the smallest (e.g. days to resolve).
    better: Better = "higher"


@attrs.frozen
class RelativeToBest(_PeerRule):
    name = "relative_to_best"
    name_vi = "So với đơn vị tốt nhất"
    formula_vi = "giá trị ÷ giá trị tốt nhất trong khối × điểm tối đa (hoặc tốt nhất ÷ giá trị khi thấp hơn là tốt hơn)"
    description = "value ÷ the best value in the tier × max (or best ÷ value when lower is better)"
    params_type = RelativeToBestParams

    def check(self, params: Any, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, NUMERIC_TYPES)

    def check_indicators(self, params: Any, indicators: Sequence[Any]) -> None:
        ind = indicators[0]
        if ind.type in ("number", "points") and (ind.min is None or ind.min < 0):
            raise ParamsError(f"indicator {ind.code!r} must be declared non-negative (min = 0) to be compared with the best")

    def prepare(self, params: RelativeToBestParams, column: Sequence[Sequence[Input]]) -> Any:
        values = _values(self.name, column)
        if not values:
            return {}
        return {"best": max(values) if params.better == "higher" else min(values)}

    def points(self, params: RelativeToBestParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return ZERO
        best = peers.get("best", v)
        with decimal.localcontext(DECIMAL_CONTEXT):
            if params.better == "higher":
                if best <= 0:
                    return ZERO
                raw = v / best
            else:
                if v <= 0:
                    return max_points if v <= best else ZERO
                raw = best / v
            return clamp(raw, ZERO, ONE) * max_points

    def score(self, params: RelativeToBestParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        best = peers.get("best", v)
        with decimal.localcontext(DECIMAL_CONTEXT):
            if params.better == "higher":
                if best <= 0:
                    return Outcome(ZERO, f"best of the tier is {fmt(best)} → 0", {"best": best})
                raw, expr = v / best, f"{fmt(v)} ÷ {fmt(best)} (best)"
            else:
                if v <= 0:
                    points = max_points if v <= best else ZERO
                    return Outcome(points, f"{fmt(v)} is the best possible value → {fmt(points)}", {"best": best})
                raw, expr = best / v, f"{fmt(best)} (best) ÷ {fmt(v)}"
            points = clamp(raw, ZERO, ONE) * max_points
            if raw > 1:
                expr = f"min({expr}, 1)"
            elif raw < 0:
                expr = f"max({expr}, 0)"
            return Outcome(points, f"{expr} × {fmt(max_points)} = {fmt(points)}", {"best": best})


# ------------------------------------------------------------------------------------ min–max

AllEqual = Literal["full", "zero"]


class MinMaxParams(Params):
    better: Better = "higher"
    # When every unit of the tier has the same value (max = min): full points or none.
    if_all_equal: AllEqual = "full"


@attrs.frozen
class MinMax(_PeerRule):
    name = "min_max"
    name_vi = "Chuẩn hoá min–max"
    formula_vi = "chuẩn hoá min–max trong khối: (giá trị − nhỏ nhất) ÷ (lớn nhất − nhỏ nhất) × điểm tối đa"
    description = "min–max normalisation across the tier: (value − min) ÷ (max − min) × max points"
    params_type = MinMaxParams

    def check(self, params: Any, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, NUMERIC_TYPES)

    def prepare(self, params: MinMaxParams, column: Sequence[Sequence[Input]]) -> Any:
        values = _values(self.name, column)
        if not values:
            return {}
        return {"min": min(values), "max": max(values)}

    def points(self, params: MinMaxParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return ZERO
        lo, hi = peers.get("min", v), peers.get("max", v)
        with decimal.localcontext(DECIMAL_CONTEXT):
            if hi == lo:
                if v == lo:
                    return max_points if params.if_all_equal == "full" else ZERO
                return max_points if (v > hi) == (params.better == "higher") else ZERO
            raw = (v - lo) / (hi - lo) if params.better == "higher" else (hi - v) / (hi - lo)
            return clamp(raw, ZERO, ONE) * max_points

    def score(self, params: MinMaxParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        lo, hi = peers.get("min", v), peers.get("max", v)
        shown = {"min": lo, "max": hi}
        with decimal.localcontext(DECIMAL_CONTEXT):
            if hi == lo:
                if v == lo:
                    points = max_points if params.if_all_equal == "full" else ZERO
                    return Outcome(points, f"all units of the tier have {fmt(v)} → {fmt(points)}", shown)
                good = (v > hi) == (params.better == "higher")
                points = max_points if good else ZERO
                return Outcome(points, f"{fmt(v)} against {fmt(lo)} for all others → {fmt(points)}", shown)
            if params.better == "higher":
                raw, expr = (v - lo) / (hi - lo), f"({fmt(v)} − {fmt(lo)}) ÷ ({fmt(hi)} − {fmt(lo)})"
            else:
                raw, expr = (hi - v) / (hi - lo), f"({fmt(hi)} − {fmt(v)}) ÷ ({fmt(hi)} − {fmt(lo)})"
            points = clamp(raw, ZERO, ONE) * max_points
            if raw > 1:
                expr = f"min({expr}, 1)"
            elif raw < 0:
                expr = f"max({expr}, 0)"
            return Outcome(points, f"{expr} × {fmt(max_points)} = {fmt(points)}", shown)


# ------------------------------------------------------------------------------------ z-score


class ZScoreParams(Params):
    better: Better = "higher"
    # z is clamped to ±spread and mapped linearly onto 0..max: (z + spread) ÷ (2 × spread).
    spread: Decimal = Decimal(3)
    # When every unit has the same value (standard deviation 0) z = 0: half the points.  (Not a
    # parameter: full or zero points there would reward or punish moving away from the others.)


@attrs.frozen
class ZScore(_PeerRule):
    name = "zscore"
    name_vi = "Điểm chuẩn hoá z"
    formula_vi = "chuẩn hoá trong khối, z = (giá trị − trung bình) ÷ độ lệch chuẩn (tổng thể), rồi (z + biên) ÷ (2 × biên) × điểm tối đa, giới hạn trong 0..điểm tối đa"
    description = (
        "standardised across the tier, z = (value − mean) ÷ standard deviation (population), "
        "then (z + spread) ÷ (2 × spread) × max, clamped"
    )
    params_type = ZScoreParams

    def check(self, params: ZScoreParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, NUMERIC_TYPES)
        if params.spread <= 0:
            raise ParamsError("spread must be above 0", "spread")

    def prepare(self, params: ZScoreParams, column: Sequence[Sequence[Input]]) -> Any:
        values = _values(self.name, column)
        if not values:
            return {}
        # Exact sums (no rounding: a wide context that traps on any inexact result), so that
        # score() can compute z² as an exact fraction.
        with decimal.localcontext(_EXACT):
            total = sum(values, ZERO)
            squares = sum((x * x for x in values), ZERO)
        return {"n": Decimal(len(values)), "sum": total, "sum_sq": squares}

    def points(self, params: ZScoreParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return ZERO
        if not peers:
            peers = self.prepare(params, [inputs])
        n, total, squares = Fraction(peers["n"]), Fraction(peers["sum"]), Fraction(peers["sum_sq"])
        d = n * Fraction(v) - total
        t = n * squares - total * total
        with decimal.localcontext(DECIMAL_CONTEXT):
            if t <= 0:
                share = Decimal("0.5")
                if d != 0:
                    share = ONE if (d > 0) == (params.better == "higher") else ZERO
                return share * max_points
            if params.better == "lower":
                d = -d
            s = params.spread
            z_squared = d * d / t
            if z_squared >= Fraction(s) ** 2:
                z = s if d > 0 else -s
            else:
                z = _to_decimal(z_squared).sqrt()
                if d < 0:
                    z = -z
            return clamp((z + s) / (2 * s), ZERO, ONE) * max_points

    def score(self, params: ZScoreParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        if not peers:
            peers = self.prepare(params, [inputs])
        n, total, squares = Fraction(peers["n"]), Fraction(peers["sum"]), Fraction(peers["sum_sq"])
        # z = (v − mean) ÷ sd = d ÷ √t with d = n·v − Σx and t = n·Σx² − (Σx)², both exact; z² = d² ÷ t
        # is an exact fraction and z = ±√(z²) is rounded once, so a higher value never gets a
        # lower z (every step below is a correctly rounded monotone operation).
        d = n * Fraction(v) - total
        t = n * squares - total * total
        with decimal.localcontext(DECIMAL_CONTEXT):
            mean = _to_decimal(total / n)
            sd = _to_decimal(t / (n * n)).sqrt() if t > 0 else ZERO
            shown = {"mean": mean, "sd": sd}
            if t <= 0:
                share = Decimal("0.5")
                if d != 0:  # the unit was not among those prepare() saw
                    share = ONE if (d > 0) == (params.better == "higher") else ZERO
                points = share * max_points
                return Outcome(points, f"standard deviation 0 → {fmt(share)} × {fmt(max_points)} = {fmt(points)}", shown)
            if params.better == "lower":
                d = -d
            s = params.spread
            z_squared = d * d / t
            if z_squared >= Fraction(s) ** 2:
                z = s if d > 0 else -s
            else:
                z = _to_decimal(z_squared).sqrt()
                if d < 0:
                    z = -z
            share = clamp((z + s) / (2 * s), ZERO, ONE)
            points = share * max_points
            zexpr = f"({fmt(v)} − {fmt(mean)}) ÷ {fmt(sd)}" if params.better == "higher" else f"({fmt(mean)} − {fmt(v)}) ÷ {fmt(sd)}"
            return Outcome(
                points,
                f"z = {zexpr} = {fmt(z)}; (clamp(z, ±{fmt(s)}) + {fmt(s)}) ÷ {fmt(2 * s)} × {fmt(max_points)} = {fmt(points)}",
                shown,
            )


_EXACT = decimal.Context(prec=2000, Emin=-999_999, Emax=999_999, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])


def _to_decimal(q: Fraction) -> Decimal:
    """A fraction rounded once to the current context's precision."""
    return Decimal(q.numerator) / Decimal(q.denominator)
