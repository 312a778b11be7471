"""Request bodies. Responses are the Gate's public result objects."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeploymentIn(_In):
    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    location: str = Field(description="location type, e.g. residential_compound, office")
    alternative: str = Field(
        min_length=1, max_length=500, description="the non-face way offered, e.g. key card"
    )
    jurisdiction: str = "cn"
    threshold: float | None = Field(None, gt=0, lt=1)
    necessity: str | None = Field(None, max_length=2000)
    legal_basis: str = "consent"
    retention_days: int = Field(365, ge=1, le=3650)
    signage: bool = False


class ConsentIn(_In):
    subject_ref: str = Field(min_length=1, max_length=200)
    notice_version: int = Field(ge=1, description="the notice version the person was shown")
    method: str = Field("signed_form", max_length=40)
    expires_at: datetime | None = None


class SubjectIn(_In):
    subject_ref: str = Field(min_length=1, max_length=200)
    reason: str = Field("erasure requested", max_length=200)
