from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_log(tmp_path_factory) -> Path:
    """A synthetic two-year log of 40 units (every rule kind of local-ict@2020, corrections and
    retractions), built once; tests copy it before writing."""
    from ictindex.app import Ictindex
    from ictindex.bench.synthetic import Spec, build_log

    path = tmp_path_factory.mktemp("scale") / "small.db"
    with Ictindex.open(path) as app:
        build_log(app, Spec(units=40, years=2, corrections=0.05, retractions=0.01, seed=7))
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def log_copy(small_log, tmp_path) -> Path:
    dest = tmp_path / "log.db"
    shutil.copy(small_log, dest)
    return dest
