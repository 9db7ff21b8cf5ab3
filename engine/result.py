"""What the engine hands out, as frozen msgspec structs, and their canonical bytes and hash.

- `Ranking` — one tier's ranking for a year: rows (`RankedUnit`), excluded units and the
  `Provenance` (what produced it: engine, edition and its content hash, plugin, the plugin and
  version of each rule kind, log checkpoint, as-of point — all passed in by the caller).
- `UnitTrace` (= `Explanation`) — one unit's tree from total to components, criteria, inputs and
  the events behind each input (`engine.explain`).
- `canonical_bytes(obj)` — msgspec JSON with sorted keys, decimals as strings, datetimes as
  RFC 3339: byte-identical in every process (the events' own encoder,
  `events.canonical.encode_canonical`, under the name results are known by).
- `result_hash(ranking)` — SHA-256 of the canonical bytes of the *published content* only (year,
  tier, edition id, content hash, and per unit its rank, id, name, group, total, components, plus
  the excluded units).  Provenance that does not change what is published (checkpoint, as-of,
  engine, plugin and rule kind versions) is left out, so re-deriving a publication from the same events and
  edition gives the same hash.
- `compare_rankings(recorded, rederived)` — the first difference (the first unit that differs,
  in the recorded table's order), or None.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import msgspec

from engine.fold import EventRef, LineageStep
from events.canonical import encode_canonical as canonical_bytes
from events.types import Value

__all__ = [
    "HASH_FORMAT",
    "AdoptionTrace",
    "ComponentTrace",
    "CriterionTrace",
    "ExcludedUnit",
    "Explanation",
    "InputTrace",
    "Mismatch",
    "Provenance",
    "RankedUnit",
    "Ranking",
    "UnitTrace",
    "canonical_bytes",
    "compare_rankings",
    "decode_ranking",
    "first_differing_unit",
    "published_content",
    "result_hash",
]

HASH_FORMAT = "ictindex-result/1"


class _Out(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    pass


class Provenance(_Out):
    """What produced a result; filled in by the caller (the engine reads no environment)."""

    engine_version: str
    edition: str  # edition id, e.g. "local-ict@2020"
    content_hash: str  # canonical content hash of the edition
    plugin: str = ""  # distribution that registered the edition
    plugin_version: str = ""
    checkpoint_size: int | None = None  # log size the result was computed from
    checkpoint_root: str | None = None  # Merkle root of that prefix
    as_of: str = ""  # how the as-of point was asked for, e.g. "seq 5120", "published", "now"
    # every rule kind the tier's criteria use → "distribution version" of the plugin that scored
    # with it (e.g. {"ratio": "ictindex 0.1.0"}); outside the published content, like the rest
    rule_kinds: dict[str, str] = {}


class RankedUnit(_Out):
    rank: int
    unit_id: str
    name: str
    parent_id: str | None
    group: str | None  # the group ranked within (tier.group_by), None when the tier ranks whole
    total: Decimal  # published (rounded)
    total_exact: str  # unrounded, plain decimal notation
    band: str | None  # grading band (Vietnamese name), None without bands
    components: dict[str, Decimal]  # component code -> published points


class ExcludedUnit(_Out):
    unit_id: str
    name: str
    reason: str


class Ranking(_Out):
    year: int
    tier: str
    decimals: int
    scale: Decimal
    tie_rule: str  # e.g. "competition/published"
    group_by: str | None
    rows: tuple[RankedUnit, ...]
    excluded: tuple[ExcludedUnit, ...]
    provenance: Provenance

    @property
    def edition(self) -> str:
        return self.provenance.edition

    @property
    def content_hash(self) -> str:
        return self.provenance.content_hash

    def row(self, unit_id: str) -> RankedUnit | None:
        for r in self.rows:
            if r.unit_id == unit_id:
                return r
        return None


# -- explanation -----------------------------------------------------------------------------


class InputTrace(_Out):
    indicator: str
    name_vi: str
    name_en: str
    unit: str  # the indicator's measurement unit
    value: Value | None  # None when missing
    status: str  # "present" | "missing" | "carried"
    from_year: int  # the year the value comes from
    events: tuple[EventRef, ...]  # every event of that (year, unit, indicator), in log order


class CriterionTrace(_Out):
    code: str
    name_vi: str
    name_en: str
    max: Decimal
    rule: str
    formula: str
    points: Decimal  # as added into the component (rounded when applies_to="criterion")
    points_exact: Decimal  # what the rule gave
    peers: dict[str, Decimal]
    missing: str | None  # where a missing-data policy applied, in words
    missing_policy: str | None
    rounded: bool  # points rounded before summing (applies_to="criterion")
    inputs: tuple[InputTrace, ...]
    clamped: str | None = None  # what the rule clamped (a share above 1...), in words


class ComponentTrace(_Out):
    code: str
    name_vi: str
    name_en: str
    max: Decimal
    sum: Decimal  # criteria added, before the cap
    capped: bool
    points_exact: Decimal
    points: Decimal  # published
    criteria: tuple[CriterionTrace, ...]


class AdoptionTrace(_Out):
    """The adoption in force when it replaced another edition (a re-adoption), and why."""

    seq: int
    event_id: str
    edition: str
    actor: str
    recorded_at: dt.datetime
    reason: str
    authority: str = ""


class Explanation(_Out):
    year: int
    tier: str
    unit_id: str
    name: str
    parent_id: str | None
    edition: str
    edition_title: str
    scale: Decimal
    decimals: int
    aggregate: str  # "sum" | "mean"
    rounding_mode: str  # e.g. "ROUND_HALF_UP"
    rounding_applies_to: str  # "publication" | "criterion"
    rank: int | None
    group: str | None
    total: Decimal | None  # published; None when excluded
    total_exact: str | None
    band: str | None
    excluded: str | None  # the reason when the unit was left out of the ranking
    components: tuple[ComponentTrace, ...]
    provenance: Provenance | None = None
    readoption: AdoptionTrace | None = None
    # The unit's renames, merges, splits and retirement (engine.fold.LineageStep); left out of
    # the JSON of a unit that never changed, as it was before units could change.
    lineage: tuple[LineageStep, ...] | msgspec.UnsetType = msgspec.UNSET


UnitTrace = Explanation


# -- canonical bytes, hash, comparison -------------------------------------------------------


def published_content(ranking: Ranking) -> dict[str, Any]:
    """What a publication fixes: the part of a ranking `result_hash` covers."""
    return {
        "format": HASH_FORMAT,
        "year": ranking.year,
        "tier": ranking.tier,
        "edition": ranking.provenance.edition,
        "content_hash": ranking.provenance.content_hash,
        "rows": [
            {
                "rank": r.rank,
                "unit_id": r.unit_id,
                "name": r.name,
                "group": r.group,
                "total": r.total,
                "components": r.components,
            }
            for r in ranking.rows
        ],
        "excluded": [e.unit_id for e in ranking.excluded],
    }


def result_hash(ranking: Ranking) -> str:
    """SHA-256 hex of the canonical bytes of the ranking's published content."""
    return hashlib.sha256(canonical_bytes(published_content(ranking))).hexdigest()


def decode_ranking(data: bytes | str) -> Ranking:
    return msgspec.json.decode(data, type=Ranking)


class Mismatch(_Out):
    """The first difference between a recorded and a re-derived ranking."""

    unit_id: str | None  # None when the difference is not in a unit (year, tier, edition...)
    field: str
    recorded: str | None
    rederived: str | None

    def message(self) -> str:
        where = f"unit {self.unit_id}" if self.unit_id is not None else "ranking"
        return f"{where}: {self.field} was {self.recorded}, re-derived {self.rederived}"


def _s(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict):
        return canonical_bytes(v).decode()
    return str(v)


def compare_rankings(recorded: Ranking, rederived: Ranking) -> Mismatch | None:
    """The first thing that differs in what was published, or None when nothing does.

    Units are compared by id, in the order of the recorded table; then units only the
    re-derived ranking has; then exclusions.
    """
    pr, pd = recorded.provenance, rederived.provenance
    for field, a, b in (
        ("year", recorded.year, rederived.year),
        ("tier", recorded.tier, rederived.tier),
        ("edition", pr.edition, pd.edition),
        ("content_hash", pr.content_hash, pd.content_hash),
    ):
        if a != b:
            return Mismatch(unit_id=None, field=field, recorded=_s(a), rederived=_s(b))
    new = {r.unit_id: r for r in rederived.rows}
    for r in recorded.rows:
        d = new.get(r.unit_id)
        if d is None:
            excluded = {e.unit_id for e in rederived.excluded}
            return Mismatch(unit_id=r.unit_id, field="ranked", recorded="ranked",
                            rederived="excluded" if r.unit_id in excluded else "absent")
        for field in ("rank", "name", "group", "total"):
            a, b = getattr(r, field), getattr(d, field)
            if a != b or (field == "total" and str(a) != str(b)):
                return Mismatch(unit_id=r.unit_id, field=field, recorded=_s(a), rederived=_s(b))
        if r.components != d.components or any(
            str(v) != str(d.components[k]) for k, v in r.components.items()
        ):
            for code in sorted(set(r.components) | set(d.components)):
                a, b = r.components.get(code), d.components.get(code)
                if a != b or str(a) != str(b):
                    return Mismatch(unit_id=r.unit_id, field=f"components.{code}",
                                    recorded=_s(a), rederived=_s(b))
    old = {r.unit_id for r in recorded.rows}
    for d in rederived.rows:
        if d.unit_id not in old:
            return Mismatch(unit_id=d.unit_id, field="ranked", recorded="absent", rederived="ranked")
    a_ex = [e.unit_id for e in recorded.excluded]
    b_ex = [e.unit_id for e in rederived.excluded]
    if a_ex != b_ex:
        for uid in sorted(set(a_ex) ^ set(b_ex)):
            return Mismatch(unit_id=uid, field="excluded",
                            recorded=str(uid in a_ex).lower(), rederived=str(uid in b_ex).lower())
    return None


def first_differing_unit(recorded: Ranking, rederived: Ranking) -> str | None:
    """The id of the first unit that differs (None when none does; see `compare_rankings`)."""
    m = compare_rankings(recorded, rederived)
    return None if m is None else m.unit_id
