"""The methodology model: what an edition declares, decoded by msgspec from its TOML file.

An edition is rules as data (in the manner of OpenFisca): tiers with their scale, components,
criteria that read indicators through a rule kind, the indicator catalogue, the missing-data
policy, rounding, the tie rule and grading bands.  Loading and structural checks live in
`engine.edition`; scoring in `engine.score`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import msgspec

IndicatorType = Literal[
    "count",  # a whole number >= 0 (applications, meetings, staff)
    "ratio",  # 0..1
    "percentage",  # 0..100
    "yes_no",
    "category",  # one of `categories`
    "points",  # points given directly by assessors
    "number",  # any decimal within the declared range (bandwidth, budget)
]

MissingPolicy = Literal[
    "zero",  # the criterion scores 0 and the trace says the input was missing
    "carry_forward",  # the unit's value of the previous year, if any, else zero
    "exclude_unit",  # the unit is left out of the ranking and listed as incomplete
]


class _Model(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class LegalBasis(_Model):
    """The decision an edition implements, or `kind = "reconstruction"` and from what."""

    kind: Literal["decision", "reconstruction"]
    reference: str
    date: dt.date | None = None
    note: str = ""


class Indicator(_Model):
    code: str
    name_vi: str
    name_en: str
    type: IndicatorType
    unit: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    categories: tuple[str, ...] = ()


class Criterion(_Model):
    code: str
    name_vi: str
    name_en: str
    max: Decimal
    rule: str  # a registered rule kind
    indicators: tuple[str, ...] = ()
    params: dict[str, Any] = {}
    evidence: str = ""  # what evidence the regulation asks for
    missing: MissingPolicy | None = None  # overrides the tier's policy


class Component(_Model):
    code: str
    name_vi: str
    name_en: str
    max: Decimal
    criteria: tuple[Criterion, ...]


class GradingBand(_Model):
    """A band applies to totals >= `min_share` x scale (bands listed best first)."""

    name_vi: str
    name_en: str
    min_share: Decimal


class Tier(_Model):
    scale: Decimal
    components: tuple[Component, ...]
    # How component points make the total: "sum" (local indices, out of 100 or 90) or
    # "mean" (the national index is the plain mean of its components, 0..1).
    aggregate: Literal["sum", "mean"] = "sum"
    missing: MissingPolicy = "zero"
    # Rank separately within each value of this unit attribute ("parent_id": communes within
    # their district); None ranks the whole tier together.
    group_by: Literal["parent_id"] | None = None


class Rounding(_Model):
    """Totals are computed from unrounded parts; `decimals` apply to what is published."""

    decimals: int = 2
    mode: Literal["ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN"] = "ROUND_HALF_UP"
    # "publication": only published totals and component points are rounded (default, as
    # provinces do); "criterion": every criterion's points are rounded before summing.
    applies_to: Literal["publication", "criterion"] = "publication"


class TieRule(_Model):
    # "competition": equal totals share a rank and the next is skipped (1, 2, 2, 4).
    # "dense": 1, 2, 2, 3.
    method: Literal["competition", "dense"] = "competition"
    # Compare published (rounded) totals, as the published table does, or unrounded ones.
    compare: Literal["published", "exact"] = "published"


class Methodology(_Model):
    id: str  # "name@year", e.g. "local-ict@2020"
    title: str
    legal_basis: LegalBasis
    indicators: tuple[Indicator, ...]
    tiers: dict[str, Tier]
    rounding: Rounding = Rounding()
    ties: TieRule = TieRule()
    grading: tuple[GradingBand, ...] = ()
    description: str = ""

    @property
    def name(self) -> str:
        return self.id.partition("@")[0]

    @property
    def year(self) -> int:
        return int(self.id.partition("@")[2])
