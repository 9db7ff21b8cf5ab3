"""Stored subtree hashes (events.tiles): proofs and past roots read from them are byte for byte
those computed from every leaf; `verify` names a tampered tile."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from events import merkle, tiles
from events.store import EventStore


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


def _grow(conn: sqlite3.Connection, leaves: list[bytes], batches: list[int]) -> int:
    """Append `leaves` in batches of the given sizes, each resuming the stored tiles."""
    size = 0
    for b in batches:
        writer = tiles.resume(conn, size)
        assert writer is not None
        writer.extend(leaves[size:size + b])
        tiles.advance(conn, writer)
        size += b
    return size


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.integers(1, 40), min_size=1, max_size=8), data=st.data())
def test_proofs_from_tiles_are_those_from_every_leaf(batches, data):
    # tiles of 4 hashes (height 2): a few dozen leaves already make four levels
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tiles, "HEIGHT", 2)
        mp.setattr(tiles, "WIDTH", 4)
        conn = sqlite3.connect(":memory:")
        tiles.ensure(conn)
        leaves = _leaves(sum(batches))
        size = _grow(conn, leaves, batches)
        assert tiles.stored_size(conn) == size
        assert sorted(conn.execute(f"SELECT level, idx, hashes FROM {tiles.TABLE}")) == list(
            tiles.expected(leaves))
        new = data.draw(st.integers(1, size))
        old = data.draw(st.integers(0, new))
        index = data.draw(st.integers(0, new - 1))
        reader = tiles.Reader(conn, size)
        assert reader.range_root(0, new) == merkle.root(leaves[:new])
        assert merkle.inclusion_path(index, new, reader.range_root) == merkle.inclusion_proof(
            leaves, index, new)
        assert merkle.consistency_path(old, new, reader.range_root) == merkle.consistency_proof(
            leaves, old, new)


def test_full_size_tiles_over_two_levels():
    leaves = _leaves(256 * 256 + 300)
    conn = sqlite3.connect(":memory:")
    tiles.ensure(conn)
    _grow(conn, leaves, [70, 256 * 200 + 5, len(leaves) - 256 * 200 - 75])
    reader = tiles.Reader(conn, len(leaves))
    assert reader.node(16, 0) == merkle.root(leaves[:65536])
    for new, old, index in [(len(leaves), 65536, 65535), (65537, 1000, 65536), (300, 17, 255)]:
        assert merkle.inclusion_path(index, new, reader.range_root) == merkle.inclusion_proof(
            leaves, index, new)
        assert merkle.consistency_path(old, new, reader.range_root) == merkle.consistency_proof(
            leaves, old, new)
    assert tiles.path(2, 1) == "tile/2/001"
    assert tiles.path(0, 1234067, 5) == "tile/0/x001/x234/067.p/5"


def test_the_store_answers_from_tiles_as_from_the_leaves(sample_db, tmp_path):
    with EventStore(sample_db, read_only=True) as store:
        n = store.last_seq()
        assert tiles.stored_size(store.db.conn) == n  # the sample is tiled
        leaves = store.leaf_hashes()
        for size in (1, 256, 257, n - 1, n):
            assert tiles.Reader(store.db.conn, n).range_root(0, size) == merkle.root(
                leaves[:size])
            assert store.inclusion_proof(size, size).path == [
                p.hex() for p in merkle.inclusion_proof(leaves, size - 1, size)]
            assert store.consistency_proof(size // 2 + 1, size).path == [
                p.hex() for p in merkle.consistency_proof(leaves, size // 2 + 1, size)]


def test_verify_names_a_tampered_tile(sample_db, tmp_path):
    db = tmp_path / "log.db"
    db.write_bytes(sample_db.read_bytes())
    conn = sqlite3.connect(db)
    with conn:
        (blob,) = conn.execute(f"SELECT hashes FROM {tiles.TABLE} WHERE level = 0 AND idx = 3"
                               ).fetchone()
        conn.execute(f"UPDATE {tiles.TABLE} SET hashes = ? WHERE level = 0 AND idx = 3",
                     (bytes(32) + blob[32:],))
    conn.close()
    ictindex = str(Path(sys.executable).with_name("ictindex"))
    run = subprocess.run([ictindex, "--db", str(db), "verify"],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "merkle tile tile/0/003: its hashes are not those recomputed from the leaves" in run.stdout
