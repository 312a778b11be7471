"""Every request gets an id, one log line and its place in the metrics.

The id is the caller's ``X-Request-ID`` when it is a plain token (a proxy's, so its logs
and ours line up), otherwise a new random one; it is sent back in ``X-Request-ID`` and put
on every log line written while the request is served (:mod:`facegate.logs`). The line
names the route by its template and carries nothing about the person (see ``logs.py``).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facegate.api.metrics import Metrics
from facegate.logs import request_id

__all__ = ["Observe"]

_TOKEN: Final = re.compile(rb"[A-Za-z0-9._-]{1,64}")
log = logging.getLogger("facegate.http")


class Observe:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = str(scope.get("method", ""))
        self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
        self.metrics.latency.labels(method=method, route=route).observe(seconds)
        log.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "request",
            extra={
                "request_id": request_id.get(),
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and _TOKEN.fullmatch(value):
            return bytes(value).decode()
    return None
