"""The installation's keys, in memory only while the process runs.

The master key (environment or a 0600 file, never the database) unwraps each deployment's
key; a deployment's :class:`TemplateProtector` unwraps per-subject data keys, which live
wrapped in the separate key store (``keys.db``). The ledger's Ed25519 signing key is kept
wrapped by the master key in the main database.

During a master-key rotation (:mod:`facegate.flows.keys`) the keyring holds the new key as
*current* (it wraps everything new) and the old one as *previous* (accepted for unwrapping
only): ``master.key.previous`` in the home, or ``FACEGATE_PREVIOUS_MASTER_KEY``. A process
that started before the rotation re-reads the key files in the home when a wrapped key no
longer opens, so the roll needs no restart.
"""

from __future__ import annotations

import contextlib
import hmac
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select

from facegate._internal.clock import Entropy
from facegate.errors import ConfigError, InvalidTemplate, NotFound
from facegate.masters import key_files, open_masters, unwrap_with
from facegate.storage import tables as t
from facegate.storage.db import Database
from facegate.storage.keystore import KeyStore, KeyStorePlace
from facegate.templates import MasterKey, TemplateProtector, TemplateScheme, get_scheme
from facegate.templates.hazmat import aead, keys

if TYPE_CHECKING:
    from facegate.config import HsmSettings, Settings
    from facegate.hsm import HsmMaster

__all__ = [
    "LEDGER_KEY",
    "NEXT_SUFFIX",
    "PREVIOUS_ENV",
    "PREVIOUS_SUFFIX",
    "STAGED_SUFFIX",
    "Keyring",
]

#: the meta row (and wrap context) of the ledger's signing key
LEDGER_KEY: Final = "ledger_signing_key"
#: key files beside ``master.key`` during a rotation
PREVIOUS_SUFFIX: Final = ".previous"
NEXT_SUFFIX: Final = ".next"
#: the old master key, when it comes from the environment
PREVIOUS_ENV: Final = "FACEGATE_PREVIOUS_MASTER_KEY"
#: a data key written ahead of a deployment-key revocation sits under ``<subject id>~``
STAGED_SUFFIX: Final = "~"


class Keyring:
    def __init__(
        self,
        master: MasterKey | HsmMaster,
        keystore: KeyStore,
        *,
        entropy: Entropy,
        previous: Sequence[MasterKey | HsmMaster] = (),
        home: Path | None = None,
        keystore_db: Database | None = None,
    ) -> None:
        self._master = master
        self._previous = tuple(p for p in previous if p != master)
        self.keystore = keystore
        self._keystore_db = keystore_db
        self._home = home
        self._entropy = entropy
        self._protectors: dict[str, TemplateProtector] = {}
        self._lock = threading.RLock()
        #: where the key store is (set by :meth:`open`)
        self.keystore_place: KeyStorePlace | None = None

    @classmethod
    def open(
        cls,
        home: Path,
        *,
        env_value: str | None,
        entropy: Entropy,
        previous_env_value: str | None = None,
        create: bool = False,
        place: KeyStorePlace | None = None,
        hsm: HsmSettings | None = None,
    ) -> Keyring:
        """The keyring of the installation in ``home``.

        The master key and the key store must exist unless ``create`` (a new installation,
        see :mod:`facegate.storage.home`): a missing or damaged one is a
        :class:`ConfigError`, never replaced by a new, empty one. The old master key of a
        rotation in progress is read from ``master.key.previous`` and from
        ``previous_env_value`` (default: ``$FACEGATE_PREVIOUS_MASTER_KEY``). ``place`` is
        where the key store is (default ``keys.db`` in the home); with ``hsm`` (its module
        set) the master key is the HSM's and never leaves it (:mod:`facegate.hsm`).
        """
        from facegate.storage.home import KEYSTORE_FILE
        from facegate.storage.keystore import open_place

        master, previous = open_masters(
            home,
            env_value=env_value,
            previous_env_value=previous_env_value,
            previous_env=PREVIOUS_ENV,
            suffixes=(PREVIOUS_SUFFIX, NEXT_SUFFIX),
            hsm=hsm,
            entropy=entropy,
            create=create,
        )
        place = place or KeyStorePlace(f"sqlite:///{home / KEYSTORE_FILE}")
        db = open_place(place, create=create)
        keyring = cls(
            master, KeyStore(db), entropy=entropy, previous=previous, home=home, keystore_db=db
        )
        keyring.keystore_place = place
        return keyring

    @classmethod
    def for_settings(
        cls, home: Path, settings: Settings, place: KeyStorePlace, *, entropy: Entropy, create: bool
    ) -> Keyring:
        """:meth:`open` with the master key and key store the settings name."""
        return cls.open(
            home,
            env_value=settings.master_key,
            entropy=entropy,
            create=create,
            place=place,
            hsm=settings.hsm,
        )

    def close(self) -> None:
        self.keystore.close()

    # --- master keys ---

    @property
    def master_key_id(self) -> str:
        return self._master.key_id

    @property
    def previous_key_ids(self) -> tuple[str, ...]:
        return tuple(p.key_id for p in self._previous)

    @property
    def home(self) -> Path | None:
        return self._home

    def _masters(self) -> Iterator[MasterKey | HsmMaster]:
        yield self._master
        yield from self._previous

    def unwrap_with_master(self, blob: bytes, *, context: str) -> bytes:
        """Open a master-wrapped key with the current or a previous master key.

        If none opens it, the key files in the home are read again (another process may
        have rotated the master key) before giving up with :class:`InvalidTemplate`.
        """
        for attempt in range(2):
            for master in self._masters():
                with contextlib.suppress(InvalidTemplate):
                    return unwrap_with(master, blob, context)
            if attempt == 0 and not self._reload():
                break
        raise InvalidTemplate()

    def opens_with_current(self, blob: bytes, *, context: str) -> bool:
        """Whether the current master key alone opens ``blob`` (rotation bookkeeping)."""
        try:
            unwrap_with(self._master, blob, context)
        except InvalidTemplate:
            return False
        return True

    def wrap_with_master(self, key: bytes, *, context: str) -> bytes:
        if isinstance(self._master, MasterKey):
            return keys.wrap_key(self._master.key, key, context=context, entropy=self._entropy)
        return self._master.wrap(key, context=context, entropy=self._entropy)  # in the HSM

    def _reload(self) -> bool:
        """Pick up master keys another process installed in the home; True if any is new."""
        if self._home is None:
            return False
        found = key_files(self._home, "", PREVIOUS_SUFFIX, NEXT_SUFFIX)
        with self._lock:
            known = set(self._masters())
            fresh = [k for k in found if k not in known]
            if not fresh:
                return False
            self._previous = self._previous + tuple(fresh)
            return True

    def is_current(self, master: MasterKey) -> bool:
        """Whether ``master`` is the current master key (constant-time comparison)."""
        return master == self._master

    def use_master(self, new: MasterKey) -> None:
        """Make ``new`` the current master key, keeping the old one for unwrapping."""
        with self._lock:
            if new == self._master:  # constant-time (MasterKey.__eq__)
                return
            old = self._master
            self._master = new
            self._previous = (old, *(p for p in self._previous if p != new))

    def forget_previous(self) -> tuple[str, ...]:
        """Drop every previous master key from memory; returns their ids."""
        with self._lock:
            ids = self.previous_key_ids
            self._previous = ()
            return ids

    # --- the ledger's signing key ---

    def signing_key(self, db: Database) -> Ed25519PrivateKey:
        """The ledger key, made on first use and stored only wrapped by the master key."""
        with db.transaction() as s:
            row = s.get(t.Meta, LEDGER_KEY)
            if row is None and s.scalar(select(t.LedgerEntry.idx).limit(1)) is not None:
                # a new key would sign a ledger whose earlier heads it never signed
                raise ConfigError(
                    "the ledger has entries but its signing key is missing from the database",
                    advice="The database was altered or partly restored: restore it whole "
                    "from your backup.",
                )
            if row is None:
                raw = keys.new_key(self._entropy)
                s.add(t.Meta(key=LEDGER_KEY, value=self.wrap_with_master(raw, context=LEDGER_KEY)))
            else:
                raw = self.unwrap_with_master(row.value, context=LEDGER_KEY)
        return Ed25519PrivateKey.from_private_bytes(raw)

    # --- deployments ---

    def new_deployment(self, deployment_id: str, scheme: str) -> tuple[TemplateProtector, bytes]:
        """A protector for a new deployment and its wrapped key (the only form to store)."""
        key, wrapped = self._new_deployment_key(deployment_id)
        protector = TemplateProtector(deployment_id, key, get_scheme(scheme), entropy=self._entropy)
        with self._lock:
            self._protectors[deployment_id] = protector
        return protector, wrapped

    def replacement_key(self, dep: t.Deployment) -> tuple[TemplateProtector, bytes]:
        """A fresh key for ``dep`` (revocation): its protector and wrapped form. Nothing is
        cached until :meth:`install` is called after the change is committed."""
        key, wrapped = self._new_deployment_key(dep.id)
        return TemplateProtector(dep.id, key, _scheme_of(dep), entropy=self._entropy), wrapped

    def _new_deployment_key(self, deployment_id: str) -> tuple[bytes, bytes]:
        key = keys.new_key(self._entropy)
        context = keys.deployment_key_context(deployment_id)
        return key, self.wrap_with_master(key, context=context)

    def install(self, protector: TemplateProtector) -> None:
        with self._lock:
            self._protectors[protector.deployment_id] = protector

    def protector(self, dep: t.Deployment) -> TemplateProtector:
        """The deployment's protector; re-read when the stored key changed (a revocation,
        perhaps by another process)."""
        with self._lock:
            found = self._protectors.get(dep.id)
            if found is None or found.key_id != dep.key_id:
                context = keys.deployment_key_context(dep.id)
                key = self.unwrap_with_master(dep.wrapped_key, context=context)
                found = TemplateProtector(dep.id, key, _scheme_of(dep), entropy=self._entropy)
                if found.key_id != dep.key_id:  # the row's key id does not name its key
                    raise InvalidTemplate()
                self._protectors[dep.id] = found
            return found

    def ref_hmac(self, dep: t.Deployment, subject_ref: str) -> str:
        """The keyed lookup hash of the operator's reference for a person."""
        return ref_hmac(self.protector(dep), subject_ref)

    # --- subjects ---

    def new_subject(self, dep: t.Deployment, subject_id: str) -> tuple[bytes, bytes]:
        """A data key for a new subject and its wrapped form."""
        return self.protector(dep).new_data_key(subject_id=subject_id)

    def data_key(self, dep: t.Deployment, subject_id: str) -> bytes:
        found = self.data_keys(dep, [subject_id])
        if subject_id not in found:
            raise NotFound("this person's key has been destroyed: their data is erased")
        return found[subject_id]

    def data_keys(self, dep: t.Deployment, subject_ids: list[str]) -> dict[str, bytes]:
        """Data keys of many subjects in one key-store read; shredded ones are absent.

        A key whose stored form does not open under the deployment key may have been
        replaced by a revocation that stopped before swapping the key store: its staged
        successor (``<id>~``) is tried and, if it opens, put in its place.
        """
        protector = self.protector(dep)
        wrapped = self.keystore.get_many(subject_ids)
        out: dict[str, bytes] = {}
        stale: list[str] = []
        for sid, key in protector.unwrap_data_keys(wrapped).items():
            if key is None:
                stale.append(sid)
            else:
                out[sid] = key
        if stale:
            staged = self.keystore.get_many([s + STAGED_SUFFIX for s in stale])
            promote: dict[str, bytes] = {}
            for sid in stale:
                successor = staged.get(sid + STAGED_SUFFIX)
                if successor is None:
                    raise InvalidTemplate()
                out[sid] = protector.unwrap_data_key(successor, subject_id=sid)
                promote[sid] = successor
            self.swap_data_keys(promote, destroy=())
        return out

    # --- the key store, several rows at once ---

    def stage_data_keys(self, wrapped: dict[str, bytes], *, now: datetime) -> None:
        """Write successors of data keys beside them (``<id>~``), replacing older stages."""
        db = self._require_keystore_db()
        with db.transaction() as s:
            ids = [sid + STAGED_SUFFIX for sid in wrapped]
            s.execute(delete(t.DataKey).where(t.DataKey.subject_id.in_(ids)))
            for sid, blob in wrapped.items():
                s.add(t.DataKey(subject_id=sid + STAGED_SUFFIX, wrapped=blob, created_at=now))

    def swap_data_keys(self, wrapped: dict[str, bytes], *, destroy: Sequence[str]) -> None:
        """In one key-store transaction: replace each subject's data key with ``wrapped``,
        drop the staged copies, and destroy the keys of ``destroy``."""
        db = self._require_keystore_db()
        with db.transaction() as s:
            for sid, blob in wrapped.items():
                row = s.get(t.DataKey, sid)
                if row is None:
                    continue  # erased meanwhile: nothing to bring back
                row.wrapped = blob
            doomed = [*destroy, *(sid + STAGED_SUFFIX for sid in (*wrapped, *destroy))]
            if doomed:
                s.execute(delete(t.DataKey).where(t.DataKey.subject_id.in_(doomed)))

    def keystore_ids(self) -> set[str]:
        db = self._require_keystore_db()
        with db.read() as s:
            return set(s.scalars(select(t.DataKey.subject_id)))

    def _require_keystore_db(self) -> Database:
        if self._keystore_db is None:
            raise RuntimeError("this keyring was made without access to its key store database")
        return self._keystore_db

    # --- subject references ---

    @staticmethod
    def _ref_ad(dep_id: str, subject_id: str) -> bytes:
        return f"subject-ref|{dep_id}|{subject_id}".encode()

    def seal_ref(self, dep: t.Deployment, subject_id: str, data_key: bytes, ref: str) -> bytes:
        return seal_ref(dep.id, subject_id, data_key, ref, entropy=self._entropy)

    def open_ref(self, dep: t.Deployment, subject: t.Subject) -> str:
        data_key = self.data_key(dep, subject.id)
        return aead.open_sealed(
            data_key, subject.ref_sealed, ad=self._ref_ad(dep.id, subject.id)
        ).decode()


def ref_hmac(protector: TemplateProtector, subject_ref: str) -> str:
    """The keyed lookup hash of a reference under one deployment key."""
    key = keys.derive(protector.deployment_key, label=keys.SUBJECT_REF)
    return hmac.new(key, subject_ref.encode(), "sha256").hexdigest()


def seal_ref(
    deployment_id: str, subject_id: str, data_key: bytes, ref: str, *, entropy: Entropy
) -> bytes:
    return aead.seal(
        data_key, ref.encode(), ad=Keyring._ref_ad(deployment_id, subject_id), entropy=entropy
    )


def _scheme_of(dep: t.Deployment) -> TemplateScheme:
    scheme = get_scheme(dep.scheme)
    stored = dict(dep.scheme_params or {})
    if stored and stored != dict(scheme.params):
        raise ConfigError(
            f"deployment {dep.id} records {dep.scheme} parameters {stored}, but this version "
            f"defines {dict(scheme.params)}",
            advice="A scheme name must always mean the same transform; do not edit it.\n"
            "Restore the facegate version the deployment was created with.",
        )
    return scheme
