"""The WHERE clause of a filtered read (`EventLog.read`), for the stores that speak SQL.

SQLite and PostgreSQL keep the same indexed columns, so the same filters select the same
events; only the parameter mark differs (`?` for sqlite3, `%s` for psycopg).
"""

from __future__ import annotations

import datetime as dt

from .canonical import time_key


def read_filter(mark: str, start: int, stop: int | None, *, year: int | None,
                unit_id: str | None, indicator: str | None, as_of_seq: int | None,
                as_of_time: dt.datetime | None) -> tuple[str, list]:
    """(`WHERE` condition, parameters) for the events with `start <= seq < stop`, up to
    `as_of_seq` and `as_of_time`, matching every filter given; `mark` is the driver's
    parameter mark."""
    where, params = [f"seq >= {mark}"], [start]
    if stop is not None:
        where.append(f"seq < {mark}")
        params.append(stop)
    if as_of_seq is not None:
        where.append(f"seq <= {mark}")
        params.append(as_of_seq)
    if as_of_time is not None:
        where.append(f"recorded_at <= {mark}")
        params.append(time_key(as_of_time))
    for column, value in (("year", year), ("unit_id", unit_id), ("indicator", indicator)):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    return " AND ".join(where), params


__all__ = ["read_filter"]
