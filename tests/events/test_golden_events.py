"""Golden bytes: one stored event per payload type and schema version, checked in.

Files are tests/events/golden/<tag>.v<schema>.json, each the exact canonical bytes of one
event.  They must keep decoding to the same event and re-encoding to the same bytes forever:
a change to a payload type that breaks one of them breaks every log already written.  When a
schema version is added, the files of the old version stay (and must decode through the
upcasters) and new ones are written for the new version:

    ICTINDEX_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/events/test_golden_events.py

writes the files that are missing, never overwrites one.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from events.canonical import decode_event, encode_event, leaf_hash_hex
from events.types import (
    PAYLOAD_TAGS,
    PAYLOAD_TYPES,
    SCHEMA_VERSION,
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    RankingPublished,
    PublishedTier,
    SigningKeyRegistered,
    SplitPart,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitSplit,
    UnitsMerged,
)

GOLDEN = Path(__file__).parent / "golden"
AT = dt.datetime(2021, 3, 1, 8, 30, 15, 250000, tzinfo=dt.timezone.utc)
PREV = "9f1c3a0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468"

PAYLOADS = {
    "unit_registered": UnitRegistered(
        unit_id="26554", tier="commune", name="Thị trấn Đất Đỏ", parent_id="754", from_year=2019
    ),
    "unit_renamed": UnitRenamed(unit_id="754", name="Huyện Long Đất", from_year=2021),
    "unit_retired": UnitRetired(
        unit_id="26554", last_year=2024, merged_into="26560", reason="Nghị quyết 1278/NQ-UBTVQH15"
    ),
    "units_merged": UnitsMerged(
        sources=("26680", "26683", "26686"),
        target="26680",
        tier="commune",
        date=dt.date(2025, 7, 1),
        reason="Sắp xếp đơn vị hành chính cấp xã năm 2025",
        authority="Nghị quyết 1656/NQ-UBTVQH15",
        name="Xã Đất Đỏ",
    ),
    "unit_split": UnitSplit(
        unit_id="26554",
        into=(SplitPart(unit_id="26554", name="Phường 1"), SplitPart(unit_id="26555", name="Phường 2")),
        date=dt.date(2023, 1, 1),
        reason="Chia tách để quản lý dân cư",
        authority="Nghị quyết 123/NQ-UBTVQH15",
    ),
    "methodology_adopted": MethodologyAdopted(
        year=2020,
        tier="district",
        edition="vn-local-ict@2020",
        content_hash="3b6f2c8a1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
    ),
    "indicator_submitted": IndicatorSubmitted(
        year=2020,
        unit_id="754",
        indicator="HT-01",
        value=Decimal("84.030"),
        evidence="Báo cáo 112/BC-UBND ngày 15/01/2021",
        note="Số liệu đến 31/12/2020",
    ),
    "indicator_corrected": IndicatorCorrected(
        corrects="0f8e2d4c6a8b4e1f9c3d5b7a9e1f3c5d",
        year=2020,
        unit_id="754",
        indicator="CS-02",
        value=Choice("chủ tịch UBND"),
        reason="Phúc khảo: văn bản phân công bị bỏ sót",
        authority="Công văn 245/STTTT-CNTT",
    ),
    "indicator_retracted": IndicatorRetracted(
        retracts="7a6b5c4d3e2f41a0b9c8d7e6f5a4b3c2",
        year=2020,
        unit_id="754",
        indicator="AT-03",
        reason="Nhập trùng",
        authority="Sở TT&TT",
    ),
    "ranking_published": RankingPublished(
        year=2020,
        tier="district",
        edition="vn-local-ict@2020",
        content_hash="3b6f2c8a1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
        checkpoint_size=4812,
        checkpoint_root="5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        result_hash="c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
        decision="1018/QĐ-UBND",
        date=dt.date(2021, 4, 20),
    ),
    "signing_key_registered": SigningKeyRegistered(
        name="ictindex.example/brvt",
        key="ictindex.example/brvt+5c22a17c+AQwnGoLk/NVUsLg3375FHffDyWbf7saITFFZ5ogNs8tN",
        reason="Quyết định 1018/QĐ-UBND: khóa ký điểm kiểm tra",
    ),
}
# A yes/no value too, since Value is a union of three kinds.
PAYLOADS_EXTRA = {
    "indicator_submitted.bool": IndicatorSubmitted(
        year=2020, unit_id="26554", indicator="CS-01", value=True
    ),
    # One decision publishing several tiers in one event (the added `also` field).
    "ranking_published.tiers": RankingPublished(
        year=2020,
        tier="department",
        edition="vn-local-ict@2020",
        content_hash="3b6f2c8a1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
        checkpoint_size=4812,
        checkpoint_root="5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        result_hash="c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
        decision="1018/QĐ-UBND",
        date=dt.date(2021, 4, 20),
        also=(
            PublishedTier(tier="district", edition="vn-local-ict@2020",
                          content_hash="3b6f2c8a1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
                          result_hash="d00dfeed" * 8),
            PublishedTier(tier="commune", edition="vn-local-ict@2020",
                          content_hash="3b6f2c8a1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
                          result_hash="feedface" * 8),
        ),
    ),
    # What `units rename` and `units retire` record: the added fields (date, reason,
    # authority) beside the ones every older rename and retirement has.
    "unit_renamed.dated": UnitRenamed(
        unit_id="754", name="UBND thị xã Phú Mỹ", from_year=2018, date=dt.date(2018, 4, 1),
        reason="Thành lập thị xã Phú Mỹ", authority="Nghị quyết 463/NQ-UBTVQH14",
    ),
    "unit_retired.dated": UnitRetired(
        unit_id="753", last_year=2024, reason="Kết thúc hoạt động của chính quyền cấp huyện",
        date=dt.date(2025, 7, 1), authority="Luật Tổ chức chính quyền địa phương 2025",
    ),
}


def expected_event(name: str, payload) -> Event:
    return Event(
        seq=42,
        event_id="5e1a9c0d3b7f4e2a8c6d0b1f3e5a7c9d",
        recorded_at=AT,
        actor="Sở Thông tin và Truyền thông",
        payload=payload,
        prev_hash=PREV,
        schema=SCHEMA_VERSION,
        key=f"golden:{name}",
    )


CASES = {**PAYLOADS, **PAYLOADS_EXTRA}


def golden_path(name: str, version: int = SCHEMA_VERSION) -> Path:
    return GOLDEN / f"{name}.v{version}.json"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_bytes_decode_and_re_encode_identically(name):
    event = expected_event(name, CASES[name])
    path = golden_path(name)
    if not path.exists():
        if os.environ.get("ICTINDEX_WRITE_GOLDEN") == "1":
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(encode_event(event))
        pytest.fail(f"{path} is missing (write it with ICTINDEX_WRITE_GOLDEN=1)")
    stored = path.read_bytes()
    decoded = decode_event(stored)
    assert decoded == event
    assert encode_event(decoded) == stored
    assert encode_event(event) == stored


def test_every_payload_type_has_a_golden_file_for_the_current_version():
    assert set(PAYLOADS) == set(PAYLOAD_TAGS.values()) == {PAYLOAD_TAGS[t] for t in PAYLOAD_TYPES}
    for tag in PAYLOADS:
        assert golden_path(tag).exists(), tag


def test_every_golden_file_ever_written_still_decodes():
    files = sorted(GOLDEN.glob("*.v*.json"))
    assert files
    for path in files:
        event = decode_event(path.read_bytes())
        assert event.schema == SCHEMA_VERSION
        assert len(leaf_hash_hex(path.read_bytes())) == 64
