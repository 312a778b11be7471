"""The FastAPI app factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from facegate import __version__, web
from facegate.api import errors, metrics
from facegate.api.limits import BodyLimit, keep_uploads_in_memory
from facegate.api.metrics import Metrics
from facegate.api.observe import Observe
from facegate.api.ratelimit import trust_proxies
from facegate.api.routes import (
    encrypted,
    ledger,
    operator,
    principals,
    public,
    recognition,
    subject,
    tiles,
    witness,
)
from facegate.api.routes.transfers import router as transfers_router
from facegate.api.single import single_valued
from facegate.api.validation import EdgeGuard
from facegate.compat import compreface_router
from facegate.config import Settings, load_settings
from facegate.gate import Gate
from facegate.regulator import link_service
from facegate.sync.serve import follow


def create_app(gate: Gate | None = None, *, settings: Settings | None = None) -> FastAPI:
    """An app serving ``gate`` (opened from ``settings`` if not given)."""
    owned = gate is None
    the_gate = gate if gate is not None else Gate.open(settings=settings or load_settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(_start_checks, the_gate)
        sweeper = asyncio.create_task(_sweep_periodically(the_gate))
        checker = asyncio.create_task(_self_check_daily(the_gate))
        link_service.follow(sweeper, the_gate)  # witness pushes, orders (regulator)
        changes = follow(the_gate)  # other workers' and hosts' changes (facegate.sync)
        try:
            yield
        finally:
            changes.stop()
            sweeper.cancel()
            checker.cancel()
            if owned:
                the_gate.close()

    app = FastAPI(
        title="facegate",
        version=__version__,
        description="Face recognition that is lawful by construction.",
        lifespan=lifespan,
    )
    app.state.gate = the_gate
    app.state.subject_limiter = subject.limiter(the_gate.settings.api)
    max_bytes = the_gate.settings.recognition.max_bytes
    keep_uploads_in_memory(max_bytes)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    app.add_middleware(EdgeGuard)  # control characters in the path or query: 400
    app.state.metrics = Metrics(the_gate)
    app.add_middleware(Observe, metrics=app.state.metrics)  # request id, log line, metrics
    trust_proxies(app, the_gate.settings.api.trusted_proxies)  # outermost: the real client
    errors.install(app)
    one_each = [Depends(single_valued)]  # a field sent twice is refused (api/single.py)
    for router, documented_errors in (
        (operator.router, ()),
        (operator.ops, ()),
        (encrypted.router, ()),  # threshold encrypted enroll / verify (issue 16)
        (recognition.router, ()),  # detect, compare, liveness challenges, flags
        (compreface_router, ()),  # CompreFace's REST API: /api/v1 (docs/compreface.md)
        (principals.router, ()),
        (public.router, ()),
        (subject.router, (401, 404, 409, 429, 503)),
        (ledger.router, (401, 403, 404, 503)),
        (witness.router, (403, 404, 409, 503)),
        (metrics.router, ()),
        (tiles.router, ()),  # the ledger as C2SP tlog-tiles: /checkpoint, /tile/...
        (transfers_router, ()),  # recipients, share, export, trace, alerts
    ):
        responses = errors.documented(*documented_errors) if documented_errors else None
        app.include_router(router, dependencies=one_each, responses=responses)
    web.mount(app)  # the pages for people: /, /d/{id}, /portal, /console, /regulator, /docs

    @app.get("/healthz", tags=["meta"], responses=errors.documented())
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def _start_checks(gate: Gate) -> None:
    """Before serving: destroy keys left by an interrupted erasure (ledgered), then measure
    every security control (CN-FR-14); a failing check stops processing, not the service."""
    log = logging.getLogger("facegate.start")
    swept = gate.sweep_orphan_keys()
    if swept:
        log.warning("destroyed %d data keys left by interrupted erasures", swept)
    report = gate.self_check(watching_intrusions=True)
    if not report.ok:
        log.error("self-check failed, processing is refused until fixed: %s", report.problems)


async def _self_check_daily(gate: Gate) -> None:
    log = logging.getLogger("facegate.selfcheck")
    while True:
        await asyncio.sleep(24 * 3600)
        try:
            report = await asyncio.to_thread(gate.self_check, watching_intrusions=True)
            if not report.ok:
                log.error("self-check failed: %s", report.problems)
        except Exception:  # a failed check run must not stop the service; it retries tomorrow
            log.exception("self-check could not run")


async def _sweep_periodically(gate: Gate) -> None:
    """The retention sweeper, inside the service (CN-PIPL-19): at start, then every period."""
    period = gate.settings.retention_sweep_minutes * 60
    log = logging.getLogger("facegate.retention")
    while True:
        try:
            report = await asyncio.to_thread(gate.sweep_retention)
            if report.templates_expired or report.subjects_erased:
                log.info("retention sweep: %s", report.to_dict())
            # keys left by an erasure interrupted less than ORPHAN_AFTER before the start
            swept = await asyncio.to_thread(gate.sweep_orphan_keys)
            if swept:
                log.warning("destroyed %d data keys left by interrupted erasures", swept)
        except Exception:  # a failed sweep must not stop the service; it retries next period
            log.exception("retention sweep failed")
        await asyncio.sleep(period)
