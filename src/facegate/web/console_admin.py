"""Console: principals, their roles and API keys, and passwords (admin only).

A new principal gets an API key (shown once, only its hash is kept) and, if the admin
types one, a console password; the admin may set a forgotten password anew (which ends
that principal's sessions). Revoking a principal revokes every key of theirs and ends their
sessions; the last admin cannot be revoked. Everything here is done by the Gate acting as
the signed-in admin, and ledgered under their name where the Gate ledgers it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from facegate.actors import ROLES, Actor
from facegate.errors import FacegateError, InvalidInput
from facegate.gate import Gate
from facegate.web import passwords, sessions, wizard
from facegate.web.guard import acting
from facegate.web.render import page
from facegate.web.routing import form_text, read_form, router

routes = router(prefix="/console")
WHAT = "manage principals and keys (admin only)"


def _listing(gate: Gate) -> dict[str, Any]:
    principals = gate.list_principals()
    with_password = {p.id for p in principals if passwords.password_set_at(gate, p.id) is not None}
    return {
        "principals": principals,
        "keys": gate.list_api_keys(),
        "with_password": with_password,
        "deployments": gate.list_deployments(),
    }


async def _page(
    request: Request,
    actor: Actor,
    gate: Gate,
    *,
    shown: dict[str, Any] | None = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "actor": actor,
        "roles": ROLES,
        "shown": shown,
        "problem": problem,
        **await run_in_threadpool(_listing, gate),
    }
    return page(request, "console_principals.html", context, status=status)


@routes.get("/principals", response_class=HTMLResponse)
async def principals(request: Request) -> Response:
    actor, gate = await acting(request, "manage_principals", WHAT)
    return await _page(request, actor, gate)


async def _act(request: Request, act: Any) -> Response:
    """Check the form and the role, run ``act(form, gate)``; show its result or the error
    on the same page."""
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "manage_principals", WHAT)
    try:
        shown = await run_in_threadpool(act, form, gate)
    except FacegateError as err:
        from facegate.api.errors import status_for

        return await _page(
            request, actor, gate, problem=wizard.problem_of(err), status=status_for(err)
        )
    return await _page(request, actor, gate, shown=shown)


def _create(form: Any, gate: Gate) -> dict[str, Any]:
    name, role = form_text(form, "name", max_len=200), form_text(form, "role", max_len=20)
    password = str(form.get("password", ""))[:1024]
    if password:
        passwords.check_strength(password, name=name)  # before the principal exists
    made = gate.create_principal(name, role)
    if password:
        passwords.set_password(gate, made.principal.id, password, name=name)
    return {
        "what": "principal",
        "name": made.principal.name,
        "key": made.api_key.key,
        "password": bool(password),
    }


@routes.post("/principals", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    return await _act(request, _create)


@routes.post("/principals/{principal_id}/revoke", response_class=HTMLResponse)
async def revoke(request: Request, principal_id: str) -> Response:
    def act(_form: Any, gate: Gate) -> dict[str, Any]:
        done = gate.revoke_principal(principal_id[:40])
        return {"what": "revoked", "name": done.name}

    return await _act(request, act)


@routes.post("/principals/{principal_id}/password", response_class=HTMLResponse)
async def set_password(request: Request, principal_id: str) -> Response:
    def act(form: Any, gate: Gate) -> dict[str, Any]:
        found = {p.id: p for p in gate.list_principals() if p.revoked_at is None}
        target = found.get(principal_id[:40])
        if target is None:
            raise InvalidInput("no active principal by that id")
        new = str(form.get("password", ""))[:1024]
        passwords.set_password(gate, target.id, new, name=target.name)
        return {"what": "password", "name": target.name}

    return await _act(request, act)


def _issue(form: Any, gate: Gate) -> dict[str, Any]:
    days = form_text(form, "expires_days", max_len=5)
    if days and not days.isdigit():
        raise InvalidInput("expires in: a whole number of days")
    deployment = form_text(form, "deployment", max_len=40) or None
    issued = gate.issue_api_key(
        principal_id=form_text(form, "principal", max_len=40) or None,
        label=form_text(form, "label", max_len=200),
        expires_days=int(days) if days else None,
        deployment_id=deployment,
    )
    names = {p.id: p.name for p in gate.list_principals()}
    return {"what": "key", "name": names.get(issued.principal_id, ""), "key": issued.key}


@routes.post("/keys", response_class=HTMLResponse)
async def issue(request: Request) -> Response:
    return await _act(request, _issue)


@routes.post("/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key(request: Request, key_id: str) -> Response:
    def act(_form: Any, gate: Gate) -> dict[str, Any]:
        gate.revoke_api_key(key_id[:40])
        return {"what": "key_revoked", "name": key_id[:40]}

    return await _act(request, act)
