"""Reading XLSX workbooks: one sheet or a named one, exact numbers, no formulas, no merges."""

from __future__ import annotations

import datetime as dt
import unicodedata
import zipfile

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


# -- issue 14: cells read as Excel shows them ----------------------------------------------------


def test_a_percent_cell_reads_as_excel_shows_it(tmp_path):
    """Typing 95% into a cell makes Excel store 0.95 with the number format 0%: openpyxl writes
    it the same way.  The reader hands on what the sheet shows, 95%, so that the methodology
    reads 95 for a percentage and 0.95 for a ratio (engine.values.parse_value)."""
    def formats(ws):
        ws["D2"].number_format = "0%"
        ws["D3"].number_format = "0.00%"
        ws["D4"].number_format = "0%"
        ws["D5"].number_format = '0.0" %"'  # a literal, quoted percent sign: not a percent format
        ws["E2"].number_format = "0%"

    path = workbook(tmp_path, [HEADER, [2020, "U1", "I1", 0.95, 0.5], [2020, "U1", "I2", 0.1234],
                               [2020, "U1", "I3", 1], [2020, "U1", "I4", 7.5]], build=formats)
    rows = read_submissions(path).read_all()
    assert [r.value for r in rows] == ["95%", "12.34%", "100%", "7.5"]
    assert rows[0].evidence == "50%"


def test_numbers_are_the_exact_decimals_the_cells_hold(tmp_path):
    """0.00001 was refused as '1e-05' is not a number: no scientific notation ever."""
    path = workbook(tmp_path, [HEADER[:4], [2020, "U1", "I1", 0.00001], [2020, "U1", "I2", 1.5e-7],
                               [2020, "U1", "I3", 1e16], [2020, "U1", "I4", -0.0], [2020, "U1", "I5", 84.03]])
    assert [r.value for r in read_submissions(path).read_all()] == [
        "0.00001", "0.00000015", "10000000000000000", "0", "84.03"]


def test_text_formatted_numbers_read_as_the_text_shown(tmp_path):
    def text(ws):
        ws["D2"].number_format = "@"
        ws["D2"].data_type = "s"

    path = workbook(tmp_path, [HEADER[:4], [2020, "U1", "I1", "12"], [2020, "U1", "I2", " 0.5 "]], build=text)
    assert [r.value for r in read_submissions(path).read_all()] == ["12", "0.5"]


def test_a_date_in_the_value_column_is_refused_but_is_fine_as_evidence(tmp_path):
    path = workbook(tmp_path, [HEADER, [2020, "U1", "I1", dt.datetime(2021, 1, 5), dt.date(2021, 1, 15)],
                               [2020, "U1", "I2", 3, dt.date(2021, 1, 15)]])
    reader = read_submissions(path)
    assert [r.evidence for r in reader] == ["2021-01-15"]
    assert [str(e) for e in reader.errors] == [
        f"{path}:2:value: '2021-01-05' is not a number: the cell holds a date (Excel turns some "
        "typed values, such as 1/5, into dates); format the cell as Number and type the value again"]


def test_hidden_rows_columns_and_sheets_holding_data_are_refused(tmp_path):
    rows = [HEADER[:4], [2020, "U1", "I1", 1], [2020, "U1", "I2", 2], [None], [2020, "U1", "I3", 3]]

    def hide_row(ws):
        ws.row_dimensions[3].hidden = True

    path = workbook(tmp_path, rows, name="row.xlsx", build=hide_row)
    assert errors_of(read_submissions(path)) == [
        f"{path}:3:*: row 3 is hidden and holds data: unhide every row (select all, right-click "
        "a row number > Unhide; clear any filter) and check them, or delete the rows that must "
        "not be imported"]

    def hide_empty(ws):
        ws.row_dimensions[4].hidden = True
        ws.column_dimensions["H"].hidden = True

    path = workbook(tmp_path, rows, name="empty.xlsx", build=hide_empty)
    assert [r.row for r in read_submissions(path).read_all()] == [2, 3, 5]

    def hide_column(ws):
        ws.column_dimensions["D"].hidden = True

    path = workbook(tmp_path, rows, name="column.xlsx", build=hide_column)
    assert errors_of(read_submissions(path)) == [
        f"{path}:1:*: column D is hidden and holds data (row 1): unhide every column and check "
        "it, or delete it"]

    def hide_sheet(ws):
        ws.parent["Cũ"].sheet_state = "hidden"

    path = workbook(tmp_path, rows, name="sheet.xlsx", sheets=["Cũ"], build=hide_sheet)
    assert errors_of(read_submissions(path)) == [
        f"{path}:1:*: the workbook has 2 sheets (Nộp 2020, Cũ (hidden)): name the one to read "
        "with --sheet NAME"]
    assert errors_of(read_submissions(path, sheet="Cũ")) == [
        f"{path}:1:*: sheet 'Cũ' is hidden: unhide it (right-click a sheet tab > Unhide) and "
        "check what it holds before importing it"]
    assert len(read_submissions(path, sheet="Nộp 2020").read_all()) == 3


def test_a_merge_over_the_whole_sheet_is_reported_once_in_bounded_work(tmp_path):
    """A1:XFD1048576-style ranges made the reader mark every covered cell (80 s, 2.75 GB).
    (openpyxl itself cannot write such a range in bounded time: the sheet's XML is edited.)"""
    def merge(ws):
        ws.merge_cells("B3:C4")
        ws.merge_cells("A5:C9")

    rows = [HEADER[:4], [2020, "U1", "I1", 1], [2020, "U1", "I2", 2]] + [[2020, None, None, 3]] * 4
    path = workbook(tmp_path, rows, build=merge)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b'ref="B3:C4"', b'ref="B3:XFD1048576"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    reader = read_submissions(path)
    assert [r.row for r in reader] == [2]
    assert [str(e) for e in reader.errors] == [
        f"{path}:3:unit_id: merged cells B3:XFD1048576: unmerge them and fill every cell",
        f"{path}:5:year: merged cells A5:C9: unmerge them and fill every cell"]
