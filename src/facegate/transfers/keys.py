"""Export keys: one fresh key per export, kept wrapped by the master key.

The key re-protects the export's templates, names its rows and draws its canaries
(:class:`facegate.transfers.reprotect.ExportKeys`); the recipient receives only the transform
seed derived from it. The operator keeps it wrapped to trace leaked copies and watch for
canaries, also after the recipient is revoked. A master-key rotation re-wraps these keys
with the others (:func:`rewrap_export_keys`, called by ``flows.keys``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.core import Core
from facegate.errors import InvalidTemplate
from facegate.storage import tables as t
from facegate.templates.hazmat import keys

__all__ = ["export_key_context", "new_export_key", "open_export_key", "rewrap_export_keys"]


def export_key_context(export_id: str) -> str:
    if not export_id or "|" in export_id:
        raise ValueError(f"an export id is non-empty and has no '|', got {export_id!r}")
    return f"transfer-export-key|{export_id}"


def new_export_key(core: Core, export_id: str) -> tuple[bytes, bytes]:
    """A fresh export key and its master-wrapped form (the only one to store)."""
    key = keys.new_key(core.entropy)
    return key, core.keyring.wrap_with_master(key, context=export_key_context(export_id))


def open_export_key(core: Core, row: t.TransferExport) -> bytes:
    """The export's key; :class:`InvalidTemplate` if the stored one is not this export's."""
    key = core.keyring.unwrap_with_master(row.wrapped_key, context=export_key_context(row.id))
    if keys.key_id(key) != row.key_id:
        raise InvalidTemplate()
    return key


def rewrap_export_keys(core: Core, s: Session) -> tuple[int, int]:
    """Re-wrap every export key not under the current master key: (re-wrapped, current)."""
    kr = core.keyring
    rewrapped = current = 0
    for row in s.scalars(select(t.TransferExport).order_by(t.TransferExport.id)):
        context = export_key_context(row.id)
        if kr.opens_with_current(row.wrapped_key, context=context):
            current += 1
            continue
        row.wrapped_key = kr.wrap_with_master(open_export_key(core, row), context=context)
        rewrapped += 1
    return rewrapped, current
