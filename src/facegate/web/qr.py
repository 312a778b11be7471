"""QR codes as inline SVG, drawn here (``segno``): nothing is fetched, no image is stored.

A deployment's page carries a QR code to itself for the signs on site. A consent receipt's
QR code (the consent desk, phase 2) opens the portal with the access code in the URL's
*fragment* (``/portal#code=...``): browsers never send a fragment to a server, so the code
reaches no log, and the portal's script moves it into the form and out of the address bar.
"""

from __future__ import annotations

import io

import segno
from markupsafe import Markup
from starlette.requests import Request


def svg(data: str, *, title: str, scale: int = 4) -> Markup:
    """``data`` as a QR code (error correction M, quiet zone of 4 modules), an accessible
    image named ``title``. segno escapes the title and description it writes."""
    code = segno.make(data, error="m", micro=False)
    drawn = code.svg_inline(
        scale=scale, border=4, dark="#000", light="#fff", title=title, svgclass="qr"
    )
    return Markup(drawn.replace("<svg ", '<svg role="img" ', 1))


def svg_document(data: str, *, title: str, scale: int = 8) -> bytes:
    """A standalone SVG file (for printing on a sign)."""
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(
        out, kind="svg", scale=scale, border=4, dark="#000", light="#fff", title=title
    )
    return out.getvalue()


def public_base(request: Request) -> str:
    """Where people reach this service: ``FACEGATE_API__PUBLIC_URL`` when it is set (a QR
    code on a sign must not carry whatever Host header the printing request came with),
    otherwise the address of this request."""
    configured: str | None = request.app.state.gate.settings.api.public_url
    return configured if configured else str(request.base_url).rstrip("/")


def deployment_url(base_url: str, deployment_id: str) -> str:
    return f"{base_url.rstrip('/')}/d/{deployment_id}"


def receipt_url(base_url: str, access_code: str) -> str:
    """Where a receipt's QR code points: the portal, the code in the fragment only."""
    return f"{base_url.rstrip('/')}/portal#code={access_code}"
