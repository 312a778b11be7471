"""Console sign-in: the one adapter between the web pages and the principals of the Gate.

The pages need two things about principals, behind :class:`Principals`:

* ``find(operator, name)``: the principal called ``name`` acting for the operator given by
  name or id, as an :class:`~facegate.actors.Actor`, or None;
* ``get(principal_id)``: the same by id, or None once it is removed or disabled.

:class:`GatePrincipals` asks the Gate (``gate.find_principal`` and ``gate.get_principal``);
a revoked principal is found no more, and its sessions end. Everything else (Argon2
passwords, sealed sessions, CSRF, a new session id at sign-in, rate limits) is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from facegate.actors import Actor
from facegate.api.ratelimit import RateLimiter
from facegate.errors import NotFound, Unauthenticated
from facegate.gate import Gate
from facegate.web import passwords

#: sign-in attempts: 5 a minute per client address and per principal name, bursts of 5
ATTEMPTS: Final = (5, 60.0)


class Principals(Protocol):
    def find(self, operator: str, name: str) -> Actor | None: ...

    def get(self, principal_id: str) -> Actor | None: ...


class GatePrincipals:
    """Principals as the Gate stores them: only active ones are found."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate

    def find(self, operator: str, name: str) -> Actor | None:
        try:
            return self._gate.find_principal(operator, name)
        except NotFound:
            return None

    def get(self, principal_id: str) -> Actor | None:
        return self._gate.get_principal(principal_id)


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    password_set_at: datetime


def limiter() -> RateLimiter:
    return RateLimiter(rate=ATTEMPTS[0], per=ATTEMPTS[1])


def login(
    gate: Gate,
    principals: Principals,
    operator: str,
    name: str,
    password: str,
    *,
    attempts: RateLimiter | None = None,
    client: str = "",
) -> SignedIn:
    """The principal ``name`` of ``operator`` if ``password`` is theirs;
    :class:`Unauthenticated` otherwise, the same message whether the operator, the name or
    the password was wrong (and after the same Argon2 work)."""
    if attempts is not None:
        attempts.hit(f"client:{client}")
        attempts.hit(f"name:{operator.strip().lower()}/{name.strip().lower()}")
    actor = principals.find(operator.strip(), name.strip()) if operator and name else None
    set_at = passwords.verify_password(gate, actor.principal_id if actor else None, password)
    if actor is None:  # pragma: no cover - verify_password already refused
        raise Unauthenticated(passwords.WRONG)
    return SignedIn(actor, set_at)


def still_valid(
    gate: Gate, principals: Principals, principal_id: str, password_stamp: str
) -> Actor | None:
    """The principal a console session acts for, unless it is gone or its password changed
    since the session began (which ends every earlier session)."""
    actor = principals.get(principal_id)
    if actor is None:
        return None
    set_at = passwords.password_set_at(gate, principal_id)
    if set_at is None or set_at.isoformat() != password_stamp:
        return None
    return actor
