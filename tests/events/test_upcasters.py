"""Upcasting: old schema versions are decoded through a chain of raw-dict upcasters.

Schema 1 is the first real version, so the chain is exercised with a synthetic schema 0 in
which a submission called its unit `unit` and its value `amount` (a JSON number), and events
had no `key`.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from events.canonical import DecodeError, decode_event, encode_event, leaf_hash
from events.types import SCHEMA_VERSION, IndicatorSubmitted
from events.upcast import UPCASTERS, UpcastError, Upcasters

V0_BODY = (
    b'{"actor":"import","event_id":"e0","payload":{"type":"indicator_submitted","year":2019,'
    b'"unit":"DATDO","indicator":"I01","amount":"12.5"},"prev_hash":"' + b"0" * 64 + b'",'
    b'"recorded_at":"2020-01-02T03:04:05Z","schema":0,"seq":1}'
)


def v0_registry() -> Upcasters:
    reg = Upcasters(current=1)

    @reg.register(0)
    def v0_to_v1(raw: dict) -> dict:
        p = raw["payload"]
        if p.get("type") == "indicator_submitted":
            p["unit_id"] = p.pop("unit")
            p["value"] = p.pop("amount")
        raw.setdefault("key", None)
        return raw

    return reg


def test_the_default_chain_is_empty_for_the_first_version():
    assert SCHEMA_VERSION == 1
    assert UPCASTERS.current == SCHEMA_VERSION
    assert UPCASTERS.versions() == []


def test_v0_event_decodes_to_the_current_type_through_the_upcaster():
    event = decode_event(V0_BODY, upcasters=v0_registry())
    assert event.schema == 1
    assert event.key is None
    assert event.payload == IndicatorSubmitted(
        year=2019, unit_id="DATDO", indicator="I01", value=Decimal("12.5")
    )
    # The stored bytes are never rewritten: the leaf hash stays the hash of the old bytes, and
    # the upcast event re-encodes differently (which is why verify skips the canonical-form
    # check for old versions).
    assert leaf_hash(V0_BODY) != leaf_hash(encode_event(event))


def test_without_an_upcaster_an_old_event_is_refused():
    with pytest.raises(DecodeError, match="no upcaster from schema 0"):
        decode_event(V0_BODY, upcasters=Upcasters(current=1))
    with pytest.raises(DecodeError):
        decode_event(V0_BODY)  # the real registry has no v0


def test_a_v0_body_that_happens_to_fit_the_current_shape_is_still_upcast():
    body = V0_BODY.replace(b'"unit"', b'"unit_id"').replace(b'"amount"', b'"value"')
    calls = []
    reg = Upcasters(current=1)
    reg.register(0)(lambda raw: calls.append(1) or raw)
    assert decode_event(body, upcasters=reg).schema == 1
    assert calls == [1]


def test_upcasters_chain_in_order_and_stamp_the_version():
    reg = Upcasters(current=3)
    reg.register(0)(lambda raw: {**raw, "trail": raw.get("trail", []) + [0]})
    reg.register(2)(lambda raw: {**raw, "trail": raw["trail"] + [2]})
    reg.register(1)(lambda raw: {**raw, "trail": raw["trail"] + [1]})
    assert reg.versions() == [0, 1, 2]
    out = reg.upcast({"schema": 0})
    assert out == {"schema": 3, "trail": [0, 1, 2]}
    assert reg.upcast({"schema": 2, "trail": []}) == {"schema": 3, "trail": [2]}
    assert reg.upcast({"schema": 3}) == {"schema": 3}
    with pytest.raises(UpcastError):
        reg.upcast({"schema": 4})
    with pytest.raises(UpcastError):
        reg.upcast({"schema": "1"})
    with pytest.raises(ValueError):
        reg.register(1)(lambda raw: raw)  # twice
    with pytest.raises(ValueError):
        reg.register(3)  # the current version has nothing to upcast to


def test_an_upcaster_that_produces_an_invalid_event_is_a_decode_error():
    reg = Upcasters(current=1)
    reg.register(0)(lambda raw: raw)  # forgets to rename the fields
    with pytest.raises(DecodeError, match="cannot be upcast"):
        decode_event(V0_BODY, upcasters=reg)
    assert msgspec.json.decode(V0_BODY)["schema"] == 0
