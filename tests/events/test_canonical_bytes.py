"""Canonical bytes: sorted keys, exact decimals as strings, strict decoding, leaf hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given

from events.canonical import (
    GENESIS_PREV_HASH,
    DecodeError,
    decode_event,
    encode_event,
    leaf_hash,
    leaf_hash_hex,
    parse_time_key,
    time_key,
)
from events.types import Choice, Event, IndicatorSubmitted, UnitRegistered
from events.types import check_event_value as check_value

from event_strategies import T0, examples, payloads

event_ids = msgspec.json.Decoder(dict)


def make_event(payload, seq=1, **kw) -> Event:
    return Event(
        seq=seq,
        event_id=kw.pop("event_id", "e1"),
        recorded_at=kw.pop("recorded_at", T0),
        actor=kw.pop("actor", "sở TT&TT"),
        payload=payload,
        prev_hash=kw.pop("prev_hash", GENESIS_PREV_HASH),
        **kw,
    )


SUBMITTED = IndicatorSubmitted(
    year=2020, unit_id="DATDO", indicator="I01", value=Decimal("84.030"), evidence="1018/QĐ-UBND"
)


def test_keys_are_sorted_everywhere_and_decimals_are_strings():
    body = encode_event(make_event(SUBMITTED))
    assert body == (
        b'{"actor":"s\xe1\xbb\x9f TT&TT","event_id":"e1","key":null,"payload":{"evidence":'
        b'"1018/Q\xc4\x90-UBND","indicator":"I01","note":"","type":"indicator_submitted",'
        b'"unit_id":"DATDO","value":"84.030","year":2020},"prev_hash":"' + b"0" * 64 + b'",'
        b'"recorded_at":"2021-03-01T08:00:00Z","schema":1,"seq":1}'
    )
    raw = event_ids.decode(body)
    assert list(raw) == sorted(raw)
    assert list(raw["payload"]) == sorted(raw["payload"])
    assert raw["payload"]["value"] == "84.030"  # exact, trailing zero kept, a string


def test_leaf_hash_is_sha256_of_zero_byte_and_body():
    body = encode_event(make_event(SUBMITTED))
    assert leaf_hash(body) == hashlib.sha256(b"\x00" + body).digest()
    assert leaf_hash_hex(body) == leaf_hash(body).hex()
    assert GENESIS_PREV_HASH == "0" * 64


@examples(150)
@given(payloads)
def test_every_payload_round_trips_to_the_same_bytes(payload):
    event = make_event(payload, seq=7, key="k")
    body = encode_event(event)
    decoded = decode_event(body)
    assert decoded == event
    assert encode_event(decoded) == body
    assert b"\n" not in body and b": " not in body


@pytest.mark.parametrize("bad", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_non_finite_decimals_are_refused_everywhere(bad):
    with pytest.raises(ValueError):
        check_value(Decimal(bad))
    with pytest.raises(ValueError):
        IndicatorSubmitted(year=2020, unit_id="U", indicator="I", value=Decimal(bad))
    body = encode_event(make_event(SUBMITTED)).replace(b'"84.030"', b'"' + bad.encode() + b'"')
    with pytest.raises(DecodeError):
        decode_event(body)


def test_check_value():
    assert check_value(True) is True
    assert check_value(Decimal("0.5")) == Decimal("0.5")
    assert check_value(Choice("chủ tịch")) == Choice("chủ tịch")
    for bad in [0.5, 1, "1", None, Choice("")]:
        with pytest.raises((TypeError, ValueError)):
            check_value(bad)


def _body_with(**changes) -> bytes:
    raw = event_ids.decode(encode_event(make_event(SUBMITTED)))
    for path, value in changes.items():
        target = raw
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        if value is KeyError:
            del target[leaf]
        else:
            target[leaf] = value
    return msgspec.json.encode(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"extra": 1},  # unknown envelope field
        {"payload__extra": 1},  # unknown payload field
        {"payload__type": "indicator_guessed"},  # unknown tag
        {"payload__year": "2020"},  # wrong type
        {"payload__value": 84.03},  # a float where an exact value belongs... decodes? see below
        {"recorded_at": "2021-03-01T08:00:00"},  # naive time
        {"recorded_at": "2021-03-01T15:00:00+07:00"},  # not UTC
        {"schema": 2},  # written by a newer program
        {"seq": KeyError},  # missing field
    ],
)
def test_decoding_is_strict(changes):
    body = _body_with(**changes)
    if changes.get("payload__value") == 84.03:
        # msgspec reads a JSON number into Decimal exactly; such a body is not canonical and
        # `verify` reports it (see test_tamper_evidence), but it is not a float.
        event = decode_event(body)
        assert event.payload.value == Decimal("84.03")
        assert encode_event(event) != body
        return
    with pytest.raises(DecodeError):
        decode_event(body)


def test_garbage_is_a_decode_error():
    for junk in [b"", b"{", b"[]", b"null", b'{"schema":1}', b"\xff\xfe"]:
        with pytest.raises(DecodeError):
            decode_event(junk)


def test_time_key_is_fixed_width_and_sorts_like_time():
    a = dt.datetime(2021, 3, 1, 8, 0, 0, tzinfo=dt.timezone.utc)
    b = a + dt.timedelta(microseconds=500)
    c = dt.datetime(2021, 3, 1, 15, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # 08:00:01Z
    keys = [time_key(a), time_key(b), time_key(c)]
    assert keys == sorted(keys) and len(set(map(len, keys))) == 1
    assert keys[0] == "2021-03-01T08:00:00.000000Z"
    assert parse_time_key(keys[2]) == c
    with pytest.raises(ValueError):
        time_key(dt.datetime(2021, 3, 1))


def test_unit_payload_example_bytes():
    event = make_event(UnitRegistered(unit_id="26506", tier="commune", name="Phường 1", parent_id="747"))
    assert decode_event(encode_event(event)).payload.name == "Phường 1"


def test_invalid_utf8_is_a_decode_error():
    body = encode_event(make_event(SUBMITTED))
    with pytest.raises(DecodeError, match="UTF-8"):
        decode_event(b'{"actor":"\xe1' + body[10:])


def test_parse_decimal_is_exact_and_strict():
    from events.types import parse_decimal

    assert parse_decimal("84.030") == Decimal("84.030") and str(parse_decimal("84.030")) == "84.030"
    assert parse_decimal("-0.5") == Decimal("-0.5")
    assert parse_decimal("12") == Decimal(12)
    assert parse_decimal(".5") == Decimal("0.5")
    for bad in ["", " 1", "1,5", "1e5", "NaN", "Infinity", "1.2.3", "1 000", "١٢", "+", "."]:
        with pytest.raises(ValueError):
            parse_decimal(bad)
