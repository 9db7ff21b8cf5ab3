"""What the input files hold: the row structs, the column specs, and the error type.

Rows are raw text (trimmed, NFC) with the file and spreadsheet row they came from; turning text
into typed payloads is the application's job, with the methodology at hand.
"""

from __future__ import annotations

from typing import Iterable

import msgspec


class InputError(msgspec.Struct, frozen=True):
    """One problem in an input file, at a row (1-based, header = 1) and a column name."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


class InputErrors(ValueError):
    """All the problems found in one or more input files; str() is one per line."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(map(str, self.errors)))

    def __str__(self) -> str:
        return "\n".join(map(str, self.errors))


class SubmissionRow(msgspec.Struct, frozen=True):
    """One row of a long-form submission file, as trimmed NFC text."""

    file: str
    row: int
    year: str
    unit_id: str
    indicator: str
    value: str  # with decimal_comma, "84,03" arrives here as "84.03"
    evidence: str = ""
    note: str = ""


class UnitRow(msgspec.Struct, frozen=True):
    """One row of a unit file, as trimmed NFC text (`parent_id`, `from_year` may be empty)."""

    file: str
    row: int
    unit_id: str
    tier: str
    name: str
    parent_id: str = ""
    from_year: str = ""


class TableSpec(msgspec.Struct, frozen=True):
    """The columns of one kind of file and the row struct it produces."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    non_empty: tuple[str, ...]
    years: tuple[str, ...]  # columns holding a four-digit year when not empty
    row_type: type
    # Other names of the columns (lower case, NFC): the Vietnamese headers of the sheet
    # `ictindex template` writes ("giá trị" is `value`).
    aliases: dict[str, str] = {}
    # Columns that only inform whoever fills the sheet (the unit's and indicator's names, the
    # allowed values): read past, never recorded.
    informational: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


# The headers of a submission template (`ictindex template`), column by column.
SUBMISSION_HEADERS_VI = {
    "year": "Năm",
    "unit_id": "Mã đơn vị",
    "indicator": "Mã chỉ số",
    "value": "Giá trị",
    "evidence": "Minh chứng",
    "note": "Ghi chú",
}
# The template's columns that describe a row to whoever fills it in.
UNIT_NAME_VI = "Tên đơn vị"
INDICATOR_NAME_VI = "Tên chỉ số"
MEASURE_VI = "Đơn vị tính"
ALLOWED_VI = "Giá trị cho phép"

SUBMISSIONS = TableSpec(
    kind="submission",
    required=("year", "unit_id", "indicator", "value"),
    optional=("evidence", "note"),
    non_empty=("year", "unit_id", "indicator", "value"),
    years=("year",),
    row_type=SubmissionRow,
    aliases={vi.lower(): name for name, vi in SUBMISSION_HEADERS_VI.items()},
    informational=tuple(h.lower() for h in (UNIT_NAME_VI, INDICATOR_NAME_VI, MEASURE_VI, ALLOWED_VI)),
)
UNITS = TableSpec(
    kind="unit",
    required=("unit_id", "tier", "name", "parent_id"),
    optional=("from_year",),
    non_empty=("unit_id", "tier", "name"),
    years=("from_year",),
    row_type=UnitRow,
)


__all__ = [
    "ALLOWED_VI",
    "INDICATOR_NAME_VI",
    "MEASURE_VI",
    "SUBMISSIONS",
    "SUBMISSION_HEADERS_VI",
    "UNIT_NAME_VI",
    "UNITS",
    "InputError",
    "InputErrors",
    "SubmissionRow",
    "TableSpec",
    "UnitRow",
]
