"""The keys that sign and verify notes: a log's Ed25519 signer and verifier, and a witness's
timestamped cosigner and its verifier (c2sp.org/tlog-cosignature, type 0x04: a witness signs
``"cosignature/v1\\ntime <t>\\n" || checkpoint text``; the signature bytes are the 8-byte
big-endian timestamp followed by the Ed25519 signature)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from facegate.ledger.note import (
    _COSIGNATURE_HEADER,
    _ED25519_SIG_SIZE,
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_TIMESTAMP,
    NoteSignature,
    _b64encode,
    _check_name,
    _ed25519_ok,
    _key_id,
    _load_public_key,
    _parse_key_string,
    _vkey,
)

__all__ = ["CosignatureVerifier", "Cosigner", "Signer", "Verifier"]


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
