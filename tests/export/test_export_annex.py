"""The annex (XLSX, CSV): the same numbers as `rank --format json`, and no cell runs a formula."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import msgspec
import openpyxl
import pytest

from ictindex import replay
from ictindex.app import Ictindex
from ictindex.export import FORMULA_CHARS, annex, csv_text, neutralise

YEAR = 2020


def rank_json(run, db, tier, as_of="now"):
    result = run(db, "rank", "--year", YEAR, "--tier", tier, "--as-of", as_of, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def edition_components(db, tier):
    with Ictindex.open(db) as app:
        return [c.code for c in app.registry.methodology("local-ict@2020").tiers[tier].components]


def read_xlsx_rows(path):
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return wb, rows[0], rows[1:]


def assert_same_number(cell, expected: str, decimals: int):
    """An XLSX number cell equals the JSON's decimal string at the edition's decimals."""
    assert isinstance(cell, (int, float)) and not isinstance(cell, bool), cell
    got = Decimal(repr(cell)).quantize(Decimal(1).scaleb(-decimals))
    assert got == Decimal(expected), (cell, expected)


@pytest.mark.parametrize("tier,as_of", [("department", "now"), ("district", "now"),
                                        ("commune", "now"), ("commune", "published")])
def test_xlsx_reread_gives_the_numbers_of_rank_json(sample_db, run, tmp_path, tier, as_of):
    out = tmp_path / f"{tier}.xlsx"
    result = run(sample_db, "export", "--year", YEAR, "--tier", tier, "--as-of", as_of,
                 "--out", out)
    assert result.exit_code == 0, result.output
    expected = rank_json(run, sample_db, tier, as_of)
    dec = expected["decimals"]
    codes = edition_components(sample_db, tier)
    wb, headers, rows = read_xlsx_rows(out)
    assert len(rows) == len(expected["rows"]) > 0
    # Components in the edition's order, between the name and the total.
    assert [h.split(".")[0] for h in headers[3:3 + len(codes)]] == codes
    for row, exp in zip(rows, expected["rows"]):
        assert row[0] == exp["rank"]
        assert row[1] == exp["unit_id"] and row[2] == exp["name"]
        for i, code in enumerate(codes):
            assert_same_number(row[3 + i], exp["components"][code], dec)
        assert_same_number(row[3 + len(codes)], exp["total"], dec)
        assert row[4 + len(codes)] == exp["band"]
    # The published correction shows: 26656 is 76.00 as published, 77.13 now.
    if tier == "commune":
        total = {r[1]: r[3 + len(codes)] for r in rows}["26656"]
        assert f"{total:.2f}" == ("76.00" if as_of == "published" else "77.13")


def test_csv_gives_the_numbers_of_rank_json_with_bom_and_diacritics(sample_db, run, tmp_path):
    out = tmp_path / "district.csv"
    assert run(sample_db, "export", "--year", YEAR, "--tier", "district", "--out", out).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    assert b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    assert "Tên đơn vị" in text and "UBND huyện Đất Đỏ" in text
    rows = list(csv.reader(io.StringIO(text)))
    expected = rank_json(run, sample_db, "district")
    codes = edition_components(sample_db, "district")
    for row, exp in zip(rows[1:], expected["rows"], strict=True):
        assert row[:3] == [str(exp["rank"]), exp["unit_id"], exp["name"]]
        # Exactly the edition's decimals, as JSON prints them.
        assert row[3:3 + len(codes)] == [exp["components"][c] for c in codes]
        assert row[3 + len(codes)] == exp["total"]
    assert {r[1]: r[3 + len(codes)] for r in rows[1:]}["753"] == "84.03"


def test_xlsx_layout_headers_formats_about_sheet_and_properties(sample_db, run, tmp_path):
    out = tmp_path / "d.xlsx"
    assert run(sample_db, "export", "--year", YEAR, "--tier", "department", "--out", out).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert wb.sheetnames == ["Phụ lục", "Thông tin"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["Xếp hạng", "Mã đơn vị", "Tên đơn vị"]
    assert headers[3] == "HT. Hạ tầng kỹ thuật (15)"
    assert headers[-2:] == ["Tổng điểm (100)", "Xếp loại"]
    assert ws.freeze_panes == "D2"  # the header row stays visible
    assert ws.auto_filter.ref.startswith("A1:")
    assert ws.cell(row=2, column=4).number_format == "0.00"
    assert ws.cell(row=2, column=len(headers) - 1).number_format == "0.00"
    assert ws.cell(row=2, column=4).data_type == "n"
    checkpoint = rank_json(run, sample_db, "department")["checkpoint"]
    cp = f"{checkpoint['size']}:{checkpoint['root']}"
    about = {r[0]: r[1] for r in wb["Thông tin"].iter_rows(min_row=3, values_only=True)}
    assert about["Bộ tiêu chí (phiên bản)"] == "local-ict@2020"
    assert len(about["Mã băm nội dung bộ tiêu chí"]) == 64
    assert about["Điểm kiểm chứng sổ sự kiện (số sự kiện:gốc Merkle)"] == cp
    assert about["Tính đến"] == "hiện tại"  # the as-of point in words, not the CLI's `now`
    assert about["Lệnh kiểm chứng"] == f"ictindex --db brvt-2020.db verify --checkpoint {cp}"
    props = wb.properties
    assert props.creator == "ictindex" and "Sở, ban, ngành" in props.title
    assert cp in props.keywords and props.identifier == cp
    assert "local-ict@2020" in props.subject


def test_english_headers_and_bands_on_request(sample_db, run, tmp_path):
    out = tmp_path / "c.xlsx"
    result = run(sample_db, "export", "--year", YEAR, "--tier", "commune", "--out", out, "--lang", "en")
    assert result.exit_code == 0
    wb, headers, rows = read_xlsx_rows(out)
    assert wb.sheetnames == ["Annex", "About"]
    assert headers[:3] == ["Rank", "Unit code", "Unit"]
    assert headers[-2:] == ["Total (90)", "Grade"]
    assert {r[-1] for r in rows} <= {"Good", "Fair", "Average", "Weak"}
    assert len(headers) == 3 + 7 + 2  # communes: 7 components


def _all_xlsx_cells(path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    yield c


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_exported_cell_starts_with_a_formula_character(hostile_db, run, tmp_path, lang):
    xlsx, csvf = tmp_path / "h.xlsx", tmp_path / "h.csv"
    for out in (xlsx, csvf):
        result = run(hostile_db, "export", "--year", YEAR, "--tier", "department", "--out", out,
                     "--lang", lang)
        assert result.exit_code == 0, result.output
    texts = []
    for c in _all_xlsx_cells(xlsx):
        assert c.data_type in ("n", "s"), (c.coordinate, c.data_type, c.value)
        if c.data_type == "s":
            texts.append(c.value)
            assert not c.value.startswith(FORMULA_CHARS), (c.coordinate, c.value)
    # No formula element anywhere in the workbook's XML.
    with zipfile.ZipFile(xlsx) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    assert "'=HYPERLINK(\"http://example.invalid/\",\"bấm vào đây\")" in texts
    assert {"'+1+1", "'-2+3", "'@SUM(A1:A9)", "'=1+1", "'-H6", "'=H7"} <= set(texts)
    rows = list(csv.reader(io.StringIO(csvf.read_bytes().decode("utf-8-sig"))))
    numeric = 0
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_CHARS):
                Decimal(cell)  # only a number may start with - or +
                numeric += 1
    assert numeric == 0  # no negative points in this log: nothing may start with one
    names = {r[2] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://example.invalid/\",\"bấm vào đây\")" in names
    # The numbers are untouched: the same as rank --format json.
    expected = rank_json(run, hostile_db, "department")
    assert [r[-2] for r in rows[1:]] == [r["total"] for r in expected["rows"]]


def test_neutralise_tabs_carriage_returns_and_plain_text():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("\r=1") == "'\r=1"
    for ch in "=+-@":
        assert neutralise(ch + "x") == "'" + ch + "x"
    assert neutralise("Sở Y tế") == "Sở Y tế"
    assert neutralise("'=already") == "'=already"
    assert neutralise("") == ""


def test_annex_neutralises_names_the_importer_would_not_let_through(sample_db):
    """Names with a leading tab or CR, and negative points, straight into the writer."""
    with Ictindex.open(sample_db) as app:
        r = replay.replay(app, YEAR, "district")
        m = app.registry.methodology("local-ict@2020")
    rows = list(r.ranking.rows)
    rows[0] = msgspec.structs.replace(rows[0], name="\t=cmd()")
    rows[1] = msgspec.structs.replace(rows[1], name="\r+1",
                                      components={**rows[1].components, "LD": Decimal("-1.50")})
    ranking = msgspec.structs.replace(r.ranking, rows=tuple(rows))
    text = csv_text(annex(ranking, m))
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1][2] == "'\t=cmd()" and parsed[2][2] == "'\r+1"
    assert parsed[2][10] == "-1.50"  # a number may start with -: it is a number
    for row in parsed:
        for cell in row:
            if cell.startswith(FORMULA_CHARS):
                Decimal(cell)


def test_format_from_the_extension_and_errors(sample_db, run, tmp_path):
    result = run(sample_db, "export", "--year", YEAR, "--tier", "district", "--out", tmp_path / "x.txt")
    assert result.exit_code == 2 and "x.txt" in result.stderr and ".xlsx or .csv" in result.stderr
    out = tmp_path / "x.txt"
    result = run(sample_db, "export", "--year", YEAR, "--tier", "district", "--out", out,
                 "--format", "csv")
    assert result.exit_code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    result = run(sample_db, "export", "--year", 2019, "--tier", "district", "--out", tmp_path / "y.csv")
    assert result.exit_code == 2 and "no methodology adopted for 2019 district" in result.stderr
    assert not (tmp_path / "y.csv").exists()
    result = run(sample_db, "export", "--year", YEAR, "--tier", "district", "--out", tmp_path / "z.xlsx")
    assert "checkpoint 4175:" in result.stdout and "8 units" in result.stdout


def test_the_same_annex_gives_the_same_xlsx_bytes_at_another_time(sample_db, run, tmp_path):
    """A published annex can be re-made and compared byte for byte: no save time inside."""
    import time

    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    args = ("export", "--year", YEAR, "--tier", "district", "--as-of", "published")
    assert run(sample_db, *args, "--out", first).exit_code == 0
    time.sleep(2.1)  # zip entry times have a 2-second resolution
    assert run(sample_db, *args, "--out", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b">1980-01-01T00:00:00Z</dcterms:modified>" in z.read("docProps/core.xml")
    assert openpyxl.load_workbook(first).sheetnames == ["Phụ lục", "Thông tin"]
