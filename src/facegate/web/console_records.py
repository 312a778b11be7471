"""Console: the ledger and the reports.

The ledger page shows the latest signed checkpoint, each witness with the newest size it
cosigned and how long ago (a witness that falls behind is what a regulator notices first),
the regulator's orders, and verifies the whole log on request; it exports a deployment's
evidence bundle. Reports (the PIA / DPIA, the GDPR Art. 30 record, the CN-FR-15 filing)
are shown as pages and downloaded as PDF or HTML; a download *issues* the report, which
records its digest in the ledger so its date is provable (CN-FR-9).
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from facegate.errors import InvalidInput, LedgerError
from facegate.gate import Gate
from facegate.gate_console import DEPLOYMENT_REPORTS
from facegate.web import sessions
from facegate.web.guard import acting
from facegate.web.public import valid_id
from facegate.web.render import page
from facegate.web.routing import form_text, read_form, router

routes = router(prefix="/console")
KINDS: Final = (*DEPLOYMENT_REPORTS, "filing")


def _ledger(gate: Gate) -> dict[str, Any]:
    try:
        note = gate.checkpoint()
    except LedgerError:
        note = ""
    lines = note.splitlines()
    size = int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0
    now = gate.core.clock()
    states = gate.witness_states()
    witnesses: list[dict[str, Any]] = [
        {
            "w": w,
            "behind": size - (w.cosigned_size or 0),
            "ago": (now - w.cosigned_at) if w.cosigned_at else None,
        }
        for w in states
    ]
    cosigned = max((w.cosigned_size or 0 for w in states), default=0)
    return {
        "note": note,
        "size": size,
        "key": gate.ledger_key(),
        "witnesses": witnesses,
        "cosigned_note": gate.checkpoint_at(cosigned) if cosigned else "",
        "orders": gate.regulator_orders(),
        "deployments": gate.list_deployments(),
    }


async def _ledger_page(request: Request, report: Any = None) -> Response:
    actor, gate = await acting(request, "read", "read the ledger")
    context = {"actor": actor, "report": report, **await run_in_threadpool(_ledger, gate)}
    return page(request, "console_ledger.html", context)


@routes.get("/ledger", response_class=HTMLResponse)
async def ledger(request: Request) -> Response:
    return await _ledger_page(request)


@routes.post("/ledger/verify", response_class=HTMLResponse)
async def verify(request: Request) -> Response:
    """Recompute every leaf, the tree and every signed head (a POST: it reads everything)."""
    form = await read_form(request)
    sessions.check_post(request, form)
    _actor, gate = await acting(request, "read", "verify the ledger")
    report = await run_in_threadpool(gate.verify_ledger)
    return await _ledger_page(request, report)


@routes.get("/ledger/evidence")
async def evidence(request: Request) -> Response:
    """A deployment's evidence bundle (every event about it, with proofs), to keep or give
    to a court; verifiable offline with ``facegate evidence verify``."""
    _actor, gate = await acting(request, "read", "export evidence")
    dep_id = valid_id(request.query_params.get("deployment", ""))
    bundle = await run_in_threadpool(lambda: gate.export_evidence(deployment_id=dep_id))
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1).encode(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="facegate-evidence-{dep_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@routes.get("/reports", response_class=HTMLResponse)
async def reports(request: Request) -> Response:
    actor, gate = await acting(request, "read", "read reports")
    deployments = await run_in_threadpool(gate.list_deployments)
    filing = await run_in_threadpool(gate.filing_state)
    context = {"actor": actor, "deployments": deployments, "filing": filing}
    return page(request, "console_reports.html", context)


def _target(kind: str, deployment_id: str | None) -> str | None:
    if kind not in KINDS:
        raise InvalidInput(f"no report {kind!r}", advice="pia, art30 or filing")
    return None if kind == "filing" else valid_id(deployment_id or "")


@routes.get("/reports/{kind}", response_class=HTMLResponse)
async def report(request: Request, kind: str) -> Response:
    """A preview as a page: nothing is recorded until it is issued (downloaded)."""
    actor, gate = await acting(request, "read", "read reports")
    dep_id = _target(kind, request.query_params.get("deployment"))
    built = await run_in_threadpool(lambda: gate.report(kind, dep_id, issue=False))
    context = {"actor": actor, "report": built, "kind": kind, "deployment": dep_id or ""}
    return page(request, "console_report.html", context)


@routes.post("/reports/{kind}")
async def issue(request: Request, kind: str) -> Response:
    """Issue the report (its digest ledgered, for a PIA or an Art. 30 record) and download
    it as PDF or HTML."""
    from facegate.reports.render import render_html, render_pdf

    form = await read_form(request)
    sessions.check_post(request, form)
    _actor, gate = await acting(request, "read", "issue reports")
    dep_id = _target(kind, form_text(form, "deployment", max_len=40))
    fmt = form_text(form, "format", max_len=4)
    if fmt not in ("pdf", "html"):
        raise InvalidInput("download as pdf or html")
    built = await run_in_threadpool(lambda: gate.report(kind, dep_id, issue=True))
    if fmt == "pdf":
        data = await run_in_threadpool(render_pdf, built)
        media = "application/pdf"
    else:
        data = render_html(built).encode()
        media = "text/html; charset=utf-8"
    name = f"facegate-{kind}-{dep_id or gate.actor.operator_id}.{fmt}"
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
