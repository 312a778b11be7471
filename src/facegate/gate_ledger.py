"""The Gate's ledger methods: checkpoints, proofs, witnesses (one mixin, to keep the Gate's
module readable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from facegate.actors import Actor
from facegate.core import Core
from facegate.flows import evidence as evidence_flow
from facegate.ledger import cosignatures, records
from facegate.ledger.cosignatures import Accepted
from facegate.ledger.proofs import ConsistencyProof, InclusionProof
from facegate.ledger.records import StoredEntry
from facegate.results import LedgerReport
from facegate.storage import tables as t


class LedgerMethods:
    _core: Core
    _actor: Actor

    def export_evidence(
        self,
        *,
        access_code: str | None = None,
        pseudonym: str | None = None,
        deployment_id: str | None = None,
        receipts: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """An evidence bundle for one person (access code or pseudonym) or one deployment:
        verifiable offline with :func:`facegate.ledger.evidence_verify.verify_bundle`. Only
        an access code (the person's own) reaches past the acting operator's deployments."""
        return evidence_flow.export(
            self._core,
            access_code=access_code,
            pseudonym=pseudonym,
            deployment_id=deployment_id,
            receipts=receipts,
            operator_id=None if access_code is not None else self._actor.operator_id,
        )

    def verify_ledger(self) -> LedgerReport:
        """Recompute the whole ledger; the report names the first bad entry, if any."""
        return self._core.ledger.verify(self._core.db, self.public_key())

    def checkpoint(self) -> str:
        """The latest signed checkpoint (C2SP signed note)."""
        with self._core.db.read() as s:
            return self._core.ledger.latest_note(s)

    def public_key(self) -> bytes:
        """The ledger's Ed25519 public key, for witnesses and courts."""
        return self._core.ledger.signing_key.public_key().public_bytes_raw()

    def ledger_key(self) -> str:
        """The checkpoint verifier key ``<origin>+<key id>+<base64>`` (c2sp.org/signed-note)."""
        return self._core.ledger.verifier_key

    def checkpoint_at(self, size: int) -> str:
        """The checkpoint signed at ``size`` entries, with any witness cosignatures."""
        with self._core.db.read() as s:
            return cosignatures.cosigned_note(s, size)[0]

    def ledger_entry(self, index: int) -> StoredEntry:
        """Entry ``index``: the exact bytes hashed into the tree, and their leaf hash."""
        with self._core.db.read() as s:
            return records.entry(s, index)

    def ledger_entries(self, start: int, stop: int) -> list[StoredEntry]:
        """Entries ``start`` to ``stop - 1`` (at most 1000 at a time), in order."""
        stop = min(stop, start + 1000)
        with self._core.db.read() as s:
            return [records.entry(s, i) for i in range(max(0, start), stop)]

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """RFC 9162 proof that entry ``index`` is in the tree of ``size`` (default: latest)."""
        with self._core.db.read() as s:
            return records.inclusion(s, index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """RFC 9162 proof that the tree of ``new_size`` (default: latest) extends ``old_size``."""
        with self._core.db.read() as s:
            return records.consistency(s, old_size, new_size)

    def add_witness(self, key: str) -> str:
        """Accept cosignatures from the witness with this verifier key; returns its name."""
        with self._core.db.transaction() as s:
            return cosignatures.add_witness(s, key, now=self._core.clock())

    def witnesses(self) -> list[str]:
        with self._core.db.read() as s:
            return cosignatures.witness_keys(s)

    def add_cosignature(self, note: str) -> Accepted:
        """Store a registered witness's cosignature on one of this ledger's checkpoints."""
        with self._core.db.transaction() as s:
            return cosignatures.accept_cosigned(s, note, now=self._core.clock())

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for operators and tests)."""
        tables = {
            "deployments": t.Deployment,
            "subjects": t.Subject,
            "consents": t.Consent,
            "templates": t.Template,
            "ledger_entries": t.LedgerEntry,
        }
        with self._core.db.read() as s:
            return {
                name: s.scalar(select(func.count()).select_from(table)) or 0
                for name, table in tables.items()
            }
