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

from events.note import NoteError, Signer, Verifier
from plugins import hookimpl
from ictindex.atomic import write_atomic
from ictindex.cli import Context, actor_option, handle_errors, pass_ctx
from ictindex.errors import UsageError, file_problem



def _load_key(path: str, option: str, parse):
    """`parse` of the key file `path`; a file that cannot be read or parsed is the user's."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{option} {path}: "
                         + (file_problem(path, e, "read") if isinstance(e, OSError)
                            else "not a key file (not UTF-8 text)")) from None
    try:
        return parse(text)
    except NoteError as e:
        raise UsageError(f"{option} {path}: {e}") from None


def load_signer(path: str, option: str = "--sign") -> Signer:
    """The signer key in the file `path` (written by `ictindex key generate`)."""
    return _load_key(path, option, Signer.parse)


def load_verifier(path: str, option: str = "--key") -> Verifier:
    """The verifier (public) key in the file `path`."""
    return _load_key(path, option, Verifier.parse)


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
    done = c.app.register_key(verifier, reason=reason, actor=actor)
    if done:
        click.echo(f"Recorded signing key {text} as event #{done[0].seq}")
    else:
        click.echo(f"Already recorded: signing key {text}; nothing new.")


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
    done = c.app.tiles(out, signer, size)
    click.echo(f"wrote {done.tiles} tiles, {done.bundles} entry bundles and the checkpoint "
               f"{done.checkpoint} signed by {signer.name} to {Path(out)}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (key, tiles):
        cli.add_command(command)
