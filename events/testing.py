"""The contract every event store must honour, as a base test class shipped in the package.

In the manner of the `eventsourcing` library's recorder tests: a backend's test module
subclasses `StoreContract` and overrides `make_store`; every test here then runs against that
backend.  Only the `EventLog` interface is used, so a PostgreSQL store (or any store in another
package) passes or fails exactly the same tests as the SQLite one.  Needs pytest only:

    # test_my_store.py, in the store's own package
    from events.testing import StepClock, StoreContract, counter_ids

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path, *, clock=None, new_event_id=None):
            return MyStore(..., clock=clock or StepClock(), new_event_id=new_event_id or counter_ids())

Collected by pytest as any test class is (the name of the subclass must start with `Test`).
"""

from __future__ import annotations

import abc

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from .canonical import GENESIS_PREV_HASH, encode_event, leaf_hash
from .interface import AppendResult, ConcurrencyError, EventLog, EventNotFound, LogIntegrityError
from .merkle import EMPTY_ROOT, Checkpoint
from .types import (
    Choice,
    Event,
    IndicatorCorrected,
    IndicatorSubmitted,
    MethodologyAdopted,
    UnitRegistered,
)
from .verify import verify

UTC = dt.timezone.utc
T0 = dt.datetime(2021, 3, 1, 8, 0, tzinfo=UTC)


class StepClock:
    """A clock that starts at `start` and moves `step` forward on every call."""

    def __init__(self, start: dt.datetime = T0, step: dt.timedelta = dt.timedelta(seconds=1)):
        self.now = start
        self.step = step

    def __call__(self) -> dt.datetime:
        t = self.now
        self.now += self.step
        return t


def counter_ids(prefix: str = "ev"):
    """An id factory: ev000001, ev000002, ..."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers):06d}"  # type: ignore[return-value]


def submission(i: int, year: int = 2020, value: str = "84.03") -> IndicatorSubmitted:
    """A plain submission for unit U{i}."""
    return IndicatorSubmitted(
        year=year, unit_id=f"U{i:03d}", indicator="I01", value=Decimal(value), evidence="1018/QĐ-UBND"
    )


class StoreContract(abc.ABC):
    """Subclass and implement `make_store`."""

    @abc.abstractmethod
    def make_store(self, tmp_path, *, clock=None, new_event_id=None) -> EventLog:
        """A new, empty store of the backend under test, kept under `tmp_path`."""

    @pytest.fixture
    def store(self, tmp_path):
        s = self.make_store(tmp_path, clock=StepClock(), new_event_id=counter_ids())
        yield s
        getattr(s, "close", lambda: None)()

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def sample_log(store: EventLog) -> None:
        store.append(
            [
                UnitRegistered(unit_id="747", tier="district", name="Thành phố Vũng Tàu"),
                UnitRegistered(unit_id="26506", tier="commune", name="Phường 1", parent_id="747"),
                MethodologyAdopted(year=2020, tier="commune", edition="e@2020", content_hash="ab" * 32),
            ],
            actor="admin",
        )
        store.append(
            [
                IndicatorSubmitted(year=2020, unit_id="26506", indicator="I01", value=Decimal("12.50")),
                IndicatorSubmitted(year=2020, unit_id="26506", indicator="I02", value=True),
                IndicatorSubmitted(year=2021, unit_id="26506", indicator="I01", value=Decimal("13")),
                IndicatorSubmitted(year=2020, unit_id="747", indicator="I01", value=Choice("có")),
            ],
            actor="importer",
        )
        store.append(
            [
                IndicatorCorrected(corrects="ev000004", year=2020, unit_id="26506", indicator="I01",
                                   value=Decimal("14.25"), reason="phúc khảo"),
            ],
            actor="inspector",
        )  # fmt: skip

    # -- empty log ------------------------------------------------------------------------------

    def test_empty_log(self, store):
        assert store.last_seq() == 0
        assert list(store.read()) == []
        assert store.leaf_hashes() == []
        assert store.checkpoint() == Checkpoint(0, EMPTY_ROOT.hex())
        with pytest.raises(EventNotFound):
            store.get(1)
        assert verify(store).ok

    # -- appending -----------------------------------------------------------------------------

    def test_seqs_are_gapless_and_events_chain(self, store):
        self.sample_log(store)
        events = list(store.read())
        assert [e.seq for e in events] == list(range(1, 9))
        assert events[0].prev_hash == GENESIS_PREV_HASH
        for before, after in itertools.pairwise(events):
            assert after.prev_hash == leaf_hash(encode_event(before)).hex()
        assert store.leaf_hashes() == [leaf_hash(encode_event(e)) for e in events]
        assert store.last_seq() == 8

    def test_append_returns_what_is_stored(self, store):
        out = store.append([submission(1), submission(2)], actor="sở TT&TT", keys=["a", None])
        assert out == list(store.read())
        assert [e.actor for e in out] == ["sở TT&TT"] * 2
        assert [e.key for e in out] == ["a", None]
        assert [e.event_id for e in out] == ["ev000001", "ev000002"]

    def test_recorded_at_comes_from_the_clock_in_utc(self, tmp_path):
        ict = dt.timezone(dt.timedelta(hours=7))
        clock = StepClock(dt.datetime(2021, 3, 1, 15, 0, tzinfo=ict), dt.timedelta(minutes=1))
        store = self.make_store(tmp_path, clock=clock, new_event_id=counter_ids())
        store.append([submission(1), submission(2)], actor="a")  # one batch: one time
        store.append([submission(3)], actor="a")
        times = [e.recorded_at for e in store.read()]
        assert times == [T0.replace(hour=8), T0.replace(hour=8), T0.replace(hour=8, minute=1)]
        assert all(t.utcoffset() == dt.timedelta(0) for t in times)

    def test_recorded_at_never_goes_back(self, tmp_path):
        times = iter([T0, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1)])
        store = self.make_store(tmp_path, clock=lambda: next(times), new_event_id=counter_ids())
        for i in range(3):
            store.append([submission(i)], actor="a")
        assert [e.recorded_at for e in store.read()] == [T0, T0, T0 + dt.timedelta(hours=1)]

    def test_a_naive_clock_is_refused(self, tmp_path):
        store = self.make_store(tmp_path, clock=lambda: dt.datetime(2021, 1, 1), new_event_id=counter_ids())
        with pytest.raises(ValueError):
            store.append([submission(1)], actor="a")
        assert store.last_seq() == 0

    def test_expected_last_seq(self, store):
        store.append([submission(1)], actor="a", expected_last_seq=0)
        store.append([submission(2)], actor="a", expected_last_seq=1)
        with pytest.raises(ConcurrencyError) as info:
            store.append([submission(3)], actor="a", expected_last_seq=1)
        assert (info.value.expected, info.value.actual) == (1, 2)
        assert store.last_seq() == 2

    def test_idempotency_keys(self, store):
        batch = [submission(i) for i in range(5)]
        keys = [f"file.csv:{i + 2}" for i in range(5)]
        assert not store.has_key(keys[0])
        first = store.append(batch, actor="a", keys=keys)
        assert store.has_key(keys[0]) and not store.has_key("other")
        again = store.append(batch, actor="a", keys=keys)
        assert len(first) == 5 and again == []
        assert store.last_seq() == 5
        # a partly new batch records only the new part; duplicates inside a batch count once
        more = store.append(
            [submission(9), submission(4), submission(9)], actor="a", keys=["new", keys[4], "new"]
        )
        assert [e.key for e in more] == ["new"]
        # events without a key are never deduplicated
        store.append([submission(1), submission(1)], actor="a")
        assert store.last_seq() == 8
        summary = store.extend(batch, actor="a", keys=keys)
        assert (summary.appended, summary.skipped, summary.first_seq, summary.last_seq) == (0, 5, None, 8)

    def test_a_key_reused_for_another_payload_is_refused_not_skipped(self, store):
        store.append([submission(1)], actor="a", keys=["row 2"])
        before = store.checkpoint()
        # the same payload under the same key is the idempotent case: skipped
        assert store.append([submission(2), submission(1)], actor="a", keys=["row 3", "row 2"])
        after_ok = store.checkpoint()
        with pytest.raises(ValueError, match=r"key 'row 2' is already used by event #1, with another payload"):
            store.append([submission(3), submission(4)], actor="a", keys=["row 4", "row 2"])
        with pytest.raises(ValueError, match=r"key 'dup' is used twice in this batch, with different payloads"):
            store.append([submission(5), submission(6)], actor="a", keys=["dup", "dup"])
        assert store.checkpoint() == after_ok != before
        assert store.last_seq() == 2

    def test_bad_keys_record_nothing(self, store):
        with pytest.raises(ValueError):
            store.append([submission(1), submission(2)], actor="a", keys=["only one"])
        with pytest.raises(ValueError):
            store.append([submission(1)], actor="a", keys=[""])
        with pytest.raises(ValueError):
            store.append([submission(1)], actor="")
        assert store.last_seq() == 0

    def test_a_batch_that_fails_midway_records_nothing(self, tmp_path):
        ids = iter(["a", "b", "c", "b", "e"])  # the 4th id repeats the 2nd
        store = self.make_store(tmp_path, clock=StepClock(), new_event_id=lambda: next(ids))
        store.append([submission(0)], actor="x")
        with pytest.raises(Exception):
            store.append([submission(i) for i in range(1, 5)], actor="x")
        assert store.last_seq() == 1
        assert [e.event_id for e in store.read()] == ["a"]
        assert verify(store).ok

    @pytest.mark.parametrize(
        "bad",
        [
            IndicatorSubmitted(year="2020", unit_id="U", indicator="I", value=Decimal(1)),  # type: ignore[arg-type]
            UnitRegistered(unit_id="U", tier="village", name="x"),  # type: ignore[arg-type]
            "not a payload",
        ],
    )
    def test_ill_typed_payloads_record_nothing(self, store, bad):
        with pytest.raises((TypeError, ValueError)):
            store.append([submission(1), bad, submission(2)], actor="a")
        assert store.last_seq() == 0
        assert list(store.read()) == []

    def test_extend_streams_a_large_batch(self, store):
        n = 2500
        summary = store.extend((submission(i) for i in range(n)), actor="bulk",
                               keys=(f"k{i}" for i in range(n)))  # fmt: skip
        assert (summary.first_seq, summary.last_seq, summary.appended, summary.skipped) == (1, n, n, 0)
        assert store.last_seq() == n
        assert verify(store).ok

    def test_decimals_stay_exact(self, store):
        values = ["84.030", "0.1", "1E+3", "-0.000001", "123456789012345678901234567890.5"]
        store.append([submission(i, value=v) for i, v in enumerate(values)], actor="a")
        assert [str(e.payload.value) for e in store.read()] == values

    # -- reading --------------------------------------------------------------------------------

    def test_read_filters(self, store):
        self.sample_log(store)

        def seqs(**kw):
            return [e.seq for e in store.read(**kw)]

        assert seqs() == list(range(1, 9))
        assert seqs(start=3, stop=6) == [3, 4, 5]
        assert seqs(year=2020) == [3, 4, 5, 7, 8]
        assert seqs(unit_id="26506") == [2, 4, 5, 6, 8]
        assert seqs(indicator="I01") == [4, 6, 7, 8]
        assert seqs(year=2020, unit_id="26506", indicator="I01") == [4, 8]
        assert seqs(as_of_seq=5) == [1, 2, 3, 4, 5]
        assert seqs(as_of_seq=5, year=2020) == [3, 4, 5]
        # StepClock: batch 1 at T0, batch 2 at T0+1s, batch 3 at T0+2s
        assert seqs(as_of_time=T0) == [1, 2, 3]
        assert seqs(as_of_time=T0 + dt.timedelta(seconds=1, microseconds=1)) == list(range(1, 8))
        assert seqs(as_of_time=T0 - dt.timedelta(microseconds=1)) == []
        ict = dt.timezone(dt.timedelta(hours=7))
        assert seqs(as_of_time=(T0 + dt.timedelta(seconds=1)).astimezone(ict)) == list(range(1, 8))

    def test_get_by_seq_and_event_id(self, store):
        self.sample_log(store)
        assert store.get(4).event_id == "ev000004"
        assert store.get("ev000004").seq == 4
        for missing in (0, 99, "nope"):
            with pytest.raises(EventNotFound):
                store.get(missing)
        with pytest.raises(TypeError):
            store.get(True)

    def test_events_by_seq_reads_back_any_set_of_seqs(self, store):
        self.sample_log(store)
        every = {e.seq: e for e in store.read()}
        assert store.events_by_seq([5, 1, 5, 99, 0]) == {1: every[1], 5: every[5]}
        assert store.events_by_seq(iter(every)) == every
        assert store.events_by_seq([]) == {}

    def test_stored_rows_are_the_bodies(self, store):
        self.sample_log(store)
        rows = list(store.stored_rows())
        events = list(store.read())
        assert [r.seq for r in rows] == [e.seq for e in events]
        assert [bytes(r.body) for r in rows] == [encode_event(e) for e in events]
        assert [r.hash for r in rows] == [h.hex() for h in store.leaf_hashes()]
        assert [r.type for r in rows][:3] == ["unit_registered", "unit_registered", "methodology_adopted"]
        assert [r.seq for r in store.stored_rows(3)] == [e.seq for e in events][2:]

    def test_a_sound_store_has_no_storage_problem(self, store):
        assert store.check_storage() == []
        self.sample_log(store)
        assert store.check_storage() == []

    # -- checkpoints and proofs -----------------------------------------------------------------

    def test_checkpoints_and_proofs_for_every_seq_and_size_up_to_64(self, store):
        n = 64
        store.append([submission(i) for i in range(n)], actor="a")
        cps = {size: store.checkpoint(size) for size in range(n + 1)}
        assert cps[n] == store.checkpoint()
        assert cps[0].root == EMPTY_ROOT.hex()
        assert len({cp.root for cp in cps.values()}) == n + 1
        for size in range(1, n + 1):
            for seq in range(1, size + 1):
                proof = store.inclusion_proof(seq, size)
                assert proof.seq == seq and proof.verify(cps[size]), (seq, size)
                assert not proof.verify(cps[size - 1]) and not proof.verify(
                    Checkpoint(size, cps[size - 1].root)
                )
            for old in range(0, size + 1):
                proof = store.consistency_proof(old, size)
                assert proof.verify(cps[old], cps[size]), (old, size)
                if 0 < old < size:
                    assert not proof.verify(Checkpoint(old, cps[old - 1].root), cps[size])
        assert store.inclusion_proof(3).size == n
        assert store.consistency_proof(5).new_size == n
        with pytest.raises(ValueError):
            store.checkpoint(n + 1)
        with pytest.raises(ValueError):
            store.inclusion_proof(n + 1, n)
        with pytest.raises(ValueError):
            store.inclusion_proof(0)
        with pytest.raises(ValueError):
            store.consistency_proof(6, 5)

    def test_verify_reports_the_log_checkpoint(self, store):
        self.sample_log(store)
        cp = store.checkpoint(5)
        report = verify(store, cp)
        assert report.ok and report.checkpoint_ok
        assert report.current == store.checkpoint()
        assert verify(store, str(cp)).ok

    # -- appending bodies as another store recorded them (`ictindex copy`) ---------------------

    def _second_store(self, tmp_path, name: str = "copy") -> EventLog:
        where = tmp_path / name
        where.mkdir()
        return self.make_store(where, clock=StepClock(), new_event_id=counter_ids("other"))

    def test_append_stored_copies_bodies_hashes_and_checkpoint(self, store, tmp_path):
        self.sample_log(store)
        store.append([submission(1)], actor="a", keys=["file.csv:2"])
        bodies = [bytes(r.body) for r in store.stored_rows()]
        copy = self._second_store(tmp_path)
        first = copy.append_stored(iter(bodies[:4]), expected_last_seq=0)
        rest = copy.append_stored((b for b in bodies[4:]), expected_last_seq=4)
        assert (first.first_seq, first.last_seq, first.appended, first.skipped) == (1, 4, 4, 0)
        assert (rest.first_seq, rest.last_seq, rest.appended) == (5, 9, 5)
        assert [r._replace(body=bytes(r.body)) for r in copy.stored_rows()] == \
            [r._replace(body=bytes(r.body)) for r in store.stored_rows()]
        assert copy.checkpoint() == store.checkpoint() == copy.latest_checkpoint()
        assert list(copy.read()) == list(store.read())
        assert copy.has_key("file.csv:2") and copy.get("ev000004").seq == 4
        assert copy.tile_problems() == [] and verify(copy).ok
        for seq in (1, 5, 9):
            assert copy.inclusion_proof(seq).verify(store.checkpoint())
        assert copy.consistency_proof(4).verify(store.checkpoint(4), store.checkpoint())
        # ordinary appends go on from the copied end
        more = copy.append([submission(2)], actor="a")
        assert more[0].seq == 10 and more[0].prev_hash == copy.stored_rows(9).__next__().hash
        assert verify(copy).ok and copy.latest_checkpoint() == copy.checkpoint()
        assert copy.append_stored([], expected_last_seq=10) == AppendResult(None, 10, 0, 0)

    def test_append_stored_refuses_what_does_not_follow(self, store, tmp_path):
        self.sample_log(store)
        bodies = [bytes(r.body) for r in store.stored_rows()]
        copy = self._second_store(tmp_path)
        copy.append_stored(bodies[:3], expected_last_seq=0)
        before = copy.checkpoint()
        tampered = bodies[3].replace(b'"12.50"', b'"12.60"')
        assert tampered != bodies[3]
        cases = [
            ([bodies[4]], "#4", "the body is event seq 5"),  # a gap
            ([bodies[3], bodies[4], bodies[6]], "#6", "the body is event seq 7"),  # all or nothing
            ([tampered, bodies[4]], "#5", "prev_hash"),  # the next event no longer chains
            ([bodies[3].replace(b'{"actor"', b'{ "actor"')], "#4", "not in canonical form"),
            ([b"not an event"], "#4", "does not decode"),
            ([bodies[3].decode()], "#4", "must be bytes"),
        ]
        for batch, seq, reason in cases:
            with pytest.raises(LogIntegrityError, match=f"{seq} cannot be appended as stored: .*{reason}"):
                copy.append_stored(batch, expected_last_seq=3)
            assert copy.checkpoint() == before and copy.last_seq() == 3
        with pytest.raises(ConcurrencyError):
            copy.append_stored(bodies[3:], expected_last_seq=2)
        with pytest.raises(ConcurrencyError):
            copy.append_stored(bodies[2:], expected_last_seq=2)
        assert copy.checkpoint() == before and verify(copy).ok
        copy.append_stored(bodies[3:], expected_last_seq=3)
        assert copy.checkpoint() == store.checkpoint()

    def test_append_stored_refuses_taken_ids_and_keys_and_time_going_back(self, store, tmp_path):
        store.append([submission(1)], actor="a", keys=["k1"])
        [first] = [bytes(r.body) for r in store.stored_rows()]
        prev = leaf_hash(first).hex()

        def body(seq, previous, *, event_id="new", key=None, at=T0):
            return encode_event(Event(seq=seq, event_id=event_id, recorded_at=at, actor="a",
                                      payload=submission(seq), prev_hash=previous, key=key))

        copy = self._second_store(tmp_path)
        copy.append_stored([first], expected_last_seq=0)
        pair = [body(2, prev, key="k2"), body(3, leaf_hash(body(2, prev, key="k2")).hex(), key="k2",
                                             event_id="newer")]
        cases = [
            ([body(2, prev, event_id="ev000001")], "#2", "event id 'ev000001' is already in the log"),
            ([body(2, prev, key="k1")], "#2", "key 'k1' is already in the log"),
            (pair, "#3", "key 'k2' is already in the log"),
            ([body(2, prev, at=T0 - dt.timedelta(seconds=1))], "#2", "earlier than the previous"),
        ]
        for batch, seq, reason in cases:
            with pytest.raises(LogIntegrityError, match=f"{seq} cannot be appended as stored: .*{reason}"):
                copy.append_stored(batch, expected_last_seq=1)
            assert copy.last_seq() == 1 and not copy.has_key("k2")
        copy.append_stored(pair[:1], expected_last_seq=1)
        assert copy.has_key("k2") and verify(copy).ok

    def test_append_stored_streams_a_large_log(self, store, tmp_path):
        n = 2500
        store.extend((submission(i) for i in range(n)), actor="bulk", keys=(f"k{i}" for i in range(n)))
        copy = self._second_store(tmp_path)
        result = copy.append_stored((bytes(r.body) for r in store.stored_rows()), expected_last_seq=0)
        assert (result.first_seq, result.last_seq, result.appended) == (1, n, n)
        assert copy.checkpoint() == store.checkpoint() and verify(copy).ok
