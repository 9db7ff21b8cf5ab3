"""Signed checkpoints: C2SP tlog-checkpoint text, signed as a C2SP signed note with Ed25519.

    <origin>\\n<tree size>\\n<base64 root hash>\\n       the note text (c2sp.org/tlog-checkpoint)
    \\n
    — <key name> <base64(key ID ‖ Ed25519 signature of the note text)>\\n

The key ID is the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)
(c2sp.org/signed-note).  Keys are written as the Go checksum database's note package writes
them, one line of text:

    verifier key:  <name>+<key ID, 8 hex digits>+<base64(0x01 ‖ 32-byte public key)>
    signer key:    PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte private seed)>

The Ed25519 arithmetic is the `cryptography` library's; this module only frames the bytes.
The checkpoint's origin is the signing key's name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .merkle import HASH_SIZE, Checkpoint

ED25519 = b"\x01"
_DASH = "\u2014"


class NoteError(ValueError):
    """A key, note or checkpoint that is not well formed, or whose signature does not verify."""


def _check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise NoteError(f"a key name is non-empty, without spaces or '+': {name!r}")
    return name


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class Signer:
    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        self.name = _check_name(name)
        self.private = private
        self.verifier = Verifier(name, private.public_key())

    @classmethod
    def generate(cls, name: str) -> "Signer":
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> "Signer":
        parts = text.strip().split("+", 4)  # base64 may hold '+'
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>")
        name, hex_id, b64 = parts[2:]
        raw = _b64(b64, "the signer key")
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the signer key is not an Ed25519 key (0x01 and 32 bytes)")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id.hex() != hex_id:
            raise NoteError(f"the signer key's id {hex_id} is not that of its name and key")
        return signer

    def text(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return (f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+"
                f"{base64.b64encode(ED25519 + seed).decode()}")

    def sign(self, text: str) -> str:
        """The signed note of `text` (which must end in a newline)."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        sig = self.private.sign(text.encode())
        line = base64.b64encode(self.verifier.key_id + sig).decode()
        return f"{text}\n{_DASH} {self.name} {line}\n"


class Verifier:
    def __init__(self, name: str, public: Ed25519PublicKey) -> None:
        self.name = _check_name(name)
        self.public = public
        self.key_id = key_id(name, _raw_public(public))

    @classmethod
    def parse(cls, text: str) -> "Verifier":
        parts = text.strip().split("+", 2)  # base64 may hold '+'
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<key id>+<base64 key>")
        name, hex_id, b64 = parts
        raw = _b64(b64, "the verifier key")
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key (0x01 and 32 bytes)")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if verifier.key_id.hex() != hex_id:
            raise NoteError(f"the verifier key's id {hex_id} is not that of its name and key")
        return verifier

    def text(self) -> str:
        return (f"{self.name}+{self.key_id.hex()}+"
                f"{base64.b64encode(ED25519 + _raw_public(self.public)).decode()}")

    def open(self, note: str) -> str:
        """The text of `note` if this key signed it; `NoteError` saying why not otherwise."""
        text, sep, sigs = note.rpartition("\n\n")
        if not sep:
            raise NoteError("not a signed note: no blank line before the signatures")
        text += "\n"
        found = False
        for line in sigs.splitlines():
            prefix, _, rest = line.partition(" ")
            name, _, b64 = rest.partition(" ")
            if prefix != _DASH or not name or not b64:
                raise NoteError(f"not a signature line: {line!r}")
            raw = _b64(b64, "a signature")
            if name != self.name or raw[:4] != self.key_id:
                continue  # another key's signature: ignored, as the spec says
            try:
                self.public.verify(raw[4:], text.encode())
            except InvalidSignature:
                raise NoteError(f"the signature by {self.name} does not verify: the note was "
                                "changed or signed by another key") from None
            found = True
        if not found:
            raise NoteError(f"the note carries no signature by {self.name}+{self.key_id.hex()}")
        return text


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


def checkpoint_text(origin: str, checkpoint: Checkpoint) -> str:
    """The tlog-checkpoint note text of `checkpoint`."""
    return (f"{_check_name(origin)}\n{checkpoint.size}\n"
            f"{base64.b64encode(checkpoint.root_bytes).decode()}\n")


def parse_checkpoint(text: str) -> tuple[str, Checkpoint]:
    """(origin, checkpoint) of a tlog-checkpoint note text (extension lines are allowed)."""
    lines = text.split("\n")
    if len(lines) < 4 or not lines[1].isdigit() or not lines[1].isascii() \
            or (lines[1] != "0" and lines[1].startswith("0")):
        raise NoteError("a checkpoint is three lines: origin, tree size, base64 root hash")
    root = _b64(lines[2], "the checkpoint's root hash")
    if len(root) != HASH_SIZE:
        raise NoteError("the checkpoint's root hash is not 32 bytes")
    return lines[0], Checkpoint(int(lines[1]), root.hex())


def sign_checkpoint(signer: Signer, checkpoint: Checkpoint) -> str:
    return signer.sign(checkpoint_text(signer.name, checkpoint))


def open_checkpoint(verifier: Verifier, note: str) -> Checkpoint:
    """The checkpoint of a signed note, if `verifier` signed it with its name as origin."""
    origin, cp = parse_checkpoint(verifier.open(note))
    if origin != verifier.name:
        raise NoteError(f"the checkpoint's origin is {origin!r}, not the key's {verifier.name!r}")
    return cp


__all__ = ["NoteError", "Signer", "Verifier", "checkpoint_text", "key_id", "open_checkpoint",
           "parse_checkpoint", "sign_checkpoint"]
