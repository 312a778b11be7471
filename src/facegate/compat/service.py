"""Who a CompreFace request acts as, and the options it may send.

A CompreFace *service key* is a facegate API key scoped to one deployment (``facegate apikey
create --deployment DEP``), sent in the ``x-api-key`` header: the key's principal acts (its
role decides what it may do, as everywhere in facegate) on that deployment only. A key
that is not scoped to a deployment is refused: CompreFace's routes do not name one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Header, Request

from facegate.errors import Forbidden, InvalidInput, Unauthenticated
from facegate.gate import Gate

#: face plugins facegate serves: landmarks (5 points, on detection)
SERVED_PLUGINS: Final = frozenset({"landmarks"})
#: CompreFace's other plugins, and why facegate does not run them
REFUSED_PLUGINS: Final = {
    "calculator": "facegate never returns an embedding (a face template is never handed out)",
    "age": "facegate does not estimate age",
    "gender": "facegate does not infer gender",
    "mask": "facegate has no mask detector",
    "pose": "facegate does not return head pose",
}
_KEY_ADVICE = (
    "Send a service key in the x-api-key header: a facegate API key scoped to one\n"
    "deployment, made with 'facegate apikey create --deployment DEP'."
)


@dataclass(frozen=True)
class Service:
    """The Gate acting as the key's principal, and the deployment the key serves."""

    gate: Gate
    deployment_id: str


def service(
    request: Request,
    x_api_key: Annotated[
        str | None, Header(alias="x-api-key", description="the service key", max_length=200)
    ] = None,
) -> Service:
    gate: Gate = request.app.state.gate
    if not x_api_key:
        raise Unauthenticated("no x-api-key header was sent", advice=_KEY_ADVICE)
    actor = gate.authenticate(x_api_key)  # unknown, revoked or expired keys stop here
    deployment_id = gate.service_deployment(x_api_key)
    if deployment_id is None:
        raise Forbidden("this API key is not scoped to a deployment", advice=_KEY_ADVICE)
    return Service(gate.as_actor(actor), deployment_id)


ServiceDep = Annotated[Service, Depends(service)]


def plugins(face_plugins: str | None) -> frozenset[str]:
    """The face plugins asked for; one facegate does not run is refused, saying why."""
    asked = frozenset(p.strip() for p in (face_plugins or "").split(",") if p.strip())
    for name in sorted(asked - SERVED_PLUGINS):
        why = REFUSED_PLUGINS.get(name, "no such face plugin")
        raise InvalidInput(
            f"face plugin {name!r} is not available: {why}",
            advice="Leave it out of face_plugins; see docs/compreface.md for what facegate "
            "returns.",
        )
    return asked
