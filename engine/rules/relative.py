"""Rule kinds that compare a unit with its peers in the tier: relative to the best, min–max,
z-score.  `prepare` sees every ranked unit's inputs and returns the tier-wide context (plain
data: a dict of Decimals), which `score` uses and the trace shows as `peers`."""

from __future__ import annotations

import decimal
from decimal import Decimal
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
    description = "min–max normalisation across the tier: (value − min) ÷ (max − min) × max points"
    params_type = MinMaxParams

    def check(self, params: Any, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, NUMERIC_TYPES)

    def prepare(self, params: MinMaxParams, column: Sequence[Sequence[Input]]) -> Any:
        values = _values(self.name, column)
        if not values:
            return {}
        return {"min": min(values), "max": max(values)}

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
    # When every unit has the same value (standard deviation 0): z = 0, i.e. half the points,
    # unless "full" or "zero" is asked for.
    if_all_equal: Literal["half", "full", "zero"] = "half"


@attrs.frozen
class ZScore(_PeerRule):
    name = "zscore"
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
        with decimal.localcontext(DECIMAL_CONTEXT):
            n = Decimal(len(values))
            mean = sum(values, ZERO) / n
            variance = sum(((x - mean) ** 2 for x in values), ZERO) / n
            return {"mean": mean, "sd": variance.sqrt()}

    def score(self, params: ZScoreParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        peers = _need(context, self.name)
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        mean, sd = peers.get("mean", v), peers.get("sd", ZERO)
        shown = {"mean": mean, "sd": sd}
        with decimal.localcontext(DECIMAL_CONTEXT):
            if sd == 0:
                share = {"half": Decimal("0.5"), "full": ONE, "zero": ZERO}[params.if_all_equal]
                if v != mean:  # the unit was not among those prepare() saw
                    share = ONE if (v > mean) == (params.better == "higher") else ZERO
                points = share * max_points
                return Outcome(points, f"standard deviation 0 → {fmt(share)} × {fmt(max_points)} = {fmt(points)}", shown)
            if params.better == "higher":
                z, zexpr = (v - mean) / sd, f"({fmt(v)} − {fmt(mean)}) ÷ {fmt(sd)}"
            else:
                z, zexpr = (mean - v) / sd, f"({fmt(mean)} − {fmt(v)}) ÷ {fmt(sd)}"
            s = params.spread
            share = clamp((clamp(z, -s, s) + s) / (2 * s), ZERO, ONE)
            points = share * max_points
            return Outcome(
                points,
                f"z = {zexpr} = {fmt(z)}; (clamp(z, ±{fmt(s)}) + {fmt(s)}) ÷ {fmt(2 * s)} × {fmt(max_points)} = {fmt(points)}",
                shown,
            )
