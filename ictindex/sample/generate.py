"""How the Bà Rịa–Vũng Tàu 2020 sample's illustrative values were made (a developer's tool).

Run `python -m ictindex.sample.generate` to rewrite `units.csv` and `submissions.csv` beside
this file; a test checks that the files shipped are exactly what this produces.

The units are real (statistics-office codes and names, ../shared/domain); the indicator
values are NOT: they are drawn, for each unit, from a reproducible random stream around a
"quality" level, and the leadership-evaluation points (the one criterion an assessment council
gives directly) are then set so that the replay reproduces the six published figures of
Decision 1018/QĐ-UBND exactly, and gives every other unit a total strictly between its tier's
first and last.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

from engine.fold import fold
from engine.score import score_tier
from events.types import Choice, Event, IndicatorSubmitted, MethodologyAdopted, UnitRegistered
from plugins.manager import get_registry
from ictindex.sample import (
    DEPARTMENTS,
    EDITION,
    PUBLISHED,
    SAMPLE_DIR,
    YEAR,
    unit_name,
)

ASSESSOR = "leadership_score"
SEED = 20201018
CENT = Decimal("0.01")


def units_rows(domain: dict) -> list[dict[str, str]]:
    rows = [{"unit_id": uid, "tier": "department", "name": name, "parent_id": ""}
            for uid, name in DEPARTMENTS]
    for d in domain["districts"]:
        rows.append({"unit_id": d["code"], "tier": "district",
                     "name": unit_name(d["type"], d["name"]), "parent_id": ""})
    for d in domain["districts"]:
        for c in d["communes"]:
            rows.append({"unit_id": c["code"], "tier": "commune",
                         "name": unit_name(c["type"], c["name"]), "parent_id": d["code"]})
    return rows


class Stream:
    """The same draws in the same order whatever the quality level, so that tuning is smooth."""

    def __init__(self, seed: str) -> None:
        rng = random.Random(seed)
        self._u = [rng.random() for _ in range(64)]
        self._i = 0

    def u(self) -> float:
        v = self._u[self._i]
        self._i += 1
        return v


def sample_values(q: float, tier: str, s: Stream) -> dict[str, object]:
    """Plausible indicator values of one unit at quality q (0..1)."""

    def share() -> float:  # around q, exactly 1 at q = 1
        return min(1.0, max(0.02, q + (1 - q) * (s.u() - 0.5) * 0.6))

    def yes(bias: float = 0.0) -> bool:
        return s.u() < min(1.0, q + bias)

    def pick(options: list[str]) -> Choice:
        r = s.u()
        return Choice(options[0] if r < q else options[1] if r < min(1.0, q + 0.4) else options[2])

    def d(x: float, places: int = 1) -> Decimal:
        return Decimal(str(round(x, places)))

    size = {"department": (25, 120), "district": (60, 260), "commune": (12, 30)}[tier]
    staff = size[0] + int(s.u() * (size[1] - size[0]))
    computers = staff + int(s.u() * 8)
    docs = 600 + int(s.u() * 5000)
    procedures = 40 + int(s.u() * 200)
    dossiers = 300 + int(s.u() * 15000)
    budget = 150 + int(s.u() * 2500)
    it_staff = min(3, int(q * 3.4 + s.u() * 0.6))
    server_room = yes(0.25)
    v: dict[str, object] = {
        "staff_computer_pct": d(100 * share()),
        "computers_total": Decimal(computers),
        "computers_broadband": Decimal(round(computers * share())),
        "bandwidth_per_staff": d(2 + 38 * share()),
        "specialised_network": yes(0.3),
        "fiber_internet": yes(0.3),
        "server_room": server_room,
        "server_room_standard": pick(["tcvn9250", "basic", "none"]) if server_room else Choice("none"),
        "server_room_ups": server_room and yes(),
        "edocs_sent_total": Decimal(docs),
        "edocs_sent_electronic": Decimal(round(docs * share())),
        "digital_signature_pct": d(100 * share()),
        "official_email_ratio": d(share(), 2),
        "wan_applications": Decimal(round(5 * share())),
        "online_meetings": Decimal(round(14 * share())),
        "procedures_total": Decimal(procedures),
        "procedures_level34": Decimal(round(procedures * share())),
        "dossiers_total": Decimal(dossiers),
        "dossiers_online": Decimal(round(dossiers * share())),
        "national_portal": yes(0.3),
        "online_payment": yes(),
        "ontime_ratio": d(0.85 + 0.15 * share(), 3),
        "portal_required_items": Decimal(round(8 * share())),
        "portal_updates_per_month": d(24 * share()),
        "portal_mobile": yes(0.2),
        "portal_english": yes(),
        "portal_qa": yes(0.2),
        "security_policy": yes(0.3),
        "computers_antivirus": Decimal(round(computers * share())),
        "security_classification": pick(["approved", "submitted", "none"]),
        "security_incidents": Decimal(0 if yes(0.35) else 1 + int(s.u() * 2)),
        "it_staff": Decimal(it_staff),
        "it_staff_degree": Decimal(round(it_staff * share())),
        "staff_it_trained_pct": d(100 * share()),
        "it_plan": yes(0.4),
        "steering_head": pick(["chairman", "deputy", "none"]),
        "steering_meetings": Decimal(round(4 * share())),
        "it_budget_allocated": Decimal(budget),
        "it_budget_spent": Decimal(round(budget * share())),
        "leader_attends_sessions": yes(0.3),
        "leader_chairs_meetings": yes(0.2),
    }
    return v


def _targets(tier: str, units: list[str], rng: random.Random) -> dict[str, Decimal]:
    first_id, first, last_id, last = PUBLISHED[tier]
    out = {first_id: Decimal(first), last_id: Decimal(last)}
    lo, hi = Decimal(last) + Decimal("0.6"), Decimal(first) - Decimal("0.6")
    for uid in units:
        if uid not in out:
            out[uid] = (lo + (hi - lo) * Decimal(rng.random())).quantize(CENT)
    return out


def _score(tier: str, values: dict[str, dict[str, object]], registry, edition) -> dict[str, Decimal]:
    """Each unit's exact total without the assessor points."""
    events = [Event(seq=1, event_id="a", recorded_at=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc),
                    actor="generate", prev_hash="0" * 64,
                    payload=MethodologyAdopted(year=YEAR, tier=tier, edition=EDITION,
                                               content_hash="-"))]
    seq = 1
    for uid in values:
        seq += 1
        events.append(Event(seq=seq, event_id=f"u{seq}", recorded_at=events[0].recorded_at,
                            actor="generate", prev_hash="0" * 64,
                            payload=UnitRegistered(unit_id=uid, tier=tier, name=uid)))
    for uid, vals in values.items():
        for code, value in vals.items():
            if code == ASSESSOR:
                continue
            seq += 1
            events.append(Event(seq=seq, event_id=f"s{seq}", recorded_at=events[0].recorded_at,
                                actor="generate", prev_hash="0" * 64,
                                payload=IndicatorSubmitted(year=YEAR, unit_id=uid, indicator=code,
                                                           value=value)))
    scores = score_tier(fold(events).year_state(YEAR), tier, edition, registry.rules)
    return {uid: s.total for uid, s in scores.units.items()}


def tune(tier: str, units: list[str], registry, progress: Callable[[str], None] = lambda m: None
         ) -> dict[str, dict[str, object]]:
    """Values for every unit of a tier, with assessor points that hit the targets."""
    edition = registry.methodology(EDITION)
    used = {code for c in edition.tiers[tier].components for cr in c.criteria for code in cr.indicators}
    rng = random.Random(f"{SEED}/{tier}")
    targets = _targets(tier, units, rng)
    quality = {uid: 0.5 for uid in units}
    leadership = {uid: Decimal(rng.randint(70, 95)) / 10 for uid in units}

    def values_at(q: dict[str, float]) -> dict[str, dict[str, object]]:
        return {uid: {k: v for k, v in sample_values(q[uid], tier, Stream(f"{SEED}/{uid}")).items()
                      if k in used} for uid in units}

    # Peer rules tie units together, so adjust every unit's quality a few rounds (bisection
    # on each unit's own quality, the others held).
    lo = {uid: 0.0 for uid in units}
    hi = {uid: 1.0 for uid in units}
    for _ in range(18):
        quality = {uid: (lo[uid] + hi[uid]) / 2 for uid in units}
        rest = _score(tier, values_at(quality), registry, edition)
        for uid in units:
            if rest[uid] < targets[uid] - leadership[uid]:
                lo[uid] = quality[uid]
            else:
                hi[uid] = quality[uid]
    # Take the upper bound (rest >= target - 10 is what the assessor range needs).
    quality = {uid: hi[uid] for uid in units}
    values = values_at(quality)
    rest = _score(tier, values, registry, edition)
    for uid in units:
        points = (targets[uid] - rest[uid]).quantize(CENT, rounding=ROUND_HALF_UP)
        if (rest[uid] + points).quantize(CENT, rounding=ROUND_HALF_UP) != targets[uid]:
            points -= CENT
        if not Decimal(0) <= points <= Decimal(10):
            raise SystemExit(f"{uid}: cannot reach {targets[uid]} (rest {rest[uid]}); adjust the recipe")
        values[uid][ASSESSOR] = points
        progress(f"{tier} {uid}: target {targets[uid]} quality {quality[uid]:.3f} leadership {points}")
    return values


def sample_cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Choice):
        return value.choice
    return format(value, "f")


def submissions_csv(units: list[dict[str, str]], registry) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["year", "unit_id", "indicator", "value", "evidence", "note"])
    for tier in ("department", "district", "commune"):
        ids = [u["unit_id"] for u in units if u["tier"] == tier]
        values = tune(tier, ids, registry)
        for n, uid in enumerate(ids, start=1):
            report = f"Báo cáo số {10 + n}/BC-{uid} ngày {5 + n % 20:02d}/01/2021"
            council = "Biên bản chấm điểm của Hội đồng đánh giá ngày 10/03/2021"
            for code in sorted(values[uid]):
                w.writerow([YEAR, uid, code, sample_cell(values[uid][code]),
                            council if code == ASSESSOR else report, ""])
    return out.getvalue()


def units_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, ["unit_id", "tier", "name", "parent_id"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def generate(domain_file: Path) -> tuple[str, str]:
    domain = json.loads(domain_file.read_text(encoding="utf-8"))
    units = units_rows(domain)
    return units_csv(units), submissions_csv(units, get_registry())


if __name__ == "__main__":
    import sys

    domain_file = Path(sys.argv[1] if len(sys.argv) > 1 else
                       Path(__file__).resolve().parents[3] / "shared/domain/brvt_units_2020.json")
    units_text, submissions_text = generate(domain_file)
    (SAMPLE_DIR / "units.csv").write_text(units_text, encoding="utf-8")
    (SAMPLE_DIR / "submissions.csv").write_text(submissions_text, encoding="utf-8")
    print(f"wrote {SAMPLE_DIR / 'units.csv'} and {SAMPLE_DIR / 'submissions.csv'}")
