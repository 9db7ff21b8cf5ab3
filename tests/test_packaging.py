"""Every data file the code reads ships in the wheel (the sample must work from a wheel install)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ictindex", "engine", "plugins", "events", "methodologies")


def _package_of(path: Path) -> Path:
    folder = path.parent
    while not (folder / "__init__.py").exists():
        folder = folder.parent
    return folder


def test_every_data_file_is_package_data():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]
    files = [p for top in PACKAGES for p in (REPO / top).rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert any(p.name == "submissions.csv" for p in files)
    missing = []
    for f in files:
        package_dir = _package_of(f)
        package = ".".join(package_dir.relative_to(REPO).parts)
        patterns = data.get("*", []) + data.get(package, [])
        if not any(f in set(package_dir.glob(pattern)) for pattern in patterns):
            missing.append(str(f.relative_to(REPO)))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
