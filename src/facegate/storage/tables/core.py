"""The core relational schema, shared by SQLite and PostgreSQL.

Nothing here holds a photo, a raw embedding or a key in clear: templates are protected and
sealed, keys are wrapped, subject references are sealed under the subject's data key and
looked up by a keyed hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from facegate.storage.tables.base import Base

#: the ledger events whose ``record_sha256`` is a deployment's record as it then stood, as
#: SQL with literals (a partial index is used only by a query that repeats its condition)
RECORD_KINDS: Final = ("deployment.created", "deployment.changed", "pia.signed", "deployment.ended")
RECORD_KINDS_SQL: Final = "kind IN (" + ", ".join(f"'{k}'" for k in RECORD_KINDS) + ")"

__all__ = [
    "ApiKey",
    "Consent",
    "ConsentReceiptCopy",
    "DataKey",
    "Deployment",
    "Filing",
    "Identification",
    "Incident",
    "KeyStoreBase",
    "LedgerCosignature",
    "LedgerEntry",
    "LedgerHead",
    "LedgerNode",
    "LedgerState",
    "LedgerWitness",
    "Meta",
    "Notice",
    "Operator",
    "Pia",
    "Reenrollment",
    "Subject",
    "SubjectRequest",
    "Template",
]


def _scheme_params(context: DefaultExecutionContext) -> dict[str, object]:
    """A new deployment records the parameters of its scheme (read from its name)."""
    from facegate.templates import get_scheme

    row = context.get_current_parameters()  # type: ignore[no-untyped-call]
    name = row.get("scheme")
    try:
        return dict(get_scheme(str(name)).params)
    except ValueError:
        return {}


class Meta(Base):
    """Small key/value facts about the installation (wrapped ledger key, schema facts)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class Operator(Base):
    """The personal-information processor (controller). What its notices, receipts and
    records say about it; each change is ledgered with the record's hash."""

    __tablename__ = "operators"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Added by 0007_lawful: the data protection officer / person in charge (GDPR Art 37,
    # PIPL Art 52) and the Kantara receipt's controller fields.
    dpo: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    url: Mapped[str] = mapped_column(String(300), default="", server_default="")


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Added by 0007_lawful: keys belong to a principal, expire, and say when last used; a key
    # may be scoped to one deployment (a CompreFace service key)
    principal_id: Mapped[str | None] = mapped_column(
        ForeignKey("principals.id"), nullable=True, index=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deployment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    necessity: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(40))
    location_type: Mapped[str] = mapped_column(String(40))
    signage: Mapped[bool] = mapped_column(Boolean, default=False)
    jurisdiction: Mapped[str] = mapped_column(String(20))
    retention_days: Mapped[int] = mapped_column(Integer)
    alternative: Mapped[str] = mapped_column(Text)
    threshold: Mapped[float] = mapped_column(Float)
    scheme: Mapped[str] = mapped_column(String(40))
    model_version: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(40))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the parameters that, with ``scheme``, fix the template transform (checked on load)
    scheme_params: Mapped[dict[str, object]] = mapped_column(
        JSON, default=_scheme_params, server_default=text("'{}'")
    )
    # Added by 0003_policy; NULL on deployments registered before it (read as the defaults
    # of facegate.policy.facts.DeploymentFacts by facegate.policy.stored).
    scope: Mapped[str | None] = mapped_column(String(20), nullable=True)
    capabilities: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    egress: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    alternative_enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    purpose_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    declarations: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Added by 0007_lawful: who a 1:N search photographs, the public-security basis (PIPL
    # Art 26), when the deployment ended, and whether people must pass a liveness check
    capture: Mapped[str | None] = mapped_column(String(20), nullable=True)
    public_security: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    liveness: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Added by 0014_recognition: an active challenge on top, alerts on unknown faces
    liveness_challenge: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    unknown_alerts: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    #: the operator's own wording of purpose, necessity or alternative per notice language
    notice_translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(
        JSON, nullable=True
    )


class Pia(Base):
    """An impact assessment (PIA, CN-FR-9; DPIA, EU-GDPR-35), bound by hash to the purpose
    and method it assessed, so that a change of either needs a new one."""

    __tablename__ = "pias"
    __table_args__ = (UniqueConstraint("deployment_id", "version"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose_sha256: Mapped[str] = mapped_column(String(64))
    method_sha256: Mapped[str] = mapped_column(String(64))
    drafted: Mapped[bool] = mapped_column(Boolean)
    confirmed_by: Mapped[str] = mapped_column(String(200))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    keep_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Added by 0007_lawful: the principal (role dpo) who signed it, and when; unsigned
    # assessments (a draft deployment) have neither
    signed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("deployment_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Subject(Base):
    """A person known to one deployment. The operator's reference is sealed, not stored."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("deployment_id", "ref_hmac"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    ref_hmac: Mapped[str] = mapped_column(String(64))
    ref_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Added by 0007_lawful: a legal hold deferring erasure (GDPR Art 17(3), PIPL Art 47)
    hold_ground: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    notice_version: Mapped[int] = mapped_column(Integer)
    notice_sha256: Mapped[str] = mapped_column(String(64))
    purpose_sha256: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    access_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Added by 0003_policy (NULL: not asked): the person's age when consenting and whether a
    # guardian consented (CN-FR-6), separate consents to egress (CN-FR-8, CN-PIPL-38) and to
    # disclosure (US-IL-15c).
    subject_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    by_guardian: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    egress: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    disclosure: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Added by 0007_lawful (NULL on consents recorded before: read as not established):
    # asked apart from other terms, how the age was established, the signed form's hash,
    # the guardian (sealed under the subject's key) and their form's hash
    separate: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    age_basis: Mapped[str | None] = mapped_column(String(20), nullable=True)
    form_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    guardian_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    guardian_form_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Template(Base):
    __tablename__ = "templates"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reenrollment(Base):
    """A person asked to enroll again because their deployment's key was revoked.

    Pending while the person has no template; the row goes with the person (ON DELETE
    CASCADE)."""

    __tablename__ = "reenrollments"
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerState(Base):
    """One row; updating it serialises appends on every backend. It also says how many
    entries the verifiable index has taken in and its root after them (null: none yet), so
    that an append reads and writes the index's state with the row it locks anyway."""

    __tablename__ = "ledger_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    index_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    index_root: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # Copies of two leaf fields, so that evidence for one person or deployment is found by
    # index rather than by reading every leaf. They add nothing the leaf does not hold.
    deployment_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    subject: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)

    # Each deployment's record events, newest first, without indexing the millions of others:
    # a deployment row is held to the record the ledger last committed to (ledger/held.py).
    __table_args__ = (
        Index(
            "ix_ledger_entries_record",
            "deployment_id",
            "idx",
            sqlite_where=text(RECORD_KINDS_SQL),
            postgresql_where=text(RECORD_KINDS_SQL),
        ),
    )


class LedgerNode(Base):
    """A complete subtree hash of the Merkle tree (level 0 = leaves)."""

    __tablename__ = "ledger_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerHead(Base):
    """A signed checkpoint (C2SP signed note) of the tree at one size."""

    __tablename__ = "ledger_heads"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerWitness(Base):
    """A witness whose cosignatures the operator accepts, by its C2SP verifier key."""

    __tablename__ = "ledger_witnesses"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerCosignature(Base):
    """A witness's cosignature/v1 line on the signed head of one size."""

    __tablename__ = "ledger_cosignatures"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness_key: Mapped[str] = mapped_column(ForeignKey("ledger_witnesses.key"), primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentReceiptCopy(Base):
    """The operator's copy of a signed consent receipt, kept as evidence after erasure.

    A receipt holds the pseudonym, the purpose and the notice hash: nothing biometric and not
    the operator's reference for the person, so keeping it does not re-link an erased person.
    """

    __tablename__ = "consent_receipts"
    consent_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(40), index=True)
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KeyStoreBase(DeclarativeBase):
    """The key store is a separate database, so a copy of the main one holds no data keys."""


class DataKey(KeyStoreBase):
    """Per-subject data keys, wrapped by the deployment key. Destroying one shreds a subject."""

    __tablename__ = "data_keys"
    subject_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Filing(Base):
    """An operator's filing with the cyberspace administration (CN-FR-15): opened when it
    holds face data of 100,000 people, amended on material change, cancelled on stop.
    ``pending`` is the act the operator still owes (file, amend, cancel); its deadline is
    derived from ``pending_since`` with the holiday calendar each time it is read, so a
    calendar update corrects it."""

    __tablename__ = "filings"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    pending: Mapped[str | None] = mapped_column(String(20), nullable=True)
    pending_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    people: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    material_sha256: Mapped[str] = mapped_column(String(64))
    amendments: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Incident(Base):
    """A personal-information security incident (breach) and its notification clocks
    (CN-PIPL-57, EU-GDPR-33). The description stays here; the ledger holds its hash."""

    __tablename__ = "incidents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    discovered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(Text)
    deployments: Mapped[list[str]] = mapped_column(JSON)
    jurisdictions: Mapped[list[str]] = mapped_column(JSON)
    people_estimate: Mapped[int] = mapped_column(BigInteger)
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))
    regulator_notified_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    regulator_reference: Mapped[str] = mapped_column(String(200), default="")
    #: why the regulator was told late (GDPR Art 33(1) asks for reasons past 72 hours)
    delay_reason: Mapped[str] = mapped_column(Text, default="")
    individuals_notified_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    #: the measures taken effectively avoid harm (PIPL Art 57: individuals need no notice)
    harm_avoided: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubjectRequest(Base):
    """A person's request (access, withdraw, erase, complaint) with its deadline and answer.

    Keyed by the pseudonym, not the subject row: the record of an erasure request must
    outlive the erasure, without re-linking the person.
    """

    __tablename__ = "subject_requests"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # Added by 0007_lawful: the person's words, sealed under their data key so that erasing
    # them shreds the text too (``text`` stays empty for new requests)
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Identification(Base):
    """A remote-identification match waiting for (or given) human confirmation (EU-AI-14).

    Holds what AI Act Art 12(3) asks to log: the use's start and end, the reference database
    (the deployment's gallery and its size), the hash of the matched input, the reviewers.
    """

    __tablename__ = "identifications"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    subject_id: Mapped[str | None] = mapped_column(
        ForeignKey("subjects.id", ondelete="SET NULL"), nullable=True
    )
    #: the similarity score; None for an encrypted search, which has no score (issue 16)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_sha256: Mapped[str] = mapped_column(String(64))
    gallery_size: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    reviewers: Mapped[list[dict[str, object]]] = mapped_column(JSON)
