"""Public pages: the landing page, each deployment's notice page (with its QR code for the
signs on site) and the regulator console's first page. No login: nothing here is about a
person; it is what the law says everyone may read.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from facegate.errors import LedgerError
from facegate.web import charts, i18n, public, qr
from facegate.web.render import page
from facegate.web.routing import gate_of, router
from facegate.web.stats import LedgerFigures

routes = router()


def _checkpoint(request: Request) -> tuple[str, str]:
    gate = gate_of(request)
    try:
        return gate.checkpoint(), gate.ledger_key()
    except LedgerError:
        return "", gate.ledger_key()


@routes.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> Response:
    gate = gate_of(request)
    deployments = await run_in_threadpool(public.public_deployments, gate)
    checkpoint, key = await run_in_threadpool(_checkpoint, request)
    processors = sorted({d.who(i18n.negotiate(request)) for d in deployments})
    return page(
        request,
        "landing.html",
        {
            "deployments": deployments,
            "processors": processors,
            "checkpoint": checkpoint,
            "ledger_key": key,
            "status_names": public.STATUS,
        },
    )


@routes.get("/d/{deployment_id}", response_class=HTMLResponse)
async def deployment_page(request: Request, deployment_id: str) -> Response:
    gate = gate_of(request)
    dep = await run_in_threadpool(public.public_deployment, gate, deployment_id)
    url = qr.deployment_url(qr.public_base(request), dep.id)
    language = i18n.negotiate(request)
    _ = i18n.gettext_for(language)
    ordered = sorted(dep.notices, key=lambda n: n.language != language)
    return page(
        request,
        "deployment.html",
        {
            "dep": dep,
            "notices": ordered,
            "url": url,
            "qr": qr.svg(url, title=_("QR code that opens this page")),
            "labels": public.FIELD_LABELS,
            "status_names": public.STATUS,
        },
    )


@routes.get("/d/{deployment_id}/qr.svg")
async def deployment_qr(request: Request, deployment_id: str) -> Response:
    """The QR code alone, to print on the signs on site."""
    gate = gate_of(request)
    dep = await run_in_threadpool(public.public_deployment, gate, deployment_id)
    url = qr.deployment_url(qr.public_base(request), dep.id)
    return Response(
        qr.svg_document(url, title=f"{dep.name}: {url}"),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="facegate-{dep.id}-qr.svg"'},
    )


@routes.get("/regulator", response_class=HTMLResponse)
async def regulator(request: Request) -> Response:
    """Public supervision figures of this operator's ledger, and where the regulator's own
    console is. Public on purpose: they are counts of ledger entries that anyone may already
    read (the tlog-tiles at ``/tile/entries/...`` serve every entry), naming no person and
    no deployment; what only officials may see (findings, filings, incidents, orders) is on
    the regulator node's console, behind its own login."""
    state = request.app.state
    if getattr(state, "web_figures", None) is None:
        state.web_figures = LedgerFigures(gate_of(request))
    figures = await run_in_threadpool(state.web_figures.figures)
    context = charts.supervision_charts(figures, i18n.negotiate(request))
    return page(request, "regulator.html", context)
