"""The Gate: facegate's safe, high-level object.

    gate = Gate.open("~/.facegate", create=True)
    dep = gate.create_deployment(name="Lobby", ...)      # a draft, judged by its packs
    gate.acting_as(dpo_key).sign_pia(dep.id, ...)        # the DPO takes it live
    gate.give_consent(dep.id, "alice", method="signed_form", ...)
    gate.verify(dep.id, "alice", photo_bytes).decision   # "match"

Every act is decided by the deployment's policy packs first (one door,
:mod:`facegate.flows.enforce`), works on a protected template (the raw embedding lives only
inside one call), and is written to the Merkle ledger in the same database transaction as
the change it records. Refusals are recorded too. A Gate acts as one principal: the home's
owner (the local operator's admin) unless :meth:`acting_as` names another by its key.
Time (``clock``) and randomness (``entropy``) are injectable so tests can be exact.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from facegate._internal.clock import Clock, Entropy, system_entropy, utc_now
from facegate.actors import Actor
from facegate.config import Settings, load_settings
from facegate.core import Core
from facegate.flows import (
    biometrics,
    consents,
    deployments,
    erasure,
    operators,
    pia,
    principals,
    public,
    records,
    requests,
    retention,
    review,
    selfcheck,
    subjects,
)
from facegate.flows.retention import SweepReport
from facegate.flows.subjects import RequestRecord
from facegate.gallery import Galleries
from facegate.gate_console import ConsoleMethods
from facegate.gate_keys import KeyMethods
from facegate.gate_ledger import LedgerMethods
from facegate.gate_recognition import RecognitionMethods
from facegate.gate_transfers import TransferMethods
from facegate.keyring import Keyring
from facegate.ledger.store import LedgerStore
from facegate.recognition import FaceEngine
from facegate.results import (
    ApiKeyInfo,
    ConsentReceipt,
    DeploymentInfo,
    EndReceipt,
    ErasureReceipt,
    IssuedApiKey,
    NewPrincipal,
    NoticeInfo,
    OperatorInfo,
    PiaView,
    PrincipalInfo,
    ReviewResult,
    SelfCheckReport,
)
from facegate.specs import ConsentTerms, DeploymentSpec, OperatorProfile, PiaAnswers, build
from facegate.storage.db import Database, make_engine, migrate
from facegate.storage.home import prepare as prepare_home
from facegate.storage.home import undo_on_failure
from facegate.storage.keystore import keystore_place

DEFAULT_OPERATOR = operators.LOCAL_OPERATOR


class Gate(LedgerMethods, KeyMethods, ConsoleMethods, RecognitionMethods, TransferMethods):
    """One facegate installation: its store, keys, ledger and face engine, and the principal
    acting through it."""

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
        place = keystore_place(home, settings)  # keys.db, or a schema beside PostgreSQL
        fresh = prepare_home(home, settings.resolved_database_url(), create=create, keystore=place)
        keyring = Keyring.for_settings(home, settings, place, entropy=entropy, create=fresh)
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
        self._actor = operators.owner(self._core)

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
        for party in self._core.parties.values():
            party.close()
        self._core.parties.clear()
        self._core.db.dispose()
        self._core.keyring.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- who acts --------------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        """The principal this Gate acts as."""
        return self._actor

    def acting_as(self, api_key: str) -> Self:
        """This installation, acting as the principal whose key this is."""
        return self.as_actor(principals.authenticate(self._core, api_key))

    def as_actor(self, actor: Actor) -> Self:
        """This installation, acting as ``actor`` (already authenticated by the caller)."""
        view = copy.copy(self)
        view._actor = actor
        return view

    def authenticate(self, api_key: str, *, deployment_id: str | None = None) -> Actor:
        """The principal an API key belongs to; :class:`Unauthenticated` if none."""
        return principals.authenticate(self._core, api_key, deployment_id=deployment_id)

    def find_principal(self, operator: str, name: str) -> Actor:
        """An active principal by operator (id or name) and name: for sign-in pages."""
        return principals.find_principal(self._core, operator, name)

    def get_principal(self, principal_id: str) -> Actor | None:
        """The principal while active (None once revoked): for sessions."""
        return principals.get_principal(self._core, principal_id)

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
        """Load the face models and rebuild every live deployment's 1:N gallery from the
        store, so the first request is as fast as the rest. Returns the templates loaded."""
        self._core.engine.warm_up()
        live = [d for d in deployments.all_live(self._core)]
        return sum(len(self._core.galleries.get(d)) for d in live)

    # --- operators, principals and keys ----------------------------------------------------

    def operator(self) -> OperatorInfo:
        return operators.operator_info(self._core, self._actor)

    def set_operator(self, **fields: Any) -> OperatorInfo:
        """Name the operator, its contact and DPO as notices and receipts will show them."""
        return operators.set_operator(self._core, self._actor, build(OperatorProfile, fields))

    def create_operator(self, name: str, *, contact: str) -> NewPrincipal:
        """Another operator on this installation, with its first admin (owner only)."""
        return operators.create_operator(self._core, self._actor, name, contact=contact)

    def create_principal(self, name: str, role: str) -> NewPrincipal:
        return principals.create_principal(self._core, self._actor, name, role)

    def list_principals(self) -> list[PrincipalInfo]:
        return principals.list_principals(self._core, self._actor)

    def revoke_principal(self, principal_id: str) -> PrincipalInfo:
        return principals.revoke_principal(self._core, self._actor, principal_id)

    def issue_api_key(
        self,
        *,
        principal_id: str | None = None,
        label: str = "",
        expires_days: int | None = None,
        deployment_id: str | None = None,
    ) -> IssuedApiKey:
        """A new API key (shown once; only its hash is stored)."""
        return principals.issue_api_key(
            self._core,
            self._actor,
            principal_id=principal_id,
            label=label,
            expires_days=expires_days,
            deployment_id=deployment_id,
        )

    def list_api_keys(self) -> list[ApiKeyInfo]:
        return principals.list_api_keys(self._core, self._actor)

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        return principals.revoke_api_key(self._core, self._actor, key_id)

    # --- deployments and their assessments -------------------------------------------------

    def create_deployment(
        self, spec: DeploymentSpec | None = None, **fields: Any
    ) -> DeploymentInfo:
        """Register a draft deployment, judged by its packs (:class:`PolicyDenied` citing the
        rule if the law forbids it). Nothing is defaulted: see :class:`DeploymentSpec`."""
        spec = spec if spec is not None else build(DeploymentSpec, fields)
        return deployments.create_deployment(self._core, self._actor, spec)

    def change_deployment(self, deployment_id: str, **changes: Any) -> DeploymentInfo:
        """Change a deployment; it becomes a draft until the DPO signs again."""
        return deployments.change_deployment(self._core, self._actor, deployment_id, changes)

    def end_deployment(self, deployment_id: str, *, reason: str) -> EndReceipt:
        """The purpose is met: everyone is erased (with receipts) and processing ends."""
        return deployments.end_deployment(self._core, self._actor, deployment_id, reason=reason)

    def get_deployment(self, deployment_id: str) -> DeploymentInfo:
        return deployments.get_deployment(self._core, self._actor, deployment_id)

    def list_deployments(self) -> list[DeploymentInfo]:
        return deployments.list_deployments(self._core, self._actor)

    def notice(self, deployment_id: str, *, language: str = "en") -> NoticeInfo:
        """The notice in force: what a person must read before consenting ("en", "zh-CN")."""
        return deployments.notice(self._core, deployment_id, actor=self._actor, language=language)

    def public_deployment(self, deployment_id: str) -> dict[str, object]:
        """What anyone may read without a key: the notice in force, the retention schedule,
        the alternative, the operator's contact and DPO, how to complain."""
        return public.deployment(self._core, deployment_id)

    def pia(self, deployment_id: str) -> PiaView:
        return pia.show(self._core, self._actor, deployment_id)

    def sign_pia(
        self, deployment_id: str, *, necessity: str, answers: PiaAnswers | dict[str, str] | None
    ) -> DeploymentInfo:
        """Sign the impact assessment as the acting DPO; the deployment goes live."""
        if isinstance(answers, dict):
            answers = build(PiaAnswers, answers)
        return pia.sign(
            self._core, self._actor, deployment_id, necessity=necessity, answers=answers
        )

    # --- consent, refusal, erasure ---------------------------------------------------------

    def give_consent(
        self,
        deployment_id: str,
        subject_ref: str,
        terms: ConsentTerms | None = None,
        **fields: Any,
    ) -> ConsentReceipt:
        """Record a person's separate consent, with every fact the law weighs (see
        :class:`ConsentTerms`); returns their signed receipt and access code."""
        terms = terms if terms is not None else build(ConsentTerms, fields)
        return consents.give_consent(self._core, self._actor, deployment_id, subject_ref, terms)

    def record_refusal(self, deployment_id: str, *, method: str) -> str:
        """Record, anonymously, that someone refused; the alternative stays their way in."""
        return consents.record_refusal(self._core, self._actor, deployment_id, method=method)

    def withdraw_consent(self, deployment_id: str, subject_ref: str) -> ErasureReceipt:
        """Withdrawal is as easy as consent, and erases everything held (CN-PIPL-15)."""
        return erasure.withdraw(self._core, self._actor, deployment_id, subject_ref)

    def erase(self, deployment_id: str, subject_ref: str, *, reason: str = "") -> ErasureReceipt:
        """Erase a person: rows deleted, data key destroyed, a receipt in the ledger."""
        return erasure.erase(self._core, self._actor, deployment_id, subject_ref, reason=reason)

    def end_purpose(self, deployment_id: str, subject_ref: str) -> ErasureReceipt:
        """This person's purpose ended (Texas: destroy within a year): erased now."""
        return erasure.end_purpose(self._core, self._actor, deployment_id, subject_ref)

    def hold(self, deployment_id: str, subject_ref: str, *, ground: str) -> str:
        return erasure.hold(self._core, self._actor, deployment_id, subject_ref, ground=ground)

    def release_hold(self, deployment_id: str, subject_ref: str) -> str:
        return erasure.release_hold(self._core, self._actor, deployment_id, subject_ref)

    # --- recognition (enroll, verify, identify, detect ...: gate_recognition.py) ----------

    def review_identification(self, identification_id: str, *, confirm: bool) -> ReviewResult:
        """The acting reviewer confirms or rejects a pending remote-identification match; the
        person is named once two different reviewers confirmed (EU-AI-14)."""
        return review.review(self._core, self._actor, identification_id, confirm=confirm)

    def pending_reviews(self) -> list[dict[str, object]]:
        return review.pending(self._core, self._actor)

    # --- retention, records and the self-check ---------------------------------------------

    def sweep_retention(self) -> SweepReport:
        """Delete what has outlived its retention or its consent, with a receipt each."""
        return retention.sweep(self._core)

    def delete_pia(self, deployment_id: str, version: int) -> str:
        return records.delete_pia(self._core, self._actor, deployment_id, version)

    def purge_identification_logs(self, deployment_id: str, *, before: datetime) -> int:
        return records.purge_identification_logs(
            self._core, self._actor, deployment_id, before=before
        )[0]

    def self_check(self, *, watching_intrusions: bool = False) -> SelfCheckReport:
        """Measure each security control, ledger the result; a failure stops processing."""
        return selfcheck.run(self._core, self._actor, watching_intrusions=watching_intrusions)

    # --- people's rights (by access code) --------------------------------------------------

    def subject_view(self, access_code: str) -> dict[str, object]:
        """What is held about the holder of ``access_code``, and where (CN-PIPL-44)."""
        return subjects.what_is_held(self._core, access_code)

    def subject_withdraw(self, access_code: str) -> tuple[RequestRecord, ErasureReceipt]:
        return subjects.withdraw(self._core, access_code)

    def subject_erase(self, access_code: str) -> tuple[RequestRecord, ErasureReceipt]:
        return subjects.erase(self._core, access_code)

    def subject_complaint(self, access_code: str, text: str) -> RequestRecord:
        return subjects.complain(self._core, access_code, text)

    def subject_requests(self, access_code: str) -> list[dict[str, object]]:
        """The holder's own requests, their words and the operator's answers."""
        return requests.requests_of(self._core, access_code)

    def subject_correction(self, access_code: str, text: str) -> RequestRecord:
        return subjects.correct(self._core, access_code, text)

    def answer_request(
        self, request_id: str, *, reason: str, refuse: bool = False, exemption: str = ""
    ) -> RequestRecord:
        """Answer (or refuse, with reasons and a legal ground) a person's open request."""
        return requests.answer(
            self._core,
            self._actor,
            request_id,
            refuse=refuse,
            reason=reason,
            exemption=exemption,
        )

    def open_requests(self) -> list[dict[str, object]]:
        return requests.open_requests(self._core, self._actor)
