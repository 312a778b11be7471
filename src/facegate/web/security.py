"""Security headers on every response, pages and API alike.

The Content Security Policy allows scripts, styles, images and fonts from this server only,
and no inline script anywhere: a value that slipped past the templates' escaping still
cannot run. No page may be framed (``frame-ancestors 'none'``, and ``X-Frame-Options`` for
older browsers), forms post only here, and no referrer leaves the site (``same-origin``).
The camera is allowed to this origin alone (the console's enrollment page asks for it).
HSTS is sent over HTTPS only: TLS served here, or a TLS proxy named in
``FACEGATE_API__TRUSTED_PROXIES`` that says ``X-Forwarded-Proto: https``.

ReDoc's bundle injects its styles at run time, so ``/redoc`` alone also allows inline
*styles* (never scripts) and the blob: worker it searches with.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; manifest-src 'self'"
)
CSP_REDOC: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: Final = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own
    # form posts, which the CSRF check must refuse; other sites still get no referrer
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS: Final = "max-age=31536000"


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP_REDOC if path == "/redoc" else CSP
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                # read when the answer starts, not when the request came in: behind a
                # trusted proxy (FACEGATE_API__TRUSTED_PROXIES) uvicorn's proxy middleware,
                # further in, sets the scheme from X-Forwarded-Proto; from anyone else that
                # header changes nothing
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)
