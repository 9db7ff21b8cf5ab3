"""Shared helpers for the events tests: hypothesis strategies, deterministic clocks and ids."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from events.types import (
    TIERS,
    Choice,
    IndicatorCorrected,
    IndicatorRetracted,
    IndicatorSubmitted,
    MethodologyAdopted,
    RankingPublished,
    SigningKeyRegistered,
    SplitPart,
    UnitRegistered,
    UnitRenamed,
    UnitRetired,
    UnitSplit,
    UnitsMerged,
)

from events.testing import T0, StepClock, counter_ids, submission  # noqa: E402,F401  (shared)


# Text people type: Vietnamese letters, digits, punctuation, some of anything else.
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
texts = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " 0123456789-/.,", max_size=20) | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8
)
ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=8)
years = st.integers(min_value=2015, max_value=2030)
tiers = st.sampled_from(TIERS)
decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9, places=4)
values = st.one_of(st.booleans(), decimals, st.builds(Choice, ids))
hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
event_refs = st.text(alphabet="0123456789abcdef", min_size=8, max_size=32)

payloads = st.one_of(
    st.builds(UnitRegistered, ids, tiers, texts, st.none() | ids, st.none() | years),
    st.builds(UnitRenamed, ids, texts, years),
    st.builds(UnitRetired, ids, years, st.none() | ids, texts),
    st.builds(MethodologyAdopted, years, tiers, ids, hex64),
    st.builds(IndicatorSubmitted, years, ids, ids, values, texts, texts),
    st.builds(IndicatorCorrected, event_refs, years, ids, ids, values, texts, texts),
    st.builds(IndicatorRetracted, event_refs, years, ids, ids, texts, texts),
    st.builds(
        RankingPublished,
        years,
        tiers,
        ids,
        hex64,
        st.integers(min_value=0, max_value=10**6),
        hex64,
        hex64,
        texts,
        st.none() | st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 12, 31)),
    ),
    st.builds(SigningKeyRegistered, ids, texts, texts),
    st.builds(UnitsMerged, st.lists(ids, min_size=1, max_size=3).map(tuple), ids, tiers,
              st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 12, 31)), texts,
              texts, texts, st.none() | ids),
    st.builds(UnitSplit, ids, st.lists(st.builds(SplitPart, ids, texts), min_size=1,
                                       max_size=3).map(tuple),
              st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 12, 31)), texts,
              texts),
)

# A log as a list of batches, each a list of payloads.
batches = st.lists(st.lists(payloads, min_size=1, max_size=6), min_size=1, max_size=6)


def examples(n: int = 40):
    """Hypothesis settings for these tests (applied per test, never as a global profile)."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
