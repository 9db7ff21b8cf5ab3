"""The log as static C2SP tiles with signed checkpoints: checked by an independent reader
written from the specs (c2sp_reference.py) and by the stand-alone verify_tlog.py over HTTP."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import c2sp_reference as ref
from events.store import EventStore
from ictindex.cli import build_cli

VERIFIER = Path(__file__).resolve().parents[2] / "ictindex" / "site" / "static" / "verify_tlog.py"
NAME = "ictindex.example/brvt"


def run(*argv: str):
    result = CliRunner().invoke(build_cli(), list(argv), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def tiled(sample_db, tmp_path):
    """The sample, a key, a signed checkpoint of its first 2000 events, and its tiles."""
    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)
    key = tmp_path / "brvt.key"
    code, out = run("key", "generate", NAME, "--out", str(key))
    assert code == 0, out
    vkey = Path(f"{key}.pub").read_text()
    assert out.strip() == vkey.strip() and vkey.startswith(NAME + "+")
    code, old = run("--db", str(db), "checkpoint", "--size", "2000", "--sign", str(key))
    assert code == 0, old
    (tmp_path / "old.checkpoint").write_text(old)
    code, out = run("--db", str(db), "tiles", str(tmp_path / "out"), "--sign", str(key))
    assert code == 0, out
    return db, key, vkey, tmp_path


def test_the_independent_c2sp_reader_accepts_tiles_and_checkpoints(tiled):
    db, _key, vkey, tmp = tiled
    size, leaves, entries = ref.check_tiled_log(tmp / "out", vkey)
    with EventStore(db, read_only=True) as store:
        assert size == store.last_seq() == 4175
        assert entries == [bytes(r.body) for r in store.stored_rows(1)]
        assert str(store.checkpoint()).endswith(
            "fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba")
    origin, old_size, old_root = ref.read_checkpoint((tmp / "old.checkpoint").read_bytes(), vkey)
    assert (origin, old_size) == (NAME, 2000)
    assert ref.mth(leaves[:2000]) == old_root  # the new tree extends the old one


def test_verify_checks_a_signed_checkpoint(tiled):
    db, _key, _vkey, tmp = tiled
    pub = f"{tmp / 'brvt.key'}.pub"
    code, out = run("--db", str(db), "verify", "--checkpoint", str(tmp / "old.checkpoint"),
                    "--key", pub)
    assert code == 0, out
    assert "checkpoint 2000:" in out and "OK: the log extends it" in out
    forged = (tmp / "old.checkpoint").read_text().replace("\n2000\n", "\n2001\n")
    (tmp / "forged.checkpoint").write_text(forged)
    code, out = run("--db", str(db), "verify", "--checkpoint", str(tmp / "forged.checkpoint"),
                    "--key", pub)
    assert code == 2
    assert f"the signature by {NAME} does not verify" in out
    other = tmp / "other.key"
    assert run("key", "generate", NAME, "--out", str(other))[0] == 0
    code, out = run("--db", str(db), "verify", "--checkpoint", str(tmp / "old.checkpoint"),
                    "--key", f"{other}.pub")
    assert code == 2 and "carries no signature by" in out


def test_the_public_key_and_its_name_enter_the_log(tiled):
    db, key, vkey, tmp = tiled
    pub = f"{key}.pub"
    args = ("--db", str(db), "verify", "--checkpoint", str(tmp / "old.checkpoint"), "--key", pub)
    assert "the key is NOT recorded in the log" in run(*args)[1]
    code, out = run("--db", str(db), "key", "register", pub, "--reason", "QĐ 1018")
    assert code == 0 and out.startswith(f"Recorded signing key {vkey.strip()} as event #4176")
    assert "Already recorded" in run("--db", str(db), "key", "register", pub, "--reason",
                                     "QĐ 1018")[1]
    code, out = run("--db", str(db), "key", "register", pub)
    assert code == 2 and "with another payload: nothing was recorded" in out
    assert "the key is recorded in the log as event #4176" in run(*args)[1]
    with EventStore(db, read_only=True) as store:
        payload = store.get(4176).payload
        assert (payload.name, payload.key) == (NAME, vkey.strip())
        assert "PRIVATE" not in bytes(next(store.stored_rows(4176)).body).decode()


def test_a_key_is_never_overwritten(tmp_path):
    key = tmp_path / "k"
    key.write_text("precious")
    code, out = run("key", "generate", NAME, "--out", str(key))
    assert code == 2 and "exists: a key is never overwritten" in out
    assert key.read_text() == "precious"


def test_publish_signs_the_publication_checkpoint(tiled):
    db, key, vkey, _tmp = tiled
    code, out = run("--db", str(db), "publish", "--year", "2020", "--tier", "district",
                    "--decision", "1018/QĐ-UBND", "--sign", str(key))
    assert code == 0, out
    note = out[out.index(NAME + "\n"):]
    origin, size, root = ref.read_checkpoint(note.encode(), vkey)
    assert f"checkpoint {size}:{root.hex()}" in out


class _Counting(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Counting.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(tiled):
    _db, _key, _vkey, tmp = tiled
    _Counting.requests = []
    handler = functools.partial(_Counting, directory=str(tmp / "out"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _verify(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(VERIFIER), *argv], capture_output=True,
                          text=True, timeout=120)


def test_the_standalone_verifier_checks_proofs_over_http(served):
    url, tmp = served
    pub = f"{tmp / 'brvt.key'}.pub"
    done = _verify(url, "consistency", str(tmp / "old.checkpoint"), "--key", pub)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "EXTENDS 2000:" in done.stdout
    assert f"signature by {NAME} OK" in done.stdout or "signature NOT checked" in done.stdout
    for seq in (1, 256, 257, 4175):
        _Counting.requests = []
        done = _verify(url, "inclusion", str(seq), "--key", pub)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"event {seq} IS in {NAME} checkpoint 4175:" in done.stdout
        assert len(_Counting.requests) <= 2 + 13  # checkpoint, bundle, one tile per level step


def test_the_standalone_verifier_refuses_a_changed_tile(served):
    url, tmp = served
    for tile in (tmp / "out" / "tile" / "0" / "003", tmp / "out" / "tile" / "1" / "000.p" / "16"):
        data = bytearray(tile.read_bytes())
        data[0] ^= 1
        tile.write_bytes(bytes(data))
    done = _verify(url, "consistency", str(tmp / "old.checkpoint"))
    assert done.returncode == 1
    assert "does NOT extend" in done.stdout
    done = _verify(url, "inclusion", str(3 * 256 + 1))
    assert done.returncode == 1 and "is NOT in" in done.stdout


def test_a_bad_key_file_is_refused_before_anything_is_recorded(tiled):
    db, key, _vkey, tmp = tiled
    with EventStore(db, read_only=True) as store:
        before = store.last_seq()
    bad = tmp / "bad.key"
    bad.write_text("PRIVATE+KEY+x+00000000+AAAA\n")
    code, out = run("--db", str(db), "publish", "--year", "2020", "--tier", "district",
                    "--decision", "another", "--sign", str(bad))
    assert code == 2 and out.startswith(f"Error: --sign {bad}: ")
    code, out = run("--db", str(db), "checkpoint", "--sign", str(tmp / "missing.key"))
    assert code == 2 and "missing.key" in out and "Traceback" not in out
    code, out = run("--db", str(db), "verify", "--key", f"{key}.pub")
    assert code == 2 and "--key checks the signature of a --checkpoint FILE" in out
    with EventStore(db, read_only=True) as store:
        assert store.last_seq() == before


def test_the_standalone_verifier_gives_a_verdict_not_a_traceback(served):
    url, tmp = served
    (tmp / "out" / "checkpoint").write_text("garbage")
    done = _verify(url, "inclusion", "1")
    assert done.returncode == 1
    assert done.stdout.startswith("NOT verified:") and "Traceback" not in done.stderr
