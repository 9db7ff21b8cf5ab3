"""Golden cases for editions: expected rankings written as TOML data, run by pytest.

In the manner of OpenFisca's YAML tests, shipped with the tool so that an edition package tests
its own figures the same way the built-in editions do.  In the package's `conftest.py`:

    from methodologies.testing import golden_collector

    pytest_collect_file = golden_collector(Path(__file__).parent / "golden")

and `pytest` runs every case of every `*.toml` file in that folder (a relative folder is taken
from the current directory).  Editions named by `edition` are looked up among the installed
ones (`ictindex plugins`), so the package's own editions are found once it is installed.

A file holds one or more ``[[case]]`` tables (or a single case at the top level)::

    [[case]]
    name = "Đất Đỏ 2020"
    year = 2020
    tier = "district"
    edition = "local-ict@2020"          # an installed edition (built in or from a package) ...
    # ... or an inline mini-edition: [case.edition_inline] with the Methodology's fields

    [[case.units]]                      # unit set (tier defaults to the case's tier)
    id = "754"
    name = "UBND huyện Đất Đỏ"
    parent = "77"

    [case.submissions.754]              # unit → indicator → value, in the case's year
    staff_computer_pct = 96.5           # numbers (read as exact decimals) or strings; true/false;
    head = "chairman"                   # a category (or {choice = "..."})

    [case.previous.754]                 # optional: values of the year before (carry_forward)

    [[case.corrections]]                # optional, after the submissions, in this order
    unit = "754"
    indicator = "staff_computer_pct"
    value = "98"
    reason = "..."
    retracted = false                   # true: a retraction of this correction follows

    [[case.retractions]]                # optional: retract the submission of (unit, indicator)
    unit = "754"
    indicator = "portal_exists"

    [case.expected.754]                 # published points per component, total, rank
    rank = 1
    total = "84.03"
    band = "Khá"                        # optional
    components = { HT = "12.50" }       # the components listed are checked
    criteria = { HT1 = "4.80" }         # optional: criterion points, rounded to the digits given
    # or: excluded = true

A failing case says which unit, which field, expected and got.  `run_case` runs one case
without pytest (it returns the problems, empty when the case holds).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

import msgspec
import pytest

from engine.fold import fold
from engine.model import Methodology
from engine.rank import rank_tier
from engine.result import Provenance
from engine.score import score_tier
from events.types import (
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    UnitRegistered,
)

_T0 = dt.datetime(2021, 3, 1, 8, 0, tzinfo=dt.timezone.utc)


class GoldenMismatch(AssertionError):
    """A case whose ranking is not the expected one (the message lists every difference)."""


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    """The cases of one TOML file, decimals exact."""
    with Path(path).open("rb") as f:
        data = tomllib.load(f, parse_float=Decimal)
    cases = data.get("case")
    return list(cases) if cases is not None else [data]


def installed_editions() -> dict[str, Methodology]:
    """The editions of the installed plugins (built-in and packages), by id."""
    from plugins.manager import get_registry

    return {eid: entry.methodology for eid, entry in get_registry().editions.items()}


def _installed_rules() -> Mapping[str, Any]:
    from plugins.manager import get_registry

    return get_registry().rules


def _value(indicator_type: str | None, raw: Any) -> Any:
    if isinstance(raw, dict):
        return Choice(raw["choice"])
    if indicator_type == "category" and isinstance(raw, str):
        return Choice(raw)
    if isinstance(raw, bool):
        return raw
    return Decimal(str(raw))


def _rounded_like(actual: Decimal, expected: str) -> Decimal:
    places = len(expected.partition(".")[2])
    return actual.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class _Log:
    """The case's events, numbered from 1 (a fold needs nothing else of a log)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._cells: dict[str, tuple[int, str, str]] = {}  # event id -> (year, unit, indicator)

    def add(self, payload: Any) -> str:
        seq = len(self.events) + 1
        eid = f"ev-{seq:06d}"
        self.events.append(Event(seq=seq, event_id=eid, recorded_at=_T0 + dt.timedelta(minutes=seq),
                                 actor="golden", payload=payload, prev_hash="0" * 64))
        cell = getattr(payload, "indicator", None)
        if cell is not None:
            self._cells[eid] = (payload.year, payload.unit_id, cell)
        return eid

    def cell(self, eid: str) -> tuple[int, str, str]:
        return self._cells[eid]


def edition_of(spec: Mapping[str, Any], editions: Mapping[str, Methodology]) -> Methodology:
    if "edition_inline" in spec:
        return msgspec.convert(spec["edition_inline"], Methodology, str_keys=True, strict=False)
    eid = spec["edition"]
    if eid not in editions:
        raise GoldenMismatch(f"edition {eid!r} is not installed (installed: "
                             f"{', '.join(sorted(editions))})")
    return editions[eid]


def run_case(spec: Mapping[str, Any], *, editions: Mapping[str, Methodology] | None = None,
             rules: Mapping[str, Any] | None = None, name: str = "") -> list[str]:
    """Fold, score and rank the case's events; the differences from `expected`, one a line."""
    year, tier = spec["year"], spec["tier"]
    edition = edition_of(spec, editions if editions is not None else installed_editions())
    types = {i.code: i.type for i in edition.indicators}
    log = _Log()
    for u in spec.get("units", []):
        log.add(UnitRegistered(unit_id=str(u["id"]), tier=u.get("tier", tier), name=u["name"],
                               parent_id=u.get("parent"), from_year=u.get("from_year")))
    subs: dict[tuple[str, str], str] = {}
    for y, table in ((year - 1, spec.get("previous", {})), (year, spec.get("submissions", {}))):
        for unit, values in table.items():
            for ind, raw in values.items():
                eid = log.add(IndicatorSubmitted(year=y, unit_id=str(unit), indicator=ind,
                                                 value=_value(types.get(ind), raw),
                                                 evidence=f"golden {name}"))
                if y == year:
                    subs[(str(unit), ind)] = eid

    def retract(target: str) -> None:
        y, unit, ind = log.cell(target)
        log.add(IndicatorRetracted(retracts=target, year=y, unit_id=unit, indicator=ind,
                                   reason="rút lại"))

    for c in spec.get("corrections", []):
        target = subs[(str(c["unit"]), c["indicator"])]
        y, unit, ind = log.cell(target)
        cid = log.add(IndicatorCorrected(corrects=target, year=y, unit_id=unit, indicator=ind,
                                         value=_value(types.get(ind), c["value"]),
                                         reason=c.get("reason", "golden"), authority=""))
        if c.get("retracted"):
            retract(cid)
    for r in spec.get("retractions", []):
        retract(subs[(str(r["unit"]), r["indicator"])])

    state = fold(log.events)
    scores = score_tier(state.year_state(year), tier, edition,
                        rules if rules is not None else _installed_rules(),
                        previous=state.year_state(year - 1))
    ranking = rank_tier(scores, Provenance(engine_version="golden", edition=edition.id,
                                           content_hash="golden"))
    rows = {r.unit_id: r for r in ranking.rows}
    problems = []
    for unit, exp in spec.get("expected", {}).items():
        unit = str(unit)
        if exp.get("excluded"):
            if unit not in scores.excluded:
                problems.append(f"{unit}: expected excluded, but it was ranked")
            continue
        row = rows.get(unit)
        if row is None:
            why = scores.excluded[unit].reason if unit in scores.excluded else "not in the tier"
            problems.append(f"{unit}: not ranked ({why})")
            continue
        if "rank" in exp and row.rank != exp["rank"]:
            problems.append(f"{unit}: rank expected {exp['rank']}, got {row.rank}")
        if "total" in exp and str(row.total) != str(exp["total"]):
            problems.append(f"{unit}: total expected {exp['total']}, got {row.total} (exact {row.total_exact})")
        if "band" in exp and row.band != exp["band"]:
            problems.append(f"{unit}: band expected {exp['band']}, got {row.band}")
        for code, want in exp.get("components", {}).items():
            got = row.components.get(code)
            if got is None or str(got) != str(want):
                problems.append(f"{unit}: component {code} expected {want}, got {got}")
        if exp.get("criteria"):
            u = scores.units[unit]
            by_code = {s.criterion.code: u.points[s.index] for s in scores.criteria}
            for code, want in exp["criteria"].items():
                got = by_code.get(code)
                if got is None or _rounded_like(got, str(want)) != Decimal(str(want)):
                    problems.append(f"{unit}: criterion {code} expected {want}, got {got}")
    return problems


class GoldenFile(pytest.File):
    def collect(self):
        for i, case in enumerate(load_cases(self.path)):
            yield GoldenItem.from_parent(self, name=case.get("name") or f"case{i + 1}", spec=case)


class GoldenItem(pytest.Item):
    def __init__(self, *, spec: dict, **kw):
        super().__init__(**kw)
        self.spec = spec

    def runtest(self):
        problems = run_case(self.spec, name=self.name)
        if problems:
            raise GoldenMismatch("\n".join(problems))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GoldenMismatch):
            return f"golden case {self.name!r} ({self.path.name}):\n{excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, f"golden: {self.name}"


def golden_collector(folder: str | Path) -> Callable[..., GoldenFile | None]:
    """A `pytest_collect_file` hook that collects every `*.toml` file of `folder` as cases."""
    where = Path(folder).resolve()

    def pytest_collect_file(parent, file_path: Path):
        if file_path.suffix == ".toml" and file_path.parent.resolve() == where:
            return GoldenFile.from_parent(parent, path=file_path)
        return None

    return pytest_collect_file


__all__ = ["GoldenFile", "GoldenItem", "GoldenMismatch", "golden_collector", "installed_editions",
           "load_cases", "run_case"]
