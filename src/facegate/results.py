"""What the Gate hands back: frozen, public, free of secrets and biometric data."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class _Public:
    def to_dict(self) -> dict[str, object]:
        def conv(v: object) -> object:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [conv(x) for x in v]
            return v

        return {k: conv(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class OperatorInfo(_Public):
    id: str
    name: str
    contact: str
    dpo: str = ""
    email: str = ""
    address: str = ""
    url: str = ""
    event_id: str = ""


@dataclass(frozen=True)
class PrincipalInfo(_Public):
    id: str
    operator_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IssuedApiKey(_Public):
    id: str
    operator_id: str
    principal_id: str
    key: str  # shown once; only its hash is stored
    expires_at: datetime | None
    deployment_id: str | None = None


@dataclass(frozen=True)
class ApiKeyInfo(_Public):
    id: str
    principal_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    deployment_id: str | None


@dataclass(frozen=True)
class NewPrincipal(_Public):
    principal: PrincipalInfo
    api_key: IssuedApiKey


@dataclass(frozen=True)
class DeploymentInfo(_Public):
    id: str
    operator_id: str
    name: str
    purpose: str
    necessity: str
    legal_basis: str
    location_type: str
    signage: bool
    jurisdiction: str
    retention_days: int
    alternative: str
    threshold: float
    scheme: str
    model_version: str
    status: str
    created_at: datetime
    #: the notice in force (0 while a draft awaits its first sign-off)
    notice_version: int
    event_id: str
    capabilities: tuple[str, ...] = ()
    capture: str | None = None
    scope: str = "application"
    signed_by: str | None = None
    signed_at: datetime | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeInfo(_Public):
    deployment_id: str
    version: int
    sha256: str
    body: dict[str, str]


@dataclass(frozen=True)
class ConsentReceipt(_Public):
    consent_id: str
    deployment_id: str
    notice_version: int
    access_code: str  # given to the person once; only its hash is stored
    receipt: dict[str, object]
    event_id: str


@dataclass(frozen=True)
class EnrollResult(_Public):
    deployment_id: str
    template_id: str
    model_version: str
    scheme: str
    faces_found: int
    expires_at: datetime
    event_id: str


@dataclass(frozen=True)
class VerifyResult(_Public):
    deployment_id: str
    decision: Literal["match", "no_match"]
    score: float
    threshold: float
    model_version: str
    faces_ignored: int
    event_id: str


@dataclass(frozen=True)
class Candidate(_Public):
    subject_ref: str
    score: float


@dataclass(frozen=True)
class IdentifyResult(_Public):
    deployment_id: str
    decision: Literal["match", "unknown", "pending"]
    subject_ref: str | None
    score: float | None
    threshold: float
    model_version: str
    faces_ignored: int
    gallery_size: int
    event_id: str
    #: set when the match awaits two reviewers (remote identification, EU-AI-14)
    identification_id: str | None = None


@dataclass(frozen=True)
class ErasureReceipt(_Public):
    deployment_id: str
    templates_erased: int
    key_destroyed: bool
    reason: str
    erased_at: datetime
    event_id: str


@dataclass(frozen=True)
class LedgerReport(_Public):
    ok: bool
    size: int
    root_hex: str
    heads_checked: int
    first_bad_index: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class PiaView(_Public):
    """An impact assessment as the DPO reviews it: the answers, what is missing, who
    signed it and when, and the notice that signing publishes."""

    deployment_id: str
    version: int
    status: str
    answers: dict[str, str]
    missing: tuple[str, ...]
    signed_by: str | None
    signed_at: datetime | None
    notice_preview: dict[str, object]


@dataclass(frozen=True)
class EndReceipt(_Public):
    deployment_id: str
    people_erased: int
    templates_erased: int
    reason: str
    ended_at: datetime
    event_id: str


@dataclass(frozen=True)
class SelfCheckReport(_Public):
    ok: bool
    controls: dict[str, bool | None]
    measurements: dict[str, str]
    rule_ids: tuple[str, ...]
    problems: tuple[str, ...]
    event_id: str


@dataclass(frozen=True)
class ReviewResult(_Public):
    identification_id: str
    status: Literal["pending", "confirmed", "rejected"]
    reviewers: list[str]
    subject_ref: str | None  # named only once two distinct reviewers confirmed
    score: float
    event_id: str
