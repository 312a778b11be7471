"""The parties as the others reach them over HTTP: a key holder as the decision holder
sees it, and the decision holder as the server sees it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from facegate.encrypted import wire
from facegate.errors import PartyUnavailable
from facegate.templates.he.threshold import DecisionRequest, ThresholdVerifier

__all__ = ["RemoteDecider", "RemoteKeyHolder"]


def _post(client: httpx.Client, url: str, who: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = client.post(url, json=body)
    except httpx.HTTPError as err:
        raise PartyUnavailable(
            f"the {who} at {url} did not answer ({type(err).__name__})"
        ) from None
    return checked(answer, url, who)


def checked(answer: httpx.Response, url: str, who: str) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code >= 500 or not isinstance(body, dict):
        said = body.get("message") if isinstance(body, dict) else None
        why = f": {said}" if said else f" (HTTP {answer.status_code})"
        raise PartyUnavailable(f"the {who} at {url} failed{why}")
    if answer.status_code >= 400:  # the parties disagree (keys of another ceremony, say)
        said = body.get("message", answer.status_code)
        raise PartyUnavailable(f"the {who} at {url} refused: {said}")
    return body


class RemoteKeyHolder:
    """A key holder node, with :class:`~facegate.templates.he.threshold.KeyHolder`'s surface."""

    def __init__(
        self,
        url: str,
        *,
        signer: Ed25519PrivateKey,
        opener: X25519PrivateKey,
        timeout: float = wire.TIMEOUT,
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)
        self._signer, self._opener = signer, opener
        self.holder = ""
        self.indices: tuple[int, ...] = ()

    def alive(self) -> bool:
        """Asks the node who it is (and which shares it holds); False when it is down."""
        try:
            about = checked(self._client.get(f"{self.url}/v1/about", timeout=5), self.url, "")
        except (httpx.HTTPError, PartyUnavailable):
            return False
        indices = about.get("indices")
        if about.get("role") != "holder" or not isinstance(indices, list):
            return False
        self.holder, self.indices = str(about.get("name")), tuple(int(i) for i in indices)
        return True

    def partials(
        self, request: DecisionRequest, indices: Sequence[int], *, lead: bool
    ) -> list[bytes]:
        signature = self._signer.sign(wire.partials_bytes(request, indices, lead))
        body = {
            "request": wire.request_out(request),
            "indices": list(indices),
            "lead": lead,
            "decider_signature": wire.b64(signature),
        }
        answer = _post(self._client, f"{self.url}/v1/partials", "key holder", body)
        sealed = [wire.unb64(p, "a decryption share") for p in answer.get("partials") or []]
        return [wire.open_partial(blob, self._opener, request.ticket) for blob in sealed]

    def close(self) -> None:
        self._client.close()


class RemoteDecider:
    """The decision holder node, driven by the server: it fuses two holders' shares into
    ``w`` and sends ``w``'s bits encrypted under its own comparison key; the server answers
    them (once); the node says whether a zero was among the answers; the server turns that
    bit into the decision."""

    def __init__(self, url: str, *, timeout: float = wire.TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def decide_all(self, request: DecisionRequest, server: ThresholdVerifier) -> dict[int, bool]:
        begun = _post(
            self._client, f"{self.url}/v1/begin", "decision holder", wire.request_out(request)
        )
        bits = begun.get("positions")
        if not isinstance(bits, dict) or sorted(bits) != sorted(map(str, request.positions)):
            raise PartyUnavailable("the decision holder answered for other positions")
        answers = {}
        for position in request.positions:
            mine = bits[str(position)]
            encrypted = [wire.unb64(b, "an encrypted bit") for b in mine.get("bits") or []]
            public = wire.unb64(mine.get("public"), "a comparison key")
            answers[position] = server.compare(request.ticket, position, encrypted, public)
        sent = wire.answers_out(answers)
        signature = server.sign(wire.finish_bytes(request.ticket, sent))
        body = {"ticket": request.ticket, "answers": sent, "signature": wire.b64(signature)}
        found = _post(self._client, f"{self.url}/v1/finish", "decision holder", body)
        zeros = found.get("found_zero")
        if not isinstance(zeros, dict):
            raise PartyUnavailable("the decision holder's answer has no bits")
        return {
            p: server.conclude(request.ticket, p, bool(zeros.get(str(p))))
            for p in request.positions
        }

    def close(self) -> None:
        self._client.close()
