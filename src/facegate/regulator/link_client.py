"""The operator's HTTP client for its regulator: witness pushes, entries, orders, deliveries.

Every request but the witness protocol's own (which needs no authentication beyond the
checkpoint's signature) and the public key and registration routes is signed with the
ledger key (:func:`facegate.regulator.protocol.sign_link`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from facegate._internal.clock import Clock, utc_now
from facegate.errors import FacegateError
from facegate.regulator.protocol import (
    SIZE_CONTENT_TYPE,
    parse_size,
    render_add_checkpoint,
    sign_link,
)

__all__ = ["LinkRefused", "LinkUnreachable", "RegulatorClient", "WitnessAnswer"]

ENTRIES_PER_REQUEST = 1000


class LinkUnreachable(FacegateError):
    """The regulator did not answer."""

    code = "regulator_unreachable"
    default_advice = "Check the regulator URL and the network; the link retries by itself."


class LinkRefused(FacegateError):
    """The regulator answered with an error (its words are passed on)."""

    code = "regulator_refused"

    def __init__(self, message: str, *, status: int, advice: str | None = None) -> None:
        super().__init__(message, advice=advice)
        self.status = status


@dataclass(frozen=True, slots=True)
class WitnessAnswer:
    """What ``add-checkpoint`` answered: 200 with cosignature lines, or a refusal (with the
    witness's size on a 409)."""

    status: int
    text: str
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class RegulatorClient:
    def __init__(
        self,
        url: str,
        *,
        origin: str,
        signing_key: Ed25519PrivateKey,
        client: httpx.Client | None = None,
        clock: Clock = utc_now,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.origin = origin
        self._key = signing_key
        self._clock = clock
        self._http = client if client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        signed: bool = True,
        content_type: str = "application/json",
    ) -> httpx.Response:
        headers = {"Content-Type": content_type} if body else {}
        if signed:
            stamp = int(self._clock().timestamp())
            headers |= sign_link(self._key, self.origin, method, path, timestamp=stamp, body=body)
        try:
            return self._http.request(method, self.url + path, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise LinkUnreachable(f"cannot reach the regulator at {self.url}: {err}") from None

    def _json(self, method: str, path: str, doc: Any = None, *, signed: bool = True) -> Any:
        body = b"" if doc is None else json.dumps(doc).encode()
        response = self._send(method, path, body, signed=signed)
        if response.is_error:
            raise _refusal(response)
        try:
            return response.json()
        except ValueError:
            raise LinkRefused(
                "the regulator answered with something other than JSON", status=response.status_code
            ) from None

    def keys(self) -> dict[str, str]:
        """The regulator's witness and authority keys (trust on first use unless pinned)."""
        return dict(self._json("GET", "/v1/keys", signed=False))

    def register(self, signed_request: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/register", signed_request, signed=False))

    def status(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/status"))

    def push_entries(self, start: int, entries: Sequence[bytes]) -> int:
        """Stage entries ``start..`` at the regulator's mirror, in chunks; returns how many."""
        sent = 0
        for lo in range(0, len(entries), ENTRIES_PER_REQUEST):
            chunk = entries[lo : lo + ENTRIES_PER_REQUEST]
            doc = {"start": start + lo, "entries": [base64.b64encode(e).decode() for e in chunk]}
            self._json("POST", "/v1/mirror/entries", doc)
            sent += len(chunk)
        return sent

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note: str) -> WitnessAnswer:
        """c2sp.org/tlog-witness ``add-checkpoint``; refusals are answers, not errors."""
        body = render_add_checkpoint(old_size, list(proof), note)
        response = self._send(
            "POST", "/add-checkpoint", body, signed=False, content_type="text/plain; charset=utf-8"
        )
        size = None
        if response.status_code == 409 and response.headers.get("content-type", "").startswith(
            SIZE_CONTENT_TYPE
        ):
            try:
                size = parse_size(response.text)
            except FacegateError:
                size = None
        return WitnessAnswer(response.status_code, response.text, size)

    def orders(self, after: int) -> list[dict[str, Any]]:
        found = self._json("GET", f"/v1/orders?after={int(after)}")
        return list(found.get("orders", []))

    def deliver(self, what: str, ref: str, document: dict[str, Any]) -> dict[str, Any]:
        """Deliver a filing, incident notification or order acknowledgement; the receipt."""
        return dict(self._json("POST", f"/v1/inbox/{what}", {"ref": ref, "document": document}))


def _refusal(response: httpx.Response) -> LinkRefused:
    try:
        body = response.json()
        message = str(body.get("message") or body)
        advice = str(body.get("advice") or "") or None
    except ValueError:
        message, advice = response.text.strip() or "no reason given", None
    return LinkRefused(
        f"the regulator refused (HTTP {response.status_code}): {message}",
        status=response.status_code,
        advice=advice,
    )
