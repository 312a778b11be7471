"""The installation's keys, in memory only while the process runs.

The master key (environment or a 0600 file, never the database) unwraps each deployment's
key; a deployment's :class:`TemplateProtector` unwraps per-subject data keys, which live
wrapped in the separate key store. The ledger's Ed25519 signing key is kept wrapped by the
master key in the main database.
"""

from __future__ import annotations

import hmac
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from facegate._internal.clock import Entropy
from facegate.errors import NotFound
from facegate.storage import tables as t
from facegate.storage.db import Database
from facegate.storage.keystore import KeyStore
from facegate.templates import (
    MasterKey,
    TemplateProtector,
    get_scheme,
    new_deployment_key,
    unwrap_deployment_key,
)
from facegate.templates.hazmat import aead, keys

_LEDGER_KEY = "ledger_signing_key"


class Keyring:
    def __init__(self, master: MasterKey, keystore: KeyStore, *, entropy: Entropy) -> None:
        self._master = master
        self.keystore = keystore
        self._entropy = entropy
        self._protectors: dict[str, TemplateProtector] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: Path, *, env_value: str | None, entropy: Entropy) -> Keyring:
        from facegate.storage.db import create_keystore, make_engine

        master = MasterKey.load_or_create(
            home / keys.MASTER_KEY_FILENAME, env_value=env_value, entropy=entropy
        )
        # Its own SQLite file with a rollback journal, not WAL: once a key is destroyed no
        # earlier copy of its page lingers in a log file beside the database.
        engine = make_engine(f"sqlite:///{home / 'keys.db'}", wal=False)
        create_keystore(engine)
        return cls(master, KeyStore(Database(engine)), entropy=entropy)

    def close(self) -> None:
        self.keystore.close()

    # --- the ledger's signing key ---

    def signing_key(self, db: Database) -> Ed25519PrivateKey:
        """The ledger key, made on first use and stored only wrapped by the master key."""
        with db.transaction() as s:
            row = s.get(t.Meta, _LEDGER_KEY)
            if row is None:
                raw = keys.new_key(self._entropy)
                s.add(
                    t.Meta(
                        key=_LEDGER_KEY,
                        value=keys.wrap_key(
                            self._master.key, raw, context=_LEDGER_KEY, entropy=self._entropy
                        ),
                    )
                )
            else:
                raw = keys.unwrap_key(self._master.key, row.value, context=_LEDGER_KEY)
        return Ed25519PrivateKey.from_private_bytes(raw)

    # --- deployments ---

    def new_deployment(self, deployment_id: str, scheme: str) -> tuple[TemplateProtector, bytes]:
        """A protector for a new deployment and its wrapped key (the only form to store)."""
        key, wrapped = new_deployment_key(
            self._master, deployment_id=deployment_id, entropy=self._entropy
        )
        protector = TemplateProtector(deployment_id, key, get_scheme(scheme), entropy=self._entropy)
        with self._lock:
            self._protectors[deployment_id] = protector
        return protector, wrapped

    def protector(self, dep: t.Deployment) -> TemplateProtector:
        with self._lock:
            found = self._protectors.get(dep.id)
            if found is None:
                key = unwrap_deployment_key(self._master, dep.wrapped_key, deployment_id=dep.id)
                found = TemplateProtector(
                    dep.id, key, get_scheme(dep.scheme), entropy=self._entropy
                )
                self._protectors[dep.id] = found
            return found

    def ref_hmac(self, dep: t.Deployment, subject_ref: str) -> str:
        """The keyed lookup hash of the operator's reference for a person."""
        key = keys.derive(self.protector(dep).deployment_key, label=keys.SUBJECT_REF)
        return hmac.new(key, subject_ref.encode(), "sha256").hexdigest()

    # --- subjects ---

    def new_subject(self, dep: t.Deployment, subject_id: str) -> tuple[bytes, bytes]:
        """A data key for a new subject and its wrapped form."""
        return self.protector(dep).new_data_key(subject_id=subject_id)

    def data_key(self, dep: t.Deployment, subject_id: str) -> bytes:
        wrapped = self.keystore.get(subject_id)
        if wrapped is None:
            raise NotFound("this person's key has been destroyed: their data is erased")
        return self.protector(dep).unwrap_data_key(wrapped, subject_id=subject_id)

    def data_keys(self, dep: t.Deployment, subject_ids: list[str]) -> dict[str, bytes]:
        """Data keys of many subjects in one key-store read; shredded ones are absent."""
        protector = self.protector(dep)
        return {
            sid: protector.unwrap_data_key(w, subject_id=sid)
            for sid, w in self.keystore.get_many(subject_ids).items()
        }

    @staticmethod
    def _ref_ad(dep_id: str, subject_id: str) -> bytes:
        return f"subject-ref|{dep_id}|{subject_id}".encode()

    def seal_ref(self, dep: t.Deployment, subject_id: str, data_key: bytes, ref: str) -> bytes:
        return aead.seal(
            data_key, ref.encode(), ad=self._ref_ad(dep.id, subject_id), entropy=self._entropy
        )

    def open_ref(self, dep: t.Deployment, subject: t.Subject) -> str:
        data_key = self.data_key(dep, subject.id)
        return aead.open_sealed(
            data_key, subject.ref_sealed, ad=self._ref_ad(dep.id, subject.id)
        ).decode()
