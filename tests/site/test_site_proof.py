"""The site carries its own proof: the log as published (SQLite snapshot and JSON Lines), the
checkpoint, the tiles, each unit's inclusion proofs, and the stand-alone verifier, whose
commands on the verify page run as shown on a downloaded copy with only the standard library."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from events.merkle import hash_leaf
from events.note import Verifier, open_checkpoint
from ictindex.app import Ictindex
from ictindex.cli.tlog import load_signer
from ictindex.sample import DECISION
from ictindex.site import build_site

LOG_CHECKPOINT = "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba"
DECISION_CHECKPOINT = "4174:e0b3a31218f85b1fab5736f0fc41a61a9b39e6709daf68649816c20618240506"


def commands(page: Path) -> list[str]:
    """The stand-alone checker's commands a page shows, as a reader would copy them."""
    text = page.read_text(encoding="utf-8")
    return [html.unescape(c) for c in re.findall(r'<pre class="cmd">(python3 [^<]*)</pre>', text)]


def run_as_shown(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python3 ...` with this Python, isolated from site-packages: the standard library only."""
    argv = shlex.split(command)
    assert argv[0] == "python3", command
    return subprocess.run([sys.executable, "-I", "-S", *argv[1:]], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def downloaded(sample_site, tmp_path) -> Path:
    """The sample site copied elsewhere, as someone who downloaded it has it."""
    copy = tmp_path / "downloaded"
    shutil.copytree(sample_site, copy)
    return copy


def test_the_verify_page_commands_run_as_shown_on_a_downloaded_copy(downloaded):
    page = downloaded / "verify.html"
    text = page.read_text(encoding="utf-8")
    assert DECISION in text and DECISION_CHECKPOINT in text  # the decision's checkpoint
    shown = commands(page)
    assert [c.split()[3] for c in shown] == ["events", "consistency", "proofs"], shown
    outputs = []
    for command in shown:
        done = run_as_shown(command, downloaded)
        assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
        outputs.append(done.stdout)
    assert f"events.jsonl: 4175 events, the tree of checkpoint {LOG_CHECKPOINT}" in outputs[0]
    assert f"checkpoint {LOG_CHECKPOINT} EXTENDS {DECISION_CHECKPOINT}" in outputs[1]
    assert re.search(rf"\d+ events behind the score of \S+ ARE in unsigned checkpoint {LOG_CHECKPOINT}",
                     outputs[2])
    # a unit page's own command too
    [unit_command] = commands(downloaded / "units" / "753.html")
    done = run_as_shown(unit_command, downloaded)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"41 events behind the score of 753 ARE in unsigned checkpoint {LOG_CHECKPOINT}" in done.stdout


def test_the_unit_page_lists_the_proofs_of_the_events_behind_its_score(sample_site, sample_db):
    page = (sample_site / "units" / "753.html").read_text(encoding="utf-8")
    proof = json.loads((sample_site / "proofs" / "753.json").read_text(encoding="utf-8"))
    assert proof["unit_id"] == "753" and proof["checkpoint"] == LOG_CHECKPOINT
    seqs = [e["seq"] for e in proof["events"]]
    assert 1102 in seqs and 1133 in seqs and len(seqs) == 41
    with Ictindex.open(sample_db) as app:
        for e in proof["events"]:
            p = app.store.inclusion_proof(e["seq"], 4175)  # the store's own proofs, the same
            assert (e["leaf_hash"], e["path"]) == (p.leaf_hash, p.path)
            assert f'<td>#{e["seq"]}</td><td class="hash">{e["leaf_hash"]}</td>' in page
    assert 'href="../proofs/753.json"' in page and 'href="../log/events.jsonl"' in page


def test_the_log_copies_are_the_log(sample_site, sample_db, tmp_path):
    [db] = (sample_site / "log").glob("*.db")
    lines = (sample_site / "log" / "events.jsonl").read_bytes().splitlines()
    copy = tmp_path / db.name
    shutil.copy(db, copy)
    with Ictindex.open(sample_db) as app, Ictindex.open(copy) as snapshot:
        rows = list(app.store.stored_rows(1))
        assert [bytes(r.body) for r in snapshot.store.stored_rows(1)] == [bytes(r.body) for r in rows]
        assert str(snapshot.store.checkpoint()) == LOG_CHECKPOINT
        assert snapshot.verify().ok
        assert len(lines) == len(rows) == 4175
        for line, row in zip(lines, rows):
            item = json.loads(line)
            assert (item["seq"], item["hash"], item["body"].encode("utf-8")) == (
                row.seq, hash_leaf(bytes(row.body)).hex(), bytes(row.body))
    assert (sample_site / "log" / "checkpoint").read_text() == LOG_CHECKPOINT + "\n"
    assert (sample_site / "log" / "tile" / "0" / "000").stat().st_size == 256 * 32


def _fails(command: str, cwd: Path, message: str) -> None:
    done = run_as_shown(command, cwd)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_tampered_proof_file_fails_with_a_clear_message(downloaded):
    [command] = commands(downloaded / "units" / "753.html")
    proof_file = downloaded / "proofs" / "753.json"
    original = proof_file.read_text(encoding="utf-8")
    data = json.loads(original)
    data["events"][3]["path"][5] = "0" * 64
    proof_file.write_text(json.dumps(data), encoding="utf-8")
    seq = data["events"][3]["seq"]
    _fails(command, downloaded, f"NOT verified: event {seq}: its inclusion proof does NOT lead to "
                                "the checkpoint's root")
    data = json.loads(original)  # another unit's event passed off as this unit's
    other = json.loads((downloaded / "proofs" / "752.json").read_text(encoding="utf-8"))["events"][0]
    data["events"][0] = other
    proof_file.write_text(json.dumps(data), encoding="utf-8")
    _fails(command, downloaded, f"NOT verified: event {other['seq']} is not about unit 753")
    data = json.loads(original)  # a proof for another checkpoint
    data["checkpoint"] = DECISION_CHECKPOINT
    proof_file.write_text(json.dumps(data), encoding="utf-8")
    _fails(command, downloaded, f"proves against checkpoint {DECISION_CHECKPOINT}, not the log's")


def test_a_changed_event_line_fails_with_a_clear_message(downloaded):
    [command] = commands(downloaded / "units" / "753.html")
    events = downloaded / "log" / "events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    item = json.loads(lines[1101])
    assert item["seq"] == 1102 and '"value":"4475"' in item["body"]
    item["body"] = item["body"].replace('"value":"4475"', '"value":"9475"')
    lines[1101] = json.dumps(item, ensure_ascii=False) + "\n"
    events.write_text("".join(lines), encoding="utf-8")
    _fails(command, downloaded, "events.jsonl:1102: event 1102's body does not hash to the line's "
                                "hash")
    check_all = next(c for c in commands(downloaded / "verify.html") if c.endswith(" events"))
    _fails(check_all, downloaded, "events.jsonl:1102: event 1102's body does not hash")
    # a line changed with its hash made to match: the tree no longer gives the checkpoint
    item["hash"] = hash_leaf(item["body"].encode("utf-8")).hex()
    lines[1101] = json.dumps(item, ensure_ascii=False) + "\n"
    events.write_text("".join(lines), encoding="utf-8")
    _fails(command, downloaded, "NOT verified: event 1102: the proof's leaf hash")
    done = run_as_shown(check_all, downloaded)
    assert done.returncode == 1 and "NOT the tree of checkpoint" in done.stdout


def test_a_signed_site_carries_the_signed_checkpoint_and_its_key(sample_db, tmp_path, run):
    key = tmp_path / "brvt.key"
    assert run(sample_db, "key", "generate", "ictindex.example/brvt", "--out", key).exit_code == 0
    out = tmp_path / "signed"
    result = run(sample_db, "site", "--year", 2020, "--out", out, "--sign", key)
    assert result.exit_code == 0, result.output
    verifier = Verifier.parse((tmp_path / "brvt.key.pub").read_text(encoding="utf-8"))
    assert str(open_checkpoint(verifier, (out / "log" / "checkpoint").read_text())) == LOG_CHECKPOINT
    assert (out / "log" / "key.pub").read_text() == (tmp_path / "brvt.key.pub").read_text()
    shown = commands(out / "verify.html")
    assert shown and all(c.endswith(" --key log/key.pub") for c in shown)
    for command in shown:  # without `cryptography` the checker says it did not check signatures
        done = run_as_shown(command, out)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "signature NOT checked for ictindex.example/brvt" in done.stdout
    done = subprocess.run([sys.executable, *shlex.split(shown[-1])[1:]], cwd=out,
                          capture_output=True, text=True, timeout=300)  # with it, they are
    assert done.returncode == 0 and "signature by ictindex.example/brvt OK" in done.stdout
    # the same log and key: the same bytes
    again = tmp_path / "again"
    with Ictindex.open(sample_db) as app:
        build_site(app, 2020, again, show_progress=False, db_name=str(sample_db),
                   signer=load_signer(str(key)))
    assert (again / "log" / "checkpoint").read_bytes() == (out / "log" / "checkpoint").read_bytes()


def test_a_served_site_is_checked_over_http(sample_site):
    """The same checks with the site served by a web host (here on 127.0.0.1): URLs in place
    of the folder and the proof file."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(sample_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        verifier = str(sample_site / "log" / "verify_tlog.py")
        done = subprocess.run([sys.executable, "-I", "-S", verifier, f"{url}/log", "proofs",
                               f"{url}/proofs/753.json"], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"41 events behind the score of 753 ARE in unsigned checkpoint {LOG_CHECKPOINT}" in done.stdout
        done = subprocess.run([sys.executable, "-I", "-S", verifier, f"{url}/log", "consistency",
                               DECISION_CHECKPOINT], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "EXTENDS" in done.stdout, done.stdout + done.stderr
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
