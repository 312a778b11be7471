"""Threshold encrypted verification: no single key holder can decrypt anything.

The decision key of :mod:`facegate.templates.he.parties` exists whole at the decision holder
(sealed 2-of-3 at rest, open in memory while it serves). Here it never exists whole: OpenFHE's
multiparty BFV makes three key shares ``s0, s1, s2`` whose sum is the key behind the one
joint public key, and each of the three holders (operator, HSM or escrow, regulator) keeps two
of them (holder ``h`` keeps ``s_h`` and ``s_(h+1) mod 3``). Any two holders cover all three
shares; one holder alone lacks one, and what it can decrypt is uniformly random.

    >>> setup = ThresholdSetup.ceremony()                   # once, with the three holders
    >>> device = ThresholdDevice(setup.public)              # public key: encrypts
    >>> server = ThresholdVerifier(setup.public)            # evaluation keys: compares
    >>> holders = [KeyHolder(setup.public, s, server=server.verify_key) for s in setup.shares[:2]]
    >>> request = server.decision_request(device.encrypt(probe), device.encrypt(enrolled))
    >>> ThresholdDecisionHolder(setup.public).decide(request, holders, server)   # True

Embeddings are encrypted as integers (each value times 2^10). The server computes, under
encryption, the margin ``T² - |x - y|²`` plus an offset ``R`` uniform modulo BFV's plaintext
modulus that it alone knows. Each holder returns OpenFHE decryption shares, each flooded with
fresh noise (``NOISE_FLOODING_MULTIPARTY``) so that it says nothing about the holder's key
share; the decision holder fuses them into ``w = margin + R``, which is uniform whatever the
faces, and learns whether the margin is in the accept window by a comparison with the server
that shows it one bit (:mod:`facegate.templates.he.compare`). OpenFHE runs in a process of its
own for each party under the interpreter its wheels are built for (:func:`openfhe_python`),
so parties share no memory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy.typing as npt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from facegate.errors import InvalidInput, InvalidTemplate
from facegate.templates.he._party import OPENFHE_PYTHON_ENV, Party, openfhe_python
from facegate.templates.he.ceremony import HOLDERS, HolderShare, PublicMaterial, ThresholdSetup
from facegate.templates.he.parties import DEFAULT_THRESHOLD, checked_threshold, one_embedding

__all__ = [
    "HOLDERS",
    "OPENFHE_PYTHON_ENV",
    "DecisionRequest",
    "HolderShare",
    "KeyHolder",
    "PublicMaterial",
    "ThresholdDecisionHolder",
    "ThresholdDevice",
    "ThresholdSetup",
    "ThresholdVerifier",
    "comparison_bits",
    "openfhe_python",
    "threshold_available",
]

_REQUEST_LABEL: Final = b"facegate/v1/he-decision-request\n"
#: embeddings are encrypted as integers, each value times 2^10 rounded: a squared distance is
#: then exact to about 1e-3 at the threshold. dlib norms are at most 4 (as_embeddings), so
#: |margin| < 64 = 2^6, 2^26 in these units
QUANT: Final = 1024
#: BFV's plaintext modulus (the worker's PLAINTEXT_MODULUS): margins and offsets live modulo it
MODULUS: Final = 1099512938497
#: a gallery block packs this many templates in one ciphertext (the worker's POSITIONS)
POSITIONS: Final = 128
#: decision requests the server remembers the offsets of, oldest forgotten first
PENDING: Final = 4096


def threshold_available() -> bool:
    """OpenFHE's interpreter, and coincurve for the one-bit comparison (the ``he`` extra)."""
    return openfhe_python() is not None and importlib.util.find_spec("coincurve") is not None


def _blob(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or not value:
        raise InvalidInput(f"the encrypted {what} is empty or not bytes")
    return value


class ThresholdDevice:
    """Encrypts embeddings where they are captured, under the joint public key, at all
    128 block positions (a probe meets a whole block; the server masks a template into one)."""

    def __init__(self, public: PublicMaterial) -> None:
        self._party = Party()
        self._party.setup("device", context=public.context, public_key=public.public_key)

    def encrypt(self, embedding: npt.ArrayLike) -> bytes:
        values = [round(v * QUANT) for v in one_embedding(embedding)]
        return bytes(self._party.call("encrypt", values=values))

    def close(self) -> None:
        self._party.close()


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What the server sends towards the decision holder: the blinded margins under the joint
    key, one for each block position asked for, and the ticket the server answers the
    comparisons under (once each)."""

    ciphertext: bytes = field(repr=False)
    ticket: str
    positions: tuple[int, ...] = (0,)
    #: the server's Ed25519 signature over the rest: key holders decrypt nothing else
    signature: bytes = field(default=b"", repr=False)

    def signed_bytes(self) -> bytes:
        head = json.dumps([self.ticket, list(self.positions)]).encode()
        return _REQUEST_LABEL + hashlib.sha256(self.ciphertext).digest() + head


class ThresholdVerifier:
    """The server: packs templates into blocks, compares ciphertexts and blinds the margins;
    holds no key share."""

    def __init__(
        self,
        public: PublicMaterial,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        signer: Ed25519PrivateKey | None = None,
    ) -> None:
        self.threshold = checked_threshold(threshold)
        self._party = Party()
        modulus = self._party.setup(
            "server", context=public.context, eval_mult=public.eval_mult, eval_sum=public.eval_sum
        )
        if modulus != MODULUS:
            raise InvalidInput(f"the OpenFHE context's plaintext modulus is not {MODULUS}")
        # ticket -> position -> the offset R; then (ticket, position) -> whether it wrapped
        self._offsets: OrderedDict[str, dict[int, int]] = OrderedDict()
        self._answered: OrderedDict[tuple[str, int], bool] = OrderedDict()
        self._lock = threading.Lock()
        # signs its decision requests, so that key holders decrypt those and nothing else
        # (a stored template or block relayed as a request, say); a service keeps its key
        self._signer = signer or Ed25519PrivateKey.generate()
        self.verify_key = self._signer.public_key().public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        """The server's signature, for the other messages it sends the decision holder."""
        return self._signer.sign(message)

    def close(self) -> None:
        self._party.close()

    def pack(self, block: bytes | None, template: bytes, position: int) -> bytes:
        """A gallery block (None: a new one) with ``template`` at a free ``position`` (0 to
        127; the gallery keeps which are taken), so that one comparison meets 128 templates.
        Masked in: what else a device encrypted cannot reach the block's other templates."""
        if not isinstance(position, int) or not 0 <= position < POSITIONS:
            raise InvalidInput(f"a block position is 0 to {POSITIONS - 1}, not {position!r}")
        held = None if block is None else _blob(block, "block")
        blob = self._party.call(
            "pack", block=held, template=_blob(template, "template"), position=position
        )
        return bytes(blob)

    def decision_request(
        self, probe: bytes, template: bytes, positions: Sequence[int] = (0,)
    ) -> DecisionRequest:
        """``T² - |probe - y_p|² + R_p`` under encryption for each position ``p`` of the
        block ``template`` (or of one template, which sits at every position), in units of
        2^-20, each with a fresh offset ``R_p`` uniform modulo :data:`MODULUS`: whoever
        decrypts it sees uniform numbers."""
        wanted = tuple(dict.fromkeys(positions))
        if not wanted or not all(isinstance(p, int) and 0 <= p < POSITIONS for p in wanted):
            raise InvalidInput(
                f"a decision request names block positions from 0 to {POSITIONS - 1}"
            )
        offsets = {p: secrets.randbelow(MODULUS) for p in wanted}
        ciphertext = self._party.call(
            "compare",
            probe=_blob(probe, "probe"),
            block=_blob(template, "template"),
            tt=_quantised(self.threshold),
            offsets=offsets,
        )
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            _remember(self._offsets, ticket, offsets)
        request = DecisionRequest(bytes(ciphertext), ticket, wanted)
        signature = self._signer.sign(request.signed_bytes())
        return DecisionRequest(request.ciphertext, ticket, wanted, signature)

    def compare(
        self, ticket: str, position: int, encrypted_bits: Sequence[bytes], public: bytes
    ) -> list[bytes]:
        """The answer to the decision holder's encrypted bits of ``w_p``: one zero among them
        says whether ``w_p`` is in the accept window ``[R_p, R_p + T²]``. Once per position
        and request, so nobody can search an offset by asking again."""
        from facegate.templates.he.compare import window_test  # coincurve: the he extra

        with self._lock:
            offsets = self._offsets.get(ticket, {})
            offset = offsets.pop(position, None)
        if offset is None:
            raise InvalidInput("no decision request awaits this ticket (unknown or answered)")
        try:
            answers, inside = window_test(
                encrypted_bits, public, offset, _quantised(self.threshold) + 1, MODULUS
            )
        except InvalidInput:  # refused before any answer: the request may still be compared
            offsets[position] = offset
            raise
        with self._lock:
            _remember(self._answered, (ticket, position), inside)
        return answers

    def conclude(self, ticket: str, position: int, found_zero: bool) -> bool:
        """The decision from the decision holder's bit: a zero meant inside the window when
        it wrapped around the modulus, outside it otherwise."""
        with self._lock:
            inside = self._answered.pop((ticket, position), None)
        if inside is None:
            raise InvalidInput("no comparison awaits this ticket (unknown or concluded)")
        return found_zero if inside else not found_zero


def _remember(pending: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    pending[key] = value
    while len(pending) > PENDING:
        pending.popitem(last=False)


def _quantised(threshold: float) -> int:
    """``T²`` in the units of the encrypted squared distances."""
    return round(threshold**2 * QUANT**2)


class Holder(Protocol):
    """A key holder as the decision holder uses it: here (:class:`KeyHolder`) or over HTTP
    (:class:`facegate.encrypted.remote.RemoteKeyHolder`)."""

    holder: str
    indices: tuple[int, ...]

    def partials(
        self, request: DecisionRequest, indices: Sequence[int], *, lead: bool
    ) -> list[bytes]: ...


class KeyHolder:
    """One custodian: answers a decision request with decryption shares of its key shares,
    once it has checked that the server signed the request."""

    def __init__(self, public: PublicMaterial, share: HolderShare, *, server: bytes) -> None:
        self.holder, self.indices = share.holder, tuple(sorted(share.shares))
        try:
            self._server = Ed25519PublicKey.from_public_bytes(server)
        except (TypeError, ValueError):
            raise InvalidInput("the server's verify key is not an Ed25519 public key") from None
        self._party = Party()
        self._party.setup("holder", context=public.context, shares=share.shares)

    def partials(
        self, request: DecisionRequest, indices: Sequence[int], *, lead: bool
    ) -> list[bytes]:
        if not set(indices) <= set(self.indices):
            raise InvalidTemplate()
        try:
            self._server.verify(getattr(request, "signature", b""), request.signed_bytes())
        except (InvalidSignature, AttributeError, TypeError):
            raise InvalidInput(
                f"the {self.holder} key holder decrypts decision requests the server signed, "
                "and this one is not"
            ) from None
        out = self._party.call(
            "partials", request=request.ciphertext, shares=list(indices), lead=lead
        )
        return [bytes(p) for p in out]

    def close(self) -> None:
        self._party.close()


def comparison_bits(blinded: int) -> tuple[Any, list[bytes]]:
    """A fresh comparison key (``BitKey``) and ``w``'s bits encrypted under it: what the
    decision holder sends the server, which learns nothing of ``w`` from them."""
    from facegate.templates.he.compare import BitKey  # coincurve: the he extra

    key = BitKey()  # fresh each comparison
    return key, key.encrypt_bits(blinded, MODULUS.bit_length())


@dataclass(frozen=True, slots=True)
class DecisionView:
    """Everything the decision holder learns of one position of a request: ``w`` (the margin
    plus the server's uniform offset) and whether a zero was among the server's answers."""

    blinded: int
    found_zero: bool


class ThresholdDecisionHolder:
    """Fuses the holders' decryption shares into ``w``, which is uniform, and learns from the
    server's comparison one bit a position: whether the margin is in the accept window."""

    def __init__(self, public: PublicMaterial, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        checked_threshold(threshold)
        self._party = Party()
        self._party.setup("decider", context=public.context)

    def close(self) -> None:
        self._party.close()

    def blinded(self, request: DecisionRequest, holders: Sequence[Holder]) -> list[int]:
        """``w_p`` for each position of the request, from two holders' decryption shares."""
        _blob(getattr(request, "ciphertext", None), "decision request")
        plan: dict[Holder, list[int]] = {}
        for index in range(len(HOLDERS)):
            holder = next((h for h in holders if index in h.indices), None)
            if holder is None:
                raise InvalidInput(
                    f"a decision needs two of the three key holders ({', '.join(HOLDERS)}); "
                    f"{len({h.holder for h in holders})} answered"
                )
            plan.setdefault(holder, []).append(index)
        with ThreadPoolExecutor(len(plan)) as pool:  # the holders work at once, in order
            answers = pool.map(
                lambda kv: kv[0].partials(request, kv[1], lead=kv[1][0] == 0), plan.items()
            )
            return self.fuse([p for answer in answers for p in answer], request.positions)

    def fuse(self, partials: Sequence[bytes], positions: Sequence[int] = (0,)) -> list[int]:
        """The ``w_p`` from the decryption shares of all three key shares; with any share
        missing, what they fuse to is uniformly random."""
        blobs = [_blob(p, "partial") for p in partials]
        values = self._party.call("fuse", partials=blobs, positions=list(positions))
        return [int(v) for v in values]

    def views(
        self, request: DecisionRequest, holders: Sequence[Holder], server: ThresholdVerifier
    ) -> dict[int, DecisionView]:
        """The whole exchange for one request, as the decision holder sees it."""
        out = {}
        for position, w in zip(request.positions, self.blinded(request, holders), strict=True):
            key, bits = comparison_bits(w)
            answers = server.compare(request.ticket, position, bits, key.public)
            out[position] = DecisionView(w, key.any_zero(answers))
        return out

    def decide_all(
        self, request: DecisionRequest, holders: Sequence[KeyHolder], server: ThresholdVerifier
    ) -> dict[int, bool]:
        """Accept or reject at each position; the server turns each bit into the decision."""
        views = self.views(request, holders, server)
        return {p: server.conclude(request.ticket, p, v.found_zero) for p, v in views.items()}

    def decide(
        self, request: DecisionRequest, holders: Sequence[KeyHolder], server: ThresholdVerifier
    ) -> bool:
        """Accept or reject a 1:1 request (one position)."""
        if len(request.positions) != 1:
            raise InvalidInput("decide takes a request for one position; decide_all takes more")
        return self.decide_all(request, holders, server)[request.positions[0]]
