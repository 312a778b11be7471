"""Keep uploads small and in memory: a photo must never touch the disk, not even a temp file."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.formparsers import MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_MULTIPART_OVERHEAD = 64 * 1024


def keep_uploads_in_memory(max_bytes: int) -> None:
    # Starlette spools file parts above spool_max_size to a temporary file on disk; raising
    # it past the body limit keeps every accepted photo in memory.
    MultiPartParser.spool_max_size = max_bytes + _MULTIPART_OVERHEAD


class BodyLimit:
    """Refuse request bodies over the limit with 413, whether or not they declare a length."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = max_bytes + _MULTIPART_OVERHEAD
        #: path prefixes allowed more (a node's key ceremony carries its keys)
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for p, n in self.larger.items() if path.startswith(p)), self.limit)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(send, limit)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": "image_too_large",
            "message": f"the request body is larger than {limit} bytes",
            "advice": "Resize the photo (a face of 150 to 1000 pixels across is plenty) and "
            "retry; a request without a photo is a few kilobytes at most.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
