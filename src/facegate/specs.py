"""Input models: what a caller must say to register a deployment, record a consent, sign an
impact assessment or describe the operator. One model each, shared by the Gate, the HTTP API
and the command line.

A legally material fact is never defaulted: leaving one out is an error that names the field
and the rule that needs it. Fields that only some packs read are checked against the packs
in force (:func:`missing_for`); a field whose absence could only make the law stricter
(``egress``, ``scope``) has the strict answer as its default, and says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
)

from facegate.errors import InvalidInput
from facegate.policy.facts import Declarations, PublicSecurity

#: text a person types: no control characters (a NUL breaks PostgreSQL, others hide text)
#: and no bidirectional overrides or isolates (text that displays other than it reads)
_CLEAN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"
Text = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_CLEAN)]
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-fA-F]{64}$")]


def _a_json_number(value: object) -> object:
    """Refuse a string or a boolean where a number is meant ("30" or true are not 30 days);
    a JSON number with no fraction (5.0) is an integer, as JSON Schema says."""
    if isinstance(value, bool | str):
        raise ValueError(f"a number is needed, not {type(value).__name__} {value!r}")
    return value


#: a legal fact that is yes or no: JSON true or false, never "yes", 1 or "off" coerced
Flag = Annotated[bool, Strict()]
#: a count (days, years, a version): a JSON integer, never "30" or true coerced
Count = Annotated[int, BeforeValidator(_a_json_number)]
#: a number: a JSON number, never a string or a boolean
Number = Annotated[float, BeforeValidator(_a_json_number)]
#: counts with their range (the range first, so that the document states it)
Days = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_a_json_number)]
Age = Annotated[int, Field(ge=0, le=150), BeforeValidator(_a_json_number)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_a_json_number)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicSecurityIn(_In):
    """A public-security basis (PIPL Art 26): who, under which instrument, over which area."""

    authority: Annotated[Text, Field(min_length=1, max_length=200)]
    instrument: Annotated[Text, Field(min_length=1, max_length=300)]
    area: Annotated[Text, Field(min_length=1, max_length=300)]

    def facts(self) -> PublicSecurity:
        return PublicSecurity(self.authority, self.instrument, self.area)


class PiaAnswers(_In):
    """The parts of an impact assessment people write (PIPL Art 56, GDPR Art 35(7)); the
    necessity statement is written by the DPO when signing."""

    lawfulness: Annotated[Text, Field(max_length=5000)]
    impact: Annotated[Text, Field(max_length=5000)]
    risks: Annotated[Text, Field(max_length=5000)]
    safeguards: Annotated[Text, Field(max_length=5000)]
    conclusion: Annotated[Text, Field(max_length=5000)]


class DeploymentSpec(_In):
    """A processing activity, as the law asks it to be described."""

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    purpose: Annotated[Text, Field(min_length=1, max_length=2000, description="CN-FR-4")]
    location: Annotated[
        Text, Field(max_length=40, description="place type (facegate policy places); CN-FR-13")
    ]
    alternative: Annotated[
        Text, Field(max_length=500, description="the non-face way offered; CN-FR-10")
    ]
    jurisdiction: Annotated[
        Text, Field(max_length=60, description="policy packs, e.g. cn, eu, us-il, cn+ind-2019")
    ]
    legal_basis: Annotated[
        Text, Field(max_length=40, description="consent, law, employment_law, ...; EU-GDPR-9")
    ]
    retention_days: Count = Field(
        ge=0,
        le=2**31 - 1,
        description="days a template is kept; CN-PIPL-19, US-IL-15a (what is lawful is the "
        "packs' to judge, with a ledgered refusal; a negative number is no period at all, "
        "and the bound above is what the database column holds)",
    )
    capabilities: list[Annotated[Text, Field(max_length=40)]] = Field(
        max_length=10, description="verify, identify, remote_identification, ...; CN-SPC-2"
    )
    signage: Flag = Field(description="prominent signs are posted at the place; CN-FR-5")
    capture: Literal["on_request", "in_view"] | None = Field(
        None,
        description="required when searching (identify): on_request (only people who ask "
        "to use it are photographed) or in_view (whoever faces the camera)",
    )
    scope: Annotated[Text, Field(max_length=20)] = Field(
        "application",
        description="CN-FR-2: application or research; 'application' (the default) is the "
        "scope every Measure applies to",
    )
    egress: Flag = Field(
        False, description="face data may leave the device (CN-FR-8); the default keeps it in"
    )
    purpose_ends_at: datetime | None = None
    necessity: Annotated[Text, Field(max_length=5000)] | None = Field(
        None, description="a proposal; the DPO writes the necessity statement when signing"
    )
    threshold: Number | None = Field(
        None, description="match threshold; leave out for the calibrated default (ISO-30136)"
    )
    public_security: PublicSecurityIn | None = None
    risk_team: Annotated[Text, Field(max_length=200)] | None = None
    accountable: Annotated[Text, Field(max_length=200)] | None = None
    fairness_tested: Flag | None = None
    opt_out: Flag | None = None
    alternative_penalty: Flag | None = Field(
        None, description="the alternative costs more or serves less; required under cn"
    )
    law_enforcement: Flag | None = Field(
        None, description="operated by or for law enforcement; required under eu"
    )
    liveness: Flag = Field(False, description="people must pass a liveness check")
    liveness_challenge: Flag = Field(
        False,
        description="enroll and verify also need a passed active challenge (blink or head "
        "turn at the camera); see docs/liveness.md",
    )
    unknown_alerts: Flag = Field(
        False,
        description="a 1:N search that finds nobody raises an alert (ledgered, no biometric "
        "data); the DPO signs it with the rest of the deployment",
    )
    pia: PiaAnswers | None = None
    notice_translations: dict[str, dict[str, Text]] | None = None

    def declared(self) -> dict[str, object]:
        """The declarations as answered (None: not asked, under the packs in force)."""
        return {
            "risk_team": self.risk_team,
            "accountable": self.accountable,
            "fairness_tested": self.fairness_tested,
            "opt_out": self.opt_out,
            "alternative_penalty": self.alternative_penalty,
            "law_enforcement": self.law_enforcement,
        }

    def declarations(self) -> Declarations:
        """The declarations as the packs read them (an unanswered one reads strictly)."""
        return Declarations.from_dict({k: v for k, v in self.declared().items() if v is not None})


#: fields a pack reads that the caller must give under it, with the rule that needs each
REQUIRED_BY_PACK: dict[str, tuple[tuple[str, str], ...]] = {
    "cn": (("alternative_penalty", "CN-FR-12"),),
    "eu": (("law_enforcement", "EU-AI-5"),),
    "ind-2019": (
        ("risk_team", "IND-2019"),
        ("accountable", "IND-2019"),
        ("fairness_tested", "IND-2019"),
    ),
}
#: the rule behind each legal fact (named in the error message when it is wrong or missing)
FIELD_RULES = {
    "name": "",
    "purpose": "CN-FR-4",
    "location": "CN-FR-13",
    "alternative": "CN-FR-10",
    "jurisdiction": "",
    "legal_basis": "EU-GDPR-9, CN-FR-6",
    "retention_days": "CN-PIPL-19, US-IL-15a",
    "capabilities": "CN-SPC-2",
    "signage": "CN-FR-5",
    "capture": "CN-FR-5, EU-GDPR-9, US-IL-15b",
    "method": "CN-FR-6, US-IL-15b",
    "form_sha256": "US-IL-15b, CN-PIPL-69",
    "age": "CN-FR-6",
    "guardian_form_sha256": "CN-FR-6",
    "notice_version": "ISO-29184, CN-FR-5",
    "necessity": "CN-FR-4",
    # given where a pack needs them (REQUIRED_BY_PACK), or always judged by one
    "alternative_penalty": "CN-FR-12",
    "law_enforcement": "EU-AI-5",
    "threshold": "ISO-30136",
    "adult_attested": "CN-FR-6",
    "egress": "CN-FR-8",
    "disclosure": "US-IL-15c",
}


def missing_for(spec: DeploymentSpec, packs: tuple[str, ...]) -> None:
    """Refuse a spec that leaves out a fact a pack in force needs, naming field and rule."""
    searching = {"identify", "remote_identification", "realtime_remote_identification"}
    problems = [
        f"{field} ({rule})"
        for pack in packs
        for field, rule in REQUIRED_BY_PACK.get(pack, ())
        if getattr(spec, field) is None
    ]
    if set(spec.capabilities) & searching and spec.capture is None:
        problems.append(f"capture ({FIELD_RULES['capture']})")
    if problems:
        raise InvalidInput(
            "the deployment leaves out facts the law in force needs: " + ", ".join(problems),
            advice="Give each one explicitly; facegate never presumes a legal fact.",
        )


class ConsentTerms(_In):
    """How a person consented, as the packs need to judge it."""

    method: Annotated[
        Text,
        Field(
            max_length=40,
            description="signed_form, written_release, electronic_signature (written); "
            "explicit_click, recorded_verbal",
        ),
    ]
    form_sha256: Sha256 | None = Field(
        None, description="SHA-256 of the signed form or e-signature record (written methods)"
    )
    age: Age | None = Field(None, description="the person's age (CN-FR-6)")
    adult_attested: Flag = Field(
        False, description="the person attested being an adult instead of giving an age"
    )
    guardian: Annotated[Text, Field(min_length=1, max_length=200)] | None = Field(
        None, description="the parent or guardian who consented for a child"
    )
    guardian_form_sha256: Sha256 | None = None
    notice_version: Version | None = Field(
        None, description="the notice version the person was shown"
    )
    expires_at: datetime | None = None
    egress: Flag = Field(False, description="a separate consent to leave the device (CN-FR-8)")
    disclosure: Flag = Field(False, description="a separate consent to disclosure (US-IL-15c)")


class OperatorProfile(_In):
    """What notices and receipts say about the operator; fields left out stay as they are."""

    name: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    contact: Annotated[Text, Field(max_length=200)] | None = None
    dpo: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="the data protection officer / person in charge, and how to reach them"
    )
    email: Annotated[Text, Field(max_length=200)] | None = None
    address: Annotated[Text, Field(max_length=300)] | None = None
    url: Annotated[Text, Field(max_length=300)] | None = None


M = TypeVar("M", bound=BaseModel)


def build(model: type[M], data: dict[str, Any]) -> M:
    """``model(**data)``; a pydantic error becomes one :class:`InvalidInput` that names each
    field at fault and the rule that needs it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "body"
            rule = FIELD_RULES.get(str(err["loc"][0]) if err["loc"] else "", "")
            what = "is required" if err["type"] == "missing" else err["msg"].lower()
            problems.append(f"{field} {what}" + (f" ({rule})" if rule else ""))
        raise InvalidInput(
            "; ".join(problems),
            advice="Give every field the law needs; facegate never presumes a legal fact.",
        ) from None
