"""Event types: every fact the log can hold, as frozen, tagged msgspec structs.

The payload types together form one tagged union (`Payload`); the `Event` envelope wraps a
payload with its position in the log.  Unknown fields and unknown tags are decoding errors, so
an event written by a newer version is refused rather than half-read.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal, Union

import msgspec
from msgspec import UNSET, UnsetType

SCHEMA_VERSION = 1

Tier = Literal["department", "district", "commune", "province"]
TIERS: tuple[str, ...] = ("department", "district", "commune", "province")


class Choice(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """The value of a category indicator (e.g. who heads the steering committee)."""

    choice: str


# A submitted value: an exact decimal (counts, ratios, percentages, points), yes/no, or a
# category.  Decimals travel as JSON strings, never as binary floats.
Value = Union[bool, Decimal, Choice]


def check_event_value(value: object) -> Value:
    """Return `value` if it is a valid `Value`, else raise `ValueError` (or `TypeError`).

    Decimals must be finite (no NaN, sNaN or Infinity: a score built on them is not
    reproducible); a `Choice` must name a non-empty choice.  Binary floats are refused: they are
    not exact.  Used by the payload structs on construction and decoding, by the store and by
    the importers.
    """
    if type(value) is bool:
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"decimal value must be finite, got {value}")
        return value
    if isinstance(value, Choice):
        if not isinstance(value.choice, str) or not value.choice:
            raise ValueError("a choice must be a non-empty string")
        return value
    raise TypeError(
        f"value must be bool, Decimal or Choice, got {type(value).__name__} {value!r}"
    )


_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_decimal(text: str) -> Decimal:
    """The exact Decimal of plain decimal text (`84.03`, `-0.5`, `12`), else `ValueError`.

    Only digits, one optional sign and one optional point: no exponent, no NaN or Infinity,
    no thousands separators, no decimal comma (the input readers turn `84,03` into `84.03`
    when asked to with `decimal_comma=True`).  Surrounding spaces are not accepted either:
    the readers trim fields.
    """
    if not isinstance(text, str) or not _DECIMAL_TEXT.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number (digits and one '.', no exponent)")
    return Decimal(text)


# Fields added after schema 1 was fixed hold UNSET when not given, and UNSET is never encoded:
# the bytes (and hashes) of every event written without them stay exactly as they were.
OptionalText = str | UnsetType


def _unset_empty(payload: object, *names: str) -> None:
    """An empty added field is UNSET, so each payload has one canonical encoding."""
    for name in names:
        if getattr(payload, name) == "":
            msgspec.structs.force_setattr(payload, name, UNSET)


class _Payload(msgspec.Struct, frozen=True, tag=True, forbid_unknown_fields=True, gc=False):
    # gc=False (here and on Event): frozen events hold only strings, numbers, dates and other
    # untracked structs, so they can never be part of a reference cycle; untracked, the
    # hundreds of thousands a national fold keeps cost the garbage collector nothing.
    pass


class UnitRegistered(_Payload, tag="unit_registered"):
    """A unit (department, district, commune or province) exists from `from_year` on."""

    unit_id: str
    tier: Tier
    name: str
    parent_id: str | None = None
    from_year: int | None = None


class UnitRenamed(_Payload, tag="unit_renamed"):
    """A unit carries a new name from `from_year` on; earlier years keep the old one."""

    unit_id: str
    name: str
    from_year: int
    # Recorded by `units rename` (absent from renames recorded before): the day the decision
    # takes effect (`from_year` is its year), why, and the decision.
    date: dt.date | UnsetType = UNSET
    reason: OptionalText = UNSET
    authority: OptionalText = UNSET

    def __post_init__(self) -> None:
        _unset_empty(self, "reason", "authority")


class UnitRetired(_Payload, tag="unit_retired"):
    """A unit's last year is `last_year`; communes merge, districts were abolished in 2025."""

    unit_id: str
    last_year: int
    merged_into: str | None = None
    reason: str = ""
    # Recorded by `units retire`: the day the unit ceases to exist (`last_year` is the year
    # before it) and the decision.
    date: dt.date | UnsetType = UNSET
    authority: OptionalText = UNSET

    def __post_init__(self) -> None:
        _unset_empty(self, "authority")


class UnitsMerged(_Payload, tag="units_merged"):
    """`sources` are merged into `target` from `date` on, by the decision `authority`.

    The target is a new unit (then `name` is its name) or one of the sources, which goes on
    (renamed to `name` when given); the other sources cease to exist.  All are of `tier`.
    A change counts from the year of its date: the merged unit is ranked from `date.year` on,
    the sources it replaces up to the year before (docs/units.md).
    """

    sources: tuple[str, ...]
    target: str
    tier: Tier
    date: dt.date
    reason: str
    authority: str
    name: OptionalText = UNSET
    parent_id: str | None = None  # a new target's parent

    def __post_init__(self) -> None:
        _unset_empty(self, "name")


class SplitPart(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """One unit a split makes: its id and name."""

    unit_id: str
    name: str


class UnitSplit(_Payload, tag="unit_split"):
    """`unit_id` is split into the units `into` from `date` on, by the decision `authority`.

    The parts are new units of the split unit's tier and parent, except a part with the split
    unit's own id: that unit goes on (under the part's name) instead of ceasing to exist.
    """

    unit_id: str
    into: tuple[SplitPart, ...]
    date: dt.date
    reason: str
    authority: str


class MethodologyAdopted(_Payload, tag="methodology_adopted", omit_defaults=True):
    """A year and tier are scored with an edition whose canonical content hashes to `content_hash`."""

    year: int
    tier: Tier
    edition: str
    content_hash: str
    # The code that scores the tier, where it is not ictindex's own: rule kind → "distribution
    # version" of the plugin that registered it (plugins.manager.Registry.adopted_code).  Left
    # out of the bytes when empty (omit_defaults), as in every adoption recorded before it was.
    rule_kinds: dict[str, str] = {}
    # A re-adoption (another edition or content for a year and tier that had one) says why.
    reason: OptionalText = UNSET
    authority: OptionalText = UNSET

    def __post_init__(self) -> None:
        _unset_empty(self, "reason", "authority")


class IndicatorSubmitted(_Payload, tag="indicator_submitted"):
    """A unit reports the value of one indicator for one year, with its evidence."""

    year: int
    unit_id: str
    indicator: str
    value: Value
    evidence: str = ""
    note: str = ""
    # A value recorded after the year and tier were published, or again after a retraction,
    # says why, like a correction.
    reason: OptionalText = UNSET
    authority: OptionalText = UNSET

    def __post_init__(self) -> None:
        check_event_value(self.value)
        _unset_empty(self, "reason", "authority")


class IndicatorCorrected(_Payload, tag="indicator_corrected"):
    """The submission `corrects` (an event id) now has `value`; the original stays in the log."""

    corrects: str
    year: int
    unit_id: str
    indicator: str
    value: Value
    reason: str
    authority: str = ""

    def __post_init__(self) -> None:
        check_event_value(self.value)


class IndicatorRetracted(_Payload, tag="indicator_retracted"):
    """The submission or correction `retracts` (an event id) no longer counts."""

    retracts: str
    year: int
    unit_id: str
    indicator: str
    reason: str
    authority: str = ""


class PublishedTier(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """One more tier that a publication event publishes, computed from the same checkpoint."""

    tier: Tier
    edition: str
    content_hash: str
    result_hash: str


class RankingPublished(_Payload, tag="ranking_published"):
    """A ranking was published: computed from the log's first `checkpoint_size` events.

    A decision that publishes several tiers records them in one event: `tier` and its result
    first, the others in `also`, so that the decision names one checkpoint (the log right
    after the event).  `per_tier` reads such an event as one publication per tier."""

    year: int
    tier: Tier
    edition: str
    content_hash: str
    checkpoint_size: int
    checkpoint_root: str
    result_hash: str
    decision: str
    date: dt.date | None = None
    # A publication under a decision already published with another result replaces it.
    supersedes: OptionalText = UNSET  # the event id of the publication it replaces
    reason: OptionalText = UNSET
    also: tuple[PublishedTier, ...] | UnsetType = UNSET

    def __post_init__(self) -> None:
        _unset_empty(self, "supersedes", "reason")
        if self.also == ():
            msgspec.structs.force_setattr(self, "also", UNSET)
        elif self.also is not UNSET:
            tiers = [self.tier] + [t.tier for t in self.also]
            if len(set(tiers)) != len(tiers):
                raise ValueError(f"a publication names a tier twice: {', '.join(tiers)}")

    def per_tier(self) -> tuple["RankingPublished", ...]:
        """The publication of each tier this event publishes, `tier` first, each on its own."""
        if self.also is UNSET:
            return (self,)
        first = msgspec.structs.replace(self, also=UNSET)
        return (first, *(msgspec.structs.replace(
            first, tier=t.tier, edition=t.edition, content_hash=t.content_hash,
            result_hash=t.result_hash) for t in self.also))


class SigningKeyRegistered(_Payload, tag="signing_key_registered"):
    """The public key that signs the log's checkpoints from now on: its C2SP signed-note
    verifier key (`name+keyid+base64`, see events.note) and the name it signs as.  The private
    key never enters the log."""

    name: str
    key: str
    reason: str = ""


Payload = Union[
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitsMerged,
    UnitSplit,
    MethodologyAdopted,
    IndicatorSubmitted,
    IndicatorCorrected,
    IndicatorRetracted,
    RankingPublished,
    SigningKeyRegistered,
]

PAYLOAD_TYPES: tuple[type, ...] = Payload.__args__  # type: ignore[attr-defined]

# The tag of every payload type, as written in the `type` field of its canonical JSON.
PAYLOAD_TAGS: dict[type, str] = {t: t.__struct_config__.tag for t in PAYLOAD_TYPES}


def units_named(payload: object) -> tuple[str, ...]:
    """The units a payload is about: its `unit_id`, a merge's sources and target, a split's
    unit and parts (in that order, each once)."""
    if type(payload) is UnitsMerged:
        return tuple(dict.fromkeys((*payload.sources, payload.target)))
    if type(payload) is UnitSplit:
        return tuple(dict.fromkeys((payload.unit_id, *(p.unit_id for p in payload.into))))
    unit_id = getattr(payload, "unit_id", None)
    return () if unit_id is None else (unit_id,)


def payload_tag(payload: object) -> str:
    """The tag of a payload (`"indicator_submitted"`, ...); `TypeError` if it is not one."""
    try:
        return PAYLOAD_TAGS[type(payload)]
    except KeyError:
        raise TypeError(f"not an event payload: {type(payload).__name__}") from None


class Event(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """A payload at its place in the log.

    `seq` is gapless from 1 and assigned by the store; `prev_hash` is the leaf hash of event
    `seq - 1` (64 zeros for the first), so the canonical bytes of each event chain to the one
    before it.
    """

    seq: int
    event_id: str
    recorded_at: dt.datetime
    actor: str
    payload: Payload
    prev_hash: str
    schema: int = SCHEMA_VERSION
    key: str | None = None
