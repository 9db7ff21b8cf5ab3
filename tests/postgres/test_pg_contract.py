"""The shipped store contract (`events.testing.StoreContract`) on a real PostgreSQL server."""

from __future__ import annotations

from events.postgres import PostgresEventLog
from events.testing import StepClock, StoreContract, counter_ids


class TestPostgresStore(StoreContract):
    import pytest

    @pytest.fixture(autouse=True)
    def _database(self, pg_url):
        self.url = pg_url

    def make_store(self, tmp_path, *, clock=None, new_event_id=None):
        return PostgresEventLog(self.url, clock=clock or StepClock(),
                                new_event_id=new_event_id or counter_ids())
