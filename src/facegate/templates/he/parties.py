"""The three parties of encrypted verification (CKKS, through TenSEAL / Microsoft SEAL).

    >>> keys = HeKeys.generate()                                 # at the decision holder
    >>> device = CaptureDevice(keys.encryption_context())       # public key only
    >>> server = EncryptedVerifier(keys.evaluation_context())   # + evaluation keys, no secret
    >>> template = device.encrypt(enrolment_embedding)          # stored by the server
    >>> request = server.decision_request(device.encrypt(probe_embedding), template)
    >>> DecisionHolder(keys).decide(request)                    # True: same person

Parameters: ring degree 8192, coefficient modulus 60+40+40+60 bits (200 bits, within the
HomomorphicEncryption.org 128-bit-security bound of 218), scale 2^40. The computation has
depth 2: one ciphertext square (the squared differences), a rotation sum over 128 slots, and
one plaintext multiplication that both applies the mask ``-r`` and zeroes every slot but
the first, so the decision holder's decryption holds nothing but ``z``.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy.typing as npt

from facegate.errors import InvalidInput, InvalidTemplate
from facegate.templates.hazmat import aead, keys
from facegate.templates.hazmat.keyed_random import as_embeddings

__all__ = [
    "HE_DECISION_KEY",
    "CaptureDevice",
    "DecisionHolder",
    "EncryptedVerifier",
    "HeKeys",
    "he_available",
]

#: custody purpose of the key-encryption key that seals the decision holder's secret key
HE_DECISION_KEY: Final = "he-decision-key"
POLY_DEGREE: Final = 8192
COEFF_BITS: Final = (60, 40, 40, 60)
SCALE_BITS: Final = 40
#: the mask r is 2^u with u uniform on [0, MASK_BITS]: |z| fixes |margin| only up to 2^16.
#: With scale 2^40 and a 60-bit last modulus, |z| must stay below 2^19: |margin| <= 4.
MASK_BITS: Final = 16
#: flooding noise, relative to r: standard deviation 2^-20 (about 1e-6 in squared distance)
#: hides the CKKS rounding error of the computation (about 1e-8 r), which depends on the
#: inputs; decisions within 1e-6 of the threshold become coin flips
FLOOD_BITS: Final = 20
#: dlib's euclidean distance at which the raw system accepts
DEFAULT_THRESHOLD: Final = 0.6
_SEAL_AD: Final = b"facegate/v1/he-decision-key"

Uniform = Callable[[], float]


def he_available() -> bool:
    """Whether the optional TenSEAL dependency is installed (``facegate[he]``)."""
    return importlib.util.find_spec("tenseal") is not None


def _ts() -> Any:
    try:
        tenseal = importlib.import_module("tenseal")
    except ImportError:  # pragma: no cover - depends on the installation
        raise InvalidInput(
            "encrypted verification needs TenSEAL", advice="pip install 'facegate[he]'"
        ) from None
    return tenseal


def checked_threshold(threshold: float) -> float:
    if not 0.0 < threshold < 2.0:
        raise InvalidInput(f"a euclidean threshold is between 0 and 2, got {threshold}")
    return threshold


def one_embedding(embedding: npt.ArrayLike) -> list[float]:
    """The values of one embedding, or :class:`InvalidInput`."""
    try:
        rows = as_embeddings(embedding)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if len(rows) != 1:
        raise InvalidInput("encrypt one embedding at a time")
    return [float(v) for v in rows[0]]


def _system_uniform() -> float:
    return (secrets.randbits(53) + 0.5) * 2.0**-53


@dataclass(frozen=True, slots=True, eq=False)
class HeKeys:
    """The decision holder's CKKS keys. Holds the secret key: never give it to the server."""

    _context: Any = field(repr=False)

    @classmethod
    def generate(cls) -> HeKeys:
        ts = _ts()
        ctx = ts.context(
            ts.SCHEME_TYPE.CKKS, poly_modulus_degree=POLY_DEGREE, coeff_mod_bit_sizes=COEFF_BITS
        )
        ctx.global_scale = 2.0**SCALE_BITS
        ctx.generate_galois_keys()
        ctx.generate_relin_keys()
        return cls(ctx)

    def encryption_context(self) -> bytes:
        """For capture devices: the public key alone (no secret, no evaluation keys)."""
        return bytes(
            self._context.serialize(
                save_secret_key=False, save_galois_keys=False, save_relin_keys=False
            )
        )

    def evaluation_context(self) -> bytes:
        """For the server: public, relinearisation and rotation keys; no secret key."""
        return bytes(self._context.serialize(save_secret_key=False))

    def seal(self, kek: bytes) -> bytes:
        """The secret context sealed (AES-256-GCM) under a 32-byte key-encryption key, e.g.
        one split among custodians with ``custody.split_key(kek, purpose=HE_DECISION_KEY)``."""
        secret = bytes(self._context.serialize(save_secret_key=True))
        return aead.seal(keys.derive(kek, label=HE_DECISION_KEY), secret, ad=_SEAL_AD)

    @classmethod
    def open(cls, sealed: bytes, kek: bytes) -> HeKeys:
        """:meth:`seal`'s inverse; :class:`InvalidTemplate` under the wrong key."""
        secret = aead.open_sealed(keys.derive(kek, label=HE_DECISION_KEY), sealed, ad=_SEAL_AD)
        ctx = _ts().context_from(secret)
        if not ctx.has_secret_key():
            raise InvalidTemplate()
        return cls(ctx)

    @property
    def context(self) -> Any:
        return self._context


def _load_vector(ctx: Any, blob: bytes, what: str, size: int) -> Any:
    ts = _ts()
    if not isinstance(blob, bytes) or not blob:
        raise InvalidInput(f"the encrypted {what} is empty or not bytes")
    try:
        vec = ts.ckks_vector_from(ctx, blob)
    except Exception:  # TenSEAL raises several C++-mapped types for a malformed blob
        raise InvalidInput(f"the encrypted {what} is not a CKKS ciphertext of this key") from None
    if vec.size() != size:
        raise InvalidInput(f"the encrypted {what} holds {vec.size()} values, not {size}")
    return vec


class CaptureDevice:
    """Encrypts embeddings where they are captured; holds the public key only."""

    def __init__(self, encryption_context: bytes) -> None:
        self._ctx = _ts().context_from(encryption_context)
        if self._ctx.has_secret_key():
            raise InvalidInput("a capture device must not hold the decision holder's secret key")

    def encrypt(self, embedding: npt.ArrayLike) -> bytes:
        """The ciphertext of one dlib embedding (about 330 KB at these parameters)."""
        return bytes(_ts().ckks_vector(self._ctx, one_embedding(embedding)).serialize())


class EncryptedVerifier:
    """The server's side: compares ciphertexts and emits masked decision ciphertexts."""

    def __init__(
        self,
        evaluation_context: bytes,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        uniform: Uniform = _system_uniform,
    ) -> None:
        self._ctx = _ts().context_from(evaluation_context)
        if self._ctx.has_secret_key():
            raise InvalidInput("the server must not hold the decision holder's secret key")
        if not self._ctx.has_galois_keys() or not self._ctx.has_relin_keys():
            raise InvalidInput("the server needs the evaluation keys (evaluation_context())")
        self.threshold = checked_threshold(threshold)
        self._uniform = uniform

    def decision_request(self, probe: bytes, template: bytes) -> bytes:
        """``z = r·(T² - |probe - template|²) + r·e`` under encryption, for the decision
        holder. Fresh ``r`` and ``e`` each call, so repeating a request reveals nothing new."""
        x = _load_vector(self._ctx, probe, "probe", 128)
        y = _load_vector(self._ctx, template, "template", 128)
        r = 2.0 ** (MASK_BITS * self._uniform())
        noise = _gaussian(self._uniform) * 2.0**-FLOOD_BITS
        try:
            diff = x - y
            squared = diff.dot(diff)  # one ciphertext square, then a rotation sum
            # multiplying by the one-slot plaintext [-r] also zeroes every other slot, where
            # the rotation sum left partial sums of squared differences
            z = squared * [-r] + [r * (self.threshold**2 + noise)]
        except (RuntimeError, ValueError) as exc:
            # SEAL refuses e.g. a ciphertext minus itself ("transparent" result)
            raise InvalidInput(f"these ciphertexts cannot be compared ({exc})") from None
        return bytes(z.serialize())

    def decision_requests(self, probe: bytes, templates: Sequence[bytes]) -> list[bytes]:
        """One request per candidate (1:N: the shortlist of a binary-template search)."""
        return [self.decision_request(probe, t) for t in templates]


def _gaussian(uniform: Uniform) -> float:
    u1, u2 = uniform(), uniform()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


class DecisionHolder:
    """Holds the secret key; turns a decision request into accept (True) or reject."""

    def __init__(self, keys_: HeKeys, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._ctx = keys_.context
        # what an embedding pair can give: margin <= T² (plus the flooding noise), and no
        # less than -2^19, what the last modulus holds at this scale. A capture device that
        # encrypted values out of range makes it wrap, to numbers mostly far outside
        # (median 6e7): refused, rather than decided by their random sign (measured, 200
        # crafted probes: 34 accepted before, none now; the threshold mode checks 16 masks)
        high = 2.0**MASK_BITS * (checked_threshold(threshold) ** 2 + 2.0**-16)
        self._range = (-(2.0**19), high)

    def decide(self, request: bytes) -> bool:
        z = self.view(request)
        low, high = self._range
        if not low <= z <= high:
            raise InvalidInput(
                "the decision request's masked margin exceeds what embeddings give: the probe "
                "or the template holds values out of an embedding's range (refused)"
            )
        return z >= 0.0

    def decide_many(self, requests: Sequence[bytes]) -> list[bool]:
        return [self.decide(r) for r in requests]

    def view(self, request: bytes) -> float:
        """Everything the decision holder learns from a request: ``z``, a masked margin
        (exposed for measurement; the service uses :meth:`decide`)."""
        vec = _load_vector(self._ctx, request, "decision request", 1)
        return float(vec.decrypt()[0])
