"""A log seen over HTTP, for a witness that runs somewhere else (see :mod:`.witness`).

Speaks to the public routes of ``facegate serve``: ``GET /v1/ledger/checkpoint``,
``GET /v1/ledger/consistency?old=M&new=N`` and ``POST /v1/ledger/cosignatures``.
"""

from __future__ import annotations

from typing import Self

import httpx

from facegate.errors import FacegateError
from facegate.ledger.proofs import ConsistencyProof

__all__ = ["HttpLog", "LogRefused", "LogUnreachable"]


class LogUnreachable(FacegateError):
    """The log did not answer, or answered with an error."""

    code = "ledger_unreachable"
    default_advice = (
        "Check the URL and that 'facegate serve' runs there; the witness state is unchanged,\n"
        "so run the check again later."
    )


class LogRefused(FacegateError):
    """The log answered with an error of its own (passed on with its words)."""

    code = "ledger_refused"


class HttpLog:
    """The :class:`~facegate.ledger.witness.LogView` of a facegate service at ``base_url``.

    ``client`` may be given to reuse connections or, in tests, to talk to an in-process app.
    """

    def __init__(
        self, base_url: str, *, client: httpx.Client | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _get(self, path: str, **params: int) -> httpx.Response:
        return self._call("GET", path, params=params)

    def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self._client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as err:
            raise LogUnreachable(f"cannot reach the log at {url}: {err}") from None
        if response.is_error:
            raise _error_from(response, url)
        return response

    def key(self) -> str:
        """The log's verifier key as the log states it (trust on first use: better pin it)."""
        return self._get("/v1/ledger/key").text.strip()

    def checkpoint(self) -> str:
        return self._get("/v1/ledger/checkpoint").text

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        body = self._get("/v1/ledger/consistency", old=old_size, new=new_size).json()
        try:
            return ConsistencyProof(
                int(body["old_size"]),
                int(body["new_size"]),
                tuple(bytes.fromhex(h) for h in body["hashes"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise LogUnreachable(
                f"the log sent a consistency proof that cannot be read: {err}"
            ) from None

    def add_cosignature(self, note: str) -> object:
        response = self._call(
            "POST",
            "/v1/ledger/cosignatures",
            content=note.encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        return response.json()


def _error_from(response: httpx.Response, url: str) -> FacegateError:
    try:
        body = response.json()
        message, code = str(body["message"]), str(body.get("error", ""))
        advice = str(body.get("advice") or "")
    except (ValueError, KeyError, TypeError):
        return LogUnreachable(f"{url} answered HTTP {response.status_code}")
    return LogRefused(
        f"the log at {url} refused: {message} ({code}, HTTP {response.status_code})",
        advice=advice,
    )
