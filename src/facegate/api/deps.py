"""Dependency aliases: the Gate, the principal an API key belongs to, and the Gate acting as
that principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from facegate.actors import Actor
from facegate.errors import Unauthenticated
from facegate.flows import principals
from facegate.gate import Gate
from facegate.results import OperatorInfo

_bearer = HTTPBearer(auto_error=False)


def get_gate(request: Request) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


GateDep = Annotated[Gate, Depends(get_gate)]


def get_actor(
    request: Request,
    gate: GateDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The principal whose key is the bearer token; a key scoped to one deployment works
    only on routes of that deployment (elsewhere it is Forbidden)."""
    if creds is None:
        raise Unauthenticated("no API key was sent")
    deployment = request.path_params.get("deployment_id")
    return principals.authenticate(
        gate.core, creds.credentials, deployment_id=deployment, whole_operator=deployment is None
    )


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_acting_gate(gate: GateDep, actor: ActorDep) -> Gate:
    return gate.as_actor(actor)


ActingGate = Annotated[Gate, Depends(get_acting_gate)]


def get_operator(actor: ActorDep) -> OperatorInfo:
    """The operator the acting principal works for (routes that scope by operator)."""
    return OperatorInfo(id=actor.operator_id, name="", contact="")


OperatorDep = Annotated[OperatorInfo, Depends(get_operator)]
