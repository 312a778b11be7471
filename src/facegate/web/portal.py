"""The person's portal: with the access code from their consent receipt, a person sees what
is held about them, where and until when; downloads and checks their evidence bundle;
complains and follows the answer; withdraws or has everything erased.

The code is typed (or filled in from the receipt's QR code, see :mod:`facegate.web.qr`) into
a POST form, and then kept only in the short-lived sealed session cookie, never in a URL.
Every use of it counts against the same per-address limit as the subject API. Built on the
Gate's subject methods: ``subject_view``, ``subject_withdraw``, ``subject_erase``,
``subject_complaint`` and ``export_evidence(access_code=...)``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from facegate.errors import FacegateError, InvalidInput, Unauthenticated
from facegate.ledger.evidence_verify import verify_bundle
from facegate.web import public, sessions
from facegate.web.render import is_htmx, page
from facegate.web.routing import form_text, gate_of, limit, read_form, router

routes = router(prefix="/portal")

#: the largest evidence bundle the page checks (a person's bundle is a few hundred KiB)
MAX_BUNDLE: Final = 8 * 1024 * 1024


def _signed_in(request: Request) -> sessions.Session | None:
    session = sessions.current(request)
    return session if session is not None and session.kind == "portal" else None


def _code(request: Request) -> str:
    session = _signed_in(request)
    if session is None:
        raise Unauthenticated(
            "you are not signed in to the portal, or your 15 minutes are over",
            advice="Open the portal again with the access code on your consent receipt.",
        )
    return session.data["code"]


@routes.get("", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    if _signed_in(request) is not None:
        return RedirectResponse("/portal/me", status_code=303)
    return page(request, "portal_open.html", {"error": None})


async def _me(request: Request, view: dict[str, Any], code: str) -> Response:
    gate = gate_of(request)
    requests = await run_in_threadpool(public.subject_requests, gate, code)
    return page(request, "portal_me.html", {"view": view, "requests": requests})


@routes.post("/open", response_class=HTMLResponse)
async def open_portal(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    code = form_text(form, "code", max_len=64).upper()
    limit(request, code or None)
    if not code:
        return page(request, "portal_open.html", {"error": "empty"}, status=400)
    try:
        view = await run_in_threadpool(gate_of(request).subject_view, code)
    except Unauthenticated:
        return page(request, "portal_open.html", {"error": "invalid"}, status=401)
    sessions.start(request, "portal", code=code, pseudonym=str(view["pseudonym"]))
    return await _me(request, view, code)


@routes.get("/me", response_class=HTMLResponse)
async def me(request: Request) -> Response:
    if _signed_in(request) is None:
        return RedirectResponse("/portal", status_code=303)
    code = _code(request)
    limit(request, code)
    view = await run_in_threadpool(gate_of(request).subject_view, code)
    return await _me(request, view, code)


@routes.get("/evidence")
async def evidence(request: Request) -> Response:
    """The person's evidence bundle, as a file to keep (check it here or offline)."""
    code = _code(request)
    limit(request, code)
    bundle = await run_in_threadpool(lambda: gate_of(request).export_evidence(access_code=code))
    name = f"facegate-evidence-{_signed_in(request).data.get('pseudonym', 'me')}.json"  # type: ignore[union-attr]
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1).encode(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@routes.post("/verify", response_class=HTMLResponse)
async def verify(request: Request) -> Response:
    """Check an evidence bundle against this installation's ledger key: the same offline
    check a court runs (``facegate evidence verify``), shown on the page."""
    form = await read_form(request)
    sessions.check_post(request, form)
    upload = form.get("bundle")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose the evidence bundle file (.json) to check")
    data = await upload.read(MAX_BUNDLE + 1)
    if len(data) > MAX_BUNDLE:
        raise InvalidInput(f"an evidence bundle is at most {MAX_BUNDLE // 2**20} MiB")
    key = gate_of(request).ledger_key()
    try:
        verdict = await run_in_threadpool(verify_bundle, data, log_key=key)
        result: dict[str, Any] = {"ok": True, "verdict": verdict, "problem": None}
    except (FacegateError, ValueError, UnicodeDecodeError) as exc:
        message = exc.message if isinstance(exc, FacegateError) else str(exc)
        result = {"ok": False, "verdict": None, "problem": message}
    template = "portal_verified.html"
    return page(request, template, {"result": result, "key": key}, partial="_verified.html")


@routes.post("/complaints", response_class=HTMLResponse)
async def complain(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    code = _code(request)
    limit(request, code)
    text = form_text(form, "text")
    gate = gate_of(request)
    lodged = await run_in_threadpool(gate.subject_complaint, code, text)
    if not is_htmx(request):
        return RedirectResponse("/portal/me", status_code=303)
    requests = await run_in_threadpool(public.subject_requests, gate, code)
    return page(request, "_requests.html", {"requests": requests, "lodged": lodged})


async def _erase(request: Request, how: str) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    code = _code(request)
    if form.get("confirm") != "yes":
        raise InvalidInput(
            "tick the box to confirm: this cannot be undone",
            advice="Download your evidence bundle first if you may need it.",
        )
    limit(request, code)
    gate = gate_of(request)
    act = gate.subject_withdraw if how == "withdraw" else gate.subject_erase
    record, receipt = await run_in_threadpool(act, code)
    sessions.end(request)  # the code is void now; the session must not carry it on
    return page(request, "portal_done.html", {"how": how, "record": record, "receipt": receipt})


@routes.post("/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request) -> Response:
    return await _erase(request, "withdraw")


@routes.post("/erase", response_class=HTMLResponse)
async def erase(request: Request) -> Response:
    return await _erase(request, "erase")


@routes.post("/signout")
async def signout(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    sessions.end(request)
    response = RedirectResponse("/portal", status_code=303)
    sessions.write_cookie(request, response)
    return response
