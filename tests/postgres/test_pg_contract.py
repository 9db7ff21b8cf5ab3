"""The shipped store contract (`events.testing.StoreContract`) on a real PostgreSQL server."""

from __future__ import annotations

from events.postgres import PostgresEventLog
from events.testing import StepClock, StoreContract, counter_ids


class TestPostgresStore(StoreContract):
    import pytest

    @pytest.fixture(autouse=True)
    def _database(self, pg_url, pg_second_url, tmp_path):
        # the contract names a store by a folder: the test's own folder is one database, any
        # other folder (a copy's target) the second one
        self.urls = {tmp_path: pg_url}
        self.second_url = pg_second_url

    def make_store(self, tmp_path, *, clock=None, new_event_id=None):
        url = self.urls.setdefault(tmp_path, self.second_url)
        return PostgresEventLog(url, clock=clock or StepClock(),
                                new_event_id=new_event_id or counter_ids())
