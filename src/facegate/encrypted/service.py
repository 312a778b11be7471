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


def node_app(node: NodeHome, *, holders: Sequence[str] = ()) -> FastAPI:
    """The node's app; a decision holder names the key holders' URLs (two or three)."""
    public, server_key, share = node.material()
    app = FastAPI(title=f"facegate {node.role} node ({node.name})", version=__version__)
    errors.install(app)

    @app.get("/v1/about")
    def about() -> dict[str, Any]:
        indices = sorted(share.shares) if share is not None else []
        return {"role": node.role, "name": node.name, "indices": indices}

    if share is not None:
        _holder_routes(app, KeyHolder(public, share, server=server_key))
    else:
        if len(set(holders)) < 2:
            raise InvalidInput("the decision holder needs the URLs of at least two key holders")
        decider = ThresholdDecisionHolder(public)
        _decider_routes(app, decider, [RemoteKeyHolder(u) for u in holders], server_key)
    return app


def _holder_routes(app: FastAPI, holder: KeyHolder) -> None:
    @app.post("/v1/partials")
    async def partials(body: dict[str, Any] = Json) -> dict[str, Any]:
        request = wire.request_in(body.get("request"))
        indices = body.get("indices")
        if not isinstance(indices, list) or not all(type(i) is int for i in indices):
            raise InvalidInput("indices are the key shares asked for, as integers")
        lead = body.get("lead") is True
        out = await run_in_threadpool(holder.partials, request, indices, lead=lead)
        return {"partials": [wire.b64(p) for p in out]}


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
