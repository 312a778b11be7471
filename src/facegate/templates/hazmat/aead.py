"""Authenticated encryption of small secrets: protected templates, data keys, references.

Format of a sealed blob::

    version (1 byte) || nonce (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes)

The associated data (``ad``) names where the blob belongs, e.g. deployment, subject and
purpose. It is not stored; the reader must supply the same bytes, so a blob copied into
another row (another subject, another deployment, a template field into a reference field)
no longer opens. Nonces are random: with 96 bits, NIST's 2**-32 collision bound allows
about 2**32 seals per key, and facegate keys each seal a handful of items (one data key per
subject), so random nonces are safe here and need no counter state.

:func:`open_sealed` fails with one opaque :class:`~facegate.errors.InvalidTemplate` whatever
went wrong (wrong key, wrong context, a flipped bit, a truncated or unknown-version blob), so
that the error cannot be used as an oracle.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facegate._internal.clock import Entropy, system_entropy
from facegate.errors import InvalidTemplate

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "OVERHEAD",
    "TAG_BYTES",
    "VERSION",
    "encode_context",
    "open_each",
    "open_many",
    "open_sealed",
    "seal",
]

#: format version 1: AES-256-GCM, 96-bit random nonce
VERSION: Final = 1
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
#: how many bytes a sealed blob is longer than its plaintext
OVERHEAD: Final = 1 + NONCE_BYTES + TAG_BYTES

_HEADER: Final = bytes([VERSION])


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes):
        raise TypeError(f"an AEAD key must be bytes, not {type(key).__name__}")
    if len(key) != KEY_BYTES:
        raise ValueError(f"an AEAD key is {KEY_BYTES} bytes, got {len(key)}")


def _check_ad(ad: bytes) -> None:
    if not isinstance(ad, bytes):
        raise TypeError(f"associated data must be bytes, not {type(ad).__name__}")
    # Empty AD is legal for GCM but here it always means a forgotten context, and a blob
    # sealed without one could be moved anywhere.
    if not ad:
        raise ValueError("associated data must name the blob's context; it was empty")


def seal(key: bytes, plaintext: bytes, *, ad: bytes, entropy: Entropy = system_entropy) -> bytes:
    """Encrypt and authenticate ``plaintext`` under ``key``, bound to the context ``ad``."""
    _check_key(key)
    _check_ad(ad)
    if not isinstance(plaintext, bytes):
        raise TypeError(f"plaintext must be bytes, not {type(plaintext).__name__}")
    nonce = entropy(NONCE_BYTES)
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_BYTES:
        raise ValueError(f"the entropy source must return {NONCE_BYTES} bytes when asked")
    # The version byte is authenticated too, so it cannot be rewritten to steer a reader to
    # another algorithm.
    body = AESGCM(key).encrypt(nonce, plaintext, _HEADER + ad)
    return _HEADER + nonce + body


def open_sealed(key: bytes, blob: bytes, *, ad: bytes) -> bytes:
    """The plaintext of a :func:`seal` blob; :class:`InvalidTemplate` if it does not open.

    A wrong key or ``ad`` is indistinguishable from tampering, by design.
    """
    _check_key(key)
    _check_ad(ad)
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise TypeError(f"a sealed blob must be bytes, not {type(blob).__name__}")
    plaintext = _try_open(AESGCM(key), bytes(blob), ad)
    if plaintext is None:
        raise InvalidTemplate()
    return plaintext


def open_many(key: bytes, items: Sequence[tuple[bytes, bytes]]) -> list[bytes | None]:
    """:func:`open_sealed` of many ``(blob, ad)`` under one key, with one cipher object (a
    start-up opens a million data keys under one deployment key); ``None`` for each that
    does not open, so the caller decides what a failure means."""
    _check_key(key)
    cipher = AESGCM(key)
    out: list[bytes | None] = []
    for blob, ad in items:
        _check_ad(ad)
        out.append(_try_open(cipher, bytes(blob), ad))
    return out


def open_each(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bytes | None]:
    """:func:`open_sealed` of many ``(key, blob, ad)``, each under its own key, in one
    call (a start-up opens a million templates); ``None`` for each that does not open."""
    out: list[bytes | None] = []
    for key, blob, ad in items:
        _check_key(key)
        _check_ad(ad)
        out.append(_try_open(AESGCM(key), bytes(blob), ad))
    return out


def _try_open(cipher: AESGCM, data: bytes, ad: bytes) -> bytes | None:
    if len(data) < OVERHEAD or data[:1] != _HEADER:
        return None
    try:
        return cipher.decrypt(data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :], _HEADER + ad)
    except InvalidTag:
        return None


def encode_context(*parts: str | bytes) -> bytes:
    """Unambiguous associated data from several fields.

    Each part is length-prefixed, so ``("ab", "c")`` and ``("a", "bc")`` differ; joining
    with a separator would not be safe if a field could ever contain the separator.
    """
    if not parts:
        raise ValueError("a context needs at least one part")
    out = bytearray()
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        if not isinstance(raw, bytes):
            raise TypeError(f"context parts are str or bytes, not {type(part).__name__}")
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)
