"""The key hierarchy.

::

    master key (32 bytes; env var or a 0600 key file, optionally passphrase-protected:
     │           see master_key.py)
     └─ wraps ─ deployment key (random 32 bytes, one per deployment)
                 ├─ wraps ── data key (random 32 bytes, one per subject; seals templates)
                 └─ HKDF ─── sub-keys: template transform seed, subject-reference lookup
                             HMAC key, ledger pseudonym key (one label each)

Deployment and data keys exist in clear only in memory: the database holds them wrapped by
the key above. Destroying a subject's wrapped data key makes everything sealed under it
unreadable (crypto-shredding); rotating a deployment key cancels every template made with
its transform seed.

Key ids are short fingerprints (a domain-separated SHA-256 prefix), safe to log and to store
next to the wrapped key; they never reveal the key. Key material is compared with
:func:`hmac.compare_digest` only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facegate._internal.clock import Entropy, system_entropy
from facegate.errors import InvalidTemplate
from facegate.templates.hazmat import aead

__all__ = [
    "KEY_BYTES",
    "LEDGER_PSEUDONYM",
    "SUBJECT_REF",
    "TEMPLATE_TRANSFORM",
    "constant_time_equal",
    "data_key_context",
    "deployment_key_context",
    "derive",
    "key_id",
    "new_key",
    "unwrap_key",
    "unwrap_many",
    "wrap_key",
]

KEY_BYTES: Final = 32

# HKDF labels for the sub-keys of a deployment key. One label per purpose, so that a key
# leaked from one use (e.g. the ledger pseudonym key handed to an auditor) reveals nothing
# about the others.
#: seed of the keyed template transform (:mod:`facegate.templates.hazmat.biohash`)
TEMPLATE_TRANSFORM: Final = "template-transform"
#: HMAC key for looking a subject up by the operator's reference without storing it
SUBJECT_REF: Final = "subject-ref"
#: key for the pseudonyms under which subjects appear in the ledger
LEDGER_PSEUDONYM: Final = "ledger-pseudonym"

# Internal labels: the key that actually encrypts wrapped keys is itself derived, so a key
# that wraps others is never also fed directly to AES next to its HKDF uses.
_WRAP_LABEL: Final = "key-wrap"
_HKDF_PREFIX: Final = b"facegate/v1/hkdf/"
_KEY_ID_PREFIX: Final = b"facegate/v1/key-id\x00"
_WRAP_AD: Final = "facegate/v1/wrapped-key"


def _check_key(key: bytes, what: str = "key") -> None:
    if not isinstance(key, bytes):
        raise TypeError(f"a {what} must be bytes, not {type(key).__name__}")
    if len(key) != KEY_BYTES:
        raise ValueError(f"a {what} is {KEY_BYTES} bytes, got {len(key)}")


def _context_bytes(context: str | bytes) -> bytes:
    raw = context.encode() if isinstance(context, str) else context
    if not isinstance(raw, bytes):
        raise TypeError(f"a context is str or bytes, not {type(context).__name__}")
    if not raw:
        raise ValueError("a wrapped key needs a context naming what it is and whose it is")
    return raw


def new_key(entropy: Entropy = system_entropy) -> bytes:
    """A fresh random 32-byte key (deployment key, data key)."""
    key = entropy(KEY_BYTES)
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"the entropy source must return {KEY_BYTES} bytes when asked")
    return key


def derive(key: bytes, *, label: str, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 sub-key of ``key`` for one purpose, named by ``label``.

    Use the module's label constants (:data:`TEMPLATE_TRANSFORM`, :data:`SUBJECT_REF`,
    :data:`LEDGER_PSEUDONYM`). No salt: the input is already a uniformly random key, for which
    RFC 5869 makes the salt optional; the label goes in ``info``.
    """
    _check_key(key)
    if not label or not label.isascii() or not label.isprintable():
        raise ValueError(f"an HKDF label is non-empty printable ASCII, got {label!r}")
    if not 16 <= length <= 64:
        raise ValueError(f"derived keys are 16 to 64 bytes, asked for {length}")
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=_HKDF_PREFIX + label.encode()
    )
    return hkdf.derive(key)


def key_id(key: bytes) -> str:
    """A 16-hex-digit fingerprint of ``key``; names a key in logs and rows, reveals nothing."""
    _check_key(key)
    return hashlib.sha256(_KEY_ID_PREFIX + key).hexdigest()[:16]


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare key material without leaking, through timing, where the first difference is."""
    return hmac.compare_digest(a, b)


def wrap_key(
    kek: bytes, key: bytes, *, context: str | bytes, entropy: Entropy = system_entropy
) -> bytes:
    """Encrypt ``key`` under the key-encryption key ``kek``, bound to ``context``.

    ``context`` says what the key is and whose, e.g. ``deployment_key_context(dep_id)``; the
    same context must be given to :func:`unwrap_key`, so a wrapped key moved to another row
    does not unwrap.
    """
    _check_key(kek, "key-encryption key")
    _check_key(key, "wrapped key")
    ad = aead.encode_context(_WRAP_AD, _context_bytes(context))
    return aead.seal(derive(kek, label=_WRAP_LABEL), key, ad=ad, entropy=entropy)


def unwrap_key(kek: bytes, blob: bytes, *, context: str | bytes) -> bytes:
    """The key inside a :func:`wrap_key` blob; :class:`InvalidTemplate` if it does not open."""
    _check_key(kek, "key-encryption key")
    ad = aead.encode_context(_WRAP_AD, _context_bytes(context))
    key = aead.open_sealed(derive(kek, label=_WRAP_LABEL), blob, ad=ad)
    if len(key) != KEY_BYTES:  # authentic but not a key: still only the opaque error
        raise InvalidTemplate()
    return key


def unwrap_many(kek: bytes, items: Sequence[tuple[bytes, str | bytes]]) -> list[bytes | None]:
    """:func:`unwrap_key` of many ``(blob, context)`` under one key-encryption key, deriving
    its wrapping key once; ``None`` for each blob that does not open."""
    _check_key(kek, "key-encryption key")
    # encode_context(_WRAP_AD, ctx), with its constant first part encoded once
    head = aead.encode_context(_WRAP_AD)
    ads = [(blob, head + aead.encode_context(_context_bytes(ctx))) for blob, ctx in items]
    opened = aead.open_many(derive(kek, label=_WRAP_LABEL), ads)
    return [k if k is not None and len(k) == KEY_BYTES else None for k in opened]


def _plain_id(value: str, what: str) -> str:
    # The contexts below join fields with "|" (the form gate.py stores); an id containing
    # "|" could make two different (deployment, subject) pairs share a context.
    if not value or "|" in value:
        raise ValueError(f"a {what} is non-empty and has no '|', got {value!r}")
    return value


def deployment_key_context(deployment_id: str) -> str:
    """The wrap context of a deployment key (wrapped by the master key)."""
    return f"deployment-key|{_plain_id(deployment_id, 'deployment id')}"


def data_key_context(deployment_id: str, subject_id: str) -> str:
    """The wrap context of a subject's data key (wrapped by the deployment key)."""
    dep = _plain_id(deployment_id, "deployment id")
    return f"data-key|{dep}|{_plain_id(subject_id, 'subject id')}"
