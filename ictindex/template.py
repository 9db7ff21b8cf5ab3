"""The sheet an officer sends to the units: one row per unit × indicator, to fill in and import.

`ictindex template --year Y --tier T FILE.xlsx|csv` writes it for the edition adopted for that
year and tier: Vietnamese headers (`events.tables.SUBMISSION_HEADERS_VI`, which the importer
reads as `year, unit_id, indicator, value, evidence, note`), the unit's and indicator's names,
the unit of measure and the allowed values or range (informational columns the importer reads
past), and an empty value column.  In XLSX the value cells carry Excel data validation: a
drop-down of the allowed values for yes/no and category indicators (the edition's Vietnamese
labels, which the importer reads as the values), a decimal or whole number within the range
for numbers.  The same log gives the same bytes (the workbook carries no save time).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from engine.model import Indicator
from engine.text import plain
from engine.values import allowed_values, range_text, value_range
from events.tables import (ALLOWED_VI, INDICATOR_NAME_VI, MEASURE_VI, SUBMISSION_HEADERS_VI,
                           UNIT_NAME_VI)
from ictindex import output
from ictindex.atomic import write_atomic
from ictindex.errors import UsageError

if TYPE_CHECKING:
    from ictindex.app import Ictindex

SHEET = "Mẫu nhập liệu"
HEADERS = [SUBMISSION_HEADERS_VI["year"], SUBMISSION_HEADERS_VI["unit_id"], UNIT_NAME_VI,
           SUBMISSION_HEADERS_VI["indicator"], INDICATOR_NAME_VI, MEASURE_VI, ALLOWED_VI,
           SUBMISSION_HEADERS_VI["value"], SUBMISSION_HEADERS_VI["evidence"],
           SUBMISSION_HEADERS_VI["note"]]
VALUE_COLUMN = HEADERS.index(SUBMISSION_HEADERS_VI["value"]) + 1  # 1-based, as Excel counts
WIDTHS = [7, 14, 30, 26, 50, 12, 28, 14, 30, 30]
# What Excel accepts in a drop-down written into the rule itself (no list may hold a comma).
MAX_LIST_FORMULA = 255


@attrs.frozen
class Template:
    path: Path
    format: str
    edition: str
    units: int
    indicators: int

    @property
    def rows(self) -> int:
        return self.units * self.indicators


def template_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".xlsx", ".csv"):
        return suffix[1:]
    raise UsageError(f"{path}: a template is written as .xlsx or .csv, not {suffix or 'a file without an extension'}")


def allowed_text(indicator: Indicator) -> str:
    """The allowed-values cell: the values to choose from, or the range of a number."""
    words = allowed_values(indicator)
    if words:
        return "; ".join(words)
    text = range_text(indicator)
    if indicator.type == "count":
        return f"số nguyên {text}"  # a whole number
    return text


def write_template(app: "Ictindex", year: int, tier: str, out: str | Path) -> Template:
    """Write the template of `tier` in `year` to `out` (.xlsx or .csv), atomically."""
    fmt = template_format(out)
    state = app.state(year=year)
    ys = state.year_state(year)
    adopted = ys.adoption(tier)
    if adopted is None:
        raise UsageError(f"no methodology adopted for {year} {tier}: adopt one first "
                         f"(`ictindex adopt EDITION --year {year} --tier {tier}`)")
    methodology = app.registry.edition(adopted.edition).methodology
    if tier not in methodology.tiers:
        raise UsageError(f"{methodology.id} has no {tier} tier")
    units = ys.tier_units(tier)
    if not units:
        raise UsageError(f"no {tier} unit exists in {year}: register the units first "
                         "(`ictindex units import FILE`)")
    catalogue = {i.code: i for i in methodology.indicators}
    codes = list(dict.fromkeys(code for comp in methodology.tiers[tier].components
                               for cr in comp.criteria for code in cr.indicators))
    indicators = [catalogue[c] for c in codes]
    rows = [(year, u.unit_id, u.name, i.code, i.name_vi, i.unit, allowed_text(i), None, "", "")
            for u in units for i in indicators]
    if fmt == "csv":
        write_atomic(out, b"\xef\xbb\xbf" + output.to_csv(HEADERS, rows).encode("utf-8"))
    else:
        write_atomic(out, _xlsx(rows, indicators, len(units), f"{year} {tier} — {methodology.id}"))
    return Template(Path(out), fmt, methodology.id, len(units), len(indicators))


def _xlsx(rows: list[tuple], indicators: list[Indicator], units: int, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from ictindex.export import reproducible_xlsx

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE7F0")
    for col, h in enumerate(HEADERS, start=1):
        c = ws.cell(row=1, column=col)
        _set_text(c, h)
        c.font = bold
        c.fill = head_fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS[col - 1]
    for r, row in enumerate(rows, start=2):
        ws.cell(row=r, column=1).value = row[0]
        for col, v in enumerate(row[1:], start=2):
            if v:
                _set_text(ws.cell(row=r, column=col), v)
    # One validation per indicator, over its value cell in every unit's block of rows.
    n = len(indicators)
    for j, indicator in enumerate(indicators):
        validation = _validation(indicator)
        if validation is None:
            continue
        for k in range(units):
            validation.add(ws.cell(row=2 + k * n + j, column=VALUE_COLUMN))
        ws.add_data_validation(validation)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(rows) + 1}"
    wb.properties.title = f"Mẫu nhập liệu {title}"
    wb.properties.creator = "ictindex"
    return reproducible_xlsx(wb)


def _validation(indicator: Indicator) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    words = allowed_values(indicator)
    common = dict(allow_blank=True, showErrorMessage=True, showInputMessage=True,
                  errorTitle="Giá trị không hợp lệ", promptTitle=indicator.code[:32])
    if words:
        formula = '"' + ",".join(words) + '"'
        if any("," in w or '"' in w for w in words) or len(formula) > MAX_LIST_FORMULA:
            return None  # Excel cannot list them inline; the allowed-values column says them
        shown = "; ".join(words)
        return DataValidation(type="list", formula1=formula, error=f"Chọn một trong: {shown}",
                              prompt=f"Chọn: {shown}"[:255], **common)
    lo, hi = value_range(indicator)
    if lo is None and hi is None:
        return None
    kind = "whole" if indicator.type == "count" else "decimal"
    text = range_text(indicator)
    if lo is not None and hi is not None:
        bounds = dict(operator="between", formula1=plain(lo), formula2=plain(hi))
    elif lo is not None:
        bounds = dict(operator="greaterThanOrEqual", formula1=plain(lo))
    else:
        bounds = dict(operator="lessThanOrEqual", formula1=plain(hi))
    what = "Số nguyên" if kind == "whole" else "Số"
    return DataValidation(type=kind, error=f"{what} trong khoảng {text}",
                          prompt=f"{what} {text}", **bounds, **common)


def _set_text(cell, value: str) -> None:
    cell.value = output.neutralise(value)
    cell.data_type = "s"  # never a formula, whatever the text starts with


__all__ = ["HEADERS", "SHEET", "Template", "allowed_text", "template_format", "write_template"]
