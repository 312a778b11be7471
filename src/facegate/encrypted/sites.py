"""The API host's side of a key ceremony held at the nodes: it claims the four nodes, walks
the joint key from holder to holder, joins the evaluation keys from public parts, and relays
each holder's share, sealed, to the other holder that keeps it. It never holds a share, and
the nodes check every step it relays (:mod:`facegate.encrypted.maker`)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from facegate.encrypted import frames
from facegate.encrypted.maker import STATE, digests
from facegate.encrypted.remote import checked
from facegate.errors import InvalidInput, PartyUnavailable
from facegate.templates.he._party import Party
from facegate.templates.he.ceremony import HOLDERS, PublicMaterial, publish

__all__ = ["NodeCeremonyResult", "ceremony_at_nodes"]

#: one step at a node (OpenFHE key generation, ~170 MB each way) is seconds; room to spare
_TIMEOUT: Final = 300.0


@dataclass(frozen=True)
class NodeCeremonyResult:
    public: PublicMaterial
    #: each node's identity as it reported it (the nodes checked each other's pinned ones)
    identities: dict[str, str]
    #: how each node said its node key is held: hsm, passphrase or clear
    node_keys: dict[str, str]


class _Nodes:
    def __init__(self, urls: Mapping[str, str], ceremony: str, deployment: str) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.meta = {"ceremony": ceremony, "deployment": deployment}
        self.client = httpx.Client(timeout=_TIMEOUT)
        self.claimed: list[str] = []

    def step(
        self, name: str, step: str, meta: Mapping[str, Any] | None = None,
        blobs: Mapping[str, bytes] | None = None,
    ) -> tuple[dict[str, Any], dict[str, bytes]]:  # fmt: skip
        url = f"{self.urls[name]}/v1/ceremony/{step}"
        body = frames.pack({**self.meta, **(meta or {})}, blobs or {})
        try:
            answer = self.client.post(url, content=body)
        except httpx.HTTPError as err:
            raise PartyUnavailable(
                f"the {name} node at {url} did not answer ({type(err).__name__})"
            ) from None
        if answer.headers.get("content-type", "").startswith(frames.MEDIA_TYPE):
            return frames.unpack(answer.content)
        checked(answer, url, f"{name} node")  # an error answer: raises, naming it
        raise PartyUnavailable(f"the {name} node at {url} did not answer a ceremony step")

    def about(self, name: str) -> dict[str, Any]:
        try:
            return checked(self.client.get(f"{self.urls[name]}/v1/about"), self.urls[name], name)
        except httpx.HTTPError as err:
            raise PartyUnavailable(
                f"the {name} node at {self.urls[name]} did not answer ({type(err).__name__})"
            ) from None

    def abort(self) -> None:
        for name in self.claimed:
            # it may be down; then its operator frees it (the setup's error names it)
            with contextlib.suppress(PartyUnavailable, InvalidInput):
                self.step(name, "abort")


def ceremony_at_nodes(
    deployment: str, holders: Mapping[str, str], decider: str, server_key: bytes
) -> NodeCeremonyResult:
    """Run the ceremony at the nodes; on any failure every claimed node is freed again."""
    nodes = _Nodes({**holders, "decider": decider}, secrets.token_hex(16), deployment)
    try:
        identities, keys = _claim(nodes)
        state, signature = _joint_key(nodes)
        sealed = _shares(nodes, state, signature)
        public = _publish(state, [part for part, _, _ in sealed.values()])
        for index, name in enumerate(HOLDERS):
            _, blob, sig = sealed[HOLDERS[(index + 1) % len(HOLDERS)]]
            nodes.step(
                name,
                "install",
                {"signature": sig},
                {"context": state["context"], "server_key": server_key, "sealed": blob},
            )
        nodes.step(
            "decider", "install", None, {"context": state["context"], "server_key": server_key}
        )
    except BaseException:
        nodes.abort()
        raise
    finally:
        nodes.client.close()
    return NodeCeremonyResult(public, identities, keys)


def _claim(nodes: _Nodes) -> tuple[dict[str, str], dict[str, str]]:
    identities, keys = {}, {}
    for name in (*HOLDERS, "decider"):
        about = nodes.about(name)
        if about.get("name") != name:
            raise InvalidInput(
                f"the node at {nodes.urls[name]} is the {about.get('name')!r} node, not {name!r}"
            )
        identities[name] = str(about.get("identity"))
        keys[name] = str(about.get("key"))
        nodes.step(name, "claim")
        nodes.claimed.append(name)
    return identities, keys


def _joint_key(nodes: _Nodes) -> tuple[dict[str, bytes], str]:
    state: dict[str, bytes] = {}
    signature = ""
    for name in HOLDERS:
        meta, state = nodes.step(name, "keygen", {"signature": signature} if state else None, state)
        signature = str(meta.get("signature"))
        if sorted(state) != sorted(STATE):
            raise PartyUnavailable(f"the {name} node's step of the joint key is incomplete")
    return state, signature


def _shares(
    nodes: _Nodes, state: Mapping[str, bytes], signature: str
) -> dict[str, tuple[bytes, bytes, str]]:
    small = {name: state[name] for name in ("context", "public_key", "joint")}
    meta = {"signature": signature, "digests": digests({n: state[n] for n in ("first", "sums")})}
    out = {}
    for name in HOLDERS:
        got, blobs = nodes.step(name, "mult", meta, small)
        out[name] = (blobs.get("part", b""), blobs.get("sealed", b""), str(got.get("signature")))
    return out


def _publish(state: Mapping[str, bytes], parts: list[bytes]) -> PublicMaterial:
    publisher = Party()  # public parts only
    try:
        return publish(publisher, state, parts)
    finally:
        publisher.close()
