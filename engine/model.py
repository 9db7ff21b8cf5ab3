"""The methodology model: what an edition declares, decoded by msgspec from its TOML file.

An edition is rules as data (in the manner of OpenFisca): tiers with their scale, components,
criteria that read indicators through a rule kind, the indicator catalogue, the missing-data
policy, rounding, the tie rule and grading bands.  Loading and structural checks live in
`engine.edition`; scoring in `engine.score`.

`constraints` are different in kind: they say which combinations of values may enter the log
(a part never above its whole), are checked when values are imported, submitted or corrected,
and play no part in scoring, which is why the content hash leaves them out
(`engine.edition.scoring_model`).
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
    # What the sheets people fill in call the values: category value (or `yes` / `no` of a
    # yes_no indicator) -> its Vietnamese label (`chairman = "Chủ tịch"`).  Read on input as
    # the value itself; like `constraints`, outside the content hash (it changes no score).
    labels_vi: dict[str, str] = {}


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


class PartOf(_Model, tag="part_of", tag_field="kind"):
    """`part` ≤ `whole` (dossiers handled online ≤ dossiers received)."""

    part: str
    whole: str


class SumOf(_Model, tag="sum", tag_field="kind"):
    """The `parts` add up to at most `whole` (exactly `whole` with `exact = true`)."""

    parts: tuple[str, ...]
    whole: str
    exact: bool = False


class RequiredIf(_Model, tag="required_if", tag_field="kind"):
    """`indicator` must have a value when the yes/no indicator `when` is yes."""

    indicator: str
    when: str


# A cross-indicator constraint, checked on the values of one unit in one year once all the
# indicators it names have a value (required_if: once `when` has one).
Constraint = PartOf | SumOf | RequiredIf
CONSTRAINT_KINDS = ("part_of", "sum", "required_if")

# What happens to a unit without a single value for the year: "not_ranked" lists it as "no
# data" outside the ranking; "missing_policy" scores it like any unit with missing inputs (the
# tier's or criterion's `missing` policy: zero ranks it at 0, exclude_unit leaves it out as
# incomplete, carry_forward carries last year's values).
NoDataPolicy = Literal["not_ranked", "missing_policy"]


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
    no_data: NoDataPolicy = "not_ranked"
    constraints: tuple[Constraint, ...] = ()

    @property
    def name(self) -> str:
        return self.id.partition("@")[0]

    @property
    def year(self) -> int:
        return int(self.id.partition("@")[2])
