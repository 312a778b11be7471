"""The Gate: facegate's safe, high-level object.

    gate = Gate.open("~/.facegate", create=True)   # create: make it if it is not there
    dep = gate.create_deployment(name="Lobby", purpose="Staff pass the turnstile by face",
                                 location="office", alternative="staff badge")
    gate.give_consent(dep.id, "alice")
    gate.enroll(dep.id, "alice", photo_bytes)
    gate.verify(dep.id, "alice", other_photo_bytes).decision   # "match"

Every act is checked against the deployment's policy packs first, works on a protected
template (the raw embedding lives only inside one call), and is written to the Merkle ledger
in the same database transaction as the change it records. Refusals are recorded too.
Time (``clock``) and randomness (``entropy``) are injectable so tests can be exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import func, select

from facegate._internal.clock import Clock, Entropy, system_entropy, utc_now
from facegate.config import Settings, load_settings
from facegate.core import Core
from facegate.flows import (
    biometrics,
    consents,
    deployments,
    operators,
    retention,
    review,
    subjects,
)
from facegate.flows import evidence as evidence_flow
from facegate.flows import keys as keys_flow
from facegate.flows.retention import SweepReport
from facegate.flows.subjects import RequestRecord
from facegate.gallery import Galleries
from facegate.keyring import Keyring
from facegate.ledger import cosignatures, records
from facegate.ledger.cosignatures import Accepted
from facegate.ledger.events import Kind
from facegate.ledger.proofs import ConsistencyProof, InclusionProof
from facegate.ledger.records import StoredEntry
from facegate.ledger.store import LedgerStore
from facegate.policy.facts import Declarations
from facegate.policy.pia import PiaDraft
from facegate.recognition import FaceEngine
from facegate.results import (
    ConsentReceipt,
    DeploymentInfo,
    EnrollResult,
    ErasureReceipt,
    IdentifyResult,
    IssuedApiKey,
    LedgerReport,
    NoticeInfo,
    OperatorInfo,
    ReviewResult,
    VerifyResult,
)
from facegate.storage import tables as t
from facegate.storage.db import Database, make_engine, migrate
from facegate.storage.home import prepare as prepare_home
from facegate.storage.home import undo_on_failure
from facegate.templates import MasterKey

DEFAULT_OPERATOR = operators.LOCAL_OPERATOR


class Gate:
    """One facegate installation: its store, keys, ledger and face engine."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        entropy: Entropy = system_entropy,
        engine: FaceEngine | None = None,
        create: bool = False,
    ) -> None:
        self.settings = settings
        home = settings.home.expanduser()
        # only create=True makes a home or any part of one (storage/home.py says why)
        fresh = prepare_home(home, settings.resolved_database_url(), create=create)
        keyring = Keyring.open(home, env_value=settings.master_key, entropy=entropy, create=fresh)
        db = Database(make_engine(settings.resolved_database_url()))
        migrate(db.engine)
        ledger = LedgerStore(
            origin=settings.ledger.origin, signing_key=keyring.signing_key(db), clock=clock
        )
        self._core = Core(
            settings=settings,
            db=db,
            keyring=keyring,
            ledger=ledger,
            clock=clock,
            entropy=entropy,
            galleries=Galleries(lambda dep_id: biometrics.load_gallery(self._core, dep_id)),
            engine_=engine,
        )
        operators.ensure_local_operator(self._core)

    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        *,
        settings: Settings | None = None,
        clock: Clock = utc_now,
        entropy: Entropy = system_entropy,
        engine: FaceEngine | None = None,
        create: bool = False,
    ) -> Self:
        """Open the installation in ``home`` (``~`` expanded); with ``create``, make it if
        it does not exist yet. Without ``create`` a missing home, key store or master key
        is a :class:`ConfigError`; a failed ``create`` leaves no half-made home."""
        if settings is None:
            settings = load_settings(home=Path(home)) if home is not None else load_settings()
        elif home is not None:
            settings = settings.model_copy(update={"home": Path(home).expanduser()})
        undo = undo_on_failure(settings.home.expanduser()) if create else nullcontext()
        with undo:
            return cls(settings, clock=clock, entropy=entropy, engine=engine, create=create)

    def close(self) -> None:
        self._core.db.dispose()
        self._core.keyring.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def core(self) -> Core:
        """The lower-level state every flow shares, for expert modules (reports,
        supervision, evaluation) that build on the Gate without widening its surface."""
        return self._core

    @property
    def db(self) -> Database:
        """The main database (for operators' tooling and white-box tests)."""
        return self._core.db

    @property
    def engine(self) -> FaceEngine:
        return self._core.engine

    def warm(self) -> int:
        """Load the face models and rebuild every deployment's 1:N gallery from the store,
        so the first request is as fast as the rest. Returns the templates loaded."""
        self._core.engine.warm_up()
        return sum(len(self._core.galleries.get(d.id)) for d in self.list_deployments())

    # --- operators -------------------------------------------------------------------------

    def create_operator(self, name: str, *, contact: str = "") -> OperatorInfo:
        return operators.create_operator(self._core, name, contact=contact)

    def issue_api_key(self, operator_id: str, *, label: str = "") -> IssuedApiKey:
        """A new API key for ``operator_id``; shown once, stored only as a hash."""
        return operators.issue_api_key(self._core, operator_id, label=label)

    def authenticate(self, api_key: str) -> OperatorInfo:
        """The operator an API key belongs to; :class:`Unauthenticated` if none."""
        return operators.authenticate(self._core, api_key)

    # --- deployments -----------------------------------------------------------------------

    def create_deployment(
        self,
        *,
        name: str,
        purpose: str,
        location: str,
        alternative: str,
        jurisdiction: str = "cn",
        threshold: float | None = None,
        necessity: str | None = None,
        legal_basis: str | None = None,
        retention_days: int | None = None,
        signage: bool = False,
        capabilities: Iterable[str] | None = None,
        scope: str = "application",
        egress: bool = False,
        purpose_ends_at: datetime | None = None,
        declarations: Declarations | None = None,
        pia: PiaDraft | None = None,
        confirmed_by: str | None = None,
        notice_translations: Mapping[str, Mapping[str, str]] | None = None,
        operator_id: str = DEFAULT_OPERATOR,
    ) -> DeploymentInfo:
        """Register a processing activity and take it live, checked against its packs at both
        steps; :class:`PolicyDenied` citing the rule if the law forbids it. What the caller
        leaves out (legal basis, retention, necessity, the PIA) gets a safe default, and
        ``notes`` says so."""
        return deployments.create_deployment(
            self._core,
            operator_id=operator_id,
            name=name,
            purpose=purpose,
            location=location,
            alternative=alternative,
            jurisdiction=jurisdiction,
            threshold=threshold,
            necessity=necessity,
            legal_basis=legal_basis,
            retention_days=retention_days,
            signage=signage,
            capabilities=capabilities,
            scope=scope,
            egress=egress,
            purpose_ends_at=purpose_ends_at,
            declarations=declarations,
            pia=pia,
            confirmed_by=confirmed_by,
            notice_translations=notice_translations,
        )

    def change_deployment(
        self, deployment_id: str, *, operator_id: str | None = None, **changes: Any
    ) -> DeploymentInfo:
        """Change how a deployment works: both checks again, a new PIA and a new notice
        version (which voids earlier consents: CN-PIPL-14). See
        :func:`facegate.flows.deployments.change_deployment` for what can change."""
        return deployments.change_deployment(
            self._core, deployment_id, operator_id=operator_id, **changes
        )

    def get_deployment(
        self, deployment_id: str, *, operator_id: str | None = None
    ) -> DeploymentInfo:
        return deployments.get_deployment(self._core, deployment_id, operator_id=operator_id)

    def list_deployments(self, *, operator_id: str | None = None) -> list[DeploymentInfo]:
        return deployments.list_deployments(self._core, operator_id=operator_id)

    def notice(
        self, deployment_id: str, *, operator_id: str | None = None, language: str = "en"
    ) -> NoticeInfo:
        """The current notice: what a person must read before consenting ("en", "zh-CN")."""
        return deployments.notice(
            self._core, deployment_id, operator_id=operator_id, language=language
        )

    # --- consent and erasure ---------------------------------------------------------------

    def give_consent(
        self,
        deployment_id: str,
        subject_ref: str,
        *,
        notice_version: int | None = None,
        method: str = "signed_form",
        expires_at: datetime | None = None,
        subject_age: int | None = None,
        by_guardian: bool = False,
        egress: bool = False,
        disclosure: bool = False,
        operator_id: str | None = None,
    ) -> ConsentReceipt:
        """Record a person's separate consent to one deployment, bound to the notice they
        were shown (``notice_version``); returns their signed receipt and access code.
        Under 14, a guardian must give it (``by_guardian``, CN-FR-6); BIPA wants a written
        release (``method="written_release"`` or ``"signed_form"``)."""
        return consents.give_consent(
            self._core,
            deployment_id,
            subject_ref,
            operator_id=operator_id,
            terms=consents.ConsentTerms(
                notice_version=notice_version,
                method=method,
                expires_at=expires_at,
                subject_age=subject_age,
                by_guardian=by_guardian,
                egress=egress,
                disclosure=disclosure,
            ),
        )

    def record_refusal(
        self, deployment_id: str, *, method: str = "signed_form", operator_id: str | None = None
    ) -> str:
        """Record, anonymously, that someone refused; returns the ledger event id. The
        deployment's non-face alternative remains their way in (CN-FR-12)."""
        return consents.record_refusal(
            self._core, deployment_id, method=method, operator_id=operator_id
        )

    def withdraw_consent(
        self, deployment_id: str, subject_ref: str, *, operator_id: str | None = None
    ) -> ErasureReceipt:
        """Withdrawal is as easy as consent, and erases everything held (CN-PIPL-15)."""
        return consents.erase(
            self._core,
            deployment_id,
            subject_ref,
            reason="consent withdrawn",
            kind=Kind.CONSENT_WITHDRAWN,
            operator_id=operator_id,
        )

    def erase(
        self,
        deployment_id: str,
        subject_ref: str,
        *,
        reason: str = "erasure requested",
        operator_id: str | None = None,
    ) -> ErasureReceipt:
        """Erase a person: rows deleted, data key destroyed, a receipt in the ledger."""
        return consents.erase(
            self._core,
            deployment_id,
            subject_ref,
            reason=reason,
            kind=Kind.ERASED,
            operator_id=operator_id,
        )

    # --- recognition -----------------------------------------------------------------------

    def enroll(
        self, deployment_id: str, subject_ref: str, image: bytes, *, operator_id: str | None = None
    ) -> EnrollResult:
        """Store a protected template of the one face in ``image``."""
        return biometrics.enroll(
            self._core, deployment_id, subject_ref, image, operator_id=operator_id
        )

    def verify(
        self, deployment_id: str, subject_ref: str, image: bytes, *, operator_id: str | None = None
    ) -> VerifyResult:
        """1:1: is the largest face in ``image`` this enrolled person?"""
        return biometrics.verify(
            self._core, deployment_id, subject_ref, image, operator_id=operator_id
        )

    def identify(
        self, deployment_id: str, image: bytes, *, operator_id: str | None = None
    ) -> IdentifyResult:
        """1:N within one deployment; ``"unknown"`` when nobody reaches the threshold."""
        return biometrics.identify(self._core, deployment_id, image, operator_id=operator_id)

    def review_identification(
        self,
        identification_id: str,
        *,
        reviewer: str,
        confirm: bool,
        operator_id: str | None = None,
    ) -> ReviewResult:
        """A reviewer (by staff id) confirms or rejects a pending remote-identification match;
        the person is named once two distinct reviewers confirmed (EU-AI-14)."""
        return review.review(
            self._core,
            identification_id,
            reviewer=reviewer,
            confirm=confirm,
            operator_id=operator_id,
        )

    # --- retention and subject rights ------------------------------------------------------

    def sweep_retention(self) -> SweepReport:
        """Delete what has outlived its retention, with a receipt for each person."""
        return retention.sweep(self._core)

    def subject_view(self, access_code: str) -> dict[str, object]:
        """What is held about the holder of ``access_code``, and where (CN-PIPL-44)."""
        return subjects.what_is_held(self._core, access_code)

    def subject_withdraw(self, access_code: str) -> tuple[RequestRecord, ErasureReceipt]:
        return subjects.withdraw(self._core, access_code)

    def subject_erase(self, access_code: str) -> tuple[RequestRecord, ErasureReceipt]:
        return subjects.erase(self._core, access_code)

    def subject_complaint(self, access_code: str, text: str) -> RequestRecord:
        return subjects.complain(self._core, access_code, text)

    def answer_request(
        self, request_id: str, *, reason: str, refuse: bool = False, operator_id: str | None = None
    ) -> RequestRecord:
        """Answer (or refuse, with reasons) a person's open request."""
        return subjects.answer(
            self._core, request_id, operator_id=operator_id, refuse=refuse, reason=reason
        )

    def open_requests(self, *, operator_id: str | None = None) -> list[RequestRecord]:
        return subjects.open_requests(self._core, operator_id=operator_id)

    # --- keys ------------------------------------------------------------------------------

    def rotate_master_key(self, new: MasterKey | None = None) -> keys_flow.MasterRotation:
        """Re-wrap every deployment key and the ledger key under a new master key, while
        serving; the old key stays accepted until :meth:`finish_master_rotation`."""
        return keys_flow.rotate_master(self._core, new)

    def finish_master_rotation(self) -> keys_flow.MasterRetirement:
        """End a master-key rotation: the old key is destroyed and no longer accepted."""
        return keys_flow.finish_rotation(self._core)

    def revoke_deployment_key(
        self, deployment_id: str, *, reason: str, operator_id: str | None = None
    ) -> keys_flow.KeyRevocation:
        """Replace a deployment's key: every template dies at once, the ledger says why,
        and people whose consent carries over are asked to enroll again."""
        return keys_flow.revoke_deployment_key(
            self._core, deployment_id, reason=reason, operator_id=operator_id
        )

    def reenrollment_campaign(
        self, deployment_id: str, *, operator_id: str | None = None
    ) -> keys_flow.Campaign:
        """Who must enroll again after a revocation, and who has."""
        return keys_flow.campaign(self._core, deployment_id, operator_id=operator_id)

    def key_status(self) -> keys_flow.KeyStatus:
        """Which master key wraps what, and data keys left without a person."""
        return keys_flow.key_status(self._core)

    def sweep_orphan_keys(self) -> int:
        """Destroy data keys whose person is gone (an interrupted erasure)."""
        return keys_flow.sweep_orphan_keys(self._core)

    # --- ledger ----------------------------------------------------------------------------

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
        """The checkpoint verifier key ``<origin>+<key id>+<base64>`` to give witnesses and
        courts (c2sp.org/signed-note)."""
        return self._core.ledger.verifier_key

    def checkpoint_at(self, size: int) -> str:
        """The checkpoint signed when the ledger reached ``size`` entries, with any witness
        cosignatures received for it."""
        with self._core.db.read() as s:
            return cosignatures.cosigned_note(s, size)[0]

    def ledger_entry(self, index: int) -> StoredEntry:
        """Entry ``index``: the exact bytes hashed into the tree, and their leaf hash."""
        with self._core.db.read() as s:
            return records.entry(s, index)

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

    def export_evidence(
        self,
        *,
        access_code: str | None = None,
        pseudonym: str | None = None,
        deployment_id: str | None = None,
        receipts: Sequence[Mapping[str, Any]] = (),
        operator_id: str | None = None,
    ) -> dict[str, Any]:
        """An evidence bundle for one person (access code or pseudonym) or one deployment:
        verifiable offline with :func:`facegate.ledger.evidence_verify.verify_bundle`."""
        return evidence_flow.export(
            self._core,
            access_code=access_code,
            pseudonym=pseudonym,
            deployment_id=deployment_id,
            receipts=receipts,
            operator_id=operator_id,
        )

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
