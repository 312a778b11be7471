"""The master key in a hardware security module, through PKCS#11 (python-pkcs11).

With ``FACEGATE_HSM__MODULE`` set, the master key is an AES-256 key inside the token
(``FACEGATE_HSM__TOKEN``, ``__PIN``, ``__LABEL``), made non-extractable and sensitive: it
never exists in an API host's memory or on its disk. Deployment keys and the ledger's signing
key are wrapped and unwrapped by the token itself, with AES-GCM under that key (a random
96-bit nonce per wrap, the same associated data as a file master key's wraps: what the key is
and whose). What leaves the token is the unwrapped deployment key, which each host needs in
memory to protect templates; the master key does not.

``facegate init`` makes the key in the token when no key has the label; afterwards a missing
key is a :class:`ConfigError`, never replaced. A rotation names the new key's label in
``__LABEL`` and the old ones in ``__PREVIOUS_LABELS`` (accepted for unwrapping only), then
runs ``facegate keys rotate-master``. Tested against SoftHSM2 (tests/integration/test_hsm.py).

The token's session is used under a lock: PKCS#11 sessions are not for concurrent use.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any, Final

from facegate._internal.clock import Entropy
from facegate.errors import ConfigError, InvalidTemplate
from facegate.templates.hazmat import aead

if TYPE_CHECKING:
    from facegate.config import HsmSettings

__all__ = ["HsmMaster", "open_hsm"]

_WRAP_AD: Final = "facegate/v1/wrapped-key"  # as templates.hazmat.keys
_CHECK_AD: Final = b"facegate/v1/hsm-key-check"
_ID_PREFIX: Final = b"facegate/v1/hsm-key-id\x00"
_NONCE: Final = 12
#: the open session (and its lock) of each (module, token) in this process
_OPEN: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_OPEN_LOCK = threading.Lock()


class HsmMaster:
    """One AES key in the token: wraps and unwraps 32-byte keys inside the HSM."""

    def __init__(self, session: Any, key: Any, label: str, lock: threading.Lock) -> None:
        self._session = session
        self._key = key
        self.label = label
        self._lock = lock
        self.key_id = hashlib.sha256(_ID_PREFIX + self._check_value()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"HsmMaster(label={self.label!r}, key_id={self.key_id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HsmMaster) and other.key_id == self.key_id

    def __hash__(self) -> int:
        return hash(self.key_id)

    def _check_value(self) -> bytes:
        # A key check value: the tag of an empty message under a fixed nonce, used for this
        # one message only (wraps draw random nonces), so it names the key and reveals nothing.
        return self._gcm(True, b"", bytes(_NONCE), _CHECK_AD)

    def _gcm(self, encrypt: bool, data: bytes, nonce: bytes, ad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        params = GCMParams(nonce, ad, 128)
        with self._lock:
            if encrypt:
                return bytes(
                    self._key.encrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=params)
                )
            return bytes(
                self._key.decrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=params)
            )

    def wrap(self, key: bytes, *, context: str, entropy: Entropy) -> bytes:
        if len(key) != 32:
            raise ValueError(f"a wrapped key is 32 bytes, got {len(key)}")
        nonce = entropy(_NONCE)
        return nonce + self._gcm(True, key, nonce, aead.encode_context(_WRAP_AD, context.encode()))

    def unwrap(self, blob: bytes, *, context: str) -> bytes:
        """The key in ``blob``; :class:`InvalidTemplate` if this HSM key did not wrap it."""
        from pkcs11.exceptions import PKCS11Error

        if len(blob) < _NONCE + 16:
            raise InvalidTemplate()
        ad = aead.encode_context(_WRAP_AD, context.encode())
        try:
            key = self._gcm(False, blob[_NONCE:], blob[:_NONCE], ad)
        except PKCS11Error:
            raise InvalidTemplate() from None
        if len(key) != 32:
            raise InvalidTemplate()
        return key


def open_hsm(settings: HsmSettings, *, create: bool) -> tuple[HsmMaster, list[HsmMaster]]:
    """The current master key in the token and the previous ones; ``create`` (an ``init``)
    makes the current one when the token has no key of its label."""
    try:
        import pkcs11
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11.exceptions import PKCS11Error
    except ImportError:  # pragma: no cover - a dependency of facegate
        raise ConfigError(
            "FACEGATE_HSM__MODULE is set but python-pkcs11 is not installed",
            advice="pip install python-pkcs11",
        ) from None
    where = f"token {settings.token!r} of {settings.module}"
    with _OPEN_LOCK:
        # PKCS#11 logs a whole process in to a token: one session per token, shared
        opened = _OPEN.get((str(settings.module), settings.token))
        if opened is None:
            try:
                lib = pkcs11.lib(str(settings.module))
                token = lib.get_token(token_label=settings.token)
                opened = (token.open(rw=True, user_pin=settings.pin), threading.Lock())
            except (PKCS11Error, RuntimeError, OSError) as exc:
                raise ConfigError(
                    f"cannot open the HSM {where}: {type(exc).__name__} {exc}".strip(),
                    advice="Check FACEGATE_HSM__MODULE (the PKCS#11 library), __TOKEN (its "
                    "label) and __PIN; for SoftHSM2, 'softhsm2-util --show-slots' lists the "
                    "tokens.",
                ) from None
            _OPEN[(str(settings.module), settings.token)] = opened
    session, lock = opened

    def find(label: str, make: bool) -> HsmMaster:
        try:
            key = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label=label)
        except pkcs11.NoSuchKey:
            if not make:
                raise ConfigError(
                    f"the HSM {where} holds no AES key labelled {label!r}",
                    advice="The master key is missing from the HSM: restore the token from its "
                    "backup. facegate makes a new one only at 'facegate init': a new key opens "
                    "nothing.",
                ) from None
            key = session.generate_key(
                KeyType.AES,
                256,
                label=label,
                store=True,
                template={
                    Attribute.EXTRACTABLE: False,
                    Attribute.SENSITIVE: True,
                    Attribute.TOKEN: True,
                },
            )
        except pkcs11.MultipleObjectsReturned:
            raise ConfigError(
                f"the HSM {where} holds several keys labelled {label!r}",
                advice="Give each master key its own label.",
            ) from None
        if key[Attribute.EXTRACTABLE] or not key[Attribute.SENSITIVE]:
            raise ConfigError(
                f"the HSM key {label!r} can leave the token (extractable or not sensitive)",
                advice="Make a master key with CKA_EXTRACTABLE false and CKA_SENSITIVE true.",
            )
        return HsmMaster(session, key, label, lock)

    current = find(settings.label, create)
    return current, [find(label, False) for label in settings.previous_labels]
