"""The regulator's HTTP service (``facegate regulator serve``).

* ``POST /add-checkpoint`` at the root: c2sp.org/tlog-witness, byte for byte.
* ``GET /v1/keys``, ``POST /v1/register``: public (a registration is signed by its log key).
* Link routes, signed with the operator's ledger key (:mod:`.protocol`): ``POST
  /v1/mirror/entries``, ``GET /v1/orders?after=N``, ``POST /v1/inbox/{filing|incident|
  order_ack}``, ``GET /v1/status``.
* Official routes (``Authorization: Bearer <admin token>``): ``GET /v1/logs``, ``POST
  /v1/logs/approve``, ``POST /v1/logs/state``, ``POST /v1/orders``, ``GET /v1/findings``,
  ``GET /v1/risk``, ``POST /v1/sweep``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from facegate import __version__
from facegate.api.errors import install as install_errors
from facegate.api.limits import BodyLimit
from facegate.errors import InvalidInput
from facegate.regulator import web as console
from facegate.regulator.common import WitnessRefused
from facegate.regulator.node import Regulator
from facegate.regulator.protocol import AUTH_HEADER, ORIGIN_HEADER, SIZE_CONTENT_TYPE

__all__ = ["create_regulator_app"]

MAX_BODY = 8 * 1024 * 1024
_bearer = HTTPBearer(auto_error=False)
_log = logging.getLogger("facegate.regulator")


def create_regulator_app(reg: Regulator, *, sweep_seconds: float = 60.0) -> FastAPI:
    """An app serving ``reg``; the monitor's clock rules run every ``sweep_seconds``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_periodically(reg, sweep_seconds))
        try:
            yield
        finally:
            sweeper.cancel()

    app = FastAPI(title="facegate regulator", version=__version__, lifespan=lifespan)
    app.state.regulator = reg
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    install_errors(app)

    @app.exception_handler(WitnessRefused)
    async def _refused(_req: Request, err: WitnessRefused) -> Response:
        if err.status == 409 and err.size is not None:
            # Set as a header, not media_type: Starlette would append "; charset=utf-8", and
            # the specification fixes the content type exactly.
            return Response(
                f"{err.size}\n".encode(),
                status_code=409,
                headers={"Content-Type": SIZE_CONTENT_TYPE},
            )
        return PlainTextResponse(err.message + "\n", status_code=err.status)

    _witness_routes(app, reg)
    _link_routes(app, reg)
    _official_routes(app, reg)
    console.mount(app, reg)  # the officials' pages: /console (facegate.regulator.web)
    return app


async def _sweep_periodically(reg: Regulator, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(reg.sweep)
        except Exception:  # a failed sweep must not stop the witness; it runs again
            _log.exception("monitor sweep failed")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise InvalidInput("the request body is not JSON") from None


def _witness_routes(app: FastAPI, reg: Regulator) -> None:
    @app.post("/add-checkpoint", response_class=PlainTextResponse, tags=["witness"])
    async def add_checkpoint(request: Request) -> PlainTextResponse:
        """c2sp.org/tlog-witness: the old size, a consistency proof, the checkpoint."""
        body = await request.body()
        cosigned = await run_in_threadpool(reg.add_checkpoint, body)
        return PlainTextResponse(cosigned.lines)

    @app.get("/v1/keys", tags=["witness"])
    def keys() -> dict[str, str]:
        return {"witness_key": reg.witness_key, "authority_key": reg.authority_key}

    @app.post("/v1/register", status_code=202, tags=["registry"])
    async def register(request: Request) -> dict[str, Any]:
        """A registration request signed with the log's own key; it waits for approval."""
        info = await run_in_threadpool(reg.register, await _json(request))
        return {
            **info.to_dict(),
            "witness_key": reg.witness_key,
            "authority_key": reg.authority_key,
        }

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}


async def _link(request: Request, reg: Regulator) -> tuple[str, bytes]:
    """The origin of a signed link request, and its body."""
    body = await request.body()
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    origin = await run_in_threadpool(
        reg.check_link,
        request.headers.get(ORIGIN_HEADER),
        request.headers.get(AUTH_HEADER),
        request.method,
        path,
        body,
    )
    return origin, body


def _link_routes(app: FastAPI, reg: Regulator) -> None:
    @app.post("/v1/mirror/entries", tags=["link"])
    async def mirror_entries(request: Request) -> dict[str, Any]:
        origin, body = await _link(request, reg)
        try:
            doc = json.loads(body)
        except ValueError:
            raise InvalidInput("the request body is not JSON") from None
        staged = await run_in_threadpool(reg.stage_encoded, origin, doc)
        return {
            "start": staged.start,
            "staged": staged.staged,
            "already_verified": staged.already_verified,
        }

    @app.get("/v1/orders", tags=["link"])
    async def orders(request: Request, after: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        origin, _ = await _link(request, reg)
        found = await run_in_threadpool(reg.orders_after, origin, after)
        return {"origin": origin, "orders": found}

    @app.post("/v1/inbox/{what}", tags=["link"])
    async def inbox(what: str, request: Request) -> dict[str, Any]:
        origin, body = await _link(request, reg)
        try:
            doc = json.loads(body)
            ref, document = str(doc["ref"]), doc["document"]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("post {ref: ID, document: {...}}") from None
        if not isinstance(document, dict):
            raise InvalidInput("the document is a JSON object")
        receipt = await run_in_threadpool(
            lambda: reg.receive(origin, what=what, ref=ref, document=document)
        )
        return receipt.to_dict()

    @app.get("/v1/status", tags=["link"])
    async def status(request: Request) -> dict[str, Any]:
        origin, _ = await _link(request, reg)
        return (await run_in_threadpool(reg.log, origin)).to_dict()


def _official_routes(app: FastAPI, reg: Regulator) -> None:
    def official(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        reg.check_admin(creds.credentials if creds else None)

    auth = [Depends(official)]

    @app.get("/v1/logs", dependencies=auth, tags=["official"])
    def logs() -> list[dict[str, Any]]:
        return [log.to_dict() for log in reg.logs()]

    @app.post("/v1/logs/approve", dependencies=auth, tags=["official"])
    async def approve(request: Request) -> dict[str, Any]:
        doc = await _json(request)
        if not isinstance(doc, dict) or not isinstance(doc.get("origin"), str):
            raise InvalidInput("post {origin, vkey?, push_interval_s?, filing_threshold?}")
        info = await run_in_threadpool(
            lambda: reg.approve(
                doc["origin"],
                vkey=doc.get("vkey"),
                push_interval_s=_opt_int(doc, "push_interval_s"),
                filing_threshold=_opt_int(doc, "filing_threshold"),
            )
        )
        return info.to_dict()

    @app.post("/v1/logs/state", dependencies=auth, tags=["official"])
    async def set_state(request: Request) -> dict[str, Any]:
        doc = await _json(request)
        if not isinstance(doc, dict) or not all(
            isinstance(doc.get(k), str) for k in ("origin", "state")
        ):
            raise InvalidInput("post {origin, state}")
        info = await run_in_threadpool(reg.set_state, doc["origin"], doc["state"])
        return info.to_dict()

    @app.post("/v1/orders", dependencies=auth, tags=["official"])
    async def issue(request: Request) -> dict[str, Any]:
        doc = await _json(request)
        if not isinstance(doc, dict):
            raise InvalidInput("post {origin, kind, reason, deployment?, due?}")
        try:
            due = datetime.fromisoformat(doc["due"]) if doc.get("due") else None
            args = (str(doc["origin"]), str(doc["kind"]), str(doc["reason"]))
        except (KeyError, ValueError, TypeError):
            raise InvalidInput(
                "post {origin, kind, reason, deployment?, due (ISO 8601)?}"
            ) from None
        dep = doc.get("deployment")
        return await run_in_threadpool(
            lambda: reg.issue_order(
                args[0],
                kind=args[1],
                reason=args[2],
                deployment_id=str(dep) if dep else None,
                due_at=due,
            )
        )

    @app.get("/v1/findings", dependencies=auth, tags=["official"])
    def findings(
        origin: str, open_only: Annotated[bool, Query(alias="open")] = False
    ) -> list[dict[str, Any]]:
        return [f.to_dict() for f in reg.findings(origin, open_only=open_only)]

    @app.get("/v1/inbox", dependencies=auth, tags=["official"])
    def inbox_list(origin: str) -> list[dict[str, Any]]:
        """What one log delivered (filings, incident notifications, acknowledgements)."""
        return reg.inbox(origin)

    @app.get("/v1/risk", dependencies=auth, tags=["official"])
    def risk(origin: str | None = None) -> list[dict[str, Any]]:
        return reg.risk(origin)

    @app.post("/v1/sweep", dependencies=auth, tags=["official"])
    def sweep() -> dict[str, int]:
        return {"findings": reg.sweep()}


def _opt_int(doc: dict[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{key} is a whole number")
    return value
