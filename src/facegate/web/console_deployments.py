"""Console: deployments. Register one with the wizard (:mod:`facegate.web.wizard`), read it,
have the DPO sign its impact assessment (the sign form is shown to the ``dpo`` role only,
and the Gate refuses anyone else), change it (a draft again until signed again) and end it.

A refusal is shown on the form the person filled in: the rule, the article it rests on and
what would make the deployment lawful (the refusal's advice), with their answers kept.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from facegate.actors import Actor
from facegate.api.errors import status_for
from facegate.errors import InvalidInput, PolicyDenied
from facegate.flows.registry import CHANGEABLE_FIELDS
from facegate.gate import Gate
from facegate.specs import DeploymentSpec
from facegate.web import i18n, sessions, wizard
from facegate.web.guard import acting
from facegate.web.public import valid_id
from facegate.web.render import page
from facegate.web.routing import form_text, read_form, router

routes = router(prefix="/console/deployments")


def _wizard(
    request: Request,
    actor: Actor,
    raw: dict[str, Any],
    *,
    change: str | None = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    language = i18n.negotiate(request)
    steps = [
        (
            step,
            [
                (q, wizard.choices(q, language))
                for q in step.questions
                if change is None
                or q.name in CHANGEABLE_FIELDS
                or q.name in ("authority", "instrument", "area")
            ],
        )
        for step in wizard.STEPS
        if change is None or step.id not in ("pia",)
    ]
    context = {
        "actor": actor,
        "steps": [s for s in steps if s[1]],
        "raw": raw,
        "change": change,
        "problem": problem,
        "laws": wizard.LAWS,
        "codes": wizard.CODES,
    }
    return page(request, "console_wizard.html", context, status=status)


@routes.get("", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    actor, gate = await acting(request, "read", "read deployments")
    deployments = await run_in_threadpool(gate.list_deployments)
    return page(request, "console_deployments.html", {"actor": actor, "deployments": deployments})


@routes.get("/new", response_class=HTMLResponse)
async def new(request: Request) -> Response:
    actor, _gate = await acting(request, "manage_deployments", "register deployments")
    return _wizard(request, actor, {"egress": "no", "scope": "application", "liveness": "no"})


@routes.post("/new", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "manage_deployments", "register deployments")
    raw = wizard.answers(form)
    try:
        info = await run_in_threadpool(lambda: gate.create_deployment(**wizard.spec_fields(raw)))
    except (InvalidInput, PolicyDenied) as err:
        return _wizard(request, actor, raw, problem=wizard.problem_of(err), status=status_for(err))
    return await _detail(request, actor, gate, info.id, notes=info.notes, status=201)


async def _detail(
    request: Request,
    actor: Actor,
    gate: Gate,
    deployment_id: str,
    *,
    notes: tuple[str, ...] = (),
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    dep = await run_in_threadpool(gate.get_deployment, valid_id(deployment_id))
    pia = await run_in_threadpool(gate.pia, dep.id)
    context = {
        "actor": actor,
        "dep": dep,
        "pia": pia,
        "notes": notes,
        "problem": problem,
        "answer_names": wizard.PIA,
        "request_signed": request.query_params.get("signed") == "1",
    }
    return page(request, "console_deployment.html", context, status=status)


@routes.get("/{deployment_id}", response_class=HTMLResponse)
async def detail(request: Request, deployment_id: str) -> Response:
    actor, gate = await acting(request, "read", "read deployments")
    return await _detail(request, actor, gate, deployment_id)


@routes.post("/{deployment_id}/sign", response_class=HTMLResponse)
async def sign(request: Request, deployment_id: str) -> Response:
    """The DPO signs: their necessity statement and the assessment's answers, as written on
    the form (shown to them filled with what was drafted, for them to revise)."""
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "sign_pia", "sign impact assessments")
    necessity = form_text(form, "necessity")
    answers = {name: form_text(form, name) for name in wizard.PIA}
    try:
        await run_in_threadpool(
            lambda: gate.sign_pia(valid_id(deployment_id), necessity=necessity, answers=answers)
        )
    except (InvalidInput, PolicyDenied) as err:
        return await _detail(
            request,
            actor,
            gate,
            deployment_id,
            problem=wizard.problem_of(err),
            status=status_for(err),
        )
    return RedirectResponse(f"/console/deployments/{deployment_id}?signed=1", status_code=303)


def _as_answers(spec: DeploymentSpec) -> dict[str, Any]:
    """A stored spec as the wizard's answers (to fill the change form)."""
    raw: dict[str, Any] = {}
    for name in wizard.QUESTIONS:
        value = getattr(spec, name, None)
        if isinstance(value, bool):
            raw[name] = "yes" if value else "no"
        elif value is None:
            raw[name] = ""
        elif hasattr(value, "strftime"):
            raw[name] = value.strftime("%Y-%m-%d")
        elif isinstance(value, list):
            raw[name] = value
        else:
            raw[name] = str(value)
    law, *codes = spec.jurisdiction.split("+")
    raw.update(law=law, codes=codes)
    if spec.public_security is not None:
        raw.update(spec.public_security.model_dump())
    return raw


@routes.get("/{deployment_id}/change", response_class=HTMLResponse)
async def change_form(request: Request, deployment_id: str) -> Response:
    actor, gate = await acting(request, "manage_deployments", "change deployments")
    spec = await run_in_threadpool(gate.deployment_spec, valid_id(deployment_id))
    return _wizard(request, actor, _as_answers(spec), change=deployment_id)


@routes.post("/{deployment_id}/change", response_class=HTMLResponse)
async def change(request: Request, deployment_id: str) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "manage_deployments", "change deployments")
    raw = wizard.answers(form)
    changes = wizard.spec_fields(raw, only=CHANGEABLE_FIELDS)
    try:
        info = await run_in_threadpool(
            lambda: gate.change_deployment(valid_id(deployment_id), **changes)
        )
    except (InvalidInput, PolicyDenied) as err:
        return _wizard(
            request,
            actor,
            raw,
            change=deployment_id,
            problem=wizard.problem_of(err),
            status=status_for(err),
        )
    return await _detail(request, actor, gate, info.id, notes=info.notes)


@routes.post("/{deployment_id}/end", response_class=HTMLResponse)
async def end(request: Request, deployment_id: str) -> Response:
    """End for good: everyone in it is erased, each with a receipt."""
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "manage_deployments", "end deployments")
    if form.get("confirm") != "yes":
        raise InvalidInput("tick the box to confirm: ending erases everyone and cannot be undone")
    reason = form_text(form, "reason", max_len=500)
    receipt = await run_in_threadpool(
        lambda: gate.end_deployment(valid_id(deployment_id), reason=reason)
    )
    return page(request, "console_ended.html", {"actor": actor, "receipt": receipt})
