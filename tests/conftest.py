"""Test-wide guards.

Installed third-party ictindex plugins stay out of the test suite (in the manner of llm's
conftest): ICTINDEX_LOAD_PLUGINS is set to "" (no third-party plugin) before any plugin
manager is built.  A test that wants entry-point discovery opts in with
``monkeypatch.delenv("ICTINDEX_LOAD_PLUGINS")`` or by naming the plugin, and builds a fresh
registry with ``plugins.manager.build_registry()``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["ICTINDEX_LOAD_PLUGINS"] = ""


def pytest_configure(config):
    os.environ["ICTINDEX_LOAD_PLUGINS"] = ""


@pytest.fixture
def fresh_registry():
    """Drop the process's cached plugin registry before and after the test."""
    from plugins.manager import reset_registry

    reset_registry()
    yield
    reset_registry()


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """The BR-VT 2020 sample log, built once; tests copy it before writing."""
    path = tmp_path_factory.mktemp("sample") / "brvt-2020.db"
    from plugins.app import Ictindex
    from plugins.sample import build_sample

    with Ictindex.open(path) as app:
        build_sample(app)
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path
