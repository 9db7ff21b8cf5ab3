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
    from ictindex.app import Ictindex
    from ictindex.sample import build_sample

    with Ictindex.open(path) as app:
        build_sample(app)
        app.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ictindex-edition-example"


@pytest.fixture
def installed_example(tmp_path, monkeypatch):
    """The example package as if pip-installed: its directory and a dist-info on sys.path.

    (pip-installing it would be slow and would pollute the venv.)
    """
    import importlib
    import sys
    import tomllib

    from plugins.manager import ENTRY_POINT_GROUP

    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist_name, version = project["name"], project["version"]
    entry_points = project["entry-points"][ENTRY_POINT_GROUP]
    dist_info = tmp_path / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n", encoding="utf-8")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield
    for name in [m for m in sys.modules if m == "ictindex_edition_example" or m.startswith("ictindex_edition_example.")]:
        del sys.modules[name]
