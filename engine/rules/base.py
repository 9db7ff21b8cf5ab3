"""What a rule kind is: the contract every scoring rule, built in or from a plugin, fulfils.

A rule kind turns a criterion's inputs into points between 0 and the criterion's maximum and
says, for the explanation, which formula it applied with its numbers filled in.  Rules that
compare a unit with its peers (relative to the best, min-max) first see the whole tier's inputs
through `prepare`; the context they return is plain data, so scores stay exact when one unit's
value changes and the context is recomputed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, Sequence, Union

import attrs
import msgspec

# An input as the rule sees it: exact decimal, yes/no, a category name, or None when missing.
Input = Union[Decimal, bool, str, None]


@attrs.frozen
class Outcome:
    """Points a rule gave (0 <= points <= max) and the formula with its numbers filled in."""

    points: Decimal
    formula: str
    # Peer values the rule used (relative rules), for the trace: e.g. {"best": Decimal("90")}.
    peers: dict[str, Decimal] = attrs.field(factory=dict)


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
