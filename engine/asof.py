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
from events.refusal import BadArgument

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


_FORMS = ("use now, published, a seq number, a date (YYYY-MM-DD) or a UTC time "
          "(YYYY-MM-DDTHH:MM:SSZ)")
_MAX_SEQ = 2**63 - 1  # SQLite's largest integer: no log can have more events


def parse_as_of(text: str) -> AsOf:
    """An as-of point; anything else is refused with `BadArgument` (a ValueError)."""
    s = text.strip()
    low = s.lower()
    if low in ("now", "published"):
        return AsOf(kind=low)  # type: ignore[arg-type]
    if low.startswith("seq:") or low.startswith("seq "):
        s = s[4:].strip()
        low = s
    if s.isascii() and s.isdigit():
        n = int(s)
        if n > _MAX_SEQ:
            raise BadArgument(f"as-of seq {s} is larger than any log can be")
        return AsOf(kind="seq", seq=n)
    try:
        if not s.isascii():
            raise ValueError(s)  # fromisoformat reads other scripts' digits
        if len(s) == 10:
            d = dt.date.fromisoformat(s)
            t = dt.datetime.combine(d, dt.time(23, 59, 59, 999999), tzinfo=dt.timezone.utc)
        else:
            t = dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadArgument(f"cannot read as-of point {text!r}: {_FORMS}") from None
    if t.tzinfo is None:
        raise BadArgument(f"as-of time {text!r} has no time zone: add Z for UTC")
    try:
        utc = t.astimezone(dt.timezone.utc)
    except OverflowError:
        raise BadArgument(f"as-of time {text!r} is outside the years 1..9999 once in UTC") from None
    return AsOf(kind="time", time=utc)


def published_seq(state: LogState, year: int, tier: str) -> int:
    """The checkpoint size of the latest publication of (year, tier) in a folded log."""
    pub = state.year_state(year).latest_publication(tier)
    if pub is None:
        raise LookupError(f"no ranking of tier {tier} for {year} has been published")
    return pub.checkpoint_size
