"""The Gate: facegate's safe, high-level object.

    gate = Gate.open("~/.facegate")
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

from datetime import datetime
from pathlib import Path
from typing import Self

from sqlalchemy import func, select

from facegate._internal.clock import Clock, Entropy, system_entropy, utc_now
from facegate.config import Settings
from facegate.core import Core
from facegate.flows import biometrics, consents, deployments, operators
from facegate.gallery import Galleries
from facegate.keyring import Keyring
from facegate.ledger.events import Kind
from facegate.ledger.store import LedgerStore
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
    VerifyResult,
)
from facegate.storage import tables as t
from facegate.storage.db import Database, make_engine, migrate

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
    ) -> None:
        self.settings = settings
        home = settings.home.expanduser()
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        keyring = Keyring.open(home, env_value=settings.master_key, entropy=entropy)
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
    ) -> Self:
        """Open (creating on first use) the installation in ``home``."""
        if settings is None:
            settings = Settings(home=Path(home)) if home is not None else Settings()
        elif home is not None:
            settings = settings.model_copy(update={"home": Path(home)})
        return cls(settings, clock=clock, entropy=entropy, engine=engine)

    def close(self) -> None:
        self._core.db.dispose()
        self._core.keyring.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

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
        legal_basis: str = "consent",
        retention_days: int = 365,
        signage: bool = False,
        operator_id: str = DEFAULT_OPERATOR,
    ) -> DeploymentInfo:
        """Register a processing activity; :class:`PolicyDenied` citing the rule if the law
        forbids it. A missing necessity statement is drafted and flagged in ``notes``."""
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
        )

    def get_deployment(
        self, deployment_id: str, *, operator_id: str | None = None
    ) -> DeploymentInfo:
        return deployments.get_deployment(self._core, deployment_id, operator_id=operator_id)

    def list_deployments(self, *, operator_id: str | None = None) -> list[DeploymentInfo]:
        return deployments.list_deployments(self._core, operator_id=operator_id)

    def notice(self, deployment_id: str, *, operator_id: str | None = None) -> NoticeInfo:
        """The current notice: what a person must read before consenting."""
        return deployments.notice(self._core, deployment_id, operator_id=operator_id)

    # --- consent and erasure ---------------------------------------------------------------

    def give_consent(
        self,
        deployment_id: str,
        subject_ref: str,
        *,
        notice_version: int | None = None,
        method: str = "signed_form",
        expires_at: datetime | None = None,
        operator_id: str | None = None,
    ) -> ConsentReceipt:
        """Record a person's separate consent to one deployment, bound to the notice they
        were shown; returns their signed receipt and access code."""
        return consents.give_consent(
            self._core,
            deployment_id,
            subject_ref,
            notice_version=notice_version,
            method=method,
            expires_at=expires_at,
            operator_id=operator_id,
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
