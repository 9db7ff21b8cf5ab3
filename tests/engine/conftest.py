"""Engine test fixtures, and the collector of declarative golden cases (tests/engine/golden).

Golden cases are TOML data files, collected by pytest in the manner of OpenFisca's YAML tests:
each file holds one or more ``[[case]]`` tables (or a single case at the top level)::

    [[case]]
    name = "Đất Đỏ 2020"
    year = 2020
    tier = "district"
    edition = "local-ict@2020"          # a built-in edition (methodologies/*/edition.toml) ...
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

A failing case says which unit, which field, expected and got.
"""

from __future__ import annotations

import sys
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine_testkit import Log, run  # noqa: E402

from engine.model import Methodology  # noqa: E402
from events.types import Choice  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".toml" and file_path.parent.name == "golden" \
            and file_path.parent.parent == Path(__file__).parent:
        return GoldenFile.from_parent(parent, path=file_path)
    return None


class GoldenFile(pytest.File):
    def collect(self):
        with self.path.open("rb") as f:
            data = tomllib.load(f, parse_float=Decimal)  # TOML decimals stay exact
        cases = data.get("case")
        if cases is None:
            cases = [data]
        for i, case in enumerate(cases):
            name = case.get("name") or f"case{i + 1}"
            yield GoldenItem.from_parent(self, name=name, spec=case)


class GoldenMismatch(AssertionError):
    pass


_EDITIONS: dict[str, Methodology] | None = None


def builtin_editions() -> dict[str, Methodology]:
    """Built-in editions by id, loaded from methodologies/*/edition.toml."""
    global _EDITIONS
    if _EDITIONS is None:
        from engine.edition import load_edition

        _EDITIONS = {}
        for path in sorted((ROOT / "methodologies").glob("*/edition.toml")):
            m = load_edition(path)
            _EDITIONS[m.id] = m
    return _EDITIONS


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


class GoldenItem(pytest.Item):
    def __init__(self, *, spec: dict, **kw):
        super().__init__(**kw)
        self.spec = spec

    def edition(self) -> Methodology:
        spec = self.spec
        if "edition_inline" in spec:
            return msgspec.convert(spec["edition_inline"], Methodology, str_keys=True, strict=False)
        editions = builtin_editions()
        eid = spec["edition"]
        if eid not in editions:
            raise GoldenMismatch(f"edition {eid!r} is not built in (built in: {', '.join(sorted(editions))})")
        return editions[eid]

    def runtest(self):
        spec = self.spec
        year, tier = spec["year"], spec["tier"]
        edition = self.edition()
        types = {i.code: i.type for i in edition.indicators}
        log = Log()
        for u in spec.get("units", []):
            log.register(str(u["id"]), u["name"], tier=u.get("tier", tier),
                         parent_id=u.get("parent"), from_year=u.get("from_year"))
        subs: dict[tuple[str, str], str] = {}
        for y, table in ((year - 1, spec.get("previous", {})), (year, spec.get("submissions", {}))):
            for unit, values in table.items():
                for ind, raw in values.items():
                    eid = log.submit(y, str(unit), ind, _value(types.get(ind), raw),
                                     evidence=f"golden {self.name}")
                    if y == year:
                        subs[(str(unit), ind)] = eid
        for c in spec.get("corrections", []):
            key = (str(c["unit"]), c["indicator"])
            cid = log.correct(subs[key], _value(types.get(c["indicator"]), c["value"]),
                              reason=c.get("reason", "golden"))
            if c.get("retracted"):
                log.retract(cid)
        for r in spec.get("retractions", []):
            log.retract(subs[(str(r["unit"]), r["indicator"])])
        scores, ranking = run(log.events, edition, year=year, tier=tier)
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
        if problems:
            raise GoldenMismatch("\n".join(problems))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GoldenMismatch):
            return f"golden case {self.name!r} ({self.path.name}):\n{excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, f"golden: {self.name}"
