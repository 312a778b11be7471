"""Signed tree heads as C2SP checkpoints in C2SP signed notes, and witness cosignatures.

* c2sp.org/tlog-checkpoint: the note text is the origin line, the tree size in decimal (no
  leading zeros), the base64 root hash, then optional non-empty extension lines, each line
  ending in a newline.
* c2sp.org/signed-note: the text, one blank line, then one or more lines
  ``— <key name> <base64(4-byte key ID || signature)>`` (U+2014 em dash). Ed25519 signatures
  (type 0x01) sign the text; key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4].
  Verifier keys are written ``<name>+<hex key ID>+<base64(0x01 || public key)>``.
* c2sp.org/tlog-cosignature (Ed25519, type 0x04): a witness signs
  ``"cosignature/v1\\ntime <t>\\n" || checkpoint text``; the signature bytes are the 8-byte
  big-endian timestamp followed by the Ed25519 signature.

Parsing is strict: anything the specifications do not allow is refused with a
:class:`CheckpointError`. Signatures from unknown keys are ignored, as the note specification
requires; a signature from a known key that fails to verify rejects the whole note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from facegate.errors import LedgerError
from facegate.ledger.hasher import HASH_SIZE

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "Cosignature",
    "CosignatureVerifier",
    "Cosigner",
    "NoteFormatError",
    "NoteSignature",
    "SignatureError",
    "SignedNote",
    "Signer",
    "Verifier",
    "add_signature",
    "cosign_checkpoint",
    "open_checkpoint",
    "parse_signed_note",
    "sign_checkpoint",
    "verify_cosignatures",
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


# --- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _SigningKey:
    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    public_key: bytes = field(init=False)
    key_id: bytes = field(init=False)

    algorithm: ClassVar[int] = ALG_ED25519

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        public = self.private_key.public_key().public_bytes_raw()
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", _key_id(self.name, self.algorithm, public))

    @classmethod
    def generate(cls, name: str) -> Self:
        """A fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """The key with this 32-byte RFC 8032 private seed."""
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_key(cls, key: str) -> Self:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>``."""
        name, key_id, seed = _parse_key_string(key, cls.algorithm, private=True)
        signer = cls.from_seed(name, seed)
        if signer.key_id != key_id:
            raise ValueError(
                f"key hash {key_id.hex()} does not match the key (computed {signer.key_id.hex()})"
            )
        return signer

    def private_key_string(self) -> str:
        """This key as ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>``; keep it secret."""
        seed = self.private_key.private_bytes_raw()
        encoded = _b64encode(bytes([self.algorithm]) + seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    def verifier_key(self) -> str:
        """The public verifier key string ``<name>+<hex id>+<base64(type || public key)>``."""
        return _vkey(self.name, self.key_id, self.algorithm, self.public_key)


@dataclass(frozen=True, slots=True)
class _VerifyingKey:
    name: str
    public_key: bytes
    key_id: bytes = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    algorithm: ClassVar[int] = ALG_ED25519

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.public_key, bytes):
            raise TypeError("public_key must be bytes")
        object.__setattr__(self, "_key", _load_public_key(self.public_key))
        object.__setattr__(self, "key_id", _key_id(self.name, self.algorithm, self.public_key))

    @classmethod
    def from_key(cls, key: str) -> Self:
        """Parse a verifier key ``<name>+<hex id>+<base64(type || public key)>``."""
        name, key_id, public = _parse_key_string(key, cls.algorithm, private=False)
        verifier = cls(name, public)
        if verifier.key_id != key_id:
            raise ValueError(
                f"key hash {key_id.hex()} does not match the key (computed {verifier.key_id.hex()})"
            )
        return verifier

    def verifier_key(self) -> str:
        """This key as ``<name>+<hex id>+<base64(type || public key)>``."""
        return _vkey(self.name, self.key_id, self.algorithm, self.public_key)

    def matches(self, signature: NoteSignature) -> bool:
        """Whether a signature line names this key (same key name and key ID)."""
        return signature.name == self.name and signature.key_id == self.key_id


@dataclass(frozen=True, slots=True, eq=False)
class Signer(_SigningKey):
    """An Ed25519 note signer (signature type 0x01): the log's checkpoint key."""

    algorithm: ClassVar[int] = ALG_ED25519

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def sign(self, text: str) -> NoteSignature:
        """Sign a note text (Ed25519 over its UTF-8 bytes)."""
        sig = self.private_key.sign(text.encode("utf-8"))
        return NoteSignature(self.name, self.key_id, sig)


@dataclass(frozen=True, slots=True)
class Verifier(_VerifyingKey):
    """Checks Ed25519 note signatures (type 0x01) of one named key."""

    algorithm: ClassVar[int] = ALG_ED25519

    def verify(self, text: str, signature: NoteSignature) -> bool:
        """Whether ``signature`` is this key's valid signature of ``text``."""
        return self.matches(signature) and _ed25519_ok(
            self._key, signature.signature, text.encode("utf-8")
        )


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("timestamp must be an int (POSIX seconds)")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp must be in [0, 2**63 - 1], got {timestamp}")


@dataclass(frozen=True, slots=True, eq=False)
class Cosigner(_SigningKey):
    """A witness key producing c2sp.org/tlog-cosignature v1 (type 0x04) cosignatures."""

    algorithm: ClassVar[int] = ALG_COSIGNATURE_V1

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def sign(self, text: str, *, timestamp: int) -> NoteSignature:
        """Cosign a checkpoint text at ``timestamp`` (POSIX seconds)."""
        _check_timestamp(timestamp)
        sig = self.private_key.sign(_cosigned_message(text, timestamp))
        return NoteSignature(self.name, self.key_id, timestamp.to_bytes(8, "big") + sig)


@dataclass(frozen=True, slots=True)
class CosignatureVerifier(_VerifyingKey):
    """Checks one witness's cosignature/v1 (type 0x04) signatures."""

    algorithm: ClassVar[int] = ALG_COSIGNATURE_V1

    def verify(self, text: str, signature: NoteSignature) -> int | None:
        """The cosignature's timestamp if it is this witness's valid cosignature, else None."""
        raw = signature.signature
        if not self.matches(signature) or len(raw) != 8 + _ED25519_SIG_SIZE:
            return None
        timestamp = int.from_bytes(raw[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return None
        if not _ed25519_ok(self._key, raw[8:], _cosigned_message(text, timestamp)):
            return None
        return timestamp


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


# --- checkpoints -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: log origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise TypeError("checkpoint size must be an int")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise ValueError(f"checkpoint size must be in [0, 2**64 - 1], got {self.size}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"checkpoint root hash must be {HASH_SIZE} bytes")
        if isinstance(self.extensions, str):
            raise TypeError("extensions must be a sequence of lines, not one string")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line(line, "checkpoint extension line")

    def body(self) -> str:
        """The checkpoint as note text: each line followed by a newline."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text strictly. Raises :class:`NoteFormatError`."""
        if not isinstance(text, str):
            raise TypeError("checkpoint text must be str")
        _check_note_chars(text, "checkpoint")
        if not text.endswith("\n"):
            raise NoteFormatError("checkpoint text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteFormatError(
                "checkpoint needs origin, size and root hash lines",
                expected=">= 3 lines",
                computed=len(lines),
            )
        origin, size_text, root_text, *extensions = lines
        for number, line in enumerate(lines, start=1):
            if not line:
                raise NoteFormatError(f"checkpoint line {number} is empty")
        if not _DECIMAL.fullmatch(size_text):
            raise NoteFormatError(
                "checkpoint tree size is not a canonical decimal number",
                expected="0 or digits without leading zeros",
                computed=repr(size_text),
            )
        size = int(size_text)
        if size > _MAX_TREE_SIZE:
            raise NoteFormatError(
                "checkpoint tree size is too large", expected="<= 2**64 - 1", computed=size_text
            )
        root = _b64decode(root_text, "checkpoint root hash")
        if len(root) != HASH_SIZE:
            raise NoteFormatError(
                "checkpoint root hash has the wrong size", expected=HASH_SIZE, computed=len(root)
            )
        return cls(origin, size, root, tuple(extensions))


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified witness cosignature: who, with which key, and when (POSIX seconds)."""

    name: str
    key_id: bytes
    timestamp: int


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a signed note carrying the log's signature."""
    text = checkpoint.body()
    return SignedNote(text, (signer.sign(text),)).render()


def add_signature(note: str | bytes | SignedNote, signer: Signer) -> str:
    """Add (or replace) ``signer``'s Ed25519 signature on an existing signed note."""
    parsed = _as_note(note)
    return parsed.with_signature(signer.sign(parsed.text)).render()


def cosign_checkpoint(note: str | bytes | SignedNote, cosigner: Cosigner, *, timestamp: int) -> str:
    """Add (or replace) a witness's cosignature/v1 line on a signed checkpoint.

    The witness must already have checked that this checkpoint is consistent with the largest
    one it has seen for the log; this function only signs. The note text must be a checkpoint.
    """
    parsed = _as_note(note)
    Checkpoint.from_body(parsed.text)
    if len(parsed.signatures) >= MAX_SIGNATURES:
        raise ValueError(f"the note already carries {MAX_SIGNATURES} signatures")
    return parsed.with_signature(cosigner.sign(parsed.text, timestamp=timestamp)).render()


def _check_trusted(note: SignedNote, verifier: Verifier) -> None:
    matching = [s for s in note.signatures if verifier.matches(s)]
    if not matching:
        found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        raise SignatureError(
            "the note has no signature from the trusted key",
            expected=f"{verifier.name}+{verifier.key_id.hex()}",
            computed=found or "no signatures",
        )
    for sig in matching:
        if not verifier.verify(note.text, sig):
            raise SignatureError(
                f"the signature of {verifier.name}+{verifier.key_id.hex()} does not verify"
            )


def verify_cosignatures(
    note: str | bytes | SignedNote, witnesses: Sequence[CosignatureVerifier]
) -> tuple[Cosignature, ...]:
    """The valid cosignatures of the given witnesses on ``note``, one per witness that signed.

    Lines from other keys are ignored. A line naming one of ``witnesses`` (name and key ID)
    that does not verify raises :class:`SignatureError`. If a witness signed more than once,
    its latest timestamp is reported.
    """
    parsed = _as_note(note)
    found: dict[tuple[str, bytes], Cosignature] = {}
    for witness in witnesses:
        for sig in parsed.signatures:
            if not witness.matches(sig):
                continue
            timestamp = witness.verify(parsed.text, sig)
            if timestamp is None:
                raise SignatureError(
                    f"the cosignature of witness {witness.name}+{witness.key_id.hex()} "
                    "does not verify"
                )
            key = (witness.name, witness.key_id)
            best = found.get(key)
            if best is None or timestamp > best.timestamp:
                found[key] = Cosignature(witness.name, witness.key_id, timestamp)
    return tuple(found.values())


def open_checkpoint(
    note: str | bytes,
    verifier: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int = 0,
) -> Checkpoint:
    """Verify a signed checkpoint note and return the checkpoint it carries.

    The note must be well formed, carry at least one signature by ``verifier``'s key (name and
    key ID), and every such signature must verify; lines from other keys are ignored. The
    checkpoint's origin must equal ``origin`` (default: the verifier's key name, as
    tlog-checkpoint recommends). With ``quorum > 0``, at least that many of ``witnesses`` must
    have valid cosignatures on it. Raises :class:`CheckpointError` subclasses.
    """
    if quorum < 0 or quorum > len(witnesses):
        raise ValueError(f"quorum must be between 0 and {len(witnesses)}, got {quorum}")
    parsed = parse_signed_note(note)
    _check_trusted(parsed, verifier)
    checkpoint = Checkpoint.from_body(parsed.text)
    want_origin = verifier.name if origin is None else origin
    if checkpoint.origin != want_origin:
        raise CheckpointError(
            "checkpoint is for another log", expected=want_origin, computed=checkpoint.origin
        )
    if quorum:
        cosigned = verify_cosignatures(parsed, witnesses)
        if len(cosigned) < quorum:
            raise SignatureError(
                "too few witnesses cosigned the checkpoint", expected=quorum, computed=len(cosigned)
            )
    return checkpoint
