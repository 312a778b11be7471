"""The operator console's door: sign-in, sign-out, and the signed-in principal.

Phase 1 holds what every console page will stand on: a principal signs in with the name of
their operator, their own name and their password (:mod:`facegate.web.auth`); the session id
changes at that moment; every console page asks :func:`actor` who is acting, and every POST
passes :func:`facegate.web.sessions.check_post`. The console's pages (deployments, consent
desk, enrollment, review, requests, ledger, reports, principals) build on this.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from facegate.actors import Actor
from facegate.errors import ConfigError, Unauthenticated
from facegate.web import auth, sessions
from facegate.web.render import page
from facegate.web.routing import form_text, gate_of, read_form, router

routes = router(prefix="/console")


def principals(request: Request) -> auth.Principals:
    found: auth.Principals = request.app.state.web_principals
    return found


def actor(request: Request) -> Actor | None:
    """The principal the request's console session acts for, if it is still valid."""
    session = sessions.current(request)
    if session is None or session.kind != "console":
        return None
    return auth.still_valid(
        gate_of(request), principals(request), session.data["pid"], session.data["pw"]
    )


@routes.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    who = await run_in_threadpool(actor, request)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    return page(request, "console_home.html", {"actor": who})


@routes.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return page(request, "console_login.html", {"error": None, "operator": "", "name": ""})


@routes.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    operator = form_text(form, "operator", max_len=200)
    name = form_text(form, "name", max_len=200)
    password = str(form.get("password", ""))[:2048]
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
    except (Unauthenticated, ConfigError) as err:
        # ConfigError: no principals in this installation yet; say so on the form (503)
        context = {"error": err.message, "operator": operator, "name": name}
        status = 401 if isinstance(err, Unauthenticated) else 503
        return page(request, "console_login.html", context, status=status)
    sessions.start(
        request,
        "console",
        pid=signed.actor.principal_id,
        pw=signed.password_set_at.isoformat(),
    )
    response = RedirectResponse("/console", status_code=303)
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
