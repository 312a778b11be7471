"""Who acts in the console, and whether their role lets them.

Every console page starts with :func:`acting`: the principal the session was signed in as
(still active, password unchanged since), refused unless their role has the permission the
page needs (:data:`facegate.actors.PERMISSIONS`), and the Gate acting as them, so that
every act the page causes is recorded under their name. The Gate's flows check the role
again; checking here first lets a page say so before a form is filled in.
"""

from __future__ import annotations

from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from facegate.actors import PERMISSIONS, Actor
from facegate.errors import Forbidden
from facegate.gate import Gate
from facegate.web import auth, sessions
from facegate.web.routing import SignInNeeded, gate_of

LOGIN: Final = "/console/login"


def principals(request: Request) -> auth.Principals:
    found: auth.Principals = request.app.state.web_principals
    return found


def console_actor(request: Request) -> Actor | None:
    """The principal the request's console session acts for, if it is still valid."""
    session = sessions.current(request)
    if session is None or session.kind != "console":
        return None
    return auth.still_valid(
        gate_of(request), principals(request), session.data["pid"], session.data["pw"]
    )


def allowed(actor: Actor, permission: str, what: str) -> None:
    if not actor.may(permission):
        roles = ", ".join(sorted(PERMISSIONS[permission]))
        raise Forbidden(
            f"{actor.name} (role {actor.role}) may not {what}",
            advice=f"Ask a principal with the role {roles} to do it, or an admin to give you "
            "that role.",
        )


async def acting(request: Request, permission: str, what: str) -> tuple[Actor, Gate]:
    """The signed-in principal and the Gate acting as them; :class:`SignInNeeded` or
    :class:`Forbidden` otherwise."""
    actor = await run_in_threadpool(console_actor, request)
    if actor is None:
        raise SignInNeeded("you are not signed in, or your session ended")
    allowed(actor, permission, what)
    return actor, gate_of(request).as_actor(actor)


def safe_next(value: str) -> str:
    """Where to go after signing in: a console path of this site, nothing else (no open
    redirect to another host, no scheme, no backslash tricks)."""
    if (
        value.startswith("/console")
        and not value.startswith("//")
        and all(c.isalnum() or c in "/_-" for c in value)
        and len(value) <= 200
    ):
        return value
    return "/console"
