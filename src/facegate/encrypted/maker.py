"""A node's part in a key ceremony held at the nodes (``facegate encrypted setup`` given the
nodes' URLs): each key holder makes its own key share in its own OpenFHE process, and the
share leaves the node only sealed (RFC 9180 HPKE) to the one other holder that keeps it too.
The API host coordinates and relays; it never sees a share.

The API host is not trusted to relay honestly. Every key holder node is started with the
other sites' identities (``--peer``, from their ``node-init``), and:

* each step of the joint key is signed by the holder that made it; the next holder builds on
  it only under that signature, so the API host cannot put a key of its own in the chain;
* the regulator holder's signature over the finished joint key is checked by every holder
  before it hands out anything that depends on the key;
* a share sealed to a holder carries its maker's signature over the sealed bytes and the
  joint key, so a holder never installs a share the API host made;
* the decision holder's keys, which the holders will seal decryption shares to, are the
  pinned ones, never what the API host says.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from facegate.encrypted import wire
from facegate.encrypted.node import NodeHome, public_bytes
from facegate.errors import Conflict, InvalidInput
from facegate.templates.he._party import Party
from facegate.templates.he.ceremony import HOLDERS, HolderShare

__all__ = ["STATE", "NodeCeremony", "statement"]

#: a joint key's state as it passes from holder to holder
STATE: Final = ("context", "public_key", "joint", "first", "sums")
_LABEL: Final = b"facegate/v1/he-ceremony/"
_SEAL_INFO: Final = b"facegate/v1/he-ceremony-share\n"
_CEREMONY_ID: Final = re.compile(r"[0-9a-f]{32}")
_SERVER_KEY: Final = 32


def statement(
    kind: str, ceremony: str, deployment: str, index: int, digests: Mapping[str, str]
) -> bytes:
    """What a holder signs: one step of one ceremony, the blobs by their SHA-256."""
    body = json.dumps([ceremony, deployment, index, dict(sorted(digests.items()))])
    return _LABEL + kind.encode() + b"\n" + body.encode()


def digests(blobs: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}


def _verify(identity: bytes, signature: bytes, message: bytes, who: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(identity[:32]).verify(signature, message)
    except InvalidSignature:
        raise InvalidInput(
            f"this step is not signed by the {who} node whose identity this node was given: "
            "the coordinator may not put keys of its own in the ceremony"
        ) from None


class NodeCeremony:
    """One node's ceremony state (one ceremony for a node's lifetime, as :meth:`NodeHome.claim`
    says); ``loaded`` is called once the node's material is installed."""

    def __init__(
        self, node: NodeHome, peers: Mapping[str, bytes], loaded: Callable[[], None]
    ) -> None:
        self.node, self.peers, self._loaded = node, dict(peers), loaded
        self._lock = threading.Lock()
        self._id: str | None = None
        self._deployment = ""
        self._party: Party | None = None
        self._final: dict[str, str] = {}
        self._done: set[str] = set()
        self._keys: tuple[Ed25519PrivateKey, X25519PrivateKey] | None = None

    def _identity(self) -> tuple[Ed25519PrivateKey, X25519PrivateKey]:
        """The node's keys, derived once: a passphrase or HSM node key is opened once a
        ceremony, not at every step."""
        if self._keys is None:
            self._keys = self.node.identity()
        return self._keys

    @property
    def index(self) -> int:
        return HOLDERS.index(self.node.name)

    def admits(self, step: str) -> None:
        """Whether a step may be asked now, known before its body is read: a claim while the
        node is free, the other steps while a claimed ceremony is unfinished."""
        if self.node.is_set_up():
            raise Conflict(f"the {self.node.name} node already serves a key ceremony")
        if step != "claim" and self._id is None:
            raise Conflict("this node serves no ceremony yet (claim it first)")

    def claim(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        ceremony, deployment = meta.get("ceremony"), meta.get("deployment")
        if not isinstance(ceremony, str) or not _CEREMONY_ID.fullmatch(ceremony):
            raise InvalidInput("a ceremony id is 32 lowercase hex digits")
        if not isinstance(deployment, str) or not 0 < len(deployment) <= 128:
            raise InvalidInput("a ceremony names the deployment it is for")
        with self._lock:
            if self.node.is_set_up():
                raise Conflict(f"the {self.node.name} node already serves a key ceremony")
            if self.node.role == "holder" and sorted(self.peers) != sorted(self._peer_names()):
                raise Conflict("this key holder node was started without its peers' identities")
            self.node.claim()
            self._id, self._deployment = ceremony, deployment
            if self.node.role == "holder":
                self._party = Party()
        return {"name": self.node.name, "role": self.node.role}

    def _peer_names(self) -> list[str]:
        return [h for h in HOLDERS if h != self.node.name] + ["decider"]

    def _ours(self, meta: Mapping[str, Any]) -> Party | None:
        if self._id is None or meta.get("ceremony") != self._id:
            raise Conflict("this node serves no such ceremony (claim it first)")
        return self._party

    def _party_or_refuse(self, meta: Mapping[str, Any], step: str) -> Party:
        party = self._ours(meta)
        if party is None:
            raise InvalidInput("the decision holder makes no key share")
        if step in self._done:  # a second key or share would not match what was signed
            raise Conflict(f"this node has already taken its {step} step of this ceremony")
        return party

    def _sign(self, kind: str, index: int, blobs: Mapping[str, str]) -> str:
        signer, _ = self._identity()
        return wire.b64(
            signer.sign(statement(kind, self._id or "", self._deployment, index, blobs))
        )

    def _check(
        self, kind: str, index: int, meta: Mapping[str, Any], seen: Mapping[str, str]
    ) -> None:
        name = HOLDERS[index]
        identity = self.peers[name] if name != self.node.name else public_bytes(*self._identity())
        signature = wire.unb64(meta.get("signature"), f"the {name} holder's signature")
        message = statement(kind, self._id or "", self._deployment, index, seen)
        _verify(identity, signature, message, f"{name} holder")

    def keygen(
        self, meta: Mapping[str, Any], blobs: Mapping[str, bytes]
    ) -> tuple[dict[str, Any], dict[str, bytes]]:
        """This holder's step of the joint key, on the previous holder's signed step."""
        with self._lock:
            party, index = self._party_or_refuse(meta, "keygen"), self.index
            if index == 0:
                state = party.call("keygen_first")
            else:
                previous = {name: blobs.get(name, b"") for name in STATE}
                self._check("keygen", index - 1, meta, digests(previous))
                state = party.call("keygen_next", index=index, **previous)
            state = {name: bytes(state[name]) for name in STATE}
            self._done.add("keygen")
            return {"signature": self._sign("keygen", index, digests(state))}, state

    def mult(
        self, meta: Mapping[str, Any], blobs: Mapping[str, bytes]
    ) -> tuple[dict[str, Any], dict[str, bytes]]:
        """On the finished joint key (signed by the last holder): this share's part of the
        relinearisation key, and the share sealed to the other holder that keeps it."""
        with self._lock:
            party, index = self._party_or_refuse(meta, "mult"), self.index
            if "keygen" not in self._done:
                raise Conflict("this node has not taken its step of the joint key yet")
            sent = meta.get("digests")
            if not isinstance(sent, dict) or not all(isinstance(v, str) for v in sent.values()):
                raise InvalidInput("the finished joint key comes with its blobs' digests")
            final = {
                **sent,
                **digests({n: blobs.get(n, b"") for n in ("context", "public_key", "joint")}),
            }
            if sorted(final) != sorted(STATE):
                raise InvalidInput(f"the finished joint key's digests name {', '.join(STATE)}")
            self._check("keygen", len(HOLDERS) - 1, meta, final)
            self._final = final
            part = bytes(
                party.call("keygen_mult", joint=blobs["joint"], public_key=blobs["public_key"])
            )
            to = HOLDERS[(index - 1) % len(HOLDERS)]
            sealed = wire.seal_to(
                bytes(party.call("keygen_share")), self.peers[to], self._info(index)
            )
            signed = {
                "sealed": hashlib.sha256(sealed).hexdigest(),
                "public_key": final["public_key"],
            }
            self._done.add("mult")
            return {"signature": self._sign("share", index, signed), "to": to}, {
                "part": part,
                "sealed": sealed,
            }

    def _info(self, index: int) -> bytes:
        return _SEAL_INFO + json.dumps([self._id, self._deployment, index]).encode()

    def install(self, meta: Mapping[str, Any], blobs: Mapping[str, bytes]) -> dict[str, Any]:
        """The node's part of the finished ceremony: a key holder opens the share the next
        holder sealed to it and keeps it with its own, sealed under its node key."""
        with self._lock:
            party = self._ours(meta)
            if self.node.is_set_up():  # installed once: a second would swap its keys
                raise Conflict(f"the {self.node.name} node has installed its part already")
            context, server = blobs.get("context", b""), blobs.get("server_key", b"")
            if len(server) != _SERVER_KEY:
                raise InvalidInput("the server's Ed25519 verify key is 32 bytes")
            if party is None:
                self.node.install(context=context, server_key=server, share=None)
            else:
                self._install_share(party, meta, blobs, context, server)
            self._loaded()
            return {"ready": True}

    def _install_share(
        self,
        party: Party,
        meta: Mapping[str, Any],
        blobs: Mapping[str, bytes],
        context: bytes,
        server: bytes,
    ) -> None:
        if not self._final or digests({"context": context})["context"] != self._final["context"]:
            raise InvalidInput("the context is not the one of the joint key this node signed for")
        index, sealed = self.index, blobs.get("sealed", b"")
        nxt = (index + 1) % len(HOLDERS)
        seen = {
            "sealed": hashlib.sha256(sealed).hexdigest(),
            "public_key": self._final["public_key"],
        }
        self._check("share", nxt, meta, seen)
        _, opener = self._identity()
        theirs = wire.open_from(sealed, opener, self._info(nxt))
        share = HolderShare(self.node.name, {index: bytes(party.call("keygen_share")), nxt: theirs})
        self.node.install(
            context=context, server_key=server, share=share, decider=self.peers["decider"]
        )
        party.close()
        self._party = None

    def abort(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        """Undo a ceremony that failed elsewhere: the node is free for the next one."""
        with self._lock:
            if self._id is None or meta.get("ceremony") != self._id or self.node.is_set_up():
                raise Conflict("this node serves no such unfinished ceremony")
            if self._party is not None:
                self._party.close()
            self._party, self._id, self._final, self._done = None, None, {}, set()
            self.node.release()
            return {"released": True}
