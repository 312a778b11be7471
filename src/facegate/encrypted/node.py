"""A key holder or decision holder node: its folder, and the HTTP service it runs.

A node's folder (mode 0700) holds ``node.json`` (its role and name), ``node.key`` (its own
master key, passphrase-protected when ``FACEGATE_NODE_PASSPHRASE`` is set at ``node-init``),
and, once ``facegate encrypted setup`` has run, the OpenFHE context, the server's Ed25519
verify key, and for a key holder its two key shares sealed under its node key and the
decision holder's public keys (``decider.pub``: the Ed25519 key its requests are signed
with, the X25519 key decryption shares are sealed to; both derived from its node key).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from facegate.encrypted import node_key
from facegate.encrypted.files import private_dir, read_file
from facegate.encrypted.node_key import PASSPHRASE_ENV
from facegate.errors import ConfigError, Conflict, InvalidInput
from facegate.storage.home import create_private_file, write_atomically
from facegate.templates.hazmat import keys
from facegate.templates.he.ceremony import HOLDERS, HolderShare, PublicMaterial

__all__ = [
    "PASSPHRASE_ENV",
    "NodeHome",
    "NodeMaterial",
    "identity_text",
    "parse_identity",
    "public_bytes",
]

ROLES: Final = ("holder", "decider")
_NODE: Final = "node.json"
_KEY: Final = "node.key"
_SHARE: Final = "share.sealed"
_CONTEXT: Final = "context.bin"
_SERVER: Final = "server.pub"
_DECIDER: Final = "decider.pub"
_CLAIM: Final = "ceremony.claim"
_DECIDER_BYTES: Final = 64

_IDENTITY_PREFIX: Final = "fgnode1:"

Role = Literal["holder", "decider"]


def public_bytes(signing: Ed25519PrivateKey, sealing: X25519PrivateKey) -> bytes:
    """A node's identity: its Ed25519 and X25519 public keys, 64 bytes."""
    return signing.public_key().public_bytes_raw() + sealing.public_key().public_bytes_raw()


def identity_text(public: bytes) -> str:
    """A node's public keys as one line to hand the other sites (``node-init`` prints it)."""
    return _IDENTITY_PREFIX + base64.urlsafe_b64encode(public).decode().rstrip("=")


def parse_identity(text: str, who: str) -> bytes:
    body = text.strip().removeprefix(_IDENTITY_PREFIX)
    try:
        public = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        public = b""
    if not text.strip().startswith(_IDENTITY_PREFIX) or len(public) != _DECIDER_BYTES:
        raise InvalidInput(
            f"{who}'s identity must be the {_IDENTITY_PREFIX}... line its node-init printed"
        )
    return public


@dataclass(frozen=True)
class NodeHome:
    path: Path
    role: Role
    name: str

    @classmethod
    def init(cls, path: Path, *, role: str, name: str, hsm: bool = False) -> NodeHome:
        """A new node folder with its own key; an existing node is never overwritten."""
        if role not in ROLES:
            raise InvalidInput(f"a node's role is one of {', '.join(ROLES)}, not {role!r}")
        if role == "holder" and name not in HOLDERS:
            raise InvalidInput(f"a key holder is one of {', '.join(HOLDERS)}, not {name!r}")
        if role == "decider" and name != "decider":
            raise InvalidInput("the decision holder node is named 'decider'")
        path = Path(path).expanduser()
        if (path / _NODE).exists():
            raise Conflict(f"{path} already holds a {role} node", advice="Use another folder.")
        private_dir(path)
        node_key.create(path / _KEY, role=role, name=name, hsm=hsm)
        write_atomically(path / _NODE, json.dumps({"role": role, "name": name}).encode())
        return cls(path, role, name)  # type: ignore[arg-type]

    @classmethod
    def open(cls, path: Path) -> NodeHome:
        path = Path(path).expanduser()
        try:
            data = json.loads(read_file(path / _NODE, "the node's description"))
            role, name = data["role"], data["name"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path / _NODE} is not a facegate node description") from None
        if role not in ROLES:
            raise ConfigError(f"{path / _NODE} names an unknown role {role!r}")
        return cls(path, role, str(name))

    def claim(self) -> None:
        """Take this node for one ceremony, atomically (a file created exclusively): a node
        serves one deployment's ceremony, and a second would overwrite the first's shares."""
        try:
            create_private_file(self.path / _CLAIM)
        except FileExistsError:
            raise Conflict(
                f"the {self.name} node in {self.path} already serves a key ceremony",
                advice="Each deployment needs its own four node folders: make new ones with "
                "'facegate encrypted node-init'.",
            ) from None

    def release(self) -> None:
        """Undo :meth:`claim` and anything installed since (a ceremony that failed)."""
        for name in (_SHARE, _DECIDER, _CONTEXT, _SERVER, _CLAIM):
            (self.path / name).unlink(missing_ok=True)

    def _kek(self) -> bytes:
        return node_key.load(self.path / _KEY, role=self.role, name=self.name)

    def key_protection(self) -> str:
        """``hsm``, ``passphrase`` or ``clear``: what a stolen copy of this folder lacks."""
        return node_key.protection(self.path / _KEY)

    def identity(self) -> tuple[Ed25519PrivateKey, X25519PrivateKey]:
        """The node's signing key and the key others seal to it with, both derived from its
        node key. The decision holder signs its requests for decryption shares (key holders
        answer it alone) and receives them sealed; key holders sign their steps of a key
        ceremony at the nodes and receive each other's key shares sealed."""
        kek = self._kek()
        return (
            Ed25519PrivateKey.from_private_bytes(keys.derive(kek, label=f"he-{self.role}-signing")),
            X25519PrivateKey.from_private_bytes(keys.derive(kek, label=f"he-{self.role}-sealing")),
        )

    def identity_public(self) -> bytes:
        return public_bytes(*self.identity())

    def is_set_up(self) -> bool:
        return (self.path / _CONTEXT).exists()

    def install(
        self,
        *,
        context: bytes,
        server_key: bytes,
        share: HolderShare | None,
        decider: bytes = b"",
    ) -> None:
        """What the ceremony hands this node: public parts (for a key holder, the decision
        holder's public keys too), and a holder's sealed shares."""
        if self.role == "holder" and len(decider) != _DECIDER_BYTES:
            raise InvalidInput("a key holder node needs the decision holder's public keys")
        if self.role == "holder" and share is None:
            raise InvalidInput(f"the {self.name} key holder node needs its key shares")
        if self.role == "decider" and share is not None:
            raise InvalidInput("the decision holder node takes no key share")
        if share is not None:
            if share.holder != self.name:
                raise InvalidInput(
                    f"these are the {share.holder} holder's shares, not {self.name}'s"
                )
            write_atomically(self.path / _SHARE, share.seal(self._kek()))
            write_atomically(self.path / _DECIDER, decider)
        write_atomically(self.path / _CONTEXT, context)
        write_atomically(self.path / _SERVER, server_key)

    def material(self) -> NodeMaterial:
        """What the node serves with; a missing part is a ConfigError naming it."""
        context = read_file(self.path / _CONTEXT, "the node's OpenFHE context")
        server = read_file(self.path / _SERVER, "the server's verify key")
        share, decider = None, b""
        if self.role == "holder":
            sealed = read_file(self.path / _SHARE, "the holder's sealed key shares")
            share = HolderShare.open(sealed, self._kek())
            decider = read_file(self.path / _DECIDER, "the decision holder's public keys")
        return NodeMaterial(PublicMaterial(context, b"", b"", b""), server, share, decider)


@dataclass(frozen=True)
class NodeMaterial:
    #: the OpenFHE context (no key of any kind)
    public: PublicMaterial
    #: the server's Ed25519 verify key: every message it sends is signed
    server: bytes
    #: a key holder's two key shares
    share: HolderShare | None
    #: a key holder's copy of the decision holder's Ed25519 and X25519 public keys
    decider: bytes


class Pending:
    """What waits for the server's answers, bounded (oldest forgotten first)."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def put(self, key: tuple[str, int], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def pop(self, key: tuple[str, int]) -> Any:
        with self._lock:
            return self._items.pop(key, None)
