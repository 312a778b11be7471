"""A deployment's threshold encrypted verification: the key ceremony, and what the server
keeps of it (``HOME/encrypted/DEPLOYMENT/``).

The server keeps the public material (OpenFHE context, joint public key, evaluation keys:
about 90 MB, none of it secret), its Ed25519 signing key wrapped under the master key, and
the decision holder's URL. Each key holder node gets its two key shares sealed under its own
node key; the decision holder node gets the context and the server's verify key; no file
anywhere holds more than one holder's shares. Two ways to make them: :func:`set_up_at_nodes`
(the holders make their own shares; this host never sees one) and :func:`set_up` (node
folders on this host: the three shares pass through one process once, for trials).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from facegate.actors import Actor
from facegate.core import Core
from facegate.encrypted.blocks import GalleryBlocks
from facegate.encrypted.files import private_dir, read_file
from facegate.encrypted.node import NodeHome
from facegate.encrypted.remote import RemoteDecider
from facegate.encrypted.sites import ceremony_at_nodes
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.enforce import require
from facegate.ledger.events import Event, Kind
from facegate.storage.home import write_atomically
from facegate.templates.he.ceremony import HOLDERS, PublicMaterial, ThresholdSetup
from facegate.templates.he.parties import DEFAULT_THRESHOLD, checked_threshold
from facegate.templates.he.threshold import ThresholdVerifier

__all__ = ["AT_NODES", "MODE", "ONE_HOST", "EncryptedSetup", "set_up", "set_up_at_nodes"]

MODE: Final = "he-bfv-threshold 2-of-3"
#: where a ceremony's key shares were made (setup.json's and the ledger's ``made_at``)
AT_NODES: Final = "at the key holders' nodes"
ONE_HOST: Final = "on one host"
_PARTS: Final = ("context", "public_key", "eval_mult", "eval_sum")
_lock = threading.Lock()


def _folder(core: Core, deployment_id: str) -> Path:
    return core.settings.home.expanduser() / "encrypted" / deployment_id


def _context(deployment_id: str) -> str:
    return f"he-server-signing/{deployment_id}"


@dataclass(frozen=True)
class EncryptedSetup:
    deployment_id: str
    decider: str
    threshold: float
    #: SHA-256 of the joint public key: which ceremony a template was encrypted for
    ceremony: str
    #: where the key shares were made: at the key holders' nodes, or on one host
    made_at: str = ONE_HOST
    #: how each node's key is held (hsm, passphrase, clear), as the nodes said at setup
    node_keys: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, core: Core, deployment_id: str) -> EncryptedSetup:
        path = _folder(core, deployment_id) / "setup.json"
        if not path.exists():
            raise NotFound(
                f"deployment {deployment_id!r} has no encrypted verification set up",
                advice="Run 'facegate encrypted setup' with the key holders and the decision "
                "holder first (docs/template-protection.md).",
            )
        data = json.loads(read_file(path, "the encrypted verification setup"))
        return cls(
            deployment_id,
            data["decider"],
            float(data["threshold"]),
            data["ceremony"],
            data.get("made_at", ONE_HOST),
            tuple((str(k), str(v)) for k, v in (data.get("node_keys") or {}).items()),
        )

    def public_key(self, core: Core) -> tuple[bytes, bytes]:
        """The context and joint public key: what a capture device needs to encrypt."""
        folder = _folder(core, self.deployment_id)
        return read_file(folder / "context", "the context"), read_file(
            folder / "public_key", "the joint public key"
        )

    def verifier(self, core: Core) -> ThresholdVerifier:
        """The server's party for this deployment, started once per process."""
        key = f"he-verifier/{self.deployment_id}/{self.ceremony}"
        with _lock:
            found = core.parties.get(key)
            if found is None:
                folder = _folder(core, self.deployment_id)
                public = PublicMaterial(*(read_file(folder / p, p) for p in _PARTS))
                raw = core.keyring.unwrap_with_master(
                    read_file(folder / "server.key", "the server's signing key"),
                    context=_context(self.deployment_id),
                )
                signer = Ed25519PrivateKey.from_private_bytes(raw)
                found = ThresholdVerifier(public, threshold=self.threshold, signer=signer)
                core.parties[key] = found
            return found

    def blocks(self, core: Core) -> GalleryBlocks:
        """This deployment's packed gallery blocks, kept while this process runs."""
        verifier = self.verifier(core)
        key = f"he-blocks/{self.deployment_id}/{self.ceremony}"
        with _lock:
            found = core.parties.get(key)
            if found is None:
                found = core.parties[key] = GalleryBlocks(verifier)
            return found

    def decider_client(self, core: Core) -> RemoteDecider:
        key = f"he-decider/{self.deployment_id}/{self.decider}"
        with _lock:
            found = core.parties.get(key)
            if found is None:
                found = core.parties[key] = RemoteDecider(self.decider)
            return found


def set_up(
    core: Core,
    actor: Actor,
    deployment_id: str,
    *,
    decider_url: str,
    holders: Mapping[str, Path],
    decider_node: Path,
    threshold: float = DEFAULT_THRESHOLD,
) -> EncryptedSetup:
    """Run the ceremony on this host for the node folders given, hand each node its part, and
    ledger it. The three shares pass through this process once: for a deployment whose API
    host must never see them, :func:`set_up_at_nodes`. A refusal changes nothing."""
    operator_id = _admitted(core, actor, deployment_id, decider_url, threshold)
    nodes, decider = _nodes(holders, decider_node)
    identity = decider.identity_public()  # its node key opens, or this refuses before all
    folder = _claim(core, deployment_id)
    taken: list[NodeHome] = []
    try:
        for node in (*nodes.values(), decider):
            node.claim()
            taken.append(node)
        setup = ThresholdSetup.ceremony()
        signer = Ed25519PrivateKey.generate()
        server_key = signer.public_key().public_bytes_raw()
        for share in setup.shares:
            nodes[share.holder].install(
                context=setup.public.context, server_key=server_key, share=share, decider=identity
            )
        decider.install(context=setup.public.context, server_key=server_key, share=None)
        kept = {node.name: node.key_protection() for node in (*nodes.values(), decider)}
        about = {"made_at": ONE_HOST, "node_keys": kept}
        done = _keep(core, folder, setup.public, signer, decider_url, threshold, about)
    except BaseException:  # nothing half made stays: the nodes and the folder are free again
        for node in taken:
            node.release()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _ledger(core, actor, operator_id, done, {})
    return done


def set_up_at_nodes(
    core: Core,
    actor: Actor,
    deployment_id: str,
    *,
    decider_url: str,
    holder_urls: Mapping[str, str],
    threshold: float = DEFAULT_THRESHOLD,
) -> EncryptedSetup:
    """Run the ceremony at the nodes (each key holder makes its share, which leaves it only
    sealed to the other holder that keeps it; :mod:`facegate.encrypted.maker`): this host
    never sees a share. Key holder nodes must be serving, started with each other's and the
    decision holder's identities."""
    operator_id = _admitted(core, actor, deployment_id, decider_url, threshold)
    if sorted(holder_urls) != sorted(HOLDERS):
        raise InvalidInput(f"the key holders are exactly {', '.join(HOLDERS)}")
    for name, url in holder_urls.items():
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"the {name} holder's URL must be http(s), not {url!r}")
    folder = _claim(core, deployment_id)
    try:
        signer = Ed25519PrivateKey.generate()
        server_key = signer.public_key().public_bytes_raw()
        made = ceremony_at_nodes(deployment_id, holder_urls, decider_url, server_key)
        about = {"made_at": AT_NODES, "node_keys": made.node_keys}
        done = _keep(core, folder, made.public, signer, decider_url, threshold, about)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _ledger(core, actor, operator_id, done, {"identities": made.identities})
    return done


def _admitted(
    core: Core, actor: Actor, deployment_id: str, decider_url: str, threshold: float
) -> str:
    require(actor, "manage_deployments", "set up encrypted verification")
    checked_threshold(threshold)
    with core.db.read() as s:
        operator_id = core.deployment(s, deployment_id, actor.operator_id).operator_id
    if not decider_url.startswith(("http://", "https://")):
        raise InvalidInput(f"the decision holder's URL must be http(s), not {decider_url!r}")
    return operator_id


def _ledger(
    core: Core, actor: Actor, operator_id: str, done: EncryptedSetup, extra: dict[str, Any]
) -> None:
    details = {
        "scheme": MODE,
        "ceremony": done.ceremony,
        "made_at": done.made_at,
        "node_keys": dict(done.node_keys),
        "holders": list(HOLDERS),
        "decider": done.decider,
        "distance_threshold": done.threshold,
        **extra,
    }
    event = Event(
        Kind.ENCRYPTION_SET_UP,
        core.clock(),
        operator=operator_id,
        deployment=done.deployment_id,
        by=actor.principal_id,
        details=details,
    )
    core.record_alone(event)


def _claim(core: Core, deployment_id: str) -> Path:
    """The deployment's folder, made exclusively: of two setups at once, one goes on."""
    folder = _folder(core, deployment_id)
    private_dir(folder.parent)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        if (folder / "setup.json").exists():
            raise Conflict(
                f"deployment {deployment_id!r} already has encrypted verification",
                advice="Its key ceremony is in the ledger (encrypted.setup). A new one would "
                "leave every template enrolled under it unreadable: use a new deployment.",
            ) from None
        raise Conflict(
            f"a setup of deployment {deployment_id!r} is under way, or one was interrupted",
            advice=f"If no 'facegate encrypted setup' runs, remove {folder} and run it again.",
        ) from None
    return folder


def _nodes(holders: Mapping[str, Path], decider_node: Path) -> tuple[dict[str, NodeHome], NodeHome]:
    if sorted(holders) != sorted(HOLDERS):
        raise InvalidInput(f"the key holders are exactly {', '.join(HOLDERS)}")
    nodes = {name: NodeHome.open(path) for name, path in holders.items()}
    for name, node in nodes.items():
        if node.role != "holder" or node.name != name:
            raise InvalidInput(f"{node.path} is the {node.name} {node.role} node, not {name}'s")
    decider = NodeHome.open(decider_node)
    if decider.role != "decider":
        raise InvalidInput(f"{decider.path} is not a decision holder node")
    return nodes, decider


def _keep(  # noqa: PLR0917 - one private step of set_up
    core: Core,
    folder: Path,
    public: PublicMaterial,
    signer: Ed25519PrivateKey,
    decider_url: str,
    threshold: float,
    made: dict[str, Any],
) -> EncryptedSetup:
    deployment_id = folder.name
    for part in _PARTS:
        write_atomically(folder / part, getattr(public, part))
    wrapped = core.keyring.wrap_with_master(
        signer.private_bytes_raw(), context=_context(deployment_id)
    )
    write_atomically(folder / "server.key", wrapped)
    about: dict[str, Any] = {
        "mode": MODE,
        "decider": decider_url,
        "threshold": threshold,
        "ceremony": hashlib.sha256(public.public_key).hexdigest(),
        **made,
    }
    write_atomically(folder / "setup.json", json.dumps(about).encode())  # last: the setup exists
    return EncryptedSetup.load(core, deployment_id)
