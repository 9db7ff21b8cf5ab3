"""The event log: event types, canonical bytes, Merkle tree, SQLite store, verify, inputs.

The public API, importable from `events` directly:

- types: `Event`, the payload structs, `Payload`, `Value`, `Choice`, `check_event_value`,
  `parse_decimal`
- bytes: `encode_event`, `decode_event`, `leaf_hash`, `GENESIS_PREV_HASH`
- tree: `Checkpoint`, `InclusionProof`, `ConsistencyProof`, `verify_inclusion`,
  `verify_consistency`
- store: `EventStore`, `EventLog` (the interface), `ConcurrencyError`, `EventNotFound`
- `verify`, `VerifyReport`
- inputs: `read_submissions`, `read_units`, `InputError`, `InputErrors`

See docs/events.md.  `EventStore` is loaded on first use (PEP 562): importing `events` or
`events.types` does not pay for sqlite-utils (nor openpyxl, which `events.xlsx` imports only
when a workbook is read).
"""

from __future__ import annotations

from typing import Any

from .canonical import (
    GENESIS_PREV_HASH,
    DecodeError,
    decode_event,
    encode_event,
    leaf_hash,
    leaf_hash_hex,
)
from .checks import check_payload
from .inputs import (
    InputError,
    InputErrors,
    SubmissionRow,
    TableReader,
    UnitRow,
    read_submissions,
    read_units,
)
from .interface import AppendResult, ConcurrencyError, EventLog, EventNotFound, StoredRow
from .merkle import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    verify_consistency,
    verify_inclusion,
)
from .types import (
    PAYLOAD_TYPES,
    SCHEMA_VERSION,
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    Payload,
    RankingPublished,
    PublishedTier,
    SigningKeyRegistered,
    SplitPart,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitSplit,
    UnitsMerged,
    Value,
    check_event_value,
    parse_decimal,
    payload_tag,
)
from .upcast import UPCASTERS, Upcasters
from .verify import VerifyReport, verify


def __getattr__(name: str) -> Any:
    if name == "EventStore":
        from .store import EventStore

        globals()["EventStore"] = EventStore
        return EventStore
    raise AttributeError(f"module 'events' has no attribute {name!r}")


__all__ = [
    "GENESIS_PREV_HASH",
    "PAYLOAD_TYPES",
    "SCHEMA_VERSION",
    "UPCASTERS",
    "AppendResult",
    "Checkpoint",
    "Choice",
    "ConcurrencyError",
    "ConsistencyProof",
    "DecodeError",
    "Event",
    "EventLog",
    "EventNotFound",
    "EventStore",
    "InclusionProof",
    "IndicatorCorrected",
    "IndicatorRetracted",
    "IndicatorSubmitted",
    "InputError",
    "InputErrors",
    "MethodologyAdopted",
    "Payload",
    "RankingPublished",
    "PublishedTier",
    "SigningKeyRegistered",
    "SplitPart",
    "StoredRow",
    "SubmissionRow",
    "TableReader",
    "UnitRegistered",
    "UnitRenamed",
    "UnitRetired",
    "UnitRow",
    "UnitSplit",
    "UnitsMerged",
    "Upcasters",
    "Value",
    "VerifyReport",
    "check_payload",
    "check_event_value",
    "decode_event",
    "encode_event",
    "leaf_hash",
    "leaf_hash_hex",
    "parse_decimal",
    "payload_tag",
    "read_submissions",
    "read_units",
    "verify",
    "verify_consistency",
    "verify_inclusion",
]
