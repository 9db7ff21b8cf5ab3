"""Issue 14, item 3: look-alike input.  Digits other than 0-9, invisible characters that make two
ids look identical, and a negative zero are refused or canonicalised where input is read."""

from __future__ import annotations

import sys
import unicodedata
from decimal import Decimal as D

import pytest

from engine.model import Indicator
from engine.values import parse_value
from events.inputs import read_units, text_problem


def ind(type_, **kw):
    return Indicator(code="x", name_vi="x", name_en="x", type=type_, **kw)


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt) minus its Cf members, which
# the test below finds through unicodedata: the code points that render as nothing although
# they are letters or marks.
DEFAULT_IGNORABLE_NOT_CF = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D,
                            0x180F, 0x3164, *range(0xFE00, 0xFE10), 0xFFA0,
                            *range(0xE0100, 0xE01F0)]


def test_every_format_and_default_ignorable_character_is_refused_in_text():
    format_chars = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"]
    assert len(format_chars) > 150  # the Unicode database is there
    for cp in format_chars + DEFAULT_IGNORABLE_NOT_CF:
        problem = text_problem(f"C2{chr(cp)}x")
        assert problem and f"U+{cp:04X}" in problem, hex(cp)


def test_vietnamese_text_is_untouched_and_kept_nfc():
    for text in ["UBND xã Phước Hưng", "Thị trấn Đất Đỏ", "huyện Xuyên Mộc",
                 unicodedata.normalize("NFD", "Phường Thắng Tam")]:
        assert text_problem(unicodedata.normalize("NFC", text)) is None


@pytest.mark.parametrize("char", ["\u00ad", "\u061c", "\U000e0041", "\u3164", "\uffa0", "\u115f",
                                  "\u1160", "\ufe0f", "\u034f"])
def test_two_ids_that_look_alike_cannot_both_be_registered(tmp_path, char):
    path = tmp_path / "units.csv"
    path.write_text(f"unit_id,tier,name,parent_id\nC2,commune,xã Hai,\nC{char}2,commune,xã Hai,\n"
                    f"C3,commune,xã{char} Ba,\n", encoding="utf-8")
    reader = read_units(path)
    assert [r.unit_id for r in reader] == ["C2"]
    assert [(e.row, e.column) for e in reader.errors] == [(3, "unit_id"), (4, "name")]
    assert all(f"U+{ord(char):04X}" in e.message for e in reader.errors)


@pytest.mark.parametrize("raw", ["৪৪", "٤٤", "۴۴", "４４", "4৪", "१२", "๑๒", "1２.5", "𝟒𝟒"])
@pytest.mark.parametrize("kind", ["count", "ratio", "percentage", "points", "number"])
def test_digits_other_than_ascii_are_refused(raw, kind):
    with pytest.raises(ValueError, match="write numbers with the digits 0-9"):
        parse_value(ind(kind), raw)


@pytest.mark.parametrize("raw", ["-0", "-0.00", "+0", "-.0"])
def test_one_zero(raw):
    for kind in ("ratio", "percentage", "points", "number", "count"):
        value = parse_value(ind(kind), raw)
        assert value == 0 and not value.is_signed(), (kind, raw)
    for kind in ("ratio", "percentage"):
        assert not parse_value(ind(kind), raw + "%").is_signed()
    # The scale is kept as written: a value already in a log is never rewritten.
    assert str(parse_value(ind("number"), "-0.00")) == "0.00"
    assert str(parse_value(ind("count"), "-0.00")) == "0"


def test_a_percent_reads_per_the_indicator():
    assert parse_value(ind("percentage"), "95%") == D(95)
    assert parse_value(ind("ratio"), "95%") == D("0.95")
    assert parse_value(ind("ratio"), "12.34%") == D("0.1234")
    assert parse_value(ind("ratio"), "100%") == D(1)
    for kind in ("count", "points", "number"):
        with pytest.raises(ValueError, match="is a percentage, but x is not"):
            parse_value(ind(kind), "95%")
    with pytest.raises(ValueError, match="a ratio must be within 0..1"):
        parse_value(ind("ratio"), "150%")
    with pytest.raises(ValueError, match="is not a number"):
        parse_value(ind("percentage"), "95%%")
