"""Sealed session cookies and CSRF tokens for the web pages.

A session lives entirely in one cookie, sealed with AES-256-GCM under a key derived (HKDF)
from a secret the master key wraps, never a constant: the browser can neither read it (the
person's access code travels in it) nor forge it. The cookie is ``HttpOnly``, ``Secure``,
``SameSite=Strict`` and short-lived; the seal carries when it was issued, and each kind of
session has its own maximum age.

Every form carries a CSRF token bound to the session id (HMAC under a second derived key),
and a POST is accepted only with the session's cookie, the matching token and, when the
browser names one, a same-origin ``Origin``. Signing in (the portal's access code, the
console's password) always starts a *new* session id: a session id planted before sign-in
is worthless after it (session fixation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from facegate.errors import Forbidden

if TYPE_CHECKING:
    from facegate.gate import Gate

COOKIE: Final = "fg_session"
#: how long each kind of session is accepted after it was issued, in seconds
MAX_AGE: Final[Mapping[str, int]] = {
    "anon": 2 * 3600,  # a visitor filling in a form
    "portal": 15 * 60,  # a person signed in with their access code: short on purpose
    "console": 8 * 3600,  # a principal's working day
    "regulator": 8 * 3600,  # an official's working day, on the regulator node
}
_AD: Final = b"facegate/web/session/v1"
_MAX_COOKIE = 3800  # browsers keep cookies up to ~4 KiB
_UNREAD: Final = object()


class CsrfRejected(Forbidden):
    code = "csrf_rejected"
    default_advice = (
        "Reload the page and send the form again. If this keeps happening, allow cookies for\n"
        "this site and open it over HTTPS (or on this computer's own address)."
    )


@dataclass(frozen=True)
class Session:
    sid: str
    kind: str
    issued_at: int
    data: Mapping[str, str] = field(default_factory=dict)


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Seals and opens sessions; makes and checks their CSRF tokens."""

    def __init__(
        self,
        secret: bytes,
        *,
        clock: Callable[[], float] = time.time,
        entropy: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("a session secret has at least 32 bytes")
        self._aead = AESGCM(_derive(secret, _AD + b"/seal"))
        self._csrf_key = _derive(secret, _AD + b"/csrf")
        self._clock = clock
        self._entropy = entropy

    @classmethod
    def for_gate(cls, gate: Gate) -> SessionCodec:
        """Keys derived from the installation's own session secret, which only the master
        key unwraps (:mod:`facegate.web.session_key`): every process serving the
        installation derives the same ones, and nothing else is keyed with them."""
        from facegate.web.session_key import session_secret

        return cls(session_secret(gate))

    def new(self, kind: str = "anon", **data: str) -> Session:
        if kind not in MAX_AGE:
            raise ValueError(f"unknown session kind {kind!r}")
        return Session(_b64(self._entropy(16)), kind, int(self._clock()), dict(data))

    def seal(self, session: Session) -> str:
        payload = json.dumps(
            {"s": session.sid, "k": session.kind, "t": session.issued_at, "d": session.data},
            separators=(",", ":"),
        ).encode()
        nonce = self._entropy(12)
        token = _b64(nonce + self._aead.encrypt(nonce, payload, _AD))
        if len(token) > _MAX_COOKIE:
            raise ValueError("the session is too large for a cookie")
        return token

    def open(self, token: str | None) -> Session | None:
        """The session sealed in ``token``, or None if it is forged, damaged or too old."""
        if not token or len(token) > _MAX_COOKIE:
            return None
        try:
            raw = _unb64(token)
            payload = json.loads(self._aead.decrypt(raw[:12], raw[12:], _AD))
            session = Session(
                str(payload["s"]), str(payload["k"]), int(payload["t"]), dict(payload["d"])
            )
        except (binascii.Error, ValueError, InvalidTag, KeyError, TypeError):
            return None
        age = self._clock() - session.issued_at
        if session.kind not in MAX_AGE or not -60 <= age <= MAX_AGE[session.kind]:
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session), token)


# --- per request -------------------------------------------------------------------------------


def codec_of(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.web_sessions
    return codec


def current(request: Request) -> Session | None:
    """The request's valid session, if its cookie holds one."""
    found = getattr(request.state, "fg_session", _UNREAD)
    if found is _UNREAD:
        found = codec_of(request).open(request.cookies.get(COOKIE))
        request.state.fg_session = found
    return found if isinstance(found, Session) else None


def ensure(request: Request) -> Session:
    """The request's session, or a new anonymous one (set on the response by
    :func:`facegate.web.render.page`), so a form can carry its CSRF token."""
    session = current(request)
    if session is None:
        session = codec_of(request).new("anon")
        request.state.fg_session = session
        request.state.fg_session_new = True
    return session


def start(request: Request, kind: str, **data: str) -> Session:
    """Sign in: a new session id (never the one the browser came with) with ``data``."""
    session = codec_of(request).new(kind, **data)
    request.state.fg_session = session
    request.state.fg_session_new = True
    return session


def end(request: Request) -> Session:
    """Sign out: a fresh anonymous session replaces whatever was there."""
    return start(request, "anon")


def csrf_token(request: Request) -> str:
    return codec_of(request).csrf_token(ensure(request))


def check_post(request: Request, form: Mapping[str, object]) -> Session:
    """The session a POST may act for; :class:`CsrfRejected` unless its cookie, its CSRF
    token and its origin all check out."""
    origin = request.headers.get("origin")
    if origin is not None and origin != _origin_of(request):
        raise CsrfRejected("the form was sent from another site")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRejected("the form was sent from another site")
    session = current(request)
    if session is None:
        raise CsrfRejected("your session has expired or your browser did not send its cookie")
    token = form.get("csrf_token")
    if not isinstance(token, str) or not codec_of(request).csrf_ok(session, token):
        raise CsrfRejected("the form's security token is missing or out of date")
    return session


def _origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def write_cookie(request: Request, response: Response) -> None:
    """Set the session cookie on ``response`` if this request started a session."""
    if not getattr(request.state, "fg_session_new", False):
        return
    session: Session = request.state.fg_session
    response.set_cookie(
        COOKIE,
        codec_of(request).seal(session),
        max_age=MAX_AGE[session.kind],
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
