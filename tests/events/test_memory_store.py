"""The in-memory store passes the contract every store must honour (`events.testing`)."""

from __future__ import annotations

from events.memory import MemoryEventLog
from events.testing import StepClock, StoreContract, counter_ids


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path, *, clock=None, new_event_id=None):
        return MemoryEventLog(clock=clock or StepClock(), new_event_id=new_event_id or counter_ids())
