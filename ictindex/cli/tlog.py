"""`key generate` and `tiles`: signing keys for checkpoints, and the log as static tiles.

`tiles OUT/` writes what C2SP tlog-tiles serves, so that any static web host can publish the
log and anyone can check it without the tool (ictindex/site/static/verify_tlog.py):

    OUT/checkpoint                  the signed checkpoint (c2sp.org/tlog-checkpoint)
    OUT/tile/<L>/<N>[.p/<W>]        the Merkle tree's hashes, 256 per full tile
    OUT/tile/entries/<N>[.p/<W>]    the events' canonical bytes, each after its big-endian
                                    uint16 length, 256 per full bundle
    OUT/verify_tlog.py              the stand-alone checker (standard library only)
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from events import tiles as tile_store
from events.canonical import decode_event
from events.merkle import Checkpoint
from events.note import NoteError, Signer, Verifier, sign_checkpoint
from events.types import SigningKeyRegistered
from plugins import hookimpl
from ictindex.atomic import write_atomic
from ictindex.app import default_actor
from ictindex.cli import Context, actor_option, handle_errors, pass_ctx
from ictindex.errors import UsageError, file_problem

VERIFIER = Path(__file__).resolve().parents[1] / "site" / "static" / "verify_tlog.py"
_MAX_ENTRY = 0xFFFF  # an entry bundle's length prefix is a uint16


def load_signer(path: str, option: str = "--sign") -> Signer:
    """The signer key in the file `path` (written by `ictindex key generate`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{option} {path}: "
                         + (file_problem(path, e, "read") if isinstance(e, OSError)
                            else "not a key file (not UTF-8 text)")) from None
    try:
        return Signer.parse(text)
    except NoteError as e:
        raise UsageError(f"{option} {path}: {e}") from None


def load_verifier(path: str, option: str = "--key") -> Verifier:
    """The verifier (public) key in the file `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{option} {path}: "
                         + (file_problem(path, e, "read") if isinstance(e, OSError)
                            else "not a key file (not UTF-8 text)")) from None
    try:
        return Verifier.parse(text)
    except NoteError as e:
        raise UsageError(f"{option} {path}: {e}") from None


@click.group()
def key() -> None:
    """Signing keys for checkpoints (Ed25519, C2SP signed notes)."""


@key.command("generate")
@click.argument("name")
@click.option("--out", "out", required=True, metavar="FILE",
              help="Where to write the private key (refused if it exists); the public key "
                   "goes to FILE.pub.")
@handle_errors
def generate(name: str, out: str) -> None:
    """Make a new signing key named NAME (e.g. ictindex.example.gov/brvt).

    Keep FILE secret and out of the log; publish FILE.pub (also printed) so that anyone can
    check the signed checkpoints."""
    try:
        signer = Signer.generate(name)
    except NoteError as e:
        raise UsageError(str(e)) from None
    public = Path(out + ".pub")
    for p in (Path(out), public):
        if p.exists():
            raise UsageError(f"--out: {p} exists: a key is never overwritten")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise UsageError(file_problem(out, e, "write")) from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(signer.text() + "\n")
    write_atomic(public, (signer.verifier.text() + "\n").encode())
    click.echo(signer.verifier.text())


@key.command("register")
@click.argument("pubkey", metavar="PUBKEY")
@click.option("--reason", default="", help="The decision that adopts the key.")
@actor_option
@pass_ctx
@handle_errors
def register(c: Context, pubkey: str, reason: str, actor: str | None) -> None:
    """Record in the log the public key (and its name) that signs its checkpoints."""
    verifier = load_verifier(pubkey, "PUBKEY")
    text = verifier.text()
    payload = SigningKeyRegistered(name=verifier.name, key=text, reason=reason)
    done = c.app.store.append([payload], actor=actor or default_actor(),
                              keys=[f"signing-key:{text}"])
    if done:
        click.echo(f"Recorded signing key {text} as event #{done[0].seq}")
    else:
        click.echo(f"Already recorded: signing key {text}; nothing new.")


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


@click.command("tiles")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--sign", "sign", required=True, metavar="KEY",
              help="The private key file that signs the checkpoint.")
@click.option("--size", type=int, default=None,
              help="The tree of the first SIZE events (a checkpoint published earlier).")
@pass_ctx
@handle_errors
def tiles(c: Context, out: str, sign: str, size: int | None) -> None:
    """Write the log to OUT/ as static files in the C2SP tlog-tiles layout, with its signed
    checkpoint: any web host can serve them, and verify_tlog.py checks them."""
    signer = load_signer(sign)
    store = c.app.store
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
    _put(root, "checkpoint", sign_checkpoint(signer, cp).encode())
    # the stand-alone checker beside what it checks (it is short: read it before running it)
    _put(root, VERIFIER.name, VERIFIER.read_bytes())
    click.echo(f"wrote {count} tiles, {bundles} entry bundles and the checkpoint {cp} signed "
               f"by {signer.name} to {root}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (key, tiles):
        cli.add_command(command)
