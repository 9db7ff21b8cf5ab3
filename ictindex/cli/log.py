"""`checkpoint`, `verify` and `prove`: the commands that let anyone check the log."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec

from events.canonical import DecodeError, decode_event, encode_event, leaf_hash_hex
from events import frontier
from events.merkle import Checkpoint, InclusionProof
from events.note import NoteError, open_checkpoint, sign_checkpoint
from events.types import SCHEMA_VERSION
from events.verify import verify as verify_log
from plugins import hookimpl
from ictindex import output
from ictindex.cli import FORMATS, Context, handle_errors, pass_ctx
from ictindex.cli.tlog import load_signer, load_verifier, registered
from ictindex.errors import UsageError, file_problem
from ictindex.replay import check_publications


def _checkpoint(text: str | None) -> Checkpoint | None:
    if text is None:
        return None
    try:
        return Checkpoint.parse(text)
    except ValueError as e:
        raise UsageError(f"--checkpoint: {e}") from None


@click.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--size", type=int, default=None, help="The checkpoint of the first SIZE events.")
@click.option("--sign", "sign", default=None, metavar="KEY",
              help="Print it as a C2SP checkpoint signed with this private key file.")
@pass_ctx
@handle_errors
def checkpoint(c: Context, fmt: str, size: int | None, sign: str | None) -> None:
    """Print the log's checkpoint (size and Merkle root) to publish."""
    signer = load_signer(sign) if sign is not None else None
    last = c.app.store.last_seq()
    if size is not None and not 0 <= size <= last:
        raise UsageError(f"--size must be within 0..{last}")
    cp = c.app.store.checkpoint(size)
    if signer is not None:
        click.echo(sign_checkpoint(signer, cp), nl=False)
    elif fmt == "json":
        click.echo(msgspec.json.encode({"size": cp.size, "root": cp.root}).decode())
    else:
        click.echo(str(cp))


@click.command()
@click.option("--checkpoint", "checkpoint_text", default=None, metavar="SIZE:ROOT",
              help="A published checkpoint the log must still extend (with --key: the file "
                   "of a signed checkpoint).")
@click.option("--key", "key_file", default=None, metavar="PUBKEY",
              help="The public key file whose signature the --checkpoint file must carry.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def verify(c: Context, checkpoint_text: str | None, key_file: str | None, fmt: str) -> None:
    """Recompute every hash from the stored bytes and re-derive every publication.

    Exit status 1 when anything does not match.
    """
    verifier = load_verifier(key_file) if key_file is not None else None
    if verifier is not None:
        cp = _signed_checkpoint(checkpoint_text, verifier)
    else:
        cp = _checkpoint(checkpoint_text)
    c.check_schema = False  # read-only: a planted trigger cannot fire; verify names it
    report = verify_log(c.app.store, checkpoint=cp)
    publications = check_publications(c.app) if report.ok else []
    from ictindex.projections_check import check_projections

    projections = check_projections(c.app) if report.ok else None
    frontier_problem = _frontier_problem(c.app.store, report) if report.ok else None
    if report.ok and frontier_problem is None:
        # the leaf hashes were just checked against the bodies: the tiles must be theirs
        frontier_problem = "\n".join(c.app.store.tile_problems()) or None
    ok = report.ok and all(p.ok for p in publications) and (projections is None or projections.ok) \
        and frontier_problem is None
    # the checkpoint from the stored hashes; verify only vouches for it when the log is OK
    current = report.current if report.ok else _stored_checkpoint(c.app.store)
    if fmt == "json":
        click.echo(output.to_json({"ok": ok, "log": report, "checkpoint": str(current),
                                   "publications": publications, "projections": projections,
                                   "frontier_problem": frontier_problem}))
    else:
        click.echo(str(report))
        for p in publications:
            status = "reproduces" if p.ok else "DOES NOT reproduce"
            click.echo(f"publication #{p.seq} ({p.decision}, {p.year} {p.tier}): {status}"
                       + ("" if p.ok else f": {p.reason}"))
        if projections is not None and projections.present:
            from ictindex.cli.bench import describe

            click.echo(describe(projections))
        if frontier_problem:
            click.echo(frontier_problem)
        if verifier is not None:
            seq = registered(c.app.store, verifier)
            click.echo(f"signature by {verifier.name} OK; the key is "
                       + (f"recorded in the log as event #{seq}" if seq is not None else
                          "NOT recorded in the log (`ictindex key register`)"))
        click.echo(f"checkpoint: {current}")
    if not ok:
        sys.exit(1)


def _signed_checkpoint(path: str | None, verifier) -> Checkpoint:
    if path is None:
        raise UsageError("--key checks the signature of a --checkpoint FILE: give one")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"--checkpoint {path}: " + (file_problem(path, e, "read") if isinstance(
            e, OSError) else "not a signed checkpoint (not UTF-8 text)")) from None
    try:
        return open_checkpoint(verifier, text)
    except NoteError as e:
        raise UsageError(f"--checkpoint {path}: {e}") from None


def _stored_checkpoint(store) -> str:
    try:
        return str(store.checkpoint())
    except ValueError as e:  # rows not numbered 1..N: there is no checkpoint to print
        return f"none ({e})"


def _frontier_problem(store, report) -> str | None:
    """The derived Merkle frontier must give the root recomputed from the event bodies."""
    kept = store.stored_frontier()
    if kept is None or kept.size > report.size:
        return None if kept is None else "merkle frontier: covers more events than the log has"
    expected = report.current if kept.size == report.size else store.checkpoint(kept.size)
    if kept == expected:
        return None
    return (f"merkle frontier: gives {kept}, the log gives {expected} (the table "
            f"{frontier.TABLE} is derived: drop it and it is rebuilt)")


@click.command()
@click.argument("event")
@click.option("--checkpoint", "checkpoint_text", required=True, metavar="SIZE:ROOT",
              help="The published checkpoint to prove the event is in.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def prove(c: Context, event: str, checkpoint_text: str, fmt: str) -> None:
    """Prove that EVENT (a seq or an event id) is in a published checkpoint.

    Prints the event's canonical bytes and the inclusion proof; anyone can check them with
    SHA-256 alone (see docs/events.md).  Exit status 1 when the proof does not verify.
    """
    cp = _checkpoint(checkpoint_text)
    e = c.app.event(event)
    if e.seq > cp.size:
        raise UsageError(f"event #{e.seq} was recorded after checkpoint {cp.size}: "
                         "it cannot be in it")
    if cp.size > c.app.store.last_seq():
        raise UsageError(f"the log has {c.app.store.last_seq()} events, fewer than the "
                         f"checkpoint's {cp.size}")
    body, problem = _shown_bytes(c.app.store, e.seq)
    stored = c.app.store.inclusion_proof(e.seq, cp.size)
    # The leaf is the hash of the very bytes shown, never the stored hash column: a body edited
    # with its hash kept must not prove.
    proof = InclusionProof(stored.index, stored.size, leaf_hash_hex(body), stored.path)
    ok = problem is None and proof.verify(cp)
    if fmt == "json":
        click.echo(output.to_json({"ok": ok, "checkpoint": str(cp), "event": body.decode(errors="replace"),
                                   "proof": proof} | ({"problem": problem} if problem else {})))
    else:
        click.echo(f"event #{e.seq} {e.event_id}")
        click.echo(f"bytes: {body.decode(errors='replace')}")
        if problem:
            click.echo(f"PROBLEM: {problem}")
        click.echo(f"leaf hash: {proof.leaf_hash}")
        click.echo(f"path ({len(proof.path)} hashes):")
        for h in proof.path:
            click.echo(f"  {h}")
        click.echo(f"{'VERIFIED' if ok else 'NOT VERIFIED'}: event #{e.seq} "
                   f"{'is' if ok else 'is not shown to be'} in checkpoint {cp}")
    if not ok:
        sys.exit(1)


def _shown_bytes(store, seq: int) -> tuple[bytes, str | None]:
    """The stored body of event `seq` (the bytes `prove` shows and hashes), and what is wrong
    with it: not the canonical encoding of the event it decodes to, or not that seq."""
    row = next(iter(store.stored_rows(seq)), None)
    if row is None or row.seq != seq or type(row.body) is not bytes:
        return b"", f"event #{seq} is not stored as bytes at seq {seq}"
    body = row.body
    try:
        event = decode_event(body)
    except DecodeError as e:
        return body, f"the stored bytes do not decode: {e}"
    if event.seq != seq:
        return body, f"the stored bytes are event #{event.seq}, not #{seq}"
    if event.schema == SCHEMA_VERSION and encode_event(event) != body:
        return body, "the stored bytes are not the canonical encoding of the event"
    if leaf_hash_hex(body) != row.hash:
        return body, (f"the stored hash {row.hash} is not the hash of these bytes: the log was "
                      "edited (run `ictindex verify`)")
    return body, None


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (checkpoint, verify, prove):
        cli.add_command(command)
