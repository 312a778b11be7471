"""A node's own key (``node.key``): what seals its key shares and derives its identity.

Three ways to hold it, as for the master key: a key file in clear, the same under
``FACEGATE_NODE_PASSPHRASE`` (scrypt), or, with ``node-init --hsm``, a random key wrapped
inside a PKCS#11 token (``FACEGATE_HSM__MODULE``, ``__TOKEN``, ``__PIN``, ``__LABEL``, as
:mod:`facegate.hsm`): then a copy of the node's folder opens nothing without the token. The
key is unwrapped into the node's memory while it serves, as it must be: OpenFHE's key shares
cannot be used inside a token.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from facegate._internal.clock import system_entropy
from facegate.errors import ConfigError, InvalidTemplate
from facegate.storage.home import create_private_file, write_atomically
from facegate.templates.hazmat.master_key import MasterKey

if TYPE_CHECKING:
    from facegate.config import HsmSettings

__all__ = ["PASSPHRASE_ENV", "create", "load", "protection"]

PASSPHRASE_ENV: Final = "FACEGATE_NODE_PASSPHRASE"
_HSM_KIND: Final = "facegate-node-key-hsm"


def _context(role: str, name: str) -> str:
    return f"he-node-key/{role}/{name}"


def _hsm_settings(token: str | None = None, label: str | None = None) -> HsmSettings:
    from facegate.config import Settings

    settings = Settings().hsm
    if settings.module is None:
        raise ConfigError(
            "this node's key is kept in an HSM, and FACEGATE_HSM__MODULE is not set"
            if token
            else "node-init --hsm needs the token: FACEGATE_HSM__MODULE is not set",
            advice="Set FACEGATE_HSM__MODULE (the PKCS#11 library), __TOKEN, __PIN and "
            "__LABEL (the token's AES key that wraps node keys).",
        )
    update = {k: v for k, v in (("token", token), ("label", label)) if v is not None}
    return settings.model_copy(update=update)


def create(path: Path, *, role: str, name: str, hsm: bool) -> None:
    if not hsm:
        MasterKey.create_file(path, passphrase=os.environ.get(PASSPHRASE_ENV) or None)
        return
    from facegate.hsm import open_hsm

    settings = _hsm_settings()
    master, _ = open_hsm(settings, create=True)
    wrapped = master.wrap(system_entropy(32), context=_context(role, name), entropy=system_entropy)
    doc = {
        "kind": _HSM_KIND,
        "version": 1,
        "token": settings.token,
        "label": settings.label,
        "wrapped": base64.b64encode(wrapped).decode(),
    }
    create_private_file(path)
    write_atomically(path, json.dumps(doc).encode())


def _read(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"the node key {path} is missing",
            advice="Restore node.key from the node's backup; a new one opens none of its shares.",
        ) from None
    except ValueError:
        return None


def _hsm_doc(doc: object) -> dict[str, object] | None:
    return doc if isinstance(doc, dict) and doc.get("kind") == _HSM_KIND else None


def load(path: Path, *, role: str, name: str) -> bytes:
    doc = _hsm_doc(_read(path))
    if doc is None:
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
        try:
            return MasterKey.load(path, passphrase=passphrase).key
        except (ConfigError, InvalidTemplate) as err:
            if protection(path) != "passphrase":
                raise
            said = "is not the one" if passphrase else "is not set"
            raise ConfigError(
                f"the node key {path} is protected by a passphrase, and {PASSPHRASE_ENV} {said}",
                advice=f"Set {PASSPHRASE_ENV} to the passphrase it had at node-init.",
            ) from err
    from facegate.hsm import open_hsm

    master, _ = open_hsm(_hsm_settings(str(doc["token"]), str(doc["label"])), create=False)
    try:
        return master.unwrap(base64.b64decode(str(doc["wrapped"])), context=_context(role, name))
    except (InvalidTemplate, binascii.Error, ValueError):
        raise ConfigError(
            f"the HSM key {doc['label']!r} does not open the node key {path}",
            advice="This node's key was wrapped by another token or key; use that one.",
        ) from None


def protection(path: Path) -> str:
    """How the node key is held: ``hsm``, ``passphrase`` or ``clear``."""
    doc = _read(path)
    if _hsm_doc(doc) is not None:
        return "hsm"
    return "clear" if isinstance(doc, dict) and doc.get("protection") == "none" else "passphrase"
