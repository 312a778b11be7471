"""What a caller must say to record a recipient, share or export, or record a person's
consent to one recipient. One model each, shared by the Gate, the HTTP API and the command
line. Every legal fact of an agreement is required: none has a default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from facegate.errors import InvalidInput
from facegate.policy import parse_jurisdiction
from facegate.specs import Count, Flag, Sha256, Text

__all__ = [
    "FIELD_RULES",
    "HOME_COUNTRIES",
    "MECHANISMS",
    "RecipientAgreement",
    "TransferConsentTerms",
    "TransferRequest",
    "build",
    "is_cross_border",
]

#: "none" for a recipient at home; abroad, one of PIPL Art 38's
MECHANISMS: Final = ("none", "security_assessment", "standard_contract", "certification")
Country = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2}$")]
Id = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{3}_[0-9a-f]{24}$")]

#: the countries a pack's law treats as home: a recipient elsewhere is a cross-border
#: transfer (PIPL counts Hong Kong, Macao and Taiwan as outside the mainland; GDPR
#: Chapter V as outside the European Economic Area)
HOME_COUNTRIES: Final[dict[str, frozenset[str]]] = {
    "cn": frozenset({"CN"}),
    "eu": frozenset(
        {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"}
        | {"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
        | {"IS", "LI", "NO"}
    ),
    "us-il": frozenset({"US"}),
    "us-tx": frozenset({"US"}),
    "us-wa": frozenset({"US"}),
}

#: which rule needs each field (for the error that names a missing one)
FIELD_RULES: Final = {
    "name": "CN-SPC-7",
    "contact": "CN-SPC-7",
    "role": "CN-SPC-7",
    "country": "CN-PIPL-38",
    "purpose": "CN-SPC-2",
    "same_purpose": "CN-SPC-2",
    "retention_days": "CN-SPC-7",
    "irrevocable": "CN-SPC-7",
    "for_profit": "US-IL-15c",
    "mechanism": "CN-PIPL-38",
    "max_people": "CN-SPC-7",
    "agreement_sha256": "CN-SPC-7, CN-PIPL-69",
    "ends_at": "CN-SPC-7",
    "egress": "CN-FR-8, CN-PIPL-38",
    "disclosure": "US-IL-15c",
    "method": "CN-FR-6, US-IL-15b",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecipientAgreement(_In):
    """A recipient of one deployment's face data and the agreement made with it."""

    name: Annotated[Text, Field(min_length=1, max_length=200, description="who receives")]
    contact: Annotated[Text, Field(min_length=3, max_length=300, description="how to reach them")]
    role: Literal["processor", "controller"] = Field(
        description="processor: acts for the operator; controller: decides its own use"
    )
    country: Country = Field(description="ISO 3166 code of where the data goes (CN-PIPL-38)")
    purpose: Annotated[Text, Field(min_length=1, max_length=2000)]
    same_purpose: Flag = Field(description="the recipient uses it only for the deployment's")
    retention_days: Count | Literal["unlimited"] = Field(
        description="days the recipient may keep it, or 'unlimited' (void terms: CN-SPC-7)"
    )
    irrevocable: Flag = Field(description="the terms grant rights that cannot be revoked")
    for_profit: Flag = Field(description="payment or another benefit is received (US-IL-15c)")
    mechanism: Literal["none", "security_assessment", "standard_contract", "certification"]
    max_people: Count = Field(ge=1, le=100_000_000, description="the most people it may receive")
    agreement_sha256: Sha256 = Field(description="SHA-256 of the signed agreement")
    ends_at: datetime = Field(description="when the agreement ends")


class TransferRequest(_In):
    """Who leaves: the people named (the operator's references), or everyone held."""

    recipient_id: Id
    subjects: list[Annotated[Text, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=100_000
    )
    everyone: bool = False


class TransferConsentTerms(_In):
    """A person's separate consent, given later, to their face data going to one recipient."""

    recipient_id: Id
    method: Literal[
        "signed_form",
        "written_release",
        "electronic_signature",
        "e_signature",
        "written",
        "explicit_click",
        "recorded_verbal",
    ] = Field(description="how the person consented: written methods need form_sha256")
    form_sha256: Sha256 | None = None
    egress: Flag = Field(description="to leave the device or the country (CN-FR-8, PIPL 38)")
    disclosure: Flag = Field(description="to be disclosed to the recipient (US-IL-15c)")


def is_cross_border(jurisdiction: str, country: str) -> bool:
    """Whether sending to ``country`` leaves home under any pack in force."""
    packs = [p for p in parse_jurisdiction(jurisdiction) if p in HOME_COUNTRIES]
    return any(country.upper() not in HOME_COUNTRIES[p] for p in packs)


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
            advice="Give every fact of the agreement; facegate never presumes a legal fact.",
        ) from None
