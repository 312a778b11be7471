"""Dependency aliases: the Gate, and the operator an API key belongs to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from facegate.errors import Unauthenticated
from facegate.gate import Gate
from facegate.results import OperatorInfo

_bearer = HTTPBearer(auto_error=False)


def get_gate(request: Request) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


GateDep = Annotated[Gate, Depends(get_gate)]


def get_operator(
    gate: GateDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> OperatorInfo:
    if creds is None:
        raise Unauthenticated("no API key was sent")
    return gate.authenticate(creds.credentials)


OperatorDep = Annotated[OperatorInfo, Depends(get_operator)]
