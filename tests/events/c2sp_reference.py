"""An independent reader of a tiled log, written from the C2SP specifications alone
(c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint, c2sp.org/signed-note) and RFC 6962 §2.1.

It imports nothing from ictindex: it recomputes every Merkle Tree Hash by the RFC's recursive
definition, checks every tile against the spec's formula
    tile n of level l, hash i = MTH(D[(n·256 + i)·256**l : (n·256 + i + 1)·256**l])
and every entry bundle against the level-0 tiles, and checks the checkpoint's note signature
with the `cryptography` library's Ed25519.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash of a list of leaf hashes, recursively."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def tile_name(n: int) -> str:
    """tlog-tiles: zero-padded 3-digit path elements, all but the last prefixed with x."""
    s = str(n)
    while len(s) % 3:
        s = "0" + s
    parts = [s[i:i + 3] for i in range(0, len(s), 3)]
    return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])


def open_note(note: bytes, vkey: str) -> str:
    """signed-note: the text, if a signature line by the key (name, key ID) verifies."""
    name, hex_id, b64 = vkey.strip().split("+", 2)
    key = base64.b64decode(b64)
    assert key[0] == 1 and len(key) == 33  # signature type 0x01, Ed25519
    assert hashlib.sha256(name.encode() + b"\x0a" + key).digest()[:4].hex() == hex_id
    text, sep, sigs = note.decode("utf-8").rpartition("\n\n")
    assert sep
    text += "\n"
    for line in sigs.strip("\n").split("\n"):
        assert line.startswith("\u2014 ")
        signer, sig = line[2:].split(" ")
        raw = base64.b64decode(sig)
        if signer == name and raw[:4].hex() == hex_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], text.encode())
            return text
    raise AssertionError("no signature by the key")


def read_checkpoint(note: bytes, vkey: str) -> tuple[str, int, bytes]:
    """tlog-checkpoint: origin, decimal tree size, base64 root hash."""
    lines = open_note(note, vkey).split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2])


def check_tiled_log(folder: Path, vkey: str) -> tuple[int, list[bytes], list[bytes]]:
    """Check everything in `folder` against its checkpoint; (size, leaf hashes, entries)."""
    origin, size, root = read_checkpoint((folder / "checkpoint").read_bytes(), vkey)
    assert origin == vkey.split("+")[0]
    entries: list[bytes] = []
    for n in range((size + 255) // 256):
        width = min(256, size - n * 256)
        name = tile_name(n) + ("" if width == 256 else f".p/{width}")
        bundle = (folder / "tile" / "entries" / name).read_bytes()
        pos = 0
        while pos < len(bundle):
            length = int.from_bytes(bundle[pos:pos + 2], "big")
            entries.append(bundle[pos + 2:pos + 2 + length])
            pos += 2 + length
        assert len(entries) == n * 256 + width
    leaves = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    assert mth(leaves) == root
    level = 0
    while size >> (8 * level):
        count = size >> (8 * level)
        for n in range((count + 255) // 256):
            width = min(256, count - n * 256)
            name = tile_name(n) + ("" if width == 256 else f".p/{width}")
            data = (folder / "tile" / str(level) / name).read_bytes()
            span = 256 ** level
            want = b"".join(mth(leaves[(n * 256 + i) * span:(n * 256 + i + 1) * span])
                            for i in range(width))
            assert data == want, f"tile/{level}/{name}"
        level += 1
    return size, leaves, entries
