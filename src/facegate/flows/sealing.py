"""A person's words sealed under their own data key (a guardian's name, a complaint's text),
so that erasing the person (destroying the key) shreds them too."""

from __future__ import annotations

from facegate.core import Core
from facegate.errors import NotFound
from facegate.storage import tables as t
from facegate.templates.hazmat import aead


def _ad(label: str, deployment_id: str, subject_id: str) -> bytes:
    return f"{label}|{deployment_id}|{subject_id}".encode()


def seal_text(
    core: Core, dep: t.Deployment, subject_id: str, data_key: bytes, *, label: str, text: str
) -> bytes:
    return aead.seal(
        data_key, text.encode(), ad=_ad(label, dep.id, subject_id), entropy=core.entropy
    )


def open_text(core: Core, dep: t.Deployment, subject_id: str, label: str, sealed: bytes) -> str:
    """The words, or NotFound once the person's key is destroyed."""
    data_key = core.keyring.data_key(dep, subject_id)
    return aead.open_sealed(data_key, sealed, ad=_ad(label, dep.id, subject_id)).decode()


def try_open_text(
    core: Core, dep: t.Deployment, subject_id: str | None, label: str, sealed: bytes | None
) -> str | None:
    """The words, or None when they were shredded with the person."""
    if sealed is None or subject_id is None:
        return None
    try:
        return open_text(core, dep, subject_id, label, sealed)
    except NotFound:
        return None
