"""Response models of the routes for people (subject), the public deployment page, and the
requests an operator answers: typed, so the OpenAPI document says what each answer holds.

The evidence bundle (``GET /v1/subject/me/evidence``, ``GET /v1/ledger/evidence``) stays an
object: it is a format of its own, versioned and checked by ``facegate evidence verify``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from facegate.results import ErasureReceipt

__all__ = [
    "HeldOut",
    "PendingReviewOut",
    "PublicDeploymentOut",
    "RequestOut",
    "SubjectActOut",
]


class RequestOut(BaseModel):
    """A person's request or complaint, and the operator's answer once given."""

    request_id: str
    kind: str
    status: str
    received_at: str
    due_at: str
    reason: str
    event_id: str
    deployment_id: str | None = None
    text: str | None = None


class PendingReviewOut(BaseModel):
    """A remote-identification match awaiting reviewers: nobody is named yet."""

    identification_id: str
    deployment_id: str
    score: float | None
    started_at: str
    #: the principals who reviewed it so far
    reviewers: list[str]


class SubjectActOut(BaseModel):
    """A withdrawal or erasure asked by the person: the request and the erasure receipt."""

    request: RequestOut
    erasure: ErasureReceipt


class _Processor(BaseModel):
    name: str
    contact: str


class _Deployment(BaseModel):
    id: str
    name: str
    purpose: str
    location_type: str
    alternative: str
    retention_days: int
    legal_basis: str


class _Consent(BaseModel):
    given_at: str
    notice_version: int
    method: str
    expires_at: str | None


class _Template(BaseModel):
    created_at: str
    deleted_by: str


class _Held(BaseModel):
    photos: int
    raw_embeddings: int
    protected_templates: list[_Template]
    #: ciphertexts under the key holders' joint key (threshold encrypted verification)
    encrypted_templates: list[_Template]
    where: str


class _Recipient(BaseModel):
    name: str
    contact: str
    role: str
    country: str
    purpose: str


class _Transfer(BaseModel):
    """A share or export that carried the person (issue 14)."""

    act: str
    at: str
    recipient: _Recipient
    abroad: bool
    form: str
    revoked_at: str | None
    event_id: str


class HeldOut(BaseModel):
    """What is held about the person, where, until when, under which consent."""

    request: RequestOut
    pseudonym: str
    processor: _Processor
    deployment: _Deployment
    consent: _Consent
    held: _Held
    earlier_requests: int
    transfers: list[_Transfer] = []


class _Operator(BaseModel):
    name: str
    contact: str
    email: str
    address: str
    dpo: str


class _Schedule(BaseModel):
    retention_days: int
    rules: list[str]


class _Notice(BaseModel):
    version: int
    sha256: str
    published_at: str
    #: per language: the notice's fields and its plain text
    languages: dict[str, dict[str, Any]]


class PublicDeploymentOut(BaseModel):
    """What anyone may read about a live deployment (BIPA 15(a): the schedule is public)."""

    id: str
    name: str
    status: str
    operator: _Operator
    place: str
    purpose: str
    alternative: str
    retention_schedule: _Schedule
    notice: _Notice
    jurisdiction: list[str]
