from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ictindex.cli import build_cli


@pytest.fixture
def sample_copy(sample_db, tmp_path) -> Path:
    """A private copy of the sample log a test may write to."""
    path = tmp_path / "brvt-2020.db"
    shutil.copy(sample_db, path)
    return path


@pytest.fixture
def run(monkeypatch):
    """Run the CLI in-process: run(db, *args) -> click Result (exit code, stdout, stderr)."""
    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")
    runner = CliRunner()
    cli = build_cli()

    def _run(db, *args, input=None):
        return runner.invoke(cli, ["--db", str(db), *map(str, args)], input=input,
                             catch_exceptions=False)

    return _run


@pytest.fixture
def run_process():
    """run_process(db, *args, env_overrides=...): `ictindex` in a fresh Python process."""
    return _run_process


def _run_process(db, *args, env_overrides=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "-c", "from ictindex.cli import main; main()", "--db", str(db), *map(str, args)],
        capture_output=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=300,
    )
