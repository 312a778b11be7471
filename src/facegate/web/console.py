"""The operator console's door and home: sign-in, sign-out, the overview, one's password.

A principal signs in with the name of their operator, their own name and their password
(:mod:`facegate.web.auth`); the session id changes at that moment; every console page asks
:func:`facegate.web.guard.acting` who is acting, and every POST passes
:func:`facegate.web.sessions.check_post`. The sections are modules of their own:
deployments (:mod:`.console_deployments`), the consent desk (:mod:`.console_desk`),
recognition (:mod:`.console_faces`), review and requests (:mod:`.console_people`), the
ledger and reports (:mod:`.console_records`), principals and keys (:mod:`.console_admin`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from facegate.errors import InvalidInput, Unauthenticated
from facegate.gate import Gate
from facegate.web import auth, passwords, sessions
from facegate.web.guard import acting, console_actor, principals, safe_next
from facegate.web.render import page
from facegate.web.routing import form_text, gate_of, read_form, router

routes = router(prefix="/console")


def overview(gate: Gate) -> dict[str, Any]:
    """What the home page counts: deployments by status, open requests (and how many are
    late), matches waiting for review."""
    deployments = gate.list_deployments()
    requests = gate.open_requests()
    now = gate.core.clock()
    late = sum(1 for r in requests if datetime.fromisoformat(str(r["due_at"])) < now)
    by_status = {s: sum(1 for d in deployments if d.status == s) for s in ("draft", "live")}
    return {
        "deployments": deployments,
        "by_status": by_status,
        "open_requests": len(requests),
        "late_requests": late,
        "pending_reviews": len(gate.pending_reviews()),
    }


@routes.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    actor, gate = await acting(request, "read", "use the console")
    counts = await run_in_threadpool(overview, gate)
    return page(request, "console_home.html", {"actor": actor, **counts})


@routes.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if await run_in_threadpool(console_actor, request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next", "")), 303)
    context = {"error": None, "operator": "", "name": "", "next": _next(request)}
    return page(request, "console_login.html", context)


def _next(request: Request) -> str:
    wanted = request.query_params.get("next", "")
    return safe_next(wanted) if wanted else "/console"


@routes.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    operator = form_text(form, "operator", max_len=200)
    name = form_text(form, "name", max_len=200)
    password = str(form.get("password", ""))[:2048]
    goto = safe_next(form_text(form, "next", max_len=200))
    client = request.client.host if request.client else "unknown"
    try:
        signed = await run_in_threadpool(
            auth.login,
            gate_of(request),
            principals(request),
            operator,
            name,
            password,
            attempts=request.app.state.web_login_attempts,
            client=client,
        )
    except Unauthenticated as err:
        context = {"error": err.message, "operator": operator, "name": name, "next": goto}
        return page(request, "console_login.html", context, status=401)
    sessions.start(
        request,
        "console",
        pid=signed.actor.principal_id,
        pw=signed.password_set_at.isoformat(),
    )
    response = RedirectResponse(goto, status_code=303)
    sessions.write_cookie(request, response)
    return response


@routes.post("/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    sessions.end(request)
    response = RedirectResponse("/console/login", status_code=303)
    sessions.write_cookie(request, response)
    return response


@routes.get("/account", response_class=HTMLResponse)
async def account(request: Request) -> Response:
    actor, _gate = await acting(request, "read", "use the console")
    return page(request, "console_account.html", {"actor": actor, "done": False, "error": None})


@routes.post("/account", response_class=HTMLResponse)
async def change_password(request: Request) -> Response:
    """Change one's own password: the current one first (a session left open on a shared
    desk must not be enough), then the new one twice. Every other session of this principal
    ends; this one carries on under a new session id."""
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "read", "use the console")
    current = str(form.get("current", ""))[:2048]
    new, again = str(form.get("new", ""))[:2048], str(form.get("again", ""))[:2048]
    try:
        await run_in_threadpool(passwords.verify_password, gate, actor.principal_id, current)
    except Unauthenticated:
        context = {"actor": actor, "done": False, "error": "current"}
        return page(request, "console_account.html", context, status=401)
    if new != again:
        raise InvalidInput("the new password and its repetition differ")
    set_at = await run_in_threadpool(
        passwords.set_password, gate, actor.principal_id, new, name=actor.name
    )
    sessions.start(request, "console", pid=actor.principal_id, pw=set_at.isoformat())
    return page(request, "console_account.html", {"actor": actor, "done": True, "error": None})
