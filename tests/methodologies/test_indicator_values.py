"""Reading indicator values as people type them: exact, strict, with short messages."""

from __future__ import annotations

import unicodedata
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import Indicator
from engine.values import check_value, parse_value, to_input
from events.types import Choice


def ind(type_, **kw):
    return Indicator(code="x", name_vi="x", name_en="x", type=type_, **kw)


YES_NO = ind("yes_no")
HEAD = ind("category", categories=("chairman", "deputy", "không có"))

ACCEPTED = [
    (YES_NO, "yes", True), (YES_NO, "No", False), (YES_NO, "có", True), (YES_NO, "KHÔNG", False),
    (YES_NO, unicodedata.normalize("NFD", "Có"), True), (YES_NO, " 1 ", True), (YES_NO, "0", False),
    (YES_NO, "true", True), (YES_NO, "False", False),
    (ind("count"), "12", D(12)), (ind("count"), "12.0", D(12)), (ind("count"), "0", D(0)),
    (ind("ratio"), "0.85", D("0.85")), (ind("ratio"), "1", D(1)), (ind("ratio"), ".5", D("0.5")),
    (ind("percentage"), "85.5", D("85.5")), (ind("percentage"), "85.5 %", D("85.5")), (ind("percentage"), "100", D(100)),
    (ind("number"), "-3.25", D("-3.25")), (ind("number"), "0.1000000000000000000000001", D("0.1000000000000000000000001")),
    (ind("points", max=D(10)), "8.75", D("8.75")),
    (HEAD, "Deputy", Choice("deputy")), (HEAD, "KHÔNG CÓ", Choice("không có")),
]


@pytest.mark.parametrize("indicator, raw, expected", ACCEPTED)
def test_accepted(indicator, raw, expected):
    got = parse_value(indicator, raw)
    assert got == expected and type(got) is type(expected)


REFUSED = [
    (YES_NO, "maybe", "is not yes/no"),
    (YES_NO, "", "empty value"),
    (ind("count"), "2.5", "whole number"),
    (ind("count"), "-1", "whole number ≥ 0"),
    (ind("ratio"), "1.2", "within 0..1"),
    (ind("ratio"), "85", "a percentage?"),
    (ind("percentage"), "101", "within 0..100"),
    (ind("number"), "NaN", "not a finite number"),
    (ind("number"), "Infinity", "not a finite number"),
    (ind("number"), "-inf", "not a finite number"),
    (ind("number"), "1e5", "is not a number"),
    (ind("number"), "abc", "is not a number"),
    (ind("number"), "0,5", "use --decimal-comma"),
    (ind("number"), "1,234", "thousands separators are not accepted"),
    (ind("number"), "1,234.5", "thousands separators are not accepted"),
    (ind("number"), "1.234.567", "thousands separators"),
    (ind("number"), "1 234", "thousands separators"),
    (ind("number", min=D(0), max=D(50)), "51", "above x's maximum 50"),
    (ind("number", min=D(10)), "5", "below x's minimum 10"),
    (ind("points"), "-1", "points must be ≥ 0"),
    (HEAD, "chair", "is not a category of x"),
]


@pytest.mark.parametrize("indicator, raw, fragment", REFUSED)
def test_refused_with_a_short_message(indicator, raw, fragment):
    with pytest.raises(ValueError) as e:
        parse_value(indicator, raw)
    assert fragment in str(e.value)
    assert "\n" not in str(e.value) and len(str(e.value)) < 160


def test_decimal_comma_only_when_asked():
    assert parse_value(ind("ratio"), "0,5", decimal_comma=True) == D("0.5")
    assert parse_value(ind("percentage"), "85,25 %", decimal_comma=True) == D("85.25")
    with pytest.raises(ValueError, match="thousands separators"):
        parse_value(ind("number"), "1.234,5", decimal_comma=True)
    with pytest.raises(ValueError, match="thousands separators"):
        parse_value(ind("number"), "1,234,5", decimal_comma=True)


def test_check_value_of_typed_values():
    assert check_value(ind("count"), D("3.0")) == D(3)
    with pytest.raises(ValueError):
        check_value(ind("count"), True)  # a bool is not a number
    with pytest.raises(ValueError):
        check_value(YES_NO, D(1))
    with pytest.raises(ValueError):
        check_value(HEAD, Choice("Chairman"))  # typed values must use the declared spelling
    with pytest.raises(ValueError, match="finite"):
        check_value(ind("number"), D("NaN"))


def test_to_input():
    assert to_input(Choice("deputy")) == "deputy"
    assert to_input(True) is True
    assert to_input(D("0.5")) == D("0.5")
    assert to_input(None) is None


@settings(max_examples=60, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9))
def test_numbers_round_trip_exactly(d):
    text = format(d, "f")
    assert parse_value(ind("number"), text) == d
    assert parse_value(ind("number"), text.replace(".", ","), decimal_comma=True) == d
