"""Making the rows of an export: each person's templates re-protected under the export's key,
with ids only that export uses, and its canaries among them, in an order the key fixes.

Everything biometric here lives in memory for the length of one call: the opened templates,
the embedding estimates (inside :func:`facegate.transfers.reprotect.reprotect`), the rows.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import numpy as np
from sqlalchemy import select

from facegate.core import Core
from facegate.errors import Conflict
from facegate.storage import tables as t
from facegate.templates import get_scheme
from facegate.templates.hazmat import keys
from facegate.transfers.canaries import canary_count, canary_embeddings, canary_ids, row_id
from facegate.transfers.reprotect import ExportKeys, reprotect, transform_of

__all__ = ["export_rows"]


def export_rows(
    core: Core, dep: t.Deployment, people: Sequence[tuple[str, str]], ek: ExportKeys
) -> tuple[list[tuple[str, bytes]], int]:
    """The rows (id, re-protected template) of ``people`` (subject id, pseudonym) and the
    number of canaries among them."""
    scheme = get_scheme(dep.scheme)
    protector = core.keyring.protector(dep)
    now = core.clock()
    subject_ids = [sid for sid, _ in people]
    pseudonym = dict(people)
    with core.db.read() as s:
        stored = s.execute(
            select(t.Template.id, t.Template.subject_id, t.Template.sealed).where(
                t.Template.subject_id.in_(subject_ids), t.Template.expires_at > now
            )
        ).all()
    data_keys = core.keyring.data_keys(dep, subject_ids)
    missing = sorted({sid for sid in subject_ids} - set(data_keys))
    if missing:
        raise Conflict(f"{len(missing)} of these people were erased meanwhile; start again")
    opened = protector.open_many(
        [(sealed, sid, tid, data_keys[sid]) for tid, sid, sealed in stored]
    )
    matrix = np.frombuffer(b"".join(opened), dtype=np.uint8).reshape(len(opened), -1)
    seed = keys.derive(protector.deployment_key, label=keys.TEMPLATE_TRANSFORM)
    made = reprotect(scheme, seed, matrix, ek.transform_seed)
    rows = [
        (row_id(ek.id_key, pseudonym[sid]), bytes(made[i])) for i, (_, sid, _) in enumerate(stored)
    ]
    count = canary_count(len(people))
    planted = transform_of(scheme, ek.transform_seed).protect_many(
        canary_embeddings(ek.canary_seed, count)
    )
    rows += [(rid, bytes(planted[i])) for i, rid in enumerate(canary_ids(ek.id_key, count))]
    rows.sort(key=lambda r: hmac.new(ek.id_key, b"order|" + r[1], hashlib.sha256).digest())
    return rows, count
