"""Installed distributions made up for a test: modules and a `*.dist-info` with `ictindex`
entry points in a folder on sys.path (and on PYTHONPATH, for a CLI run in a subprocess), so
that importlib.metadata finds them as pip would have left them.  Pip-installing would be slow
and would change the venv for every other test."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from plugins.manager import ENTRY_POINT_GROUP, reset_registry


class Site:
    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.monkeypatch = monkeypatch
        self.modules: set[str] = set()
        self.add_folder(path)

    def add_folder(self, folder: Path, package: str | None = None) -> None:
        """`folder` on sys.path and PYTHONPATH; `package`, a package in it to forget on refresh."""
        self.monkeypatch.syspath_prepend(str(folder))
        self.monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
        if package:
            self.modules.add(package)

    def install(self, name: str, version: str, entry_points: dict[str, str],
                modules: dict[str, str] | None = None) -> None:
        """A distribution `name` `version` declaring `entry_points` (name → module), with
        `modules` (module name → source) beside it."""
        for module, source in (modules or {}).items():
            (self.path / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            self.modules.add(module)
        info = self.path / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                                       encoding="utf-8")
        lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.refresh()

    def uninstall(self, name: str) -> None:
        for info in self.path.glob(f"{name.replace('-', '_')}-*.dist-info"):
            shutil.rmtree(info)
        self.refresh()

    def refresh(self) -> None:
        """Forget the imported plugin modules and the process's plugins: the next use finds
        what is installed now."""
        for name in [m for m in sys.modules if m.split(".")[0] in self.modules]:
            del sys.modules[name]
        importlib.invalidate_caches()
        reset_registry()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder of made-up installed distributions; every installed plugin loads (the
    suite-wide ICTINDEX_LOAD_PLUGINS="" is lifted)."""
    path = tmp_path / "site-packages"
    path.mkdir()
    monkeypatch.delenv("ICTINDEX_LOAD_PLUGINS")
    s = Site(path, monkeypatch)
    s.refresh()
    yield s
    monkeypatch.undo()
    s.refresh()
