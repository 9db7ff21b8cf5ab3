"""As-of points: which prefix of the log a replay reads.

Written forms (`parse_as_of`): ``now`` (the whole log), ``published`` (the log as it was when
the latest publication of that year and tier was computed: its checkpoint size), a sequence
number (``5120`` or ``seq:5120``), or a UTC time (``2021-04-01T00:00:00Z``; a bare date means the
end of that day, UTC).  Times must carry their zone or be given as dates: the engine never
guesses a local time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from engine.fold import LogState

__all__ = ["AsOf", "parse_as_of", "published_seq"]


class AsOf(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["now", "published", "seq", "time"]
    seq: int | None = None
    time: dt.datetime | None = None

    def describe(self) -> str:
        if self.kind == "seq":
            return f"seq {self.seq}"
        if self.kind == "time":
            return "time " + self.time.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        return self.kind


def parse_as_of(text: str) -> AsOf:
    s = text.strip()
    low = s.lower()
    if low in ("now", "published"):
        return AsOf(kind=low)  # type: ignore[arg-type]
    if low.startswith("seq:") or low.startswith("seq "):
        s = s[4:].strip()
        low = s
    if s.isdigit():
        n = int(s)
        if n < 0:
            raise ValueError(f"as-of seq must be >= 0, got {text!r}")
        return AsOf(kind="seq", seq=n)
    try:
        if len(s) == 10:
            d = dt.date.fromisoformat(s)
            t = dt.datetime.combine(d, dt.time(23, 59, 59, 999999), tzinfo=dt.timezone.utc)
        else:
            t = dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"cannot read as-of point {text!r}: use now, published, a seq number, "
            "a date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM:SSZ)"
        ) from None
    if t.tzinfo is None:
        raise ValueError(f"as-of time {text!r} has no time zone: add Z for UTC")
    return AsOf(kind="time", time=t.astimezone(dt.timezone.utc))


def published_seq(state: LogState, year: int, tier: str) -> int:
    """The checkpoint size of the latest publication of (year, tier) in a folded log."""
    pub = state.year_state(year).latest_publication(tier)
    if pub is None:
        raise LookupError(f"no ranking of tier {tier} for {year} has been published")
    return pub.checkpoint_size
