"""The HTTP services of the key holder and decision holder nodes (``node-serve``).

A key holder answers ``POST /v1/partials`` with flooded decryption shares of a request the
server signed (:class:`~facegate.templates.he.threshold.KeyHolder` checks). The decision
holder answers ``POST /v1/begin`` (a signed request: it asks two live holders, fuses ``w``
and returns ``w``'s bits under a fresh comparison key) and ``POST /v1/finish`` (the server's
signed answers: whether a zero was among them). ``w`` and the comparison keys never leave it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Body, FastAPI
from starlette.concurrency import run_in_threadpool

from facegate import __version__
from facegate.api import errors
from facegate.api.limits import BodyLimit
from facegate.encrypted import wire
from facegate.encrypted.ceremony_routes import MAX_CEREMONY, ceremony_routes
from facegate.encrypted.maker import NodeCeremony
from facegate.encrypted.node import NodeHome, Pending, identity_text
from facegate.encrypted.remote import RemoteKeyHolder
from facegate.errors import Conflict, InvalidInput, PartyUnavailable
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


class Live:
    """What a node serves with, loaded at start or once its ceremony at the nodes is done."""

    def __init__(self, node: NodeHome, holders: Sequence[str]) -> None:
        self.node, self.holders = node, holders
        self.holder: tuple[KeyHolder, bytes] | None = None
        self.decider: tuple[ThresholdDecisionHolder, list[RemoteKeyHolder], bytes] | None = None

    def load(self) -> None:
        held = self.node.material()
        if held.share is not None:
            self.holder = (KeyHolder(held.public, held.share, server=held.server), held.decider)
            return
        signer, opener = self.node.identity()
        remote = [RemoteKeyHolder(u, signer=signer, opener=opener) for u in self.holders]
        self.decider = (ThresholdDecisionHolder(held.public), remote, held.server)

    def indices(self) -> list[int]:
        return sorted(self.holder[0].indices) if self.holder is not None else []

    def ready(self) -> bool:
        return self.holder is not None or self.decider is not None


def _not_ready(node: NodeHome) -> Conflict:
    return Conflict(
        f"the {node.name} node has no part in a key ceremony yet",
        advice="Run 'facegate encrypted setup' with this node's URL.",
    )


def node_app(
    node: NodeHome, *, holders: Sequence[str] = (), peers: Mapping[str, bytes] | None = None
) -> FastAPI:
    """The node's app. A decision holder names the key holders' URLs (two or three). A node
    not set up yet serves the ceremony routes; a key holder then needs ``peers``: the
    identities of the other two holders and of the decision holder."""
    if node.role == "decider" and len(set(holders)) < 2:
        raise InvalidInput("the decision holder needs the URLs of at least two key holders")
    live = Live(node, holders)
    if node.is_set_up():
        live.load()
    elif node.role == "holder" and sorted(peers or {}) != _peers_for(node):
        raise InvalidInput(
            f"the {node.name} key holder awaits its key ceremony: start it with --peer "
            f"NAME=IDENTITY for {', '.join(_peers_for(node))} (each node-init prints one)"
        )
    app = FastAPI(title=f"facegate {node.role} node ({node.name})", version=__version__)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY, larger={"/v1/ceremony/": MAX_CEREMONY})
    identity, key = identity_text(node.identity_public()), node.key_protection()

    @app.get("/v1/about")
    def about() -> dict[str, Any]:
        return {
            "role": node.role,
            "name": node.name,
            "indices": live.indices(),
            "ready": live.ready(),
            "identity": identity,
            "key": key,
        }

    if node.role == "holder":
        _holder_routes(app, live)
    else:
        _decider_routes(app, live)
    ceremony_routes(app, NodeCeremony(node, peers or {}, live.load))
    return app


def _peers_for(node: NodeHome) -> list[str]:
    return sorted([h for h in HOLDERS if h != node.name] + ["decider"])


def _holder_routes(app: FastAPI, live: Live) -> None:
    """Decryption shares for the decision holder alone: it signs what it asks (a server
    that signs a stored template as a request still gets nothing from a holder), and the
    shares go back sealed to it."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        if live.holder is None:
            raise _not_ready(live.node)
        holder, decider = live.holder
        request = wire.request_in(body.get("request"))
        indices, lead = body.get("indices"), body.get("lead")
        if not isinstance(indices, list) or not all(type(i) is int for i in indices):
            raise InvalidInput("indices are the key shares asked for, as integers")
        if not set(indices) <= set(holder.indices) or not isinstance(lead, bool):
            raise InvalidInput(f"this holder keeps key shares {list(holder.indices)}")
        signature = wire.unb64(body.get("decider_signature"), "the decision holder's signature")
        try:
            Ed25519PublicKey.from_public_bytes(decider[:32]).verify(
                signature, wire.partials_bytes(request, indices, lead)
            )
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


def _decider_routes(app: FastAPI, live: Live) -> None:
    keys = Pending()

    def signed(signature: bytes, message: bytes) -> None:
        if live.decider is None:
            raise _not_ready(live.node)
        try:
            Ed25519PublicKey.from_public_bytes(live.decider[2]).verify(signature, message)
        except InvalidSignature:
            raise InvalidInput("the decision holder acts on what the server signed") from None

    def begin_sync(body: dict[str, Any]) -> dict[str, Any]:
        request = wire.request_in(body)
        signed(request.signature, request.signed_bytes())
        assert live.decider is not None  # signed() refused otherwise
        decider, holders, _ = live.decider
        up = [h for h in holders if h.alive()]
        if len({index for h in up for index in h.indices}) < len(HOLDERS):
            raise PartyUnavailable(
                f"a decision needs two of the three key holders; {len(up)} answered"
            )
        out = {}
        for position, w in zip(request.positions, decider.blinded(request, up), strict=True):
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
