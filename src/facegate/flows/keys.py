"""Key lifecycle: master-key rotation, deployment-key revocation, re-enrollment campaigns.

* **Rotating the master key** (:func:`rotate_master`, then :func:`finish_rotation`) re-wraps
  every deployment key and the ledger's signing key under a new master key, in one
  transaction, while the service keeps running: during the roll every keyring accepts the old
  key for unwrapping (``master.key.previous``, or ``FACEGATE_PREVIOUS_MASTER_KEY``). Finishing
  re-wraps anything made meanwhile under the old key and destroys the old key file, so a
  database backup taken before the rotation can no longer be opened with what remains.
* **Revoking a deployment key** (:func:`revoke_deployment_key`) replaces it: every template of
  the deployment is deleted and becomes useless at once (its transform and data keys are
  gone), each person's data key is replaced, the ledger records why, and the people are asked
  to enroll again (:func:`campaign`). A consent is carried over only if it was given to the
  notice now in force; people whose consent is not carried over are erased, since nothing may
  be held about them without one (CN-PIPL-14), and must consent again.
* **Crypto-shredding** is done by erasure (:mod:`facegate.flows.consents`): the data key
  lives only in the key store, so destroying it there makes every copy of the main database
  useless for that person. :func:`key_status` finds data keys left without a person (an
  interrupted erasure) and :func:`sweep_orphan_keys` destroys them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.core import Core
from facegate.errors import Conflict, InvalidInput, InvalidTemplate
from facegate.keyring import (
    LEDGER_KEY,
    NEXT_SUFFIX,
    PREVIOUS_ENV,
    PREVIOUS_SUFFIX,
    STAGED_SUFFIX,
)
from facegate.ledger.events import Event, Kind
from facegate.storage import tables as t
from facegate.templates import MasterKey
from facegate.templates.hazmat import keys
from facegate.templates.hazmat.master_key import MASTER_KEY_FILENAME
from facegate.transfers.keys import rewrap_export_keys

__all__ = [
    "Campaign",
    "CampaignEntry",
    "DeploymentKeyStatus",
    "KeyRevocation",
    "KeyStatus",
    "MasterRetirement",
    "MasterRotation",
    "finish_rotation",
    "key_status",
    "rotate_master",
    "sweep_orphan_keys",
]

RULES = ("CN-FR-14", "ISO-24745")
NOT_CARRIED = (
    "consent not carried over to the new deployment key: the notice changed after it was given"
)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MasterRotation:
    old_key_id: str
    new_key_id: str
    #: master-wrapped keys re-wrapped now (deployment keys and the ledger key)
    rewrapped: int
    #: already under the new key (a resumed rotation)
    already_current: int
    #: where the new key was installed, when the master key lives in the home
    key_file: str | None
    event_id: str


@dataclass(frozen=True)
class MasterRetirement:
    retired_key_ids: tuple[str, ...]
    rewrapped: int
    files_destroyed: tuple[str, ...]
    event_id: str


@dataclass(frozen=True)
class KeyRevocation:
    deployment_id: str
    old_key_id: str
    new_key_id: str
    reason: str
    templates_revoked: int
    #: the operator's references of the people asked to enroll again (consent carried over)
    to_reenroll: tuple[str, ...]
    #: people erased because their consent was given to an older notice
    consents_not_carried: tuple[str, ...]
    event_id: str


@dataclass(frozen=True)
class CampaignEntry:
    subject_ref: str
    pseudonym: str
    requested_at: datetime
    enrolled: bool


@dataclass(frozen=True)
class Campaign:
    deployment_id: str
    key_id: str
    entries: tuple[CampaignEntry, ...]

    @property
    def pending(self) -> tuple[CampaignEntry, ...]:
        return tuple(e for e in self.entries if not e.enrolled)


@dataclass(frozen=True)
class DeploymentKeyStatus:
    deployment_id: str
    key_id: str
    under_current_master: bool


@dataclass(frozen=True)
class KeyStatus:
    master_key_id: str
    previous_key_ids: tuple[str, ...]
    ledger_key_under_current_master: bool
    deployments: tuple[DeploymentKeyStatus, ...]
    #: data keys in the key store with no person in the main database
    orphan_data_keys: int

    @property
    def rotation_in_progress(self) -> bool:
        return bool(self.previous_key_ids) or not all(
            d.under_current_master for d in self.deployments
        )


# --- master key -------------------------------------------------------------------------------


def _file_mode(core: Core) -> Path | None:
    """The home, when the current master key is its ``master.key`` (not the environment)."""
    home = core.keyring.home
    if core.settings.master_key or home is None:
        return None
    return home if (home / MASTER_KEY_FILENAME).exists() else None


def _key_path(home: Path, suffix: str) -> Path:
    return home / (MASTER_KEY_FILENAME + suffix)


def _rewrap(core: Core, s: Session) -> tuple[int, int]:
    """Re-wrap every master-wrapped key not already under the current master key."""
    kr = core.keyring
    rewrapped = current = 0
    for dep in s.scalars(select(t.Deployment).order_by(t.Deployment.id)):
        context = keys.deployment_key_context(dep.id)
        if kr.opens_with_current(dep.wrapped_key, context=context):
            current += 1
            continue
        key = kr.unwrap_with_master(dep.wrapped_key, context=context)
        if keys.key_id(key) != dep.key_id:
            raise InvalidTemplate()
        dep.wrapped_key = kr.wrap_with_master(key, context=context)
        rewrapped += 1
    row = s.get(t.Meta, LEDGER_KEY)
    if row is not None:
        if kr.opens_with_current(row.value, context=LEDGER_KEY):
            current += 1
        else:
            raw = kr.unwrap_with_master(row.value, context=LEDGER_KEY)
            row.value = kr.wrap_with_master(raw, context=LEDGER_KEY)
            rewrapped += 1
    exports = rewrap_export_keys(core, s)  # the keys of exports made for recipients
    return rewrapped + exports[0], current + exports[1]


def rotate_master(core: Core, new: MasterKey | None = None) -> MasterRotation:
    """Re-wrap every deployment key and the ledger key under a new master key.

    With ``new`` (from a key file or the environment), it becomes the current key: in a
    home whose key is ``master.key`` it is written beside it as ``master.key.next`` first,
    and after the re-wrap ``master.key`` is replaced by it, the old key kept as
    ``master.key.previous`` until :func:`finish_rotation`. Without ``new``, the key the
    process already runs with is current (an operator who keeps the master key in
    ``FACEGATE_MASTER_KEY`` sets the new one there and the old one in
    ``FACEGATE_PREVIOUS_MASTER_KEY``, restarts, then calls this). Safe to run again after an
    interruption.
    """
    kr = core.keyring
    home = _file_mode(core)
    old_id = kr.master_key_id
    key_file: str | None = None
    if new is not None:
        if kr.is_current(new):
            raise Conflict("the new master key is the one already in use")
        if home is not None:
            if _key_path(home, PREVIOUS_SUFFIX).exists():
                raise Conflict(
                    "an earlier master-key rotation is not finished",
                    advice="Run 'facegate keys finish-rotation' first.",
                )
            _stage(home, new)
        kr.use_master(new)
    elif not kr.previous_key_ids:
        raise InvalidInput(
            "no new master key was given and no previous one is configured",
            advice="Give the new key (a key file, or FACEGATE_NEW_MASTER_KEY), or keep the "
            f"master key in FACEGATE_MASTER_KEY and the old one in {PREVIOUS_ENV}.",
        )
    else:
        old_id = kr.previous_key_ids[0]
    now = core.clock()
    with core.db.transaction() as s:
        rewrapped, current = _rewrap(core, s)
        recorded = core.record(
            s,
            Event(
                Kind.MASTER_KEY_ROTATED,
                now,
                rule_ids=RULES,
                details={
                    "old_key_id": old_id,
                    "new_key_id": kr.master_key_id,
                    "rewrapped": rewrapped,
                    "already_current": current,
                },
            ),
        )
    if new is not None and home is not None:
        key_file = str(_promote(home))
    return MasterRotation(
        old_key_id=old_id,
        new_key_id=kr.master_key_id,
        rewrapped=rewrapped,
        already_current=current,
        key_file=key_file,
        event_id=recorded[0].event_id,
    )


def _stage(home: Path, new: MasterKey) -> None:
    path = _key_path(home, NEXT_SUFFIX)
    if path.exists():
        staged = MasterKey.from_file(path)
        if staged != new:  # constant-time comparison
            raise Conflict(
                f"{path} holds another new master key (an interrupted rotation)",
                advice="Resume with that key file, or move it away if it was never used.",
            )
        return
    new.write_file(path)


def _promote(home: Path) -> Path:
    """``master.key`` becomes the new key; the old one stays as ``master.key.previous``.

    A hard link keeps the old key reachable the whole time, and ``os.replace`` swaps the
    new key in atomically, so no process ever finds the home without a master key.
    """
    current, previous = _key_path(home, ""), _key_path(home, PREVIOUS_SUFFIX)
    if not previous.exists():
        os.link(current, previous)
    os.replace(_key_path(home, NEXT_SUFFIX), current)
    return current


def finish_rotation(core: Core) -> MasterRetirement:
    """End the roll: re-wrap what was made meanwhile under the old key, check that the
    current key alone opens everything, then destroy the old key (file and memory)."""
    kr = core.keyring
    home = _file_mode(core) or kr.home
    files = [
        p
        for p in ((_key_path(home, PREVIOUS_SUFFIX), _key_path(home, NEXT_SUFFIX)) if home else ())
        if p.exists()
    ]
    if not kr.previous_key_ids and not files:
        raise Conflict("no master-key rotation is in progress")
    now = core.clock()
    with core.db.transaction() as s:
        rewrapped, _ = _rewrap(core, s)
        for dep in s.scalars(select(t.Deployment)):
            context = keys.deployment_key_context(dep.id)
            if not kr.opens_with_current(dep.wrapped_key, context=context):
                raise Conflict(f"deployment {dep.id}'s key does not open with the current key")
        retired = tuple(k for k in kr.previous_key_ids if k != kr.master_key_id)
        recorded = core.record(
            s,
            Event(
                Kind.MASTER_KEY_RETIRED,
                now,
                rule_ids=RULES,
                details={
                    "retired_key_ids": list(retired),
                    "current_key_id": kr.master_key_id,
                    "rewrapped": rewrapped,
                },
            ),
        )
    destroyed = tuple(str(p) for p in files if _destroy_file(p, keep_id=kr.master_key_id))
    kr.forget_previous()
    return MasterRetirement(
        retired_key_ids=retired,
        rewrapped=rewrapped,
        files_destroyed=destroyed,
        event_id=recorded[0].event_id,
    )


def _destroy_file(path: Path, *, keep_id: str) -> bool:
    """Overwrite a retired key file, then remove it (never the current key's file)."""
    with contextlib.suppress(Exception):
        if MasterKey.from_file(path).key_id == keep_id:
            return False
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    return True


# --- status and leftovers -------------------------------------------------------------------


#: a key this young may belong to a consent still being committed: not an orphan yet
ORPHAN_AFTER = timedelta(minutes=10)


def _orphans(core: Core, s: Session) -> list[str]:
    ids = core.keyring.keystore.ids_created_before(core.clock() - ORPHAN_AFTER)
    known = set(s.scalars(select(t.Subject.id)))
    return sorted(sid for sid in ids if sid.removesuffix(STAGED_SUFFIX) not in known)


def key_status(core: Core) -> KeyStatus:
    kr = core.keyring
    with core.db.read() as s:
        deps = tuple(
            DeploymentKeyStatus(
                deployment_id=d.id,
                key_id=d.key_id,
                under_current_master=kr.opens_with_current(
                    d.wrapped_key, context=keys.deployment_key_context(d.id)
                ),
            )
            for d in s.scalars(select(t.Deployment).order_by(t.Deployment.created_at))
        )
        ledger = s.get(t.Meta, LEDGER_KEY)
        orphans = _orphans(core, s)
    return KeyStatus(
        master_key_id=kr.master_key_id,
        previous_key_ids=kr.previous_key_ids,
        ledger_key_under_current_master=ledger is None
        or kr.opens_with_current(ledger.value, context=LEDGER_KEY),
        deployments=deps,
        orphan_data_keys=len(orphans),
    )


def sweep_orphan_keys(core: Core) -> int:
    """Destroy data keys whose person is gone from the main database (an erasure that
    stopped between its commit and the key store), and ledger the sweep; returns how many.
    ``serve`` runs it at start, so that the key store and the database agree after a crash."""
    with core.db.read() as s:
        orphans = _orphans(core, s)
    destroy_keys(core, orphans)
    if orphans:
        with core.db.transaction() as s:
            core.record(
                s,
                Event(
                    Kind.KEYS_SWEPT,
                    core.clock(),
                    details={
                        "keys_destroyed": len(orphans),
                        "why": "erasures interrupted between their commit and the key store",
                    },
                ),
            )
    return len(orphans)


def destroy_keys(core: Core, subject_ids: Iterable[str]) -> None:
    ids = list(subject_ids)
    if ids:
        core.keyring.swap_data_keys({}, destroy=ids)
