"""Console: people's matters. The review queue, where two different reviewers confirm a
remote identification before anyone is named (EU-AI-14); and people's requests and
complaints, each with its legal deadline counting down, and the form to answer (or refuse,
with reasons and a legal ground: the Gate refuses an answer without them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from facegate.actors import Actor
from facegate.api.errors import status_for
from facegate.errors import InvalidInput, PolicyDenied
from facegate.gate import Gate
from facegate.web import sessions, wizard
from facegate.web.guard import acting
from facegate.web.render import page
from facegate.web.routing import form_text, read_form, router

routes = router(prefix="/console")


def _ids(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _queue(gate: Gate) -> list[dict[str, Any]]:
    names = {p.id: p.name for p in gate.list_principals()}
    deployments = {d.id: d.name for d in gate.list_deployments()}
    return [
        {
            **item,
            "deployment": deployments.get(str(item["deployment_id"]), ""),
            "reviewer_names": [names.get(str(r), str(r)) for r in _ids(item["reviewers"])],
        }
        for item in gate.pending_reviews()
    ]


async def _review_page(
    request: Request,
    actor: Actor,
    gate: Gate,
    *,
    done: Any = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    queue = await run_in_threadpool(_queue, gate)
    context = {"actor": actor, "queue": queue, "done": done, "problem": problem}
    return page(
        request, "console_review.html", context, status=status, partial="_review_queue.html"
    )


@routes.get("/review", response_class=HTMLResponse)
async def review(request: Request) -> Response:
    actor, gate = await acting(request, "read", "see the review queue")
    return await _review_page(request, actor, gate)


@routes.post("/review/{identification_id}", response_class=HTMLResponse)
async def decide(request: Request, identification_id: str) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "review", "review matches (reviewers only)")
    verdict = form_text(form, "decision", max_len=10)
    if verdict not in ("confirm", "reject"):
        raise InvalidInput("confirm or reject the match")
    try:
        done = await run_in_threadpool(
            lambda: gate.review_identification(identification_id[:40], confirm=verdict == "confirm")
        )
    except (InvalidInput, PolicyDenied) as err:
        problem = wizard.problem_of(err)
        return await _review_page(request, actor, gate, problem=problem, status=status_for(err))
    return await _review_page(request, actor, gate, done=done)


def _open(gate: Gate) -> list[dict[str, Any]]:
    now = gate.core.clock()
    deployments = {d.id: d.name for d in gate.list_deployments()}
    out = []
    for r in gate.open_requests():
        due = datetime.fromisoformat(str(r["due_at"]))
        out.append(
            {
                **r,
                "due": due,
                "late": due < now,
                "left": due - now,
                "deployment": deployments.get(str(r["deployment_id"]), ""),
            }
        )
    return out


async def _requests_page(
    request: Request,
    actor: Actor,
    gate: Gate,
    *,
    answered: Any = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    items = await run_in_threadpool(_open, gate)
    context = {"actor": actor, "items": items, "answered": answered, "problem": problem}
    return page(request, "console_requests.html", context, status=status)


@routes.get("/requests", response_class=HTMLResponse)
async def requests(request: Request) -> Response:
    actor, gate = await acting(request, "read", "read people's requests")
    return await _requests_page(request, actor, gate)


@routes.post("/requests/{request_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, request_id: str) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    actor, gate = await acting(request, "answer_requests", "answer people's requests")
    reason = form_text(form, "reason")
    refuse = form.get("refuse") == "yes"
    exemption = form_text(form, "exemption", max_len=500)
    try:
        done = await run_in_threadpool(
            lambda: gate.answer_request(
                request_id[:40], reason=reason, refuse=refuse, exemption=exemption
            )
        )
    except (InvalidInput, PolicyDenied) as err:
        problem = wizard.problem_of(err)
        return await _requests_page(request, actor, gate, problem=problem, status=status_for(err))
    return await _requests_page(request, actor, gate, answered=done)
