"""The log as static tiles (C2SP tlog-tiles) and the signing keys recorded in it.

`write_tiles` writes what a static web host serves so that anyone can check the log without the
tool (ictindex/site/static/verify_tlog.py); the layout is in `ictindex.cli.tlog`'s help.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from events import tiles as tile_store
from events.canonical import decode_event
from events.merkle import Checkpoint
from events.note import Signer, Verifier, sign_checkpoint
from ictindex.atomic import write_atomic
from ictindex.errors import UsageError, file_problem

if TYPE_CHECKING:
    from ictindex.app import Ictindex

VERIFIER = Path(__file__).resolve().parent / "site" / "static" / "verify_tlog.py"
_MAX_ENTRY = 0xFFFF  # an entry bundle's length prefix is a uint16


def registered(store, verifier: Verifier) -> int | None:
    """The seq of the event that records `verifier`'s key in the log, None if none does."""
    text = verifier.text()
    for row in store.stored_rows():
        if row.type == "signing_key_registered" and decode_event(row.body).payload.key == text:
            return row.seq
    return None


def _entry_bundle(bodies: list[bytes], first_seq: int) -> bytes:
    out = bytearray()
    for i, body in enumerate(bodies):
        if len(body) > _MAX_ENTRY:
            raise UsageError(f"event #{first_seq + i} is {len(body)} bytes: an entry bundle "
                             f"holds entries of at most {_MAX_ENTRY} bytes")
        out += len(body).to_bytes(2, "big") + body
    return bytes(out)


def _put(out: Path, rel: str, data: bytes) -> None:
    path = out / rel
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(file_problem(path.parent, e, "create")) from None
    write_atomic(path, data)


@attrs.frozen
class Tiles:
    checkpoint: Checkpoint
    tiles: int
    bundles: int


def write_tiles(app: "Ictindex", out: str | Path, signer: Signer | None,
                size: int | None = None) -> Tiles:
    """Write the first `size` events (default all) under `out` as tiles, entry bundles and the
    checkpoint signed by `signer` (without one, a plain SIZE:ROOT line: the site's
    `ictindex.site.proof` writes such an unsigned copy), with the stand-alone checker."""
    store = app.store
    last = store.last_seq()
    if size is not None and not 1 <= size <= last:
        raise UsageError(f"--size must be within 1..{last}")
    cp: Checkpoint = store.checkpoint(size)
    size = cp.size
    leaves = store.leaf_hashes(size)
    root = Path(out)
    count = 0
    for level, idx, blob in tile_store.expected(leaves):
        _put(root, tile_store.path(level, idx, len(blob) // 32), blob)
        count += 1
    bodies: list[bytes] = []
    bundles = 0
    for row in store.stored_rows(1):
        if row.seq > size:
            break
        bodies.append(bytes(row.body))
        if len(bodies) == tile_store.WIDTH or row.seq == size:
            n = (row.seq - 1) // tile_store.WIDTH
            rel = tile_store.path(0, n, len(bodies)).replace("tile/0/", "tile/entries/", 1)
            _put(root, rel, _entry_bundle(bodies, n * tile_store.WIDTH + 1))
            bundles += 1
            bodies = []
    _put(root, "checkpoint", sign_checkpoint(signer, cp).encode() if signer is not None
         else f"{cp}\n".encode())
    # the stand-alone checker beside what it checks (it is short: read it before running it)
    _put(root, VERIFIER.name, VERIFIER.read_bytes())
    return Tiles(checkpoint=cp, tiles=count, bundles=bundles)
