"""The HTTP services of the key holder and decision holder nodes (``node-serve``).

A key holder answers ``POST /v1/partials`` with flooded decryption shares of a request the
server signed (:class:`~facegate.templates.he.threshold.KeyHolder` checks). The decision
holder answers ``POST /v1/begin`` (a signed request: it asks two live holders, fuses ``w``
and returns ``w``'s bits under a fresh comparison key) and ``POST /v1/finish`` (the server's
signed answers: whether a zero was among them). ``w`` and the comparison keys never leave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Body, FastAPI
from starlette.concurrency import run_in_threadpool

from facegate import __version__
from facegate.api import errors
from facegate.api.limits import BodyLimit
from facegate.encrypted import wire
from facegate.encrypted.node import NodeHome, Pending
from facegate.encrypted.remote import RemoteKeyHolder
from facegate.errors import InvalidInput, PartyUnavailable
from facegate.templates.he.ceremony import HOLDERS
from facegate.templates.he.threshold import (
    KeyHolder,
    ThresholdDecisionHolder,
    comparison_bits,
)

__all__ = ["node_app"]

Json = Body(...)
#: a request carries one 1 MB ciphertext, as base64 in JSON; twice that is plenty
MAX_BODY = 4 * 1024 * 1024


def node_app(node: NodeHome, *, holders: Sequence[str] = ()) -> FastAPI:
    """The node's app; a decision holder names the key holders' URLs (two or three)."""
    held = node.material()
    app = FastAPI(title=f"facegate {node.role} node ({node.name})", version=__version__)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)

    @app.get("/v1/about")
    def about() -> dict[str, Any]:
        indices = sorted(held.share.shares) if held.share is not None else []
        return {"role": node.role, "name": node.name, "indices": indices}

    if held.share is not None:
        holder = KeyHolder(held.public, held.share, server=held.server)
        _holder_routes(app, holder, held.decider)
    else:
        if len(set(holders)) < 2:
            raise InvalidInput("the decision holder needs the URLs of at least two key holders")
        signer, opener = node.identity()
        remote = [RemoteKeyHolder(u, signer=signer, opener=opener) for u in holders]
        _decider_routes(app, ThresholdDecisionHolder(held.public), remote, held.server)
    return app


def _holder_routes(app: FastAPI, holder: KeyHolder, decider: bytes) -> None:
    """Decryption shares for the decision holder alone: it signs what it asks (a server
    that signs a stored template as a request still gets nothing from a holder), and the
    shares go back sealed to it."""
    decider_key = Ed25519PublicKey.from_public_bytes(decider[:32])

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        request = wire.request_in(body.get("request"))
        indices, lead = body.get("indices"), body.get("lead")
        if not isinstance(indices, list) or not all(type(i) is int for i in indices):
            raise InvalidInput("indices are the key shares asked for, as integers")
        if not set(indices) <= set(holder.indices) or not isinstance(lead, bool):
            raise InvalidInput(f"this holder keeps key shares {list(holder.indices)}")
        signature = wire.unb64(body.get("decider_signature"), "the decision holder's signature")
        try:
            decider_key.verify(signature, wire.partials_bytes(request, indices, lead))
        except InvalidSignature:
            raise InvalidInput(
                "a key holder answers the decision holder alone, and this request is not "
                "signed by it"
            ) from None
        out = holder.partials(request, indices, lead=lead)
        return {"partials": [wire.b64(wire.seal_partial(p, decider, request.ticket)) for p in out]}

    @app.post("/v1/partials")
    async def partials(body: dict[str, Any] = Json) -> dict[str, Any]:
        return await run_in_threadpool(answer, body)


def _decider_routes(
    app: FastAPI, decider: ThresholdDecisionHolder, holders: list[RemoteKeyHolder], server: bytes
) -> None:
    verify_key = Ed25519PublicKey.from_public_bytes(server)
    keys = Pending()

    def signed(signature: bytes, message: bytes) -> None:
        try:
            verify_key.verify(signature, message)
        except InvalidSignature:
            raise InvalidInput("the decision holder acts on what the server signed") from None

    def begin_sync(body: dict[str, Any]) -> dict[str, Any]:
        request = wire.request_in(body)
        signed(request.signature, request.signed_bytes())
        live = [h for h in holders if h.alive()]
        if len({index for h in live for index in h.indices}) < len(HOLDERS):
            raise PartyUnavailable(
                f"a decision needs two of the three key holders; {len(live)} answered"
            )
        out = {}
        for position, w in zip(request.positions, decider.blinded(request, live), strict=True):
            key, bits = comparison_bits(w)
            keys.put((request.ticket, position), key)
            out[str(position)] = {
                "bits": [wire.b64(b) for b in bits],
                "public": wire.b64(key.public),
            }
        return {"ticket": request.ticket, "positions": out}

    @app.post("/v1/begin")
    async def begin(body: dict[str, Any] = Json) -> dict[str, Any]:
        return await run_in_threadpool(begin_sync, body)

    @app.post("/v1/finish")
    def finish(body: dict[str, Any] = Json) -> dict[str, Any]:
        ticket, sent = body.get("ticket"), body.get("answers")
        if not isinstance(ticket, str) or not isinstance(sent, dict):
            raise InvalidInput("finish takes the ticket and the server's answers")
        signed(wire.unb64(body.get("signature"), "the signature"), wire.finish_bytes(ticket, sent))
        answers = wire.answers_in(sent)
        found = {}
        for position, vector in answers.items():
            key = keys.pop((ticket, position))  # each comparison key answers once
            if key is None:
                raise InvalidInput("no comparison awaits this ticket and position")
            found[str(position)] = key.any_zero(vector)
        return {"found_zero": found}
