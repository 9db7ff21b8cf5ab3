"""`checkpoint`, `verify` and `prove`: the commands that let anyone check the log."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec

from events.merkle import Checkpoint
from events.note import NoteError, open_checkpoint, sign_checkpoint
from plugins import hookimpl
from ictindex import output
from ictindex.cli import FORMATS, YEAR, Context, handle_errors, pass_ctx
from ictindex.cli.tlog import load_signer, load_verifier
from ictindex.errors import UsageError, file_problem


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
    cp = c.app.checkpoint(size)
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
    v = c.app.verify(cp)
    if fmt == "json":
        click.echo(output.to_json({"ok": v.ok, "log": v.log, "checkpoint": v.checkpoint,
                                   "publications": v.publications, "projections": v.projections,
                                   "frontier_problem": v.frontier_problem}))
    else:
        click.echo(str(v.log))
        for p in v.publications:
            status = "reproduces" if p.ok else "DOES NOT reproduce"
            click.echo(f"publication #{p.seq} ({p.decision}, {p.year} {p.tier}): {status}"
                       + ("" if p.ok else f": {p.reason}"))
        if v.projections is not None and v.projections.present:
            from ictindex.cli.bench import describe

            click.echo(describe(v.projections))
        if v.frontier_problem:
            click.echo(v.frontier_problem)
        if verifier is not None:
            seq = c.app.key_event(verifier)
            click.echo(f"signature by {verifier.name} OK; the key is "
                       + (f"recorded in the log as event #{seq}" if seq is not None else
                          "NOT recorded in the log (`ictindex key register`)"))
        click.echo(f"checkpoint: {v.checkpoint}")
    if not v.ok:
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


@click.command()
@click.argument("event", required=False)
@click.option("--checkpoint", "checkpoint_text", required=True, metavar="SIZE:ROOT",
              help="The published checkpoint to prove the event is in.")
@click.option("--unit", default=None,
              help="Prove every event of this unit for --year instead of one EVENT.")
@click.option("--year", type=YEAR, default=None, help="With --unit: the year of its events.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def prove(c: Context, event: str | None, checkpoint_text: str, unit: str | None,
          year: int | None, fmt: str) -> None:
    """Prove that EVENT (a seq or an event id) is in a published checkpoint, or with
    `--unit U --year Y` every event of a unit for a year (one proof each).

    Prints the event's canonical bytes and the inclusion proof; anyone can check them with
    SHA-256 alone (see docs/events.md).  Exit status 1 when a proof does not verify.
    """
    if (event is None) == (unit is None):
        raise UsageError("give an EVENT to prove, or --unit and --year (not both)")
    if (unit is None) != (year is None):
        raise UsageError("--unit and --year go together" if unit is not None
                         else "--year proves a unit's events: give --unit too")
    cp = _checkpoint(checkpoint_text)
    if unit is not None:
        _prove_unit(c, unit, year, cp, fmt)
        return
    p = c.app.prove(event, cp)
    if fmt == "json":
        click.echo(output.to_json(_proof_json(p)))
    else:
        _print_proof(p)
    if not p.ok:
        sys.exit(1)


def _proof_json(p) -> dict:
    return ({"ok": p.ok, "checkpoint": str(p.checkpoint), "event": p.body.decode(errors="replace"),
             "proof": p.proof} | ({"problem": p.problem} if p.problem else {}))


def _print_proof(p) -> None:
    ok, e, body, proof, problem, cp = p.ok, p.event, p.body, p.proof, p.problem, p.checkpoint
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


def _prove_unit(c: Context, unit: str, year: int, cp: Checkpoint, fmt: str) -> None:
    u = c.app.prove_unit(unit, year, cp)
    bad = [p for p in u.proofs if not p.ok]
    if fmt == "json":
        click.echo(output.to_json({
            "ok": u.ok, "unit_id": u.unit_id, "year": u.year, "checkpoint": str(cp),
            "proofs": [_proof_json(p) | {"seq": p.event.seq} for p in u.proofs],
            "after_checkpoint": [e.seq for e in u.after]}))
    else:
        for p in u.proofs:
            _print_proof(p)
            click.echo("")
        if u.after:
            click.echo(f"recorded after the checkpoint (not in it): "
                       + ", ".join(f"#{e.seq}" for e in u.after))
        click.echo(f"{'VERIFIED' if u.ok else 'NOT VERIFIED'}: "
                   f"{len(u.proofs) - len(bad)} of {len(u.proofs)} events of {unit} for {year} "
                   f"are in checkpoint {cp}"
                   + (f"; not shown: {', '.join(f'#{p.event.seq}' for p in bad)}" if bad else ""))
    if not u.ok:
        sys.exit(1)


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (checkpoint, verify, prove):
        cli.add_command(command)
