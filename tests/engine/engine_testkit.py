"""Building blocks for the engine tests: an in-memory log builder, a small edition, and the
pipeline fold → score → rank in one call.  Also imported by the determinism subprocess."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Sequence

from engine.fold import fold
from engine.model import (
    Component,
    Criterion,
    GradingBand,
    Indicator,
    LegalBasis,
    Methodology,
    Rounding,
    Tier,
    TieRule,
)
from engine.rank import rank_tier
from engine.rerank import rank_incrementally
from engine.result import Provenance, Ranking
from engine.rules import builtin_rule_kinds
from engine.score import TierScores, score_tier
from events.types import (
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    RankingPublished,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
D = Decimal
RULES = builtin_rule_kinds()


def value_of(v: Any) -> Any:
    """Test shorthand: "0.5" → Decimal, 3 → Decimal, True → True, {"choice": x} → Choice."""
    if isinstance(v, bool) or isinstance(v, (Decimal, Choice)):
        return v
    if isinstance(v, dict):
        return Choice(v["choice"])
    if isinstance(v, float):
        raise TypeError("write decimals as strings, not floats")
    return Decimal(str(v))


class Log:
    """Events built in memory, seq from 1, event ids given or numbered."""

    def __init__(self, actor: str = "sotttt") -> None:
        self.events: list[Event] = []
        self.actor = actor
        self._keys: dict[str, tuple[int, str, str]] = {}

    def add(self, payload, *, actor: str | None = None, event_id: str | None = None,
            at: dt.datetime | None = None) -> str:
        seq = len(self.events) + 1
        eid = event_id or f"ev-{seq:06d}"
        self.events.append(Event(
            seq=seq,
            event_id=eid,
            recorded_at=at or (T0 + dt.timedelta(minutes=seq)),
            actor=actor or self.actor,
            payload=payload,
            prev_hash="0" * 64,
        ))
        return eid

    def register(self, unit_id: str, name: str, tier: str = "district", parent_id: str | None = None,
                 from_year: int | None = None, **kw) -> str:
        return self.add(UnitRegistered(unit_id=unit_id, tier=tier, name=name, parent_id=parent_id,
                                       from_year=from_year), **kw)

    def rename(self, unit_id: str, name: str, from_year: int, **kw) -> str:
        return self.add(UnitRenamed(unit_id=unit_id, name=name, from_year=from_year), **kw)

    def retire(self, unit_id: str, last_year: int, merged_into: str | None = None, **kw) -> str:
        return self.add(UnitRetired(unit_id=unit_id, last_year=last_year, merged_into=merged_into,
                                    reason="merged" if merged_into else "abolished"), **kw)

    def submit(self, year: int, unit_id: str, indicator: str, value, evidence: str = "",
               note: str = "", **kw) -> str:
        eid = self.add(IndicatorSubmitted(year=year, unit_id=unit_id, indicator=indicator,
                                          value=value_of(value), evidence=evidence, note=note), **kw)
        self._keys[eid] = (year, unit_id, indicator)
        return eid

    def submit_all(self, year: int, unit_id: str, values: dict[str, Any], **kw) -> dict[str, str]:
        return {ind: self.submit(year, unit_id, ind, v, **kw) for ind, v in values.items()}

    def correct(self, target: str, value, reason: str = "kiểm tra lại", authority: str = "",
                **kw) -> str:
        year, unit, ind = self._keys[target]
        eid = self.add(IndicatorCorrected(corrects=target, year=year, unit_id=unit, indicator=ind,
                                          value=value_of(value), reason=reason,
                                          authority=authority), **kw)
        self._keys[eid] = (year, unit, ind)
        return eid

    def retract(self, target: str, reason: str = "rút lại", **kw) -> str:
        year, unit, ind = self._keys[target]
        eid = self.add(IndicatorRetracted(retracts=target, year=year, unit_id=unit, indicator=ind,
                                          reason=reason), **kw)
        self._keys[eid] = (year, unit, ind)
        return eid

    def adopt(self, year: int, tier: str, edition: str, content_hash: str = "h", **kw) -> str:
        return self.add(MethodologyAdopted(year=year, tier=tier, edition=edition,
                                           content_hash=content_hash), **kw)

    def publish(self, year: int, tier: str, result_hash: str = "r", **kw) -> str:
        return self.add(RankingPublished(year=year, tier=tier, edition="e", content_hash="h",
                                         checkpoint_size=len(self.events), checkpoint_root="",
                                         result_hash=result_hash, decision="QĐ 1/2021"), **kw)


# -- a small edition exercising peer and non-peer rules, caps, categories ----------------------

INDICATORS = (
    Indicator(code="pc", name_vi="Tỷ lệ cán bộ có máy tính", name_en="Share with a computer",
              type="ratio", min=D(0), max=D(1)),
    Indicator(code="bw", name_vi="Băng thông bình quân", name_en="Bandwidth per staff",
              type="number", unit="Mbps", min=D(0)),
    Indicator(code="net", name_vi="Kết nối mạng chuyên dùng", name_en="On the dedicated network",
              type="yes_no"),
    Indicator(code="head", name_vi="Trưởng ban chỉ đạo", name_en="Head of the steering committee",
              type="category", categories=("chairman", "deputy", "none")),
    Indicator(code="lead", name_vi="Điểm của hội đồng", name_en="Council's mark", type="points",
              min=D(0), max=D(5)),
)


def mini_edition(*, policy: str = "zero", aggregate: str = "sum", applies_to: str = "publication",
                 mode: str = "ROUND_HALF_UP", method: str = "competition",
                 compare: str = "published", group_by: str | None = None, decimals: int = 2,
                 edition_id: str = "mini@2020", tier: str = "district",
                 criterion_policy: dict[str, str] | None = None,
                 no_data: str = "not_ranked") -> Methodology:
    cp = criterion_policy or {}

    def crit(code, name, mx, rule, inds, params=None):
        return Criterion(code=code, name_vi=name, name_en=code, max=D(mx), rule=rule,
                         indicators=inds, params=params or {}, missing=cp.get(code))

    components = (
        Component(code="HT", name_vi="Hạ tầng kỹ thuật", name_en="Technical infrastructure",
                  max=D(10), criteria=(
                      crit("HT1", "Máy tính", "6", "ratio", ("pc",)),
                      crit("HT2", "Băng thông", "5", "relative_to_best", ("bw",)),
                  )),
        Component(code="UD", name_vi="Ứng dụng nội bộ", name_en="Internal applications",
                  max=D(4), criteria=(
                      crit("UD1", "Mạng chuyên dùng", "2", "yes_no", ("net",)),
                      crit("UD2", "Ban chỉ đạo", "2", "category", ("head",),
                           {"shares": {"chairman": "1", "deputy": "0.5"}}),
                      crit("UD3", "Băng thông so với tỉnh", "1", "min_max", ("bw",)),
                  )),
        Component(code="LD", name_vi="Đánh giá lãnh đạo", name_en="Leadership evaluation",
                  max=D(5), criteria=(crit("LD1", "Hội đồng chấm", "5", "assessor", ("lead",)),)),
    )
    scale = D(19) if aggregate == "sum" else D(10)
    return Methodology(
        id=edition_id,
        title="Bộ chỉ số thử nghiệm",
        legal_basis=LegalBasis(kind="reconstruction", reference="test"),
        indicators=INDICATORS,
        tiers={tier: Tier(scale=scale, components=components, aggregate=aggregate, missing=policy,
                          group_by=group_by)},
        rounding=Rounding(decimals=decimals, mode=mode, applies_to=applies_to),
        ties=TieRule(method=method, compare=compare),
        no_data=no_data,
        grading=(
            GradingBand(name_vi="Tốt", name_en="Good", min_share=D("0.9")),
            GradingBand(name_vi="Khá", name_en="Fair", min_share=D("0.7")),
            GradingBand(name_vi="Trung bình", name_en="Average", min_share=D("0.5")),
            GradingBand(name_vi="Yếu", name_en="Weak", min_share=D("0")),
        ),
    )


def provenance(edition: Methodology, **kw) -> Provenance:
    base = dict(engine_version="test", edition=edition.id, content_hash="c0ffee")
    base.update(kw)
    return Provenance(**base)


def run(events: Iterable[Event], edition: Methodology, *, year: int = 2020, tier: str = "district",
        as_of_seq: int | None = None, prov: Provenance | None = None,
        rules=None) -> tuple[TierScores, Ranking]:
    state = fold(events, as_of_seq=as_of_seq)
    ys = state.year_state(year)
    prev = state.year_state(year - 1)
    scores = score_tier(ys, tier, edition, rules or RULES, previous=prev)
    return scores, rank_tier(scores, prov or provenance(edition))


# -- abstract logs for property tests: ops with labels, turned into events in any order --------

def build(ops: Sequence[tuple], *, units: Sequence[tuple[str, str]] = (),
          tier: str = "district") -> list[Event]:
    """ops: ("sub", label, year, unit, indicator, value) | ("cor", label, target, value)
    | ("ret", label, target).  Labels become event ids."""
    log = Log()
    for uid, name in units:
        log.register(uid, name, tier=tier)
    keys: dict[str, tuple[int, str, str]] = {}
    for op in ops:
        if op[0] == "sub":
            _, label, year, unit, ind, value = op
            log.submit(year, unit, ind, value, evidence=f"BC-{label}", event_id=label)
        elif op[0] == "cor":
            _, label, target, value = op
            log.correct(target, value, event_id=label)
        else:
            _, label, target = op
            log.retract(target, event_id=label)
    del keys
    return log.events


def rank_tier_quick(scores, provenance, *, reuse=None):
    """`rank_tier` as the projections rank: from an earlier ranking (`reuse`) through
    `engine.rerank.rank_incrementally`, which moves the rescored units when it can."""
    if reuse is None:
        return rank_tier(scores, provenance)
    return rank_incrementally(scores, provenance, reuse)
