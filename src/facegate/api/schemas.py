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
    legal_basis: str | None = Field(None, description="default: the pack's (consent)")
    retention_days: int | None = Field(
        None, ge=1, le=3650, description="default: the longest the packs allow"
    )
    signage: bool = False
    capabilities: list[str] | None = Field(
        None, description="e.g. verify, identify, remote_identification (default: verify)"
    )
    scope: str = Field("application", description="application or research (CN-FR-2)")
    egress: bool = Field(False, description="face data leaves the device (CN-FR-8)")
    purpose_ends_at: datetime | None = None
    risk_team: str = ""
    accountable: str = ""
    fairness_tested: bool = False
    opt_out: bool = False
    confirmed_by: str | None = Field(
        None, description="who confirms the drafted impact assessment (default: the API key)"
    )

    def gate_kwargs(self) -> dict[str, object]:
        """The Gate's keyword arguments: the IND-2019 declarations grouped as the Gate wants."""
        from facegate.policy.facts import Declarations

        data = self.model_dump()
        declared = {
            k: data.pop(k) for k in ("risk_team", "accountable", "fairness_tested", "opt_out")
        }
        return {**data, "declarations": Declarations(**declared)}


class ConsentIn(_In):
    subject_ref: str = Field(min_length=1, max_length=200)
    notice_version: int = Field(ge=1, description="the notice version the person was shown")
    method: str = Field(
        "signed_form",
        max_length=40,
        description="signed_form, written_release, electronic_signature, ...",
    )
    expires_at: datetime | None = None
    subject_age: int | None = Field(None, ge=0, le=150)
    by_guardian: bool = Field(False, description="a parent or guardian consented (under 14)")
    egress: bool = Field(False, description="separate consent to leave the device")
    disclosure: bool = Field(False, description="separate consent to disclosure")


class SubjectIn(_In):
    subject_ref: str = Field(min_length=1, max_length=200)
    reason: str = Field("erasure requested", max_length=200)
