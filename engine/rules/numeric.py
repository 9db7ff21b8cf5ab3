"""Rule kinds that read numbers of one unit: ratio, ratio of counts, thresholds, per item,
assessor points, deduction, informational."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Literal, Sequence

import attrs

from engine.rules.base import DECIMAL_CONTEXT, Input, Outcome, ParamsError
from engine.rules.common import (
    HUNDRED,
    NUMERIC_TYPES,
    ONE,
    ZERO,
    NoParams,
    Params,
    RuleBase,
    check_points,
    check_types,
    clamp,
    fmt,
    missing,
    number,
)


def _share_expr(expr: str, raw: Decimal) -> str:
    if raw > 1:
        return f"min({expr}, 1)"
    if raw < 0:
        return f"max({expr}, 0)"
    return expr


def _share_clamp(expr: str, raw: Decimal) -> str:
    """What clamping the share `raw` (= `expr`) to 0..1 did, in words ("" when nothing)."""
    shown = expr if expr == fmt(raw) else f"{expr} = {fmt(raw)}"
    if raw > 1:
        return f"{shown} is above 1: counted as 1"
    if raw < 0:
        return f"{shown} is below 0: counted as 0"
    return ""


# --------------------------------------------------------------------------------------- ratio


class RatioParams(Params):
    # The input is a percentage 0..100 (true) or a ratio 0..1 (false); must match the indicator.
    percent: bool = False
    # The input value that already earns full points, in the input's own unit (default: 1, or
    # 100 with `percent`), e.g. `full_at = 80` for "80 % or more → full points".
    full_at: Decimal | None = None


@attrs.frozen
class Ratio(RuleBase):
    name = "ratio"
    name_vi = "Tỷ lệ"
    formula_vi = "tỷ lệ (0..1 hoặc phần trăm) × điểm tối đa, giới hạn trong 0..điểm tối đa"
    description = "share × max: a ratio 0..1 (or a percentage) times the criterion's maximum, clamped"
    params_type = RatioParams

    def check(self, params: RatioParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"ratio", "percentage", "number"})
        if indicator_types[0] == "percentage" and not params.percent:
            raise ParamsError("the indicator is a percentage: set percent = true", "percent")
        if indicator_types[0] == "ratio" and params.percent:
            raise ParamsError("the indicator is a ratio 0..1: remove percent = true", "percent")
        if params.full_at is not None and params.full_at <= 0:
            raise ParamsError("full_at must be above 0", "full_at")

    def points(self, params: RatioParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        v = number(inputs[0], self.name)
        if v is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            full = (HUNDRED if params.percent else ONE) if params.full_at is None else params.full_at
            return clamp(v / full, ZERO, ONE) * max_points

    def score(self, params: RatioParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            unit = "%" if params.percent else ""
            if params.full_at is None:
                full = HUNDRED if params.percent else ONE
                expr = f"{fmt(v)}{unit}"
            else:
                full = params.full_at
                expr = f"{fmt(v)}{unit} ÷ {fmt(full)}{unit}"
            raw = v / full
            points = clamp(raw, ZERO, ONE) * max_points
            return Outcome(points, f"{_share_expr(expr, raw)} × {fmt(max_points)} = {fmt(points)}",
                           clamped=_share_clamp(expr, raw))


# ----------------------------------------------------------------------------- ratio of counts


class RatioOfCountsParams(Params):
    # The share a / b that already earns full points (default 1: all of them).
    full_at: Decimal = ONE
    # What b = 0 gives: "zero" (nothing done) or "full" (nothing to do, e.g. no dossiers received).
    if_zero: Literal["zero", "full"] = "zero"


@attrs.frozen
class RatioOfCounts(RuleBase):
    name = "ratio_of_counts"
    name_vi = "Tỷ lệ giữa hai số"
    formula_vi = 'a ÷ b × điểm tối đa, giới hạn trong 0..điểm tối đa; b = 0 cho 0 điểm (hoặc đủ điểm khi quy định if_zero = "full")'
    description = "a ÷ b × max, clamped to 0..max; b = 0 gives 0 (or full points with if_zero = \"full\")"
    params_type = RatioOfCountsParams
    arity = 2
    monotone = False  # more of b gives fewer points; see direction()

    def direction(self, params: Any) -> tuple[int, ...]:
        return (1, 0)

    def check(self, params: RatioOfCountsParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"count", "number"})
        if params.full_at <= 0 or params.full_at > 1:
            raise ParamsError("full_at must be within (0, 1]", "full_at")

    def points(self, params: RatioOfCountsParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        a, b = number(inputs[0], self.name), number(inputs[1], self.name)
        if a is None or b is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            if b == 0:
                return max_points if params.if_zero == "full" else ZERO
            raw = a / b if params.full_at == 1 else a / b / params.full_at
            return clamp(raw, ZERO, ONE) * max_points

    def score(self, params: RatioOfCountsParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        a, b = number(inputs[0], self.name), number(inputs[1], self.name)
        if a is None or b is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            if b == 0:
                points = max_points if params.if_zero == "full" else ZERO
                return Outcome(points, f"{fmt(a)} ÷ 0: no denominator → {fmt(points)}")
            if params.full_at == 1:
                raw = a / b
                expr = f"{fmt(a)} ÷ {fmt(b)}"
            else:
                raw = a / b / params.full_at
                expr = f"{fmt(a)} ÷ {fmt(b)} ÷ {fmt(params.full_at)}"
            points = clamp(raw, ZERO, ONE) * max_points
            return Outcome(points, f"{_share_expr(expr, raw)} × {fmt(max_points)} = {fmt(points)}",
                           clamped=_share_clamp(expr, raw))


# --------------------------------------------------------------------------------- thresholds


class Step(Params):
    at_least: Decimal
    points: Decimal


class ThresholdsParams(Params):
    # Steps in any order; the unit gets the points of the highest step it reaches.
    steps: tuple[Step, ...]
    # Points below the lowest step.
    otherwise: Decimal = ZERO


@attrs.frozen
class Thresholds(RuleBase):
    name = "thresholds"
    name_vi = "Theo mức"
    formula_vi = "điểm của mức cao nhất mà giá trị đạt tới (at_least), nếu không đạt mức nào thì điểm otherwise"
    description = "stepped: the points of the highest step whose at_least the value reaches, else otherwise"
    params_type = ThresholdsParams

    def check(self, params: ThresholdsParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, NUMERIC_TYPES)
        if not params.steps:
            raise ParamsError("at least one step is needed", "steps")
        order = sorted(range(len(params.steps)), key=lambda i: params.steps[i].at_least)
        previous = None
        for i in order:
            step = params.steps[i]
            check_points(step.points, max_points, f"steps[{i}].points")
            if previous is not None:
                before = params.steps[previous]
                if step.at_least == before.at_least:
                    raise ParamsError(f"two steps at {fmt(step.at_least)}", f"steps[{i}].at_least")
                if step.points < before.points:
                    raise ParamsError(
                        f"a higher value must not give fewer points ({fmt(step.at_least)} → "
                        f"{fmt(step.points)} < {fmt(before.at_least)} → {fmt(before.points)})",
                        f"steps[{i}].points",
                    )
            previous = i
        check_points(params.otherwise, max_points, "otherwise")
        lowest = params.steps[order[0]]
        if params.otherwise > lowest.points:
            raise ParamsError("otherwise must not exceed the lowest step's points", "otherwise")

    def points(self, params: ThresholdsParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        v = number(inputs[0], self.name)
        if v is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            reached = [s for s in params.steps if v >= s.at_least]
            if reached:
                return clamp(max(reached, key=lambda s: s.at_least).points, ZERO, max_points)
            return clamp(params.otherwise, ZERO, max_points)

    def score(self, params: ThresholdsParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            reached = [s for s in params.steps if v >= s.at_least]
            if reached:
                step = max(reached, key=lambda s: s.at_least)
                points = clamp(step.points, ZERO, max_points)
                return Outcome(points, f"{fmt(v)} ≥ {fmt(step.at_least)} → {fmt(points)}")
            lowest = min(params.steps, key=lambda s: s.at_least)
            points = clamp(params.otherwise, ZERO, max_points)
            return Outcome(points, f"{fmt(v)} < {fmt(lowest.at_least)} → {fmt(points)}")


# ------------------------------------------------------------------------------------ per item


class PerItemParams(Params):
    points: Decimal  # per item


@attrs.frozen
class PerItem(RuleBase):
    name = "per_item"
    name_vi = "Theo số lượng"
    formula_vi = "số lượng × điểm mỗi đơn vị, không quá điểm tối đa: min(n × điểm, tối đa)"
    description = "points per item, capped at the criterion's maximum: min(n × points, max)"
    params_type = PerItemParams

    def check(self, params: PerItemParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"count", "number"})
        if params.points <= 0:
            raise ParamsError("points per item must be above 0", "points")

    def points(self, params: PerItemParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        n = number(inputs[0], self.name)
        if n is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            return clamp(n * params.points, ZERO, max_points)

    def score(self, params: PerItemParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        n = number(inputs[0], self.name)
        if n is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            raw = n * params.points
            points = clamp(raw, ZERO, max_points)
            expr = f"{fmt(n)} × {fmt(params.points)}"
            if raw > max_points:
                expr = f"min({expr}, {fmt(max_points)})"
            elif raw < 0:
                expr = f"max({expr}, 0)"
            return Outcome(points, f"{expr} = {fmt(points)}")


# ------------------------------------------------------------------------------------ assessor


class AssessorParams(Params):
    # The scale the assessors mark on, when it is not the criterion's own (e.g. marks out of
    # 100 for a 10-point criterion): points = mark ÷ out_of × max.
    out_of: Decimal | None = None


@attrs.frozen
class Assessor(RuleBase):
    name = "assessor"
    name_vi = "Hội đồng chấm điểm"
    formula_vi = "điểm do hội đồng đánh giá chấm trực tiếp, giới hạn trong 0..điểm tối đa"
    description = "points given directly by assessors (a council), clamped to 0..max"
    params_type = AssessorParams

    def check(self, params: AssessorParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"points", "number"})
        if params.out_of is not None and params.out_of <= 0:
            raise ParamsError("out_of must be above 0", "out_of")

    def points(self, params: AssessorParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        v = number(inputs[0], self.name)
        if v is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            if params.out_of is None:
                return clamp(v, ZERO, max_points)
            return clamp(v / params.out_of, ZERO, ONE) * max_points

    def score(self, params: AssessorParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        v = number(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            if params.out_of is None:
                points = clamp(v, ZERO, max_points)
                note = "" if points == v else f" (clamped to 0..{fmt(max_points)})"
                clamped = "" if points == v else f"the mark {fmt(v)} is outside 0..{fmt(max_points)}: counted as {fmt(points)}"
                return Outcome(points, f"assessed {fmt(v)} of {fmt(max_points)}{note} = {fmt(points)}",
                               clamped=clamped)
            raw = v / params.out_of
            points = clamp(raw, ZERO, ONE) * max_points
            share = f"{fmt(v)} ÷ {fmt(params.out_of)}"
            return Outcome(points, f"assessed {_share_expr(share, raw)} × {fmt(max_points)} = {fmt(points)}",
                           clamped=_share_clamp(share, raw))


# ----------------------------------------------------------------------------------- deduction


class DeductionParams(Params):
    per_item: Decimal  # points taken off per item (incident, late report...)
    start: Decimal | None = None  # points before deductions (default: the criterion's max)


@attrs.frozen
class Deduction(RuleBase):
    name = "deduction"
    name_vi = "Trừ điểm"
    formula_vi = "từ điểm tối đa (hoặc điểm khởi đầu) trừ đi số điểm cho mỗi lỗi, không dưới 0"
    description = "start from the maximum (or start) and subtract per_item for each item, never below 0"
    params_type = DeductionParams
    monotone = False  # fewer items is better; see direction()

    def direction(self, params: Any) -> tuple[int, ...]:
        return (-1,)

    def check(self, params: DeductionParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"count", "number"})
        if params.per_item <= 0:
            raise ParamsError("per_item must be above 0", "per_item")
        if params.start is not None:
            check_points(params.start, max_points, "start")

    def points(self, params: DeductionParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        n = number(inputs[0], self.name)
        if n is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            start = max_points if params.start is None else params.start
            return clamp(start - max(n, ZERO) * params.per_item, ZERO, max_points)

    def score(self, params: DeductionParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        n = number(inputs[0], self.name)
        if n is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            start = max_points if params.start is None else params.start
            raw = start - max(n, ZERO) * params.per_item
            points = clamp(raw, ZERO, max_points)
            return Outcome(points, f"max({fmt(start)} − {fmt(max(n, ZERO))} × {fmt(params.per_item)}, 0) = {fmt(points)}")


# ------------------------------------------------------------------------------- informational


@attrs.frozen
class Informational(RuleBase):
    name = "informational"
    name_vi = "Chỉ để tham khảo"
    formula_vi = "chỉ số được thu thập và hiển thị, không tính điểm (điểm tối đa phải là 0)"
    description = "an index collected and shown, not scored (the criterion's max must be 0)"
    params_type = NoParams

    def check(self, params: NoParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        if max_points != 0:
            raise ParamsError("an informational criterion must have max = 0")

    def points(self, params: NoParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        return ZERO

    def score(self, params: NoParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        return Outcome(ZERO, f"informational: {fmt(inputs[0])}, not scored")
