"""C2SP signed notes (c2sp.org/signed-note): their format, parsing and errors.

A note is the text, one blank line, then one or more lines
``— <key name> <base64(4-byte key ID || signature)>`` (U+2014 em dash). Ed25519 signatures
(type 0x01) sign the text; key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4].
Verifier keys are written ``<name>+<hex key ID>+<base64(0x01 || public key)>`` (the keys are
in :mod:`.note_keys`; checkpoints, the notes a log signs, in :mod:`.checkpoint`).

Parsing is strict: anything the specification does not allow is refused with a
:class:`CheckpointError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PublicKey,
)

from facegate.errors import LedgerError

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "CheckpointError",
    "NoteFormatError",
    "NoteSignature",
    "SignatureError",
    "SignedNote",
    "parse_signed_note",
]


#: signed-note signature type of plain Ed25519 note signatures
ALG_ED25519: Final = 0x01
#: signed-note signature type of timestamped Ed25519 witness cosignatures (cosignature/v1)
ALG_COSIGNATURE_V1: Final = 0x04
#: most signature lines accepted in one note (the note spec asks for at least 16)
MAX_SIGNATURES: Final = 100
#: largest note accepted, in bytes of UTF-8
MAX_NOTE_BYTES: Final = 1 << 20
#: largest cosignature timestamp allowed by tlog-cosignature
MAX_TIMESTAMP: Final = 2**63 - 1

_EM_DASH: Final = "\u2014"
_SIG_PREFIX: Final = _EM_DASH + " "
_COSIGNATURE_HEADER: Final = "cosignature/v1\n"
_ED25519_SIG_SIZE: Final = 64
_KEY_ID_SIZE: Final = 4
_MAX_TREE_SIZE: Final = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_HEX8 = re.compile(r"[0-9a-f]{8}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


# --- errors ----------------------------------------------------------------------------------


class CheckpointError(LedgerError):
    """A checkpoint or signed note cannot be accepted."""

    code = "ledger_checkpoint_invalid"
    default_advice = (
        "Do not trust this tree head. Fetch the checkpoint again from the log; if it still\n"
        "fails, keep it as evidence and compare it with a witness-cosigned checkpoint."
    )

    def __init__(
        self,
        message: str,
        *,
        expected: object = None,
        computed: object = None,
        advice: str | None = None,
    ) -> None:
        if expected is not None or computed is not None:
            message = f"{message}: expected {expected!s}, found {computed!s}"
        super().__init__(message, advice=advice)
        self.expected = expected
        self.computed = computed


class NoteFormatError(CheckpointError):
    """The text is not a well-formed signed note or checkpoint."""

    code = "ledger_note_malformed"


class SignatureError(CheckpointError):
    """No trusted signature verifies, or a trusted key's signature fails."""

    code = "ledger_signature_invalid"


# --- small codecs ----------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Strict, canonical RFC 4648 §4 base64 (padding required, no stray bits or characters)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteFormatError(f"{what} is not valid base64") from None
    if _b64encode(raw) != text:
        raise NoteFormatError(f"{what} is not canonical base64")
    return raw


def _check_name(name: str, what: str = "key name") -> None:
    """Key names: non-empty, no Unicode spaces, no plus, no control characters."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} must be a non-empty string")
    for ch in name:
        if ch.isspace() or ch == "+" or ord(ch) < 0x20:
            raise ValueError(f"{what} {name!r} contains a space, '+' or a control character")


def _valid_name(name: str) -> bool:
    try:
        _check_name(name)
    except ValueError:
        return False
    return True


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str) or not line:
        raise ValueError(f"{what} must be a non-empty string")
    if any(ord(ch) < 0x20 for ch in line):
        raise ValueError(f"{what} must not contain newlines or control characters")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode text") from None


def _check_note_chars(text: str, what: str) -> None:
    """Valid UTF-8 and no ASCII control character but newline (signed-note §Format)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteFormatError(f"{what} is not valid UTF-8") from None
    bad = _CONTROL.search(text)
    if bad:
        raise NoteFormatError(f"{what} contains the control character U+{ord(bad[0]):04X}")


def _key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key)
    return digest.digest()[:_KEY_ID_SIZE]


def _load_public_key(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValueError("not a valid Ed25519 public key") from None


def _ed25519_ok(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != _ED25519_SIG_SIZE:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _parse_key_string(text: str, algorithm: int, *, private: bool) -> tuple[str, bytes, bytes]:
    """Split ``[PRIVATE+KEY+]<name>+<hex id>+<base64(type || key)>``; return name, id, key."""
    if not isinstance(text, str):
        raise TypeError("a key string must be str")
    # The base64 key material may itself contain '+': split off the leading fields only.
    parts = text.split("+", 4 if private else 2)
    if private:
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise ValueError("a signer key has the form PRIVATE+KEY+<name>+<hash>+<key>")
        parts = parts[2:]
    elif len(parts) != 3:
        raise ValueError("a verifier key has the form <name>+<hash>+<key>")
    name, key_hash, encoded = parts
    _check_name(name)
    if not _HEX8.fullmatch(key_hash):
        raise ValueError("the key hash must be 8 lowercase hex digits")
    try:
        blob = _b64decode(encoded, "key")
    except NoteFormatError as err:
        raise ValueError(err.message) from None
    if len(blob) != 33 or blob[0] != algorithm:
        raise ValueError(
            f"expected a 33-byte key of signature type 0x{algorithm:02x}, got "
            f"{len(blob)} bytes" + (f" of type 0x{blob[0]:02x}" if blob else "")
        )
    return name, bytes.fromhex(key_hash), blob[1:]


def _vkey(name: str, key_id: bytes, algorithm: int, public_key: bytes) -> str:
    return f"{name}+{key_id.hex()}+{_b64encode(bytes([algorithm]) + public_key)}"


# --- signed notes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the algorithm's signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.key_id, bytes) or len(self.key_id) != _KEY_ID_SIZE:
            raise ValueError("a key ID is 4 bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise ValueError("a signature must be non-empty bytes")

    def line(self) -> str:
        """``— <name> <base64(key ID || signature)>`` and a newline."""
        return f"{_SIG_PREFIX}{self.name} {_b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note text (ending in a newline) and its one or more signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.endswith("\n"):
            raise ValueError("a note text must end with a newline")
        try:
            _check_note_chars(self.text, "note text")
        except NoteFormatError as err:
            raise ValueError(err.message) from None
        object.__setattr__(self, "signatures", tuple(self.signatures))
        if not 1 <= len(self.signatures) <= MAX_SIGNATURES:
            raise ValueError(f"a note carries 1 to {MAX_SIGNATURES} signatures")

    def render(self) -> str:
        """The note as text: the text, a blank line, then one line per signature."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        """This note with ``signature`` added, replacing any from the same name and key ID."""
        kept = tuple(
            s
            for s in self.signatures
            if not (s.name == signature.name and s.key_id == signature.key_id)
        )
        return SignedNote(self.text, (*kept, signature))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise NoteFormatError(
            f"signature line does not start with an em dash and a space: {line!r}"
        )
    fields = line[len(_SIG_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise NoteFormatError(f"signature line is not '— <name> <signature>': {line!r}")
    name, encoded = fields
    if not _valid_name(name):
        raise NoteFormatError(f"bad key name in signature line: {name!r}")
    raw = _b64decode(encoded, f"signature of {name}")
    if len(raw) <= _KEY_ID_SIZE:
        raise NoteFormatError(
            f"signature of {name} is too short",
            expected=f"more than {_KEY_ID_SIZE} bytes",
            computed=len(raw),
        )
    return NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def parse_signed_note(note: str | bytes) -> SignedNote:
    """Split a signed note into its text and signature lines, checking the format strictly.

    Signatures are not verified here. Raises :class:`NoteFormatError`.
    """
    if isinstance(note, bytes | bytearray):
        if len(note) > MAX_NOTE_BYTES:
            raise NoteFormatError("note is too large", expected=MAX_NOTE_BYTES, computed=len(note))
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteFormatError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise TypeError(f"a note must be str or bytes, not {type(note).__name__}")
    if len(note) > MAX_NOTE_BYTES:
        raise NoteFormatError("note is too large", expected=MAX_NOTE_BYTES, computed=len(note))
    _check_note_chars(note, "note")
    if not note.endswith("\n"):
        raise NoteFormatError("note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteFormatError("note has no signature lines after its last blank line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteFormatError(
            "note has too many signatures", expected=f"<= {MAX_SIGNATURES}", computed=len(lines)
        )
    return SignedNote(text, tuple(_parse_signature_line(line) for line in lines))


def _as_note(note: str | bytes | SignedNote) -> SignedNote:
    return note if isinstance(note, SignedNote) else parse_signed_note(note)
