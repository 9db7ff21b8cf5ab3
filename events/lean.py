"""What a replay reads of each stored body: the lean decoding of events.

A replay needs, of an indicator event, its key (year, unit, indicator), its value and the event
it names; the evidence, note, reason, authority, actor, idempotency key and previous hash are
for the audit trail, read back by seq (`EventStore.events_by_seq`) only for the values a trace
shows.  Decoding into these structs skips those fields instead of building a string for each,
which is most of what decoding a national year costs.  The other payloads (the unit registry,
adoptions, publications) are decoded in full: the fold keeps them.

Types are checked as strictly as the full decoding does for the fields read; `verify` checks
every field of every body.  Only the current schema is decoded lean: an older body goes through
the full decoding and its upcasters (`EventStore.read_years(lean=True)` mixes the two, and the
fold accepts both).
"""

from __future__ import annotations

import datetime as dt
from typing import Union

import msgspec

from .types import (
    SCHEMA_VERSION,
    MethodologyAdopted,
    RankingPublished,
    SigningKeyRegistered,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitSplit,
    UnitsMerged,
    Value,
    check_event_value,
)

__all__ = ["LeanEvent", "SubmittedValue", "CorrectedValue", "RetractedValue", "LEAN_DECODER"]


class SubmittedValue(msgspec.Struct, frozen=True, tag="indicator_submitted", gc=False):
    """An IndicatorSubmitted body, without its evidence and note."""

    year: int
    unit_id: str
    indicator: str
    value: Value

    def __post_init__(self) -> None:
        check_event_value(self.value)


class CorrectedValue(msgspec.Struct, frozen=True, tag="indicator_corrected", gc=False):
    """An IndicatorCorrected body, without its reason and authority."""

    corrects: str
    year: int
    unit_id: str
    indicator: str
    value: Value

    def __post_init__(self) -> None:
        check_event_value(self.value)


class RetractedValue(msgspec.Struct, frozen=True, tag="indicator_retracted", gc=False):
    """An IndicatorRetracted body, without its reason and authority."""

    retracts: str
    year: int
    unit_id: str
    indicator: str


LeanPayload = Union[
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitsMerged,
    UnitSplit,
    MethodologyAdopted,
    SubmittedValue,
    CorrectedValue,
    RetractedValue,
    RankingPublished,
    SigningKeyRegistered,
]


class LeanEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as a replay reads it (see the module docstring)."""

    seq: int
    event_id: str
    recorded_at: dt.datetime
    payload: LeanPayload
    schema: int = SCHEMA_VERSION


LEAN_DECODER = msgspec.json.Decoder(LeanEvent)
