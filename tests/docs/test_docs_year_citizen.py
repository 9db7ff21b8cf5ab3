"""docs/year.md's citizen's check needs only the site's files and the decision's checkpoint:
its `python` lines, run in a folder holding nothing else, print what the page shows; and a
changed line of the site's log makes the same check fail, as the page says."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys

from click.testing import CliRunner

from ictindex.cli import build_cli
from test_docs_commands import DOCS, matches, sessions

PAGE = DOCS / "year.md"


def run(argv: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-S", *argv], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=300)


def test_the_citizens_check_in_year_md_uses_only_the_sites_files(sample_db, tmp_path, monkeypatch):
    office, citizen = tmp_path / "office", tmp_path / "citizen"
    office.mkdir()
    citizen.mkdir()
    shutil.copy(sample_db, office / "brvt.db")
    shutil.copytree(DOCS / "examples" / "year", office, dirs_exist_ok=True)
    monkeypatch.chdir(office)
    monkeypatch.setenv("ICTINDEX_ACTOR", "so-tttt")
    cli, runner = build_cli(), CliRunner()
    steps = sessions(PAGE.read_text(encoding="utf-8"))
    checks = [(shlex.split(c), e) for c, e in steps if c.startswith("python ")]
    assert len(checks) >= 3
    for command, _expected in steps:  # each output is checked by test_docs_commands
        if not command.startswith("python "):
            result = runner.invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
            assert result.exit_code == 0, command + "\n" + result.output
    # what the citizen holds: the downloaded site and the checkpoint the decision's annex carries
    shutil.copytree(office / "site", citizen / "site")
    (citizen / "quyet-dinh-52").mkdir()
    shutil.copy(office / "quyet-dinh-52" / "checkpoint", citizen / "quyet-dinh-52")
    for argv, expected in checks:
        done = run(argv[1:], citizen)
        assert done.returncode == 0, done.stdout + done.stderr
        while expected and not expected[-1].strip():
            expected = expected[:-1]
        assert matches(expected, done.stdout.rstrip("\n").splitlines()), done.stdout + done.stderr

    # a value of the merged commune changed in the site's copy of the log: the check says so
    lines = (citizen / "site" / "log" / "events.jsonl").read_bytes().splitlines(keepends=True)
    proofs = json.loads((citizen / "site" / "proofs" / "26692.json").read_text(encoding="utf-8"))
    seq = proofs["events"][0]["seq"]
    line = json.loads(lines[seq - 1])
    assert '"unit_id":"26692"' in line["body"]
    line["body"] = line["body"].replace('"value":"76.1"', '"value":"96.1"')
    assert '"value":"96.1"' in line["body"]
    lines[seq - 1] = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    (citizen / "site" / "log" / "events.jsonl").write_bytes(b"".join(lines))
    [proof_check] = [argv for argv, _ in checks if "proofs" in argv]
    done = run(proof_check[1:], citizen)
    assert done.returncode == 1
    assert f"events.jsonl:{seq}: event {seq}'s body does not hash" in done.stdout, done.stdout
