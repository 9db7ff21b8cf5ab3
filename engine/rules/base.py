"""What a rule kind is: the contract every scoring rule, built in or from a plugin, fulfils.

A rule kind turns a criterion's inputs into points between 0 and the criterion's maximum and
says, for the explanation, which formula it applied with its numbers filled in.  Rules that
compare a unit with its peers (relative to the best, min-max) first see the whole tier's inputs
through `prepare`; the context they return is plain data, so scores stay exact when one unit's
value changes and the context is recomputed.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Protocol, Sequence, Union

import attrs
import msgspec

# The arithmetic every rule kind uses, set locally (`decimal.localcontext(DECIMAL_CONTEXT)`), never
# the process-wide context: 28 significant digits, and anything inexact-by-accident (invalid
# operations, division by zero, overflow) raises instead of producing NaN or Infinity.
DECIMAL_CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


class ParamsError(ValueError):
    """A rule kind's `check` refuses the criterion's params.

    `path` is where inside `params` the fault is (e.g. ``"steps[1].points"``), or "" for the
    params as a whole; `engine.edition.check_edition` prefixes it with the criterion's path.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


# An input as the rule sees it: exact decimal, yes/no, a category name, or None when missing.
Input = Union[Decimal, bool, str, None]


@attrs.frozen
class Outcome:
    """Points a rule gave (0 <= points <= max) and the formula with its numbers filled in."""

    points: Decimal
    formula: str
    # Peer values the rule used (relative rules), for the trace: e.g. {"best": Decimal("90")}.
    peers: dict[str, Decimal] = attrs.field(factory=dict)
    # When the rule clamped what its formula gave (a share above 1, a mark above the maximum):
    # what it clamped, in words, for the trace; "" when nothing was clamped.  A clamp can hide
    # an input that is impossible (a part above its whole), so the explanation says so.
    clamped: str = ""


class RuleKind(Protocol):
    """A rule kind registered through the `register_rule_kinds` hook."""

    name: str  # what editions write in `rule = "..."`
    description: str
    # The msgspec Struct the criterion's `params` table is converted to (and checked against).
    params_type: type[msgspec.Struct]
    # How many indicators the rule reads: an int, or None for "one or more".
    arity: int | None
    # True when more of each input never gives fewer points (checked by property tests).
    monotone: bool
    # True when `prepare` needs the whole tier (relative to the best, min-max).
    peer: bool

    def check(self, params: Any, max_points: Decimal, indicator_types: Sequence[str]) -> None:
        """Raise ValueError (message without location) when params don't fit the criterion."""

    def prepare(self, params: Any, column: Sequence[Sequence[Input]]) -> Any:
        """The tier-wide context from every ranked unit's inputs (None for non-peer rules)."""

    def score(self, params: Any, max_points: Decimal, inputs: Sequence[Input], context: Any) -> Outcome:
        """Points for one unit; inputs follow the criterion's `indicators` order."""


# Optional methods a rule kind may also have (the built-ins all do; `check_edition` and the
# property tests use them when present):
#
#   check_indicators(params, indicators: Sequence[engine.model.Indicator]) -> None
#       Raise ParamsError when params don't fit the indicators themselves (e.g. a category
#       rule naming a category its indicator does not declare).
#   name_vi: str, formula_vi: str, terms_vi: Mapping[str, str]
#       The rule's name, its formula template and the words of its formulas in Vietnamese, for
#       the site's pages (ictindex.site.render); without them the site shows name/description.
#   direction(params) -> tuple[int, ...]
#       Per input: +1 when more is better, -1 when less is better, 0 when unordered.  A rule
#       kind is monotone when moving any input in its better direction never lowers the points.
