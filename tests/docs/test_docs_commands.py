"""The commands in the user docs really run and really print what the docs show.

A page that starts with ``<!-- docs-test: sample -->`` is checked: in a fresh folder holding
`brvt.db` (the BR-VT 2020 sample log, whose bytes are the same everywhere), every line of a
```console block that starts with ``$ ictindex`` is run in order, and what follows it (up to
the next ``$``) is what it must print.  In the expected text a line ``[...]`` skips any number
of lines, and ``<any>`` matches any run of characters within a line (for event ids and times
of events the page itself records).

A page may bring files: a line ``<!-- docs-test: files DIR/ -->`` copies docs/examples/DIR/*
into the folder first.  A line ``$ python ...`` runs with this Python in isolated mode,
standard library only (`python -I -S`), in the same folder: what a citizen with a plain Python
runs, such as the site's stand-alone verifier.

docs/api.md's ```python blocks run in order in one namespace, each printing what the ```text
block after it shows (same matching).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ictindex.cli import build_cli

DOCS = Path(__file__).resolve().parents[2] / "docs"
MARK = "<!-- docs-test: sample -->"
FILES = re.compile(r"^<!-- docs-test: files ([\w-]+)/ -->$", flags=re.M)


def pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if p.read_text(encoding="utf-8").startswith(MARK))


def sessions(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    def line_ok(e: str, a: str) -> bool:
        pattern = ".*".join(re.escape(part) for part in e.rstrip().split("<any>"))
        return re.fullmatch(pattern, a.rstrip()) is not None

    def walk(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == "[...]":
            return any(walk(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_ok(expected[i], actual[j]) and walk(i + 1, j + 1)

    return walk(0, 0)


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_page_commands_print_what_the_page_shows(page, sample_db, tmp_path, monkeypatch):
    shutil.copy(sample_db, tmp_path / "brvt.db")
    text = page.read_text(encoding="utf-8")
    for folder in FILES.findall(text):
        shutil.copytree(DOCS / "examples" / folder, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ICTINDEX_ACTOR", "so-tttt")
    cli = build_cli()
    runner = CliRunner()
    steps = sessions(text)
    assert steps, f"{page.name} has no commands"
    for command, expected in steps:
        argv = shlex.split(command)
        assert argv[0] in ("ictindex", "python"), command
        if argv[0] == "python":
            done = subprocess.run([sys.executable, "-I", "-S", *argv[1:]], cwd=tmp_path,
                                  capture_output=True, text=True, encoding="utf-8", timeout=300)
            actual = (done.stdout + done.stderr).rstrip("\n").splitlines()
        else:
            result = runner.invoke(cli, argv[1:], catch_exceptions=False)
            actual = (result.stdout + result.stderr).rstrip("\n").splitlines()
        while expected and not expected[-1].strip():
            expected = expected[:-1]
        assert matches(expected, actual), (
            f"{page.name}: `{command}` printed:\n" + "\n".join(actual))


def test_the_stand_alone_proof_check_in_events_md_accepts_real_proofs(sample_db, tmp_path, monkeypatch):
    """A unit can check its inclusion proof with the docs' 20 lines of standard Python."""
    import json

    code = re.search(r"```python\n(import hashlib\n.*?def check_inclusion.*?)```",
                     (DOCS / "events.md").read_text(encoding="utf-8"), flags=re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    check_inclusion = namespace["check_inclusion"]
    shutil.copy(sample_db, tmp_path / "brvt.db")
    monkeypatch.chdir(tmp_path)
    cli = build_cli()
    checkpoint = CliRunner().invoke(cli, ["--db", "brvt.db", "checkpoint", "--size", "4173"]).stdout.strip()
    root = checkpoint.split(":")[1]
    for seq in (1, 1102, 4173):
        out = CliRunner().invoke(cli, ["--db", "brvt.db", "prove", str(seq), "--checkpoint", checkpoint,
                                       "--format", "json"])
        proof = json.loads(out.stdout)
        args = (proof["proof"]["index"], proof["proof"]["size"], proof["proof"]["path"])
        assert check_inclusion(proof["event"].encode("utf-8"), *args, root)
        assert not check_inclusion(proof["event"].encode("utf-8").replace(b"\"seq\":", b"\"seq\": "), *args, root)


def python_steps(text: str) -> list[tuple[str, list[str]]]:
    """Each ```python block of a page with the ```text block right after it (what it prints),
    or no lines when none follows."""
    steps = []
    for code, shown in re.findall(r"```python\n(.*?)```\n(?:\n```text\n(.*?)```)?", text, flags=re.S):
        steps.append((code, shown.rstrip("\n").splitlines()))
    return steps


def test_the_python_api_page_drives_a_whole_year(tmp_path, monkeypatch, capsys):
    """docs/api.md: its blocks, run in order in one namespace, print what the page shows."""
    monkeypatch.chdir(tmp_path)
    steps = python_steps((DOCS / "api.md").read_text(encoding="utf-8"))
    assert len(steps) >= 5
    namespace: dict = {}
    for code, expected in steps:
        exec(compile(code, "docs/api.md", "exec"), namespace)
        actual = capsys.readouterr().out.rstrip("\n").splitlines()
        assert matches(expected, actual), f"docs/api.md:\n{code}\nprinted:\n" + "\n".join(actual)
    assert (tmp_path / "year.db").exists()
