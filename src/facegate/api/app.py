"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from facegate import __version__
from facegate.api import errors
from facegate.api.limits import BodyLimit, keep_uploads_in_memory
from facegate.api.routes import ledger, operator
from facegate.config import Settings
from facegate.gate import Gate


def create_app(gate: Gate | None = None, *, settings: Settings | None = None) -> FastAPI:
    """An app serving ``gate`` (opened from ``settings`` if not given)."""
    owned = gate is None
    the_gate = gate if gate is not None else Gate.open(settings=settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            the_gate.close()

    app = FastAPI(
        title="facegate",
        version=__version__,
        description="Face recognition that is lawful by construction.",
        lifespan=lifespan,
    )
    app.state.gate = the_gate
    max_bytes = the_gate.settings.recognition.max_bytes
    keep_uploads_in_memory(max_bytes)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    errors.install(app)
    app.include_router(operator.router)
    app.include_router(ledger.router)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
