"""What the parties send each other over HTTP, and the server's signatures over it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from facegate.errors import InvalidInput
from facegate.templates.he.threshold import DecisionRequest

_FINISH_LABEL: Final = b"facegate/v1/he-decision-finish\n"
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
