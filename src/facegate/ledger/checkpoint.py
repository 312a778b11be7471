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
:class:`CheckpointError`. The signed-note format itself is in :mod:`.note`, the keys in
:mod:`.note_keys`; this module holds checkpoints and cosignatures, and keeps the names of
both so that callers import from one place. Signatures from unknown keys are ignored, as the
note specification requires; a signature from a known key that fails to verify rejects the
whole note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facegate.ledger.hasher import HASH_SIZE
from facegate.ledger.note import (
    _DECIMAL,
    _MAX_TREE_SIZE,
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_SIGNATURES,
    CheckpointError,
    NoteFormatError,
    NoteSignature,
    SignatureError,
    SignedNote,
    _as_note,
    _b64decode,
    _b64encode,
    _check_line,
    _check_note_chars,
    parse_signed_note,
)
from facegate.ledger.note_keys import CosignatureVerifier, Cosigner, Signer, Verifier

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
