"""Reading XLSX workbooks: one sheet or a named one, exact numbers, no formulas, no merges."""

from __future__ import annotations

import datetime as dt
import unicodedata

from openpyxl import Workbook

from events.inputs import read_submissions, read_units

HEADER = ["year", "unit_id", "indicator", "value", "evidence", "note"]


def workbook(tmp_path, rows, *, name="nop.xlsx", sheets=None, build=None):
    wb = Workbook()
    ws = wb.active
    ws.title = "Nộp 2020"
    for row in rows:
        ws.append(row)
    for extra in sheets or []:
        wb.create_sheet(extra).append(HEADER)
    if build:
        build(ws)
    path = tmp_path / name
    wb.save(path)
    return path


def errors_of(reader) -> list[str]:
    list(reader)
    return [str(e) for e in reader.errors]


def test_a_plain_sheet_with_exact_numbers_and_vietnamese_text(tmp_path):
    path = workbook(
        tmp_path,
        [
            HEADER,
            [2020, "26554", "HT-01", 84.03, "QĐ 1018/QĐ-UBND", "Thị trấn Đất Đỏ"],
            [2020, "26554", "HT-02", 0.1, None, None],
            [2020, "26554", "HT-03", 12, dt.date(2021, 1, 15), unicodedata.normalize("NFD", "Phường")],
            [2020, "26554", "CS-01", True, None, None],
            [2020, "26554", "CS-02", "chủ tịch", None, None],
        ],
    )
    rows = read_submissions(path).read_all()
    assert [r.row for r in rows] == [2, 3, 4, 5, 6]
    assert [r.value for r in rows] == ["84.03", "0.1", "12", "true", "chủ tịch"]
    assert [r.year for r in rows] == ["2020"] * 5
    assert rows[0].note == "Thị trấn Đất Đỏ"
    assert rows[2].evidence == "2021-01-15"
    assert rows[2].note == unicodedata.normalize("NFC", "Phường")


def test_numeric_cells_ignore_the_decimal_comma_option_but_text_cells_follow_it(tmp_path):
    path = workbook(tmp_path, [HEADER[:4], [2020, "U1", "I1", 84.03], [2020, "U1", "I2", "84,03"]])
    assert [r.value for r in read_submissions(path, decimal_comma=True).read_all()] == ["84.03"] * 2
    errs = errors_of(read_submissions(path))
    assert errs == [
        f"{path}:3:value: '84,03' has a decimal comma: use --decimal-comma (and --delimiter ';' "
        "if the file is separated by ';'), or write it with a point"
    ]


def test_several_sheets_need_a_sheet_option(tmp_path):
    path = workbook(tmp_path, [HEADER[:4], [2020, "U1", "I1", 1]], sheets=["Ghi chú"])
    errs = errors_of(read_submissions(path))
    assert len(errs) == 1
    assert errs[0].startswith(f"{path}:1:*: the workbook has 2 sheets (Nộp 2020, Ghi chú)")
    assert "--sheet" in errs[0]
    assert len(read_submissions(path, sheet="Nộp 2020").read_all()) == 1
    assert read_submissions(path, sheet="Ghi chú").read_all() == []
    assert "no sheet 'Khác'" in errors_of(read_submissions(path, sheet="Khác"))[0]


def test_formulas_are_refused(tmp_path):
    path = workbook(
        tmp_path,
        [HEADER[:4], [2020, "U1", "I1", "=1+1"], [2020, "U1", "I2", 5], [2020, "U1", "I3", "=B3*2"]],
    )
    errs = errors_of(read_submissions(path))
    assert errs == [
        f"{path}:2:value: cell holds the formula =1+1: paste the values instead",
        f"{path}:4:value: cell holds the formula =B3*2: paste the values instead",
    ]


def test_merged_cells_are_refused_once_per_range(tmp_path):
    def merge(ws):
        ws.merge_cells("B2:B4")  # one unit_id for three rows: the others would read as empty

    path = workbook(
        tmp_path,
        [HEADER[:4], [2020, "U1", "I1", 1], [2020, None, "I2", 2], [2020, None, "I3", 3], [2020, "U2", "I1", 4]],
        build=merge,
    )
    reader = read_submissions(path)
    rows = list(reader)
    assert [r.row for r in rows] == [5]
    assert [str(e) for e in reader.errors] == [
        f"{path}:2:unit_id: merged cells B2:B4: unmerge them and fill every cell"
    ]


def test_error_values_and_extra_cells(tmp_path):
    def build(ws):
        ws["D2"] = "#DIV/0!"
        ws["D2"].data_type = "e"
        ws["F3"] = "lạc chỗ"

    path = workbook(tmp_path, [HEADER[:4], [2020, "U1", "I1", None], [2020, "U1", "I2", 2]], build=build)
    errs = errors_of(read_submissions(path))
    assert errs == [
        f"{path}:2:value: cell holds the error value #DIV/0!",
        f"{path}:3:column 6: a value beyond the last named column",
    ]


def test_an_empty_workbook_and_a_bad_file(tmp_path):
    assert "the file is empty" in errors_of(read_submissions(workbook(tmp_path, [])))[0]
    fake = tmp_path / "fake.xlsx"
    fake.write_text("year,unit_id\n")
    assert "not a readable XLSX workbook" in errors_of(read_submissions(fake))[0]


def test_units_from_xlsx(tmp_path):
    path = workbook(
        tmp_path,
        [["Unit_ID", "Tier", "Name", "Parent_ID", "From_Year"], ["747", "district", "Thành phố Vũng Tàu", None, 2019]],
        name="units.xlsx",
    )
    (row,) = read_units(path).read_all()
    assert (row.unit_id, row.name, row.parent_id, row.from_year) == ("747", "Thành phố Vũng Tàu", "", "2019")
