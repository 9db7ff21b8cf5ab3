"""`ictindex template`: the sheet an officer sends to the units, filled in and imported back."""

from __future__ import annotations

import csv
import json
import unicodedata

import openpyxl
import pytest

from engine.text import cell_text
from events.types import Choice
from ictindex.app import Ictindex
from ictindex.template import HEADERS, SHEET, VALUE_COLUMN

YEAR = 2021  # a year the sample has no values for: adopted afresh, then filled in


def _sample_values(db) -> dict[str, dict[str, object]]:
    """Every commune's 2020 values in the sample: what the units write into the 2021 sheet."""
    with Ictindex.open(db, read_only=True) as app:
        ys = app.state(year=2020).year_state(2020)
        return {u.unit_id: ys.values(u.unit_id) for u in ys.tier_units("commune")}


def _labels() -> dict[str, dict[str, str]]:
    with Ictindex.open("memory:") as app:
        m = app.registry.methodology("local-ict@2020")
    return {i.code: dict(i.labels_vi) for i in m.indicators}


def _as_a_unit_writes(value, labels: dict[str, str], n: int):
    """The value as a unit types it into the sheet: Vietnamese words (in varied case and
    Unicode form) for yes/no and categories, numbers as numbers."""
    if isinstance(value, bool):
        word = "Có" if value else "không"
    elif isinstance(value, Choice):
        word = labels[value.choice]
    else:
        return value
    forms = [word, word.upper(), unicodedata.normalize("NFD", word), word.lower()]
    return forms[n % len(forms)]


def _adopted_copy(run, sample_copy):
    assert run(sample_copy, "adopt", "local-ict@2020", "--year", YEAR).exit_code == 0
    return sample_copy


def test_a_filled_template_ranks_as_the_same_values_imported_the_usual_way(
        run, sample_db, sample_copy, tmp_path):
    values = _sample_values(sample_db)
    labels = _labels()
    db = _adopted_copy(run, sample_copy)
    sheet = tmp_path / "mau.xlsx"
    r = run(db, "template", "--year", YEAR, "--tier", "commune", sheet)
    assert r.exit_code == 0, r.output
    assert "82 units × 36 indicators of local-ict@2020" in r.stdout

    wb = openpyxl.load_workbook(sheet)
    ws = wb[SHEET]
    n = 0
    for row in ws.iter_rows(min_row=2):
        unit, code = row[1].value, row[3].value
        v = values[unit].get(code)
        if v is not None:
            row[VALUE_COLUMN - 1].value = _as_a_unit_writes(v, labels.get(code, {}), n)
            n += 1
    assert n == ws.max_row - 1  # every row filled: the sample has every value
    filled = tmp_path / "mau-da-dien.xlsx"
    wb.save(filled)

    other = tmp_path / "usual.db"
    other.write_bytes(sample_db.read_bytes())
    _adopted_copy(run, other)
    usual = tmp_path / "usual.csv"
    with usual.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["year", "unit_id", "indicator", "value"])
        for unit, by_code in values.items():
            for code, v in by_code.items():
                w.writerow([YEAR, unit, code, cell_text(getattr(v, "choice", v))])

    r = run(db, "import", filled)
    assert r.exit_code == 0, r.output
    assert f"Recorded {n} submission(s)" in r.stdout
    assert run(other, "import", usual).exit_code == 0

    def rows(path):
        out = run(path, "rank", "--year", YEAR, "--tier", "commune", "--format", "json")
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert not data["missing_inputs"]
        return data["rows"]

    assert rows(db) == rows(other)
    assert len(rows(db)) == 82


def test_the_template_is_the_same_bytes_twice_with_headers_validation_and_nothing_hidden(
        run, sample_copy, tmp_path):
    db = _adopted_copy(run, sample_copy)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert run(db, "template", "--year", YEAR, "--tier", "district", first).exit_code == 0
    assert run(db, "template", "--year", YEAR, "--tier", "district", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()

    wb = openpyxl.load_workbook(first)
    assert wb.sheetnames == [SHEET]
    ws = wb[SHEET]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.freeze_panes == "A2"
    assert all(ws.sheet_state == "visible" for ws in wb.worksheets)
    assert not any(d.hidden for d in ws.column_dimensions.values())
    assert not any(d.hidden for d in ws.row_dimensions.values())
    by_code = {}
    for row in ws.iter_rows(min_row=2):
        by_code.setdefault(row[3].value, []).append(row)
    assert all(row[VALUE_COLUMN - 1].value is None for rows in by_code.values() for row in rows)

    def validation_of(code):
        cell = by_code[code][0][VALUE_COLUMN - 1].coordinate
        found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
        assert len(found) == 1, code
        dv = found[0]
        # the same rule covers the indicator's cell of every unit
        assert all(row[VALUE_COLUMN - 1].coordinate in dv.sqref for row in by_code[code])
        return dv

    head = validation_of("steering_head")
    assert (head.type, head.formula1) == ("list", '"Chủ tịch,Phó Chủ tịch,Không có"')
    assert by_code["steering_head"][0][6].value == "Chủ tịch; Phó Chủ tịch; Không có"
    yes_no = validation_of("server_room")
    assert (yes_no.type, yes_no.formula1) == ("list", '"có,không"')
    pct = validation_of("staff_computer_pct")
    assert (pct.type, pct.operator, pct.formula1, pct.formula2) == ("decimal", "between", "0", "100")
    count = validation_of("computers_total")
    assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert by_code["computers_total"][0][5].value == "máy"


def test_a_csv_template_with_vietnamese_headers_imports_and_refuses_a_wrong_label(
        run, sample_copy, tmp_path):
    db = _adopted_copy(run, sample_copy)
    sheet = tmp_path / "mau.csv"
    assert run(db, "template", "--year", YEAR, "--tier", "department", sheet).exit_code == 0
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbfN\xc4\x83m,M\xc3\xa3 \xc4\x91\xc6\xa1n v\xe1\xbb\x8b,")
    with sheet.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    first_unit = body[0][1]
    kept = [r for r in body if r[1] == first_unit and r[3] in ("steering_head", "specialised_network")]
    kept[0][7] = "phó chủ tịch" if kept[0][3] == "steering_head" else "Có"
    kept[1][7] = "phó chủ tịch" if kept[1][3] == "steering_head" else "Có"
    filled = tmp_path / "filled.csv"
    with filled.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *kept])
    r = run(db, "import", filled)
    assert r.exit_code == 0, r.output
    explained = json.loads(run(db, "explain", first_unit, "--year", YEAR, "--format", "json").stdout)
    inputs = {i["indicator"]: i["value"] for comp in explained["components"]
              for cr in comp["criteria"] for i in cr["inputs"]}
    assert inputs["steering_head"] == {"choice": "deputy"} and inputs["specialised_network"] is True

    kept[0][7] = kept[1][7] = "Phó giám đốc"
    with filled.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *kept])
    before = db.read_bytes()
    r = run(db, "import", filled)
    assert r.exit_code == 2
    assert f"{filled}:2:value:" in r.stderr and "Phó giám đốc" in r.stderr
    assert db.read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["--year", 2020, "--tier", "commune", "mau.txt"], "a template is written as .xlsx or .csv"),
    (["--year", 2030, "--tier", "commune", "mau.xlsx"], "no methodology adopted for 2030 commune"),
])
def test_template_refusals_name_the_problem(run, sample_copy, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = run(sample_copy, "template", *args)
    assert r.exit_code == 2 and message in r.stderr
    assert not (tmp_path / str(args[-1])).exists()


def test_labels_are_read_as_their_values_nfc_and_case_insensitively():
    from engine.model import Indicator
    from engine.values import parse_value

    head = Indicator(code="head", name_vi="Trưởng ban", name_en="Head", type="category",
                     categories=("chairman", "none"), labels_vi={"chairman": "Chủ tịch"})
    assert parse_value(head, unicodedata.normalize("NFD", "CHỦ TỊCH")) == Choice("chairman")
    assert parse_value(head, "chairman") == Choice("chairman")
    with pytest.raises(ValueError, match=r"one of: chairman \(Chủ tịch\), none"):
        parse_value(head, "Phó chủ tịch")
    done = Indicator(code="done", name_vi="Đạt", name_en="Done", type="yes_no",
                     labels_vi={"yes": "Đạt", "no": "Chưa đạt"})
    assert parse_value(done, "đạt") is True and parse_value(done, "CHƯA ĐẠT") is False
    assert parse_value(done, "có") is True  # the usual words still read


@pytest.mark.parametrize("header, row, message", [
    ("Năm,Mã đơn vị,Mã chỉ số,Giá trị,value", "2020,SCT,computers_total,29,29",
     "column 'value' appears twice"),
    ("Năm,Mã đơn vị,Tên đơn vị,Mã chỉ số,Giá trị", "2020,SCT,Sở TTTT,computers_total,29,30",
     "a value beyond the last named column"),
    ("Năm,Mã đơn vị,Mã chỉ số,Giá trị cho phép", "2020,SCT,computers_total,29",
     "missing column 'value'"),
])
def test_vietnamese_headers_keep_the_importers_checks(run, sample_copy, tmp_path, header, row, message):
    f = tmp_path / "sheet.csv"
    f.write_text(f"{header}\n{row}\n", encoding="utf-8")
    before = sample_copy.read_bytes()
    r = run(sample_copy, "import", f)
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert sample_copy.read_bytes() == before
