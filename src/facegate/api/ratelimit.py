"""Rate limits for the subject routes, which take a guessable access code.

Two limits, each a moving window kept by the ``limits`` library (in memory, per process):

* per client address, so one address cannot try many codes; each address has its own
  window, so a flood from one address slows only that address;
* per access code, so one code cannot be hammered from many addresses.

The client address is the TCP peer unless that peer is a configured reverse proxy
(``FACEGATE_API__TRUSTED_PROXIES``); only then is ``X-Forwarded-For`` believed (uvicorn's
:class:`~uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware`, installed by
:func:`trust_proxies`). A forged header from anyone else changes nothing.
"""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from facegate.consent.receipts import canonical_access_code
from facegate.errors import FacegateError

__all__ = ["RateLimiter", "SubjectLimiter", "TooManyRequests", "trust_proxies"]


class TooManyRequests(FacegateError):
    code = "too_many_requests"
    default_advice = "Wait a minute, then try again."


class RateLimiter:
    """A moving-window limit per key: at most ``rate`` hits in any ``per`` seconds."""

    def __init__(self, rate: int, per: float, *, what: str = "requests") -> None:
        if rate < 1 or per < 1:
            raise ValueError("a rate limit allows at least 1 hit per second")
        self.item: RateLimitItem = parse(f"{rate}/{round(per)} seconds")
        self._what = what
        self._windows = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> None:
        """Count one hit for ``key``; :class:`TooManyRequests` if its window is full."""
        if not self._windows.hit(self.item, key):
            raise TooManyRequests(f"too many {self._what}")


class SubjectLimiter:
    """The subject routes' two limits: ``per_address`` and ``per_code``, each ``(rate,
    seconds)``."""

    def __init__(
        self, *, per_address: tuple[int, float] = (10, 60), per_code: tuple[int, float] = (10, 60)
    ) -> None:
        self.address = RateLimiter(*per_address, what="requests from this address")
        self.code = RateLimiter(*per_code, what="requests with this access code")

    def hit(self, address: str, code: str | None = None) -> None:
        self.address.hit(address)
        if code is not None:
            # the code is a credential: keep only a hash of it, even in memory; the code as
            # printed, so that typing it another way (case, dashes) is the same code here too
            typed = canonical_access_code(code).encode("utf-8", "surrogatepass")
            self.code.hit(hashlib.sha256(typed).hexdigest())


def trust_proxies(app: FastAPI, proxies: list[str]) -> None:
    """Believe ``X-Forwarded-For``/``-Proto`` only from ``proxies`` (addresses or networks,
    e.g. ``10.0.0.0/8``); with none, the TCP peer is the client."""
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
