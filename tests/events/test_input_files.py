"""Reading CSV files people have: encodings, separators, decimal commas, collected errors."""

from __future__ import annotations

import tracemalloc
import unicodedata

import pytest

from events.inputs import (
    InputError,
    InputErrors,
    SubmissionRow,
    UnitRow,
    read_submissions,
    read_units,
)

HEADER = "year,unit_id,indicator,value,evidence,note\n"


def write(tmp_path, text: str | bytes, name: str = "nop.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def errors_of(reader) -> list[str]:
    list(reader)
    return [str(e) for e in reader.errors]


def test_a_plain_file(tmp_path):
    path = write(tmp_path, HEADER + "2020,26506,I01,84.03,QĐ 1018,\n2020,26506,I02,có,,ghi chú\n")
    rows = read_submissions(path).read_all()
    assert rows == [
        SubmissionRow(str(path), 2, "2020", "26506", "I01", "84.03", "QĐ 1018", ""),
        SubmissionRow(str(path), 3, "2020", "26506", "I02", "có", "", "ghi chú"),
    ]


def test_utf8_with_and_without_bom_read_the_same(tmp_path):
    text = "year,unit_id,indicator,value\n2020,Đất Đỏ,I01,1\n"
    plain = read_submissions(write(tmp_path, text, "a.csv")).read_all()
    bom = read_submissions(write(tmp_path, b"\xef\xbb\xbf" + text.encode(), "b.csv")).read_all()
    assert [r.unit_id for r in plain] == [r.unit_id for r in bom] == ["Đất Đỏ"]
    assert [r.row for r in bom] == [2]


def test_text_is_nfc_normalised(tmp_path):
    composed = unicodedata.normalize("NFC", "Phường Thắng Tam")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    path = write(tmp_path, f"unit_id,tier,name,parent_id\nA,commune,{composed},747\nB,commune,{decomposed},747\n")
    rows = read_units(path).read_all()
    assert rows[0].name == rows[1].name == composed
    assert rows == [
        UnitRow(str(path), 2, "A", "commune", composed, "747", ""),
        UnitRow(str(path), 3, "B", "commune", composed, "747", ""),
    ]


def test_header_names_are_trimmed_case_insensitive_and_in_any_order(tmp_path):
    path = write(tmp_path, " Value ,INDICATOR,Unit_ID, year\n1.5,I01,U1,2021\n")
    (row,) = read_submissions(path).read_all()
    assert (row.year, row.unit_id, row.indicator, row.value) == ("2021", "U1", "I01", "1.5")


def test_a_semicolon_header_with_a_comma_delimiter_is_refused_with_the_options_to_use(tmp_path):
    path = write(tmp_path, "year;unit_id;indicator;value\n2020;U1;I01;84,03\n")
    with pytest.raises(InputErrors) as info:
        read_submissions(path).read_all()
    (message,) = str(info.value).splitlines()
    assert message.startswith(f"{path}:1:*: ")
    assert "--delimiter ';'" in message and "--decimal-comma" in message


def test_semicolons_and_decimal_commas_on_purpose(tmp_path):
    path = write(tmp_path, "year;unit_id;indicator;value;note\n2020;U1;I01;84,03;a, b\n2020;U1;I02;-0,5;\n")
    # with ';' but no decimal comma option, the comma value is refused and the option named
    errs = errors_of(read_submissions(path, delimiter=";"))
    assert errs == [
        f"{path}:2:value: '84,03' has a decimal comma: use --decimal-comma (and --delimiter ';' "
        "if the file is separated by ';'), or write it with a point",
        f"{path}:3:value: '-0,5' has a decimal comma: use --decimal-comma (and --delimiter ';' "
        "if the file is separated by ';'), or write it with a point",
    ]
    rows = read_submissions(path, delimiter=";", decimal_comma=True).read_all()
    assert [r.value for r in rows] == ["84.03", "-0.5"]
    assert rows[0].note == "a, b"  # only values are numbers: text keeps its commas


def test_with_decimal_comma_a_point_is_ambiguous_and_refused(tmp_path):
    path = write(tmp_path, "year;unit_id;indicator;value\n2020;U1;I01;1.234\n2020;U1;I02;1.234,5\n2020;U1;I03;có\n")
    errs = errors_of(read_submissions(path, delimiter=";", decimal_comma=True))
    assert [e.split(":")[1:3] for e in errs] == [["2", "value"], ["3", "value"]]
    assert "thousands" in errs[0]


def test_tab_separated(tmp_path):
    path = write(tmp_path, "year\tunit_id\tindicator\tvalue\n2020\tU1\tI01\t7\n")
    assert [r.value for r in read_submissions(path, delimiter="\t").read_all()] == ["7"]
    errs = errors_of(read_submissions(path))  # read with ','
    assert len(errs) == 1 and "--delimiter '\\t'" in errs[0]
    with pytest.raises(ValueError):
        read_submissions(path, delimiter="|")


def test_all_errors_are_collected_with_file_row_column(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "2020,U1,I01,1,,\n"  # fine (row 2)
        + "20x0,U1,I01,1,,\n"  # bad year (row 3)
        + ",,I01,,,\n"  # empty year, unit, value (row 4)
        + "\n"  # blank row 5 is skipped but counted
        + "2020,U1,I01,1,,\x07bell\n"  # control character (row 6)
        + "2020,U1,I01,1,,," + "extra\n"  # a value beyond the header (row 7)
        + '2020,U1,I01,1,,"two\nlines"\n'  # a line break inside a field (row 8, one record)
        + "2020,U2,I02,2,,\n",  # fine (row 9)
    )
    reader = read_submissions(path)
    rows = list(reader)
    assert [r.row for r in rows] == [2, 9]
    assert [str(e) for e in reader.errors] == [
        f"{path}:3:year: '20x0' is not a year (four digits)",
        f"{path}:4:year: empty",
        f"{path}:4:unit_id: empty",
        f"{path}:4:value: empty",
        f"{path}:6:note: control character U+0007 in the text (line breaks and tabs are not allowed inside a field)",
        f"{path}:7:column 7: a value beyond the last named column",
        f"{path}:8:note: control character U+000A in the text (line breaks and tabs are not allowed inside a field)",
    ]
    with pytest.raises(InputErrors) as info:
        reader.raise_for_errors()
    assert len(info.value.errors) == 7
    assert str(info.value).count("\n") == 6
    assert isinstance(info.value.errors[0], InputError)


def test_the_application_adds_its_own_errors_to_the_same_report(tmp_path):
    path = write(tmp_path, HEADER + "2020,NOPE,I01,1,,\n")
    reader = read_submissions(path)
    for row in reader:
        reader.error(row.row, "unit_id", f"no unit {row.unit_id!r} in 2020")
    assert [str(e) for e in reader.errors] == [f"{path}:2:unit_id: no unit 'NOPE' in 2020"]


@pytest.mark.parametrize(
    "header,expected",
    [
        ("year,unit_id,indicator", ["1:value: missing column 'value'"]),
        ("year,unit_id,indicator,value,colour", ["1:colour: unknown column 'colour' in a submission file"]),
        ("year,unit_id,indicator,value,Value", ["1:value: column 'value' appears twice"]),
        ("year,,unit_id,indicator,value", ["1:column 2: the column has no name"]),
    ],
)
def test_header_problems(tmp_path, header, expected):
    path = write(tmp_path, header + "\n2020,U1,I01,1\n")
    errs = errors_of(read_submissions(path))
    assert len(errs) == len(expected)
    for err, want in zip(errs, expected):
        assert err.startswith(f"{path}:{want}")


def test_trailing_unnamed_empty_columns_are_tolerated(tmp_path):
    path = write(tmp_path, "year,unit_id,indicator,value,,\n2020,U1,I01,1,,\n")
    assert len(read_submissions(path).read_all()) == 1


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n", b" , ,\n"])
def test_an_empty_file_is_an_error(tmp_path, content):
    errs = errors_of(read_submissions(write(tmp_path, content)))
    assert len(errs) == 1 and ":1:*: the file is empty" in errs[0]
    assert "year, unit_id, indicator, value" in errs[0]


def test_a_file_that_is_not_utf8_names_the_byte_offset_and_row(tmp_path):
    head = HEADER + "2020,U1,I01,1,,\n"
    path = write(tmp_path, head.encode() + "2020,ĐÔNG,I01,1,,\n".encode("cp1258"))  # Windows Vietnamese
    errs = errors_of(read_submissions(path))
    assert len(errs) == 1
    assert errs[0].startswith(f"{path}:3:*: the file is not UTF-8")
    offset = len(head.encode()) + len("2020,")
    assert f"offset {offset}" in errs[0]


def test_malformed_csv_is_an_error_not_a_guess(tmp_path):
    path = write(tmp_path, HEADER + '2020,U1,I01,"1,,\n')  # unterminated quote
    errs = errors_of(read_submissions(path))
    assert len(errs) == 1 and "malformed CSV" in errs[0] and f"{path}:2:" in errs[0]


def test_fields_over_the_length_limit(tmp_path):
    path = write(tmp_path, HEADER + "2020,U1,I01,1,," + "x" * 2001 + "\n")
    errs = errors_of(read_submissions(path))
    assert errs == [f"{path}:2:note: 2001 characters, more than the 2000 allowed"]
    assert read_submissions(path, max_field_length=5000).read_all()[0].note == "x" * 2001


def test_units_file_columns(tmp_path):
    path = write(tmp_path, "unit_id,tier,name,parent_id,from_year\n747,district,Thành phố Vũng Tàu,,2019\n26506,commune,Phường 1,747,\n")
    rows = read_units(path).read_all()
    assert [(r.unit_id, r.parent_id, r.from_year) for r in rows] == [("747", "", "2019"), ("26506", "747", "")]
    errs = errors_of(read_units(write(tmp_path, "unit_id,tier,name\n1,commune,x\n", "u.csv")))
    assert errs == [f"{tmp_path / 'u.csv'}:1:parent_id: missing column 'parent_id'"]


def test_unknown_extensions_and_missing_files(tmp_path):
    assert "unknown file type .json" in errors_of(read_submissions(write(tmp_path, "{}", "a.json")))[0]
    assert "cannot read the file" in errors_of(read_submissions(tmp_path / "missing.csv"))[0]
    assert "--sheet applies to XLSX" in errors_of(read_submissions(write(tmp_path, HEADER), sheet="S"))[0]


def test_the_reader_streams_and_can_be_read_twice(tmp_path):
    line = "2020,{},CHI-SO-{},{}.25,Quyết định 1018/QĐ-UBND ngày 20/4/2021,Ghi chú tiếng Việt có dấu\n"

    def peak_for(rows: int) -> tuple[int, int]:
        path = tmp_path / f"big{rows}.csv"
        with open(path, "w", encoding="utf-8") as f:
            f.write(HEADER)
            for i in range(rows):
                f.write(line.format(20000 + i // 40, i % 40, i))
        reader = read_submissions(path)
        tracemalloc.start()
        count = sum(1 for _ in reader)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == rows and reader.errors == []
        assert sum(1 for _ in reader) == rows  # iterating again re-reads the file
        return peak, path.stat().st_size

    small, _ = peak_for(2_000)
    large, size = peak_for(10_000)
    # Memory does not grow with the file: five times the rows, about the same peak.
    assert large < small * 1.5 + 64_000, (small, large)
    assert large < size / 10, f"peak {large} bytes for a {size}-byte file"
