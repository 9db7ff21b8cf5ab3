"""`make demo` installs only what the demo runs on; `make test` (even after it) the test extras."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(folder: Path, target: str) -> list[str]:
    """The commands `make TARGET` would run (`make -n`): nothing is installed."""
    # run as a user runs it, not as a sub-make of `make test` (which would add its own lines)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=folder,
                          capture_output=True, text=True, check=True, env=env)
    return done.stdout.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line.split("--disable-pip-version-check", 1)[1].strip() for line in lines
            if "pip install" in line]


def test_demo_installs_without_test_extras_and_test_adds_them_after_it(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert installs(planned(tmp_path, "demo")) == ["-e ."]
    assert installs(planned(tmp_path, "test")) == ["-e '.[test]'"]

    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".demo-stamp").touch()  # what `make demo` leaves
    assert installs(planned(tmp_path, "demo")) == []
    assert installs(planned(tmp_path, "test")) == ["-e '.[test]'"]

    (tmp_path / ".venv" / ".installed-stamp").touch()  # what `make test` leaves
    assert installs(planned(tmp_path, "test")) == [] and installs(planned(tmp_path, "demo")) == []
    assert planned(tmp_path, "demo")[-1] == ".venv/bin/ictindex demo"

    # a changed pyproject.toml installs again
    later = (tmp_path / ".venv" / ".installed-stamp").stat().st_mtime + 10
    os.utime(tmp_path / "pyproject.toml", (later, later))
    assert installs(planned(tmp_path, "demo")) == ["-e ."]
