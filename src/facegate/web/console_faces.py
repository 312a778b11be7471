"""Console: enrollment, verification and identification, from an uploaded photo or this
device's camera (``/static/camera.js`` fills the same file field from a snapshot, so the
server sees one kind of request either way). The photo lives only in this request: the
Gate decodes it, protects the template and forgets the pixels.

Results are shown as people read them: the decision in words, the score beside the
threshold it was judged against, the model, and the ledger event that records it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from facegate.actors import Actor
from facegate.api.errors import status_for
from facegate.errors import FacegateError, InvalidInput, PolicyDenied
from facegate.gate import Gate
from facegate.policy.facts import SEARCHING
from facegate.web import sessions, wizard
from facegate.web.guard import acting
from facegate.web.public import valid_id
from facegate.web.render import page
from facegate.web.routing import form_text, read_form, router, upload_bytes

routes = router(prefix="/console/faces")
ACTS = ("enroll", "verify", "identify")


@routes.get("", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    actor, gate = await acting(request, "process_faces", "process faces")
    deployments = [d for d in await run_in_threadpool(gate.list_deployments) if d.status == "live"]
    return page(request, "console_faces_index.html", {"actor": actor, "deployments": deployments})


async def _page(
    request: Request,
    actor: Actor,
    gate: Gate,
    deployment_id: str,
    *,
    result: dict[str, Any] | None = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    dep = await run_in_threadpool(gate.get_deployment, valid_id(deployment_id))
    context = {
        "actor": actor,
        "dep": dep,
        "result": result,
        "problem": problem,
        "searches": bool(set(dep.capabilities) & SEARCHING),
    }
    return page(request, "console_faces.html", context, status=status)


@routes.get("/{deployment_id}", response_class=HTMLResponse)
async def faces(request: Request, deployment_id: str) -> Response:
    actor, gate = await acting(request, "process_faces", "process faces")
    return await _page(request, actor, gate, deployment_id)


def _run(gate: Gate, act: str, deployment_id: str, subject: str, image: bytes) -> dict[str, Any]:
    if act == "enroll":
        done: Any = gate.enroll(deployment_id, subject, image)
    elif act == "verify":
        done = gate.verify(deployment_id, subject, image)
    else:
        done, subject = gate.identify(deployment_id, image), ""
    return {"act": act, "subject": subject, **done.to_dict()}


@routes.post("/{deployment_id}/{act}", response_class=HTMLResponse)
async def process(request: Request, deployment_id: str, act: str) -> Response:
    if act not in ACTS:
        raise InvalidInput(f"no such act {act!r}", advice="enroll, verify or identify")
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "process_faces", "process faces")
    subject = form_text(form, "subject", max_len=200)
    try:
        image = await upload_bytes(form, "photo", limit=gate.settings.recognition.max_bytes)
        if image is None:
            raise InvalidInput("choose a photo, or take one with the camera")
        if act != "identify" and not subject:
            raise InvalidInput("say whose face this is: the reference used at the consent desk")
        result = await run_in_threadpool(_run, gate, act, valid_id(deployment_id), subject, image)
    except FacegateError as err:
        if not isinstance(err, InvalidInput | PolicyDenied):
            raise
        problem = wizard.problem_of(err)
        return await _page(
            request, actor, gate, deployment_id, problem=problem, status=status_for(err)
        )
    return await _page(request, actor, gate, deployment_id, result=result)
