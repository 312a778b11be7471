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
    url = qr.deployment_url(str(request.base_url), dep.id)
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
    url = qr.deployment_url(str(request.base_url), dep.id)
    return Response(
        qr.svg_document(url, title=f"{dep.name}: {url}"),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="facegate-{dep.id}-qr.svg"'},
    )


@routes.get("/regulator", response_class=HTMLResponse)
async def regulator(request: Request) -> Response:
    """The regulator console's first page: its layout, and charts of this operator's own
    ledger until the regulator node serves its risk view."""
    state = request.app.state
    if getattr(state, "web_figures", None) is None:
        state.web_figures = LedgerFigures(gate_of(request))
    figures = await run_in_threadpool(state.web_figures.figures)
    language = i18n.negotiate(request)
    _ = i18n.gettext_for(language)
    days = [i18n.when(d.isoformat(), language, date_only=True) for d in figures.days]
    short = [d.strftime("%m-%d") for d in figures.days]
    return page(
        request,
        "regulator.html",
        {
            "figures": figures,
            "days": days,
            "events_chart": charts.bars(
                "events",
                _("Ledger events per day"),
                _("Events written to the ledger on each of the last %(n)d days.", n=len(short)),
                list(zip(short, figures.events_per_day, strict=True)),
            ),
            "consents_chart": charts.bars(
                "consents",
                _("Consents and withdrawals per day"),
                _("Solid bars: consents given; outlined bars: consents withdrawn."),
                list(zip(short, figures.consents_per_day, strict=True)),
                second=figures.withdrawals_per_day,
            ),
            "refusals_chart": charts.hbars(
                "refusals",
                _("Refusals by rule"),
                _("How often each legal rule refused a request, most frequent first."),
                list(figures.refusals_by_rule),
            ),
        },
    )
