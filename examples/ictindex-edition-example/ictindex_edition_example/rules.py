"""A custom rule kind: points in proportion to a target, `min(value ÷ target, 1) × max`.

A rule kind is any object with name, description, params_type (a msgspec Struct), arity,
monotone, peer and the methods check, prepare, score (see engine.rules.base.RuleKind).  It must
use exact decimals (no floats) under a local decimal context, keep 0 <= points <= max and say
which formula it applied with its numbers filled in.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Sequence

import attrs
import msgspec

from engine.rules.base import DECIMAL_CONTEXT, Outcome, ParamsError
from engine.rules.common import fmt


class TargetShareParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    target: Decimal  # the value that earns full points


@attrs.frozen
class TargetShare:
    name = "target_share"
    description = "min(value ÷ target, 1) × max: points in proportion to a target set by the province"
    params_type = TargetShareParams
    arity = 1
    monotone = True
    peer = False

    def check(self, params: TargetShareParams, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        if indicator_types[0] not in ("count", "number"):
            raise ParamsError(f"target_share reads a count or a number, not {indicator_types[0]!r}")
        if params.target <= 0:
            raise ParamsError("the target must be above 0", "target")

    def prepare(self, params: Any, column: Any) -> None:
        return None

    def score(self, params: TargetShareParams, max_points: Decimal, inputs: Sequence[Any], context: Any) -> Outcome:
        value = inputs[0]
        if value is None:
            return Outcome(Decimal(0), "input missing → 0")
        with decimal.localcontext(DECIMAL_CONTEXT):
            share = min(max(value / params.target, Decimal(0)), Decimal(1))
            points = share * max_points
            return Outcome(points, f"min({fmt(value)} ÷ {fmt(params.target)}, 1) × {fmt(max_points)} = {fmt(points)}")
