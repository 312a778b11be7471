"""The edge check every request passes before a route sees it.

Two layers, so that no route can forget one:

* :class:`EdgeGuard` (middleware, every route): the path and the query string, percent-
  decoded, may hold no control character (NUL included) and must be UTF-8, and a credential
  header (Authorization, X-Access-Code, x-api-key) comes once. A bad one is a 400 in the
  documented error shape before any route, database or log line sees it.
* shared types for route parameters: :data:`IndexPath`, :func:`index_query` (integers in
  0..2**63-1, the range of the BIGINT columns on both databases, so 2**63 is a 422 and not
  an overflow deep in a driver), :data:`SafeText` / :data:`SafeId` (text fields, JSON
  bodies, forms and headers included, without control characters other than tab and line
  breaks) and :data:`IdPath` (an id in the path: 1 to 40 characters of :data:`SafeId`).
  ``SafeId`` states its rule as a pattern too, so the OpenAPI document (and a fuzzer reading
  it) knows that a control character is refused.

The database layer (``storage/db.py``) backs both up: a NUL or an out-of-range integer
that still reaches a statement becomes :class:`facegate.errors.InvalidInput` (400).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Annotated, Any, Final
from urllib.parse import unquote_to_bytes

from fastapi import Path, Query
from pydantic import AfterValidator, StringConstraints
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "MAX_INDEX",
    "EdgeGuard",
    "IdPath",
    "IndexPath",
    "SafeId",
    "SafeText",
    "bad_text",
    "check_text",
    "index_query",
]

#: the largest value of a signed 64-bit integer, the type of every index and size column
MAX_INDEX: Final = 2**63 - 1
#: control characters a multi-line text field may hold
_ALLOWED_CONTROLS: Final = frozenset("\t\n\r")
#: bidirectional embeddings, overrides and isolates: they make text display other than it
#: reads ("Trojan Source"); legitimate right-to-left text needs none of them
_BIDI: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def bad_text(value: str) -> str | None:
    """Why ``value`` is not acceptable text (None if it is): a control character other
    than tab and line breaks, a bidirectional override, or a lone surrogate, which no
    database stores."""
    for ch in value:
        if ch in _ALLOWED_CONTROLS:
            continue
        if ch in _BIDI:
            return f"it holds the bidirectional control U+{ord(ch):04X}"
        if ch == "\ufffd":  # what bytes that were not UTF-8 become once decoded
            return "it holds U+FFFD, the mark of text that was not UTF-8"
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"it holds the control character U+{ord(ch):04X}"
        if category == "Cs":
            return f"it holds the unpaired surrogate U+{ord(ch):04X}"
    return None


def check_text(value: str) -> str:
    """Pydantic validator form of :func:`bad_text`."""
    why = bad_text(value)
    if why is not None:
        raise ValueError(f"not acceptable text: {why}")
    return value


#: text without control characters; add bounds with ``Annotated[SafeText, Field(...)]``
SafeText = Annotated[str, AfterValidator(check_text)]
_ID_PATTERN: Final = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffd]+$"
#: an id or reference: 1 to 200 characters, none of them a control character (C0, DEL, C1)
#: or a bidirectional control (the pattern says so in the OpenAPI document; check_text
#: also refuses lone surrogates)
SafeId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=_ID_PATTERN),
    AfterValidator(check_text),
]
#: an id in the path (deployment, principal, key, request, identification): ids are short
IdPath = Annotated[SafeId, Path(max_length=40, description="an id facegate returned")]


IndexPath = Annotated[int, Path(ge=0, le=MAX_INDEX, description="0 to 2**63-1")]


def index_query(*, ge: int = 0, description: str) -> Any:
    """An integer query parameter in ``ge``..2**63-1."""
    return Query(ge=ge, le=MAX_INDEX, description=description)


class EdgeGuard:
    """Refuse a request whose path or query string holds a control character or is not
    UTF-8 (after percent-decoding), or that carries a credential header twice, with 400
    and the documented error body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _problem(scope)
            if problem is not None:
                await _refuse(send, problem)
                return
        await self.app(scope, receive, send)


#: credentials a request carries once: two of them are ambiguous (which one acts?), and
#: proxies and frameworks disagree on which of the two wins
_SINGLE: Final = frozenset({b"authorization", b"x-access-code", b"x-api-key"})


def _problem(scope: Scope) -> str | None:
    names = [name.lower() for name, _ in scope.get("headers", ())]
    for name in sorted(_SINGLE):
        if names.count(name) > 1:
            return f"the {name.decode()} header is sent more than once"
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
    for where, raw in (("path", raw_path), ("query string", scope.get("query_string", b""))):
        try:
            text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return f"the {where} is not UTF-8"
        why = bad_text(text)
        if why is not None:
            return f"the {where} is not acceptable: {why}"
    return None


async def _refuse(send: Send, problem: str) -> None:
    body = json.dumps(
        {
            "error": "invalid_request",
            "message": problem,
            "advice": "Send text without control characters (NUL included), UTF-8 encoded, "
            "and each credential once.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
