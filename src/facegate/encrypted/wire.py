"""What the parties send each other over HTTP, and the server's signatures over it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from facegate.errors import InvalidInput
from facegate.templates.he.threshold import DecisionRequest

_FINISH_LABEL: Final = b"facegate/v1/he-decision-finish\n"
_PARTIALS_LABEL: Final = b"facegate/v1/he-partials-request\n"
_SEAL_INFO: Final = b"facegate/v1/he-partials\n"
#: RFC 9180 HPKE, base mode: key holders seal decryption shares to the decision holder
_SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
#: what a ``PartyUnavailable`` waits for before giving up on a node, in seconds; the decision
#: holder's half of a request is about 0.1 s on two cores
TIMEOUT: Final = 60.0


def b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode()


def unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{what} is not valid base64") from None


def request_out(request: DecisionRequest) -> dict[str, Any]:
    return {
        "ciphertext": b64(request.ciphertext),
        "ticket": request.ticket,
        "positions": list(request.positions),
        "signature": b64(request.signature),
    }


def request_in(body: object) -> DecisionRequest:
    if not isinstance(body, Mapping):
        raise InvalidInput("a decision request is a JSON object")
    positions = body.get("positions")
    if not isinstance(positions, list) or not all(type(p) is int for p in positions):
        raise InvalidInput("a decision request's positions are a list of integers")
    ticket = body.get("ticket")
    if not isinstance(ticket, str) or not 0 < len(ticket) <= 64:
        raise InvalidInput("a decision request's ticket is a short string")
    return DecisionRequest(
        unb64(body.get("ciphertext"), "the request's ciphertext"),
        ticket,
        tuple(positions),
        unb64(body.get("signature"), "the request's signature"),
    )


def answers_out(answers: Mapping[int, Sequence[bytes]]) -> dict[str, list[str]]:
    return {str(p): [b64(a) for a in vector] for p, vector in sorted(answers.items())}


def answers_in(body: object) -> dict[int, list[bytes]]:
    if not isinstance(body, Mapping) or not body:
        raise InvalidInput("the server's answers are a JSON object by position")
    out = {}
    for position, vector in body.items():
        if not str(position).isdigit() or not isinstance(vector, list):
            raise InvalidInput("the server's answers are lists of base64 points by position")
        out[int(position)] = [unb64(a, "an answer") for a in vector]
    return out


def finish_bytes(ticket: str, answers: Mapping[str, list[str]]) -> bytes:
    """What the server signs when it sends its comparison answers: the ticket and a digest
    of the answers as sent."""
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).digest()
    return _FINISH_LABEL + json.dumps(ticket).encode() + b"\n" + digest


def partials_bytes(request: DecisionRequest, indices: Sequence[int], lead: bool) -> bytes:
    """What the decision holder signs when it asks a key holder for decryption shares: the
    server's signed request, the shares asked for, and which holder leads."""
    return _PARTIALS_LABEL + request.signed_bytes() + json.dumps([list(indices), lead]).encode()


def seal_to(blob: bytes, identity: bytes, info: bytes) -> bytes:
    """Sealed to a node's X25519 key (the last 32 bytes of its public keys): whoever else
    sees it, the API host say, learns nothing."""
    return _SUITE.encrypt(blob, X25519PublicKey.from_public_bytes(identity[32:]), info=info)


def open_from(blob: bytes, key: X25519PrivateKey, info: bytes) -> bytes:
    try:
        return _SUITE.decrypt(blob, key, info=info)
    except (InvalidTag, ValueError):  # not sealed to us, or not for this purpose
        raise InvalidInput("this was not sealed to this node for this purpose") from None


def seal_partial(blob: bytes, decider: bytes, ticket: str) -> bytes:
    """A decryption share sealed to the decision holder, for one request."""
    return seal_to(blob, decider, _SEAL_INFO + ticket.encode())


def open_partial(blob: bytes, key: X25519PrivateKey, ticket: str) -> bytes:
    try:
        return _SUITE.decrypt(blob, key, info=_SEAL_INFO + ticket.encode())
    except (InvalidTag, ValueError):  # not sealed to us, or not for this request
        raise InvalidInput("a decryption share is not sealed to this decision holder") from None
