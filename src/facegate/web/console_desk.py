"""Console: the consent desk. Print the notice and consent form (PDF, in either language),
record a signed form (its SHA-256 only: the file is hashed here and dropped), a guardian's
consent for a child, or a refusal (anonymous: refusing costs nothing); hand the person
their access code and receipt, with a QR code that opens their portal.

The receipt's QR code carries the code in the URL's fragment (``/portal#code=...``), which
browsers never send to a server (:mod:`facegate.web.qr`); it points at the configured
public address (``FACEGATE_API__PUBLIC_URL``) when there is one.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from facegate.actors import Actor
from facegate.api.errors import status_for
from facegate.errors import InvalidInput, PolicyDenied
from facegate.gate import Gate
from facegate.web import i18n, printing, qr, sessions, wizard
from facegate.web.guard import acting
from facegate.web.public import valid_id
from facegate.web.render import page
from facegate.web.routing import form_text, read_form, router, upload_bytes

routes = router(prefix="/console/desk")

#: the largest scanned form accepted (hashed, never kept)
MAX_FORM: Final = 20 * 1024 * 1024
METHODS: Final = (
    "signed_form",
    "written_release",
    "electronic_signature",
    "explicit_click",
    "recorded_verbal",
)


@routes.get("", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    actor, gate = await acting(request, "record_consent", "record consents")
    deployments = [d for d in await run_in_threadpool(gate.list_deployments) if d.status == "live"]
    return page(request, "console_desk_index.html", {"actor": actor, "deployments": deployments})


async def _desk(
    request: Request,
    actor: Actor,
    gate: Gate,
    deployment_id: str,
    *,
    raw: dict[str, str] | None = None,
    problem: dict[str, Any] | None = None,
    refused: str | None = None,
    status: int = 200,
) -> Response:
    dep = await run_in_threadpool(gate.get_deployment, valid_id(deployment_id))
    context = {
        "actor": actor,
        "dep": dep,
        "raw": raw or {},
        "problem": problem,
        "refused": refused,
        "methods": METHODS,
    }
    return page(request, "console_desk.html", context, status=status)


@routes.get("/{deployment_id}", response_class=HTMLResponse)
async def desk(request: Request, deployment_id: str) -> Response:
    actor, gate = await acting(request, "record_consent", "record consents")
    return await _desk(request, actor, gate, deployment_id)


@routes.get("/{deployment_id}/form.pdf")
async def form_pdf(request: Request, deployment_id: str) -> Response:
    """The notice in force and the consent form, to print and sign."""
    _actor, gate = await acting(request, "record_consent", "print consent forms")
    language = request.query_params.get("language") or i18n.negotiate(request)
    if language not in i18n.LANGUAGES:
        raise InvalidInput(f"forms are printed in {', '.join(i18n.LANGUAGES)}")
    dep_id = valid_id(deployment_id)
    html = await run_in_threadpool(printing.consent_form_html, gate, dep_id, language)
    data = await run_in_threadpool(printing.pdf, html)
    name = f"facegate-{dep_id}-consent-{language}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def _sha256_of(form: FormData, file_field: str, typed_field: str) -> str | None:
    """The SHA-256 of an uploaded file (the file itself is dropped here), or one typed in."""
    data = await upload_bytes(form, file_field, limit=MAX_FORM)
    if data is not None:
        return hashlib.sha256(data).hexdigest()
    typed = form_text(form, typed_field, max_len=64).lower()
    return typed or None


def terms_of(raw: dict[str, str], form_sha: str | None, guardian_sha: str | None) -> dict[str, Any]:
    """The consent's facts as the Gate takes them; nothing the person did not say is set."""
    terms: dict[str, Any] = {"method": raw.get("method", "")}
    if form_sha:
        terms["form_sha256"] = form_sha
    if raw.get("adult") == "attested":
        terms["adult_attested"] = True
    elif raw.get("age"):
        try:
            terms["age"] = int(raw["age"])
        except ValueError:
            raise InvalidInput(f"age: {raw['age']!r} is not a whole number") from None
    if raw.get("guardian"):
        terms["guardian"] = raw["guardian"]
    if guardian_sha:
        terms["guardian_form_sha256"] = guardian_sha
    if raw.get("notice_version"):
        terms["notice_version"] = int(raw["notice_version"])
    for separate in ("egress", "disclosure"):
        terms[separate] = raw.get(separate) == "yes"
    return terms


@routes.post("/{deployment_id}/consent", response_class=HTMLResponse)
async def record_consent(request: Request, deployment_id: str) -> Response:
    form = await read_form(request, max_files=2)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "record_consent", "record consents")
    fields = (
        "subject",
        "method",
        "adult",
        "age",
        "guardian",
        "notice_version",
        "egress",
        "disclosure",
        "form_sha256",
        "guardian_sha256",
    )
    raw = {name: form_text(form, name, max_len=200) for name in fields}
    try:
        form_sha = await _sha256_of(form, "form_file", "form_sha256")
        guardian_sha = await _sha256_of(form, "guardian_file", "guardian_sha256")
        if raw["notice_version"] and not raw["notice_version"].isdigit():
            raise InvalidInput("notice_version: a whole number")
        terms = terms_of(raw, form_sha, guardian_sha)
        receipt = await run_in_threadpool(
            lambda: gate.give_consent(valid_id(deployment_id), raw["subject"], **terms)
        )
    except (InvalidInput, PolicyDenied) as err:
        problem = wizard.problem_of(err)
        return await _desk(
            request, actor, gate, deployment_id, raw=raw, problem=problem, status=status_for(err)
        )
    url = qr.receipt_url(qr.public_base(request), receipt.access_code)
    _ = i18n.gettext_for(i18n.negotiate(request))
    context = {
        "actor": actor,
        "receipt": receipt,
        "subject": raw["subject"],
        "body": receipt.receipt.get("receipt", {}),
        "qr": qr.svg(url, title=_("QR code that opens the person's portal")),
    }
    return page(request, "console_receipt.html", context, status=201)


@routes.post("/{deployment_id}/refusal", response_class=HTMLResponse)
async def record_refusal(request: Request, deployment_id: str) -> Response:
    """Someone said no: recorded without anything about them; the alternative is theirs."""
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "record_consent", "record refusals")
    method = form_text(form, "how", max_len=40)
    event = await run_in_threadpool(
        lambda: gate.record_refusal(valid_id(deployment_id), method=method)
    )
    return await _desk(request, actor, gate, deployment_id, refused=event)
