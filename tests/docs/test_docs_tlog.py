"""docs/audit.md's citizen's check from the static tiles really runs: the page's `ictindex`
commands (run by test_docs_commands) leave the folders, then its ```shell block's
`python3 verify_tlog.py` lines are run with this Python and must print what the page shows."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ictindex.cli import build_cli
from test_docs_commands import DOCS, matches, sessions


def test_the_citizens_check_in_audit_md_runs(sample_db, tmp_path, monkeypatch):
    page = (DOCS / "audit.md").read_text(encoding="utf-8")
    shutil.copy(sample_db, tmp_path / "brvt.db")
    monkeypatch.chdir(tmp_path)
    cli, runner = build_cli(), CliRunner()
    for command, _expected in sessions(page):  # checked line by line by test_docs_commands
        result = runner.invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
        assert result.exit_code == 0, command + "\n" + result.output
    [block] = re.findall(r"```shell\n(.*?)```", page, flags=re.S)
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    cwd = tmp_path
    assert any(c.startswith("python3 verify_tlog.py") for c, _ in steps)
    for command, expected in steps:
        argv = shlex.split(command)
        if argv[0] == "cd":
            cwd = cwd / argv[1]
            continue
        assert argv[0] == "python3", command
        done = subprocess.run([sys.executable, *argv[1:]], cwd=cwd, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert matches(expected, done.stdout.rstrip("\n").splitlines()), done.stdout
