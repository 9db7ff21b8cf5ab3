"""Rule kinds that read yes/no answers and categories, and the composite ones built from
conditions: yes/no, category, independent parts added, best of alternative cases."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Sequence

import attrs

from engine.rules.base import DECIMAL_CONTEXT, Input, Outcome, ParamsError
from engine.rules.common import (
    NUMERIC_TYPES,
    ONE,
    ZERO,
    Params,
    RuleBase,
    category,
    check_points,
    check_types,
    clamp,
    fmt,
    missing,
    number,
    yes_no,
)

# ------------------------------------------------------------------------------------- yes/no


class YesNoParams(Params):
    points: Decimal | None = None  # what "yes" earns (default: the criterion's max); "no" earns 0


@attrs.frozen
class YesNo(RuleBase):
    name = "yes_no"
    name_vi = "Có/không"
    formula_vi = "có → điểm tối đa (hoặc số điểm quy định), không → 0"
    description = "yes → max (or points), no → 0"
    params_type = YesNoParams

    def check(self, params: YesNoParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"yes_no"})
        if params.points is not None:
            check_points(params.points, max_points, "points")

    def points(self, params: YesNoParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        if not yes_no(inputs[0], self.name):
            return ZERO
        return max_points if params.points is None else min(params.points, max_points)

    def score(self, params: YesNoParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        v = yes_no(inputs[0], self.name)
        if v is None:
            return missing(inputs)
        points = (max_points if params.points is None else min(params.points, max_points)) if v else ZERO
        return Outcome(points, f"{fmt(v)} → {fmt(points)}")


# ----------------------------------------------------------------------------------- category


class CategoryParams(Params):
    # Category (as the indicator declares it) → share of the criterion's max, 0..1.
    shares: dict[str, Decimal]
    otherwise: Decimal = ZERO  # share for a declared category not listed in `shares`


@attrs.frozen
class Category(RuleBase):
    name = "category"
    name_vi = "Theo loại"
    formula_vi = "loại được chọn → tỷ lệ của điểm tối đa (ví dụ chủ tịch → 1, phó chủ tịch → 0,5, không có → 0)"
    description = "category → share of the maximum (e.g. chairman → 1, deputy → 0.5, none → 0)"
    params_type = CategoryParams
    monotone = False  # categories are not ordered

    def direction(self, params: Any) -> tuple[int, ...]:
        return (0,)

    def check(self, params: CategoryParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        check_types(self.name, indicator_types, {"category"})
        if not params.shares:
            raise ParamsError("shares must name at least one category", "shares")
        for key, share in params.shares.items():
            if not 0 <= share <= 1:
                raise ParamsError(f"share {fmt(share)} is outside 0..1", f"shares.{key}")
        if not 0 <= params.otherwise <= 1:
            raise ParamsError(f"share {fmt(params.otherwise)} is outside 0..1", "otherwise")

    def check_indicators(self, params: CategoryParams, indicators: Sequence[Any]) -> None:
        ind = indicators[0]
        for key in params.shares:
            if key not in ind.categories:
                raise ParamsError(
                    f"{key!r} is not a category of indicator {ind.code!r} (declared: {', '.join(ind.categories)})",
                    f"shares.{key}",
                )

    def points(self, params: CategoryParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        c = category(inputs[0], self.name)
        if c is None:
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            share = params.shares[c] if c in params.shares else params.otherwise
            return clamp(share, ZERO, ONE) * max_points

    def score(self, params: CategoryParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        c = category(inputs[0], self.name)
        if c is None:
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            listed = c in params.shares
            share = params.shares[c] if listed else params.otherwise
            points = clamp(share, ZERO, ONE) * max_points
            note = "" if listed else " (not listed)"
            return Outcome(points, f"{fmt(c)}{note} → {fmt(share)} × {fmt(max_points)} = {fmt(points)}")


# --------------------------------------------------------------------------------- conditions


class Condition(Params):
    """A test on one input.  With none of at_least / equals / any_of the input must be yes/no
    and the condition is "yes"."""

    # Which of the criterion's indicators (1-based position in `indicators`); parts default to
    # their own position, cases to 1.
    input: int | None = None
    # Optional: the indicator's code, checked against the one at `input` (for readers).
    indicator: str = ""
    at_least: Decimal | None = None  # a number >= at_least
    equals: str | None = None  # a category
    any_of: tuple[str, ...] = ()  # one of several categories


def _index(cond: Condition, default: int) -> int:
    return (cond.input if cond.input is not None else default) - 1


def _check_condition(cond: Condition, default: int, indicator_types: Sequence[str], path: str) -> None:
    i = _index(cond, default)
    if not 0 <= i < len(indicator_types):
        raise ParamsError(f"input {i + 1} does not exist: the criterion reads {len(indicator_types)} indicator(s)", f"{path}.input")
    kinds = sum(x is not None and x != () for x in (cond.at_least, cond.equals, cond.any_of))
    if kinds > 1:
        raise ParamsError("use only one of at_least, equals, any_of", path)
    t = indicator_types[i]
    if cond.at_least is not None:
        if t not in NUMERIC_TYPES:
            raise ParamsError(f"at_least needs a number, input {i + 1} is {t!r}", f"{path}.at_least")
    elif cond.equals is not None or cond.any_of:
        if t != "category":
            raise ParamsError(f"equals/any_of need a category, input {i + 1} is {t!r}", path)
    elif t != "yes_no":
        raise ParamsError(f"input {i + 1} is {t!r}: give at_least, equals or any_of", path)


def _check_condition_indicators(cond: Condition, default: int, indicators: Sequence[Any], path: str) -> None:
    ind = indicators[_index(cond, default)]
    if cond.indicator and cond.indicator != ind.code:
        raise ParamsError(f"input {_index(cond, default) + 1} is {ind.code!r}, not {cond.indicator!r}", f"{path}.indicator")
    for c in ((cond.equals,) if cond.equals is not None else ()) + tuple(cond.any_of):
        if c not in ind.categories:
            raise ParamsError(f"{c!r} is not a category of indicator {ind.code!r}", path)


def _holds(cond: Condition, default: int, inputs: Sequence[Input], rule: str) -> tuple[bool, str]:
    """Whether the condition holds, and how it reads in a formula."""
    i = _index(cond, default)
    label = cond.indicator or f"input {i + 1}"
    raw = inputs[i]
    if raw is None:
        return False, f"{label} missing"
    if cond.at_least is not None:
        v = number(raw, rule)
        assert v is not None
        ok = v >= cond.at_least
        return ok, f"{label} {fmt(v)} {'≥' if ok else '<'} {fmt(cond.at_least)}"
    if cond.equals is not None or cond.any_of:
        c = category(raw, rule)
        wanted = ((cond.equals,) if cond.equals is not None else ()) + tuple(cond.any_of)
        ok = c in wanted
        if len(wanted) == 1:
            return ok, f"{label} {fmt(c)} {'=' if ok else '≠'} {fmt(wanted[0])}"
        return ok, f"{label} {fmt(c)} {'in' if ok else 'not in'} ({', '.join(map(fmt, wanted))})"
    b = yes_no(raw, rule)
    return bool(b), f"{label} {fmt(b)}"


def _test(cond: Condition, default: int, inputs: Sequence[Input], rule: str) -> bool:
    """Whether the condition holds (`_holds` without the text, for the fast path)."""
    raw = inputs[_index(cond, default)]
    if raw is None:
        return False
    if cond.at_least is not None:
        return number(raw, rule) >= cond.at_least  # type: ignore[operator]
    if cond.equals is not None or cond.any_of:
        c = category(raw, rule)
        return c == cond.equals or c in cond.any_of
    return bool(yes_no(raw, rule))


def _condition_direction(cond: Condition) -> int:
    return 0 if (cond.equals is not None or cond.any_of) else 1


def _combine_directions(n: int, pairs: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    out: list[int | None] = [None] * n
    for i, d in pairs:
        out[i] = d if out[i] in (None, d) else 0
    return tuple(1 if d is None else d for d in out)


# -------------------------------------------------------------------------------------- parts


class Part(Condition, kw_only=True):
    points: Decimal


class PartsParams(Params):
    # Independent parts, each earning its points when its condition holds; the sum is capped
    # at the criterion's max.  Part k reads input k unless it says `input = n`.
    parts: tuple[Part, ...]


@attrs.frozen
class Parts(RuleBase):
    name = "parts"
    name_vi = "Cộng từng phần"
    formula_vi = "cộng điểm của từng phần có điều kiện được đáp ứng, tổng không quá điểm tối đa"
    description = "independent parts added: each part's points when its condition holds, sum capped at max"
    params_type = PartsParams
    arity = None

    def direction(self, params: PartsParams) -> tuple[int, ...]:
        n = max(_index(p, k + 1) for k, p in enumerate(params.parts)) + 1
        return _combine_directions(n, [(_index(p, k + 1), _condition_direction(p)) for k, p in enumerate(params.parts)])

    def check(self, params: PartsParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        if not params.parts:
            raise ParamsError("at least one part is needed", "parts")
        used = set()
        for k, part in enumerate(params.parts):
            _check_condition(part, k + 1, indicator_types, f"parts[{k}]")
            check_points(part.points, max_points, f"parts[{k}].points")
            used.add(_index(part, k + 1))
        for i in range(len(indicator_types)):
            if i not in used:
                raise ParamsError(f"input {i + 1} is read by no part", "parts")

    def check_indicators(self, params: PartsParams, indicators: Sequence[Any]) -> None:
        for k, part in enumerate(params.parts):
            _check_condition_indicators(part, k + 1, indicators, f"parts[{k}]")

    def points(self, params: PartsParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        if all(v is None for v in inputs):
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            total = ZERO
            for k, part in enumerate(params.parts):
                total += part.points if _test(part, k + 1, inputs, self.name) else ZERO
            return clamp(total, ZERO, max_points)

    def score(self, params: PartsParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        if all(v is None for v in inputs):
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            total = ZERO
            terms = []
            for k, part in enumerate(params.parts):
                ok, text = _holds(part, k + 1, inputs, self.name)
                got = part.points if ok else ZERO
                total += got
                terms.append(f"{text} → {fmt(got)}")
            points = clamp(total, ZERO, max_points)
            cap = f", capped at {fmt(max_points)}" if total > max_points else ""
            return Outcome(points, " + ".join(terms) + f" = {fmt(points)}{cap}")


# ------------------------------------------------------------------------------------ best of


class Case(Condition, kw_only=True):
    points: Decimal


class BestOfParams(Params):
    # Alternative cases: the unit gets the best one that holds (0 when none), plus `base`;
    # the total is capped at the criterion's max.
    cases: tuple[Case, ...]
    base: Decimal = ZERO
    # Optional condition for the base (e.g. "has a server room"); without it the base is given
    # whenever the inputs are present.
    base_when: Condition | None = None


@attrs.frozen
class BestOf(RuleBase):
    name = "best_of"
    name_vi = "Trường hợp tốt nhất"
    formula_vi = "điểm nền + điểm của trường hợp tốt nhất được đáp ứng, không quá điểm tối đa"
    description = "base + the best of alternative cases that hold, capped at max"
    params_type = BestOfParams
    arity = None

    def _conditions(self, params: BestOfParams) -> list[tuple[Condition, str]]:
        out: list[tuple[Condition, str]] = [(c, f"cases[{k}]") for k, c in enumerate(params.cases)]
        if params.base_when is not None:
            out.append((params.base_when, "base_when"))
        return out

    def direction(self, params: BestOfParams) -> tuple[int, ...]:
        conds = [c for c, _ in self._conditions(params)]
        n = max(_index(c, 1) for c in conds) + 1
        return _combine_directions(n, [(_index(c, 1), _condition_direction(c)) for c in conds])

    def check(self, params: BestOfParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        if not params.cases:
            raise ParamsError("at least one case is needed", "cases")
        check_points(params.base, max_points, "base")
        used = set()
        for cond, path in self._conditions(params):
            _check_condition(cond, 1, indicator_types, path)
            used.add(_index(cond, 1))
        for k, case in enumerate(params.cases):
            check_points(case.points, max_points, f"cases[{k}].points")
        for i in range(len(indicator_types)):
            if i not in used:
                raise ParamsError(f"input {i + 1} is read by no case", "cases")

    def check_indicators(self, params: BestOfParams, indicators: Sequence[Any]) -> None:
        for cond, path in self._conditions(params):
            _check_condition_indicators(cond, 1, indicators, path)

    def points(self, params: BestOfParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Decimal:
        """`score(...).points` without the formula (the engine's fast path)."""
        if all(v is None for v in inputs):
            return ZERO
        with decimal.localcontext(DECIMAL_CONTEXT):
            if params.base_when is not None:
                base = params.base if _test(params.base_when, 1, inputs, self.name) else ZERO
            else:
                base = params.base
            best, found = ZERO, False
            for case in params.cases:
                if _test(case, 1, inputs, self.name) and (not found or case.points > best):
                    best, found = case.points, True
            return clamp(base + best, ZERO, max_points)

    def score(self, params: BestOfParams, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        if all(v is None for v in inputs):
            return missing(inputs)
        with decimal.localcontext(DECIMAL_CONTEXT):
            if params.base_when is not None:
                ok, text = _holds(params.base_when, 1, inputs, self.name)
                base = params.base if ok else ZERO
                base_text = f"base ({text}) {fmt(base)}"
            else:
                base = params.base
                base_text = f"base {fmt(base)}"
            best, best_text, found = ZERO, "no case holds → 0", False
            for case in params.cases:
                ok, text = _holds(case, 1, inputs, self.name)
                if ok and (not found or case.points > best):
                    best, best_text, found = case.points, f"best case: {text} → {fmt(case.points)}", True
            total = base + best
            points = clamp(total, ZERO, max_points)
            cap = f", capped at {fmt(max_points)}" if total > max_points else ""
            return Outcome(points, f"{base_text} + {best_text} = {fmt(points)}{cap}")
