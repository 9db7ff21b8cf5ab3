"""What the built-in rule kinds share: params base struct, exact arithmetic helpers, formatting.

Every computation runs under `DECIMAL_CONTEXT` (28 significant digits), set locally with
`decimal.localcontext`; no rule reads or changes the process-wide decimal context, and no binary
float is ever involved.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, ClassVar, Mapping, Sequence

import msgspec

from engine.rules.base import DECIMAL_CONTEXT, Input, Outcome, ParamsError

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# Indicator types whose values are numbers (engine.model.IndicatorType).
NUMERIC_TYPES = frozenset({"count", "ratio", "percentage", "points", "number"})

# Intermediate numbers with more decimals than this are shown rounded, followed by "…", in
# formulas (the points themselves stay exact).
_SHOWN_DECIMALS = 8


class Params(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every rule kind's params struct: unknown keys are errors."""


class NoParams(Params):
    """A rule kind without parameters."""


def convert_params(rule: Any, params: Mapping[str, Any]) -> Any:
    """A criterion's `params` table as the rule kind's `params_type` (msgspec.ValidationError
    when it does not fit)."""
    return msgspec.convert(dict(params), rule.params_type, str_keys=True)


def fmt(value: Any) -> str:
    """A number, yes/no or category as shown in a formula: plain notation, no trailing zeros."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f"“{value}”"
    with decimal.localcontext(DECIMAL_CONTEXT):
        d = Decimal(value)
        if d == 0:
            return "0"
        d = d.normalize()
        if d.as_tuple().exponent < -_SHOWN_DECIMALS:  # type: ignore[operator]
            shown = d.quantize(Decimal(1).scaleb(-_SHOWN_DECIMALS)).normalize()
            return format(shown, "f") + "…"
        return format(d, "f")


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    if value < low:
        return low
    if value > high:
        return high
    return value


def number(value: Input, rule: str) -> Decimal | None:
    """A numeric input (None when missing); yes/no and categories are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"rule {rule!r} reads numbers, got {value!r}")
    return Decimal(value)


def yes_no(value: Input, rule: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"rule {rule!r} reads yes/no, got {value!r}")


def category(value: Input, rule: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"rule {rule!r} reads a category, got {value!r}")


def missing(inputs: Sequence[Input]) -> Outcome:
    which = ", ".join(f"input {i + 1}" for i, v in enumerate(inputs) if v is None)
    return Outcome(ZERO, f"{which} missing → 0")


def check_points(value: Decimal, max_points: Decimal, path: str) -> None:
    if value < 0 or value > max_points:
        raise ParamsError(f"{fmt(value)} points is outside 0..{fmt(max_points)} (the criterion's max)", path)


def check_types(rule: str, indicator_types: Sequence[str], allowed: frozenset[str] | set[str]) -> None:
    for i, t in enumerate(indicator_types):
        if t not in allowed:
            raise ParamsError(
                f"rule {rule!r} cannot read a {t!r} indicator (input {i + 1}); it reads "
                + ", ".join(sorted(allowed))
            )


class RuleBase:
    """Defaults for the optional parts of the RuleKind protocol (see engine.rules.base)."""

    name: ClassVar[str]
    description: ClassVar[str]
    params_type: ClassVar[type] = NoParams
    arity: ClassVar[int | None] = 1
    monotone: ClassVar[bool] = True
    peer: ClassVar[bool] = False

    def check(self, params: Any, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        return None

    def check_indicators(self, params: Any, indicators: Sequence[Any]) -> None:
        return None

    def prepare(self, params: Any, column: Sequence[Sequence[Input]]) -> Any:
        return None

    def direction(self, params: Any) -> tuple[int, ...]:
        return (1 if self.monotone else 0,) * (self.arity or 1)
