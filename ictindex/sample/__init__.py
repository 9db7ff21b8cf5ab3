"""The Bà Rịa–Vũng Tàu 2020 sample: real units, illustrative values, the published figures.

`build_sample(app)` writes the whole story into a log: the units, the adoption of
local-ict@2020, every unit's submissions, the publication of the three rankings (Decision
1018/QĐ-UBND), and afterwards a commune's disputed value, corrected with a reason and an
authority.  Timestamps and event ids are fixed, so the sample log is the same bytes everywhere.

The units are real (statistics-office codes and names; departments as far as they could be
confirmed, see docs/sample.md).  The indicator values are illustrative, made by
`ictindex.sample.generate` so that the replay reproduces the six published figures exactly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ictindex.errors import UsageError

if TYPE_CHECKING:
    from ictindex.app import Ictindex

SAMPLE_DIR = Path(str(resources.files(__package__)))
UNITS_CSV = SAMPLE_DIR / "units.csv"
SUBMISSIONS_CSV = SAMPLE_DIR / "submissions.csv"

YEAR = 2020
EDITION = "local-ict@2020"
DECISION = "1018/QĐ-UBND"

# (first unit, its published points, last unit, its published points) per tier.
PUBLISHED = {
    "department": ("SCT", "94.79", "SNGV", "70.17"),
    "district": ("752", "88.93", "753", "84.03"),
    "commune": ("26677", "88.98", "26599", "63.81"),
}

# Sở Công Thương and Sở Ngoại vụ are in the published table; Tài chính, Khoa học và Công nghệ,
# Thông tin và Truyền thông, Du lịch and Văn hóa và Thể thao are confirmed to exist in BR-VT;
# the others are the departments every province has (unverified for the 2020 ranking).
DEPARTMENTS = [
    ("SCT", "Sở Công Thương"),
    ("SNGV", "Sở Ngoại vụ"),
    ("STC", "Sở Tài chính"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("STTTT", "Sở Thông tin và Truyền thông"),
    ("SDL", "Sở Du lịch"),
    ("SVHTT", "Sở Văn hóa và Thể thao"),
    ("SNV", "Sở Nội vụ"),
    ("STP", "Sở Tư pháp"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư"),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("SGTVT", "Sở Giao thông vận tải"),
    ("SXD", "Sở Xây dựng"),
    ("STNMT", "Sở Tài nguyên và Môi trường"),
    ("SLDTBXH", "Sở Lao động – Thương binh và Xã hội"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SYT", "Sở Y tế"),
    ("TTT", "Thanh tra tỉnh"),
    ("VPUBND", "Văn phòng UBND tỉnh"),
]

# After the publication: Xã Bình Châu (Xuyên Mộc) shows that the dossiers it received through
# the national public-service portal were left out of its online count; the Department of
# Information and Communications checks and accepts.
CORRECTION = {
    "unit_id": "26656",
    "indicator": "dossiers_online",
    "reason": ("Hồ sơ tiếp nhận qua Cổng dịch vụ công quốc gia chưa được tính vào số hồ sơ "
               "trực tuyến (the dossiers received through the national public-service portal "
               "were left out of the online count)"),
    "authority": "Công văn số 1234/STTTT-CNTT ngày 15/06/2021 của Sở Thông tin và Truyền thông",
    "share": "0.985",  # the corrected online share of all dossiers
}

_PREFIX = {"Thành phố": "thành phố", "Thị xã": "thị xã", "Huyện": "huyện",
           "Phường": "phường", "Xã": "xã", "Thị trấn": "thị trấn"}


def unit_name(kind: str, name: str) -> str:
    """'Huyện Long Điền' → 'UBND huyện Long Điền', as the published table names it."""
    return f"UBND {_PREFIX[kind]} {name.removeprefix(kind).strip()}"


def _times() -> Iterator[dt.datetime]:
    """Recorded times of the story's steps (UTC), fixed so the log is reproducible."""
    for day, hour in (((2021, 1, 5), 2), ((2021, 1, 5), 3), ((2021, 2, 26), 8),
                      ((2021, 4, 28), 9), ((2021, 6, 16), 2)):
        yield dt.datetime(*day, hour, 0, tzinfo=dt.timezone.utc)


def _ids() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield uuid.uuid5(uuid.NAMESPACE_URL, f"ictindex:sample:brvt-2020:{n}").hex


def build_sample(app: "Ictindex") -> dict[str, object]:
    """Write the sample story into an empty log; returns the seqs a reader may want."""
    from engine.asof import AsOf
    from ictindex import replay

    if app.store.last_seq():
        raise UsageError("the sample needs an empty log")
    times = _times()
    ids = _ids()
    app.store.new_event_id = lambda: next(ids)
    now = next(times)
    app.store.clock = lambda: now
    app.import_units(UNITS_CSV, actor="so-tttt")
    now = next(times)
    app.adopt(EDITION, YEAR, actor="so-tttt")
    now = next(times)
    app.import_submissions(SUBMISSIONS_CSV, actor="so-tttt")
    now = next(times)
    published = {}
    for tier in ("department", "district", "commune"):
        event, _ = replay.publish(app, YEAR, tier, decision=DECISION, date=None, actor="ubnd-tinh")
        published[tier] = event.seq
    now = next(times)
    target = _submission(app, CORRECTION["unit_id"], CORRECTION["indicator"])
    total = app.state().year_state(YEAR).value(CORRECTION["unit_id"], "dossiers_total")
    new_value = (total * Decimal(CORRECTION["share"])).to_integral_value()
    correction = app.correct(target.seq, str(new_value), reason=CORRECTION["reason"],
                             authority=CORRECTION["authority"], actor="so-tttt")
    return {"published": published, "correction": correction.seq,
            "corrected_submission": target.seq, "as_of_published": AsOf(kind="published")}


def _submission(app: "Ictindex", unit_id: str, indicator: str):
    for e in app.store.read(year=YEAR, unit_id=unit_id, indicator=indicator):
        return e
    raise LookupError(f"the sample has no submission of {indicator} by {unit_id}")
