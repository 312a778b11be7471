"""What the pages read from the Gate about deployments and a person's requests: one place.

* A deployment's public record (no key: anyone on site may read the notice, the retention
  schedule, who runs it, their DPO and where to complain) is ``gate.public_deployment``; a
  draft is not public yet, so it is neither listed nor shown.
* A person's own requests and the operator's answers are ``gate.subject_requests(code)``:
  the person's words are sealed under their own key, so only their access code reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from facegate.consent.notices import LANGUAGES, REQUIRED_FIELDS
from facegate.errors import NotFound
from facegate.gate import Gate


def N_(message: str) -> str:  # noqa: N802 - gettext's marker, a keyword Babel extracts
    """Marks a message for the catalogues; the template translates it when shown."""
    return message


#: the notice's fields as a person reads them (CN-FR-5 / ISO 29184 order)
FIELD_LABELS: Final = {
    "processor": N_("Who is responsible"),
    "contact": N_("How to reach them"),
    "dpo": N_("Data protection officer"),
    "purpose": N_("Why your face is used"),
    "method": N_("How it works"),
    "data": N_("What is kept"),
    "retention": N_("How long it is kept"),
    "impact": N_("What it could mean for you"),
    "necessity": N_("Why face recognition is needed here"),
    "legal_basis": N_("Legal basis"),
    "recipients": N_("Who else receives it"),
    "rights": N_("Your rights"),
    "withdrawal": N_("Withdrawing your consent"),
    "complaints": N_("Complaints"),
    "alternative": N_("The way in without your face"),
    "refusal": N_("If you say no"),
    "changes": N_("If anything changes"),
}
#: who supervises processing under each policy pack (industry codes have no regulator)
AUTHORITIES: Final = {
    "cn": N_("the Cyberspace Administration of China (CAC) and its local offices"),
    "eu": N_("the data protection supervisory authority where you live or work"),
    "us-il": N_("the Illinois Attorney General; BIPA also lets you sue in court"),
    "us-tx": N_("the Texas Attorney General"),
    "us-wa": N_("the Washington State Attorney General"),
}
STATUS: Final = {
    "live": N_("in use"),
    "draft": N_("draft, not in use yet"),
    "ended": N_("ended"),
}
_ID: Final = re.compile(r"[a-z]{1,12}_[0-9a-f]{24}")


@dataclass(frozen=True)
class PublicNotice:
    language: str
    version: int
    sha256: str
    fields: tuple[tuple[str, str], ...]
    plain: str


@dataclass(frozen=True)
class PublicDeployment:
    id: str
    name: str
    status: str
    purpose: str
    #: the kind of place, in words
    place: str
    jurisdiction: str
    retention_days: int
    alternative: str
    #: when the notice in force was published: the day the deployment went live, or its
    #: notice last changed (the public record carries no registration date)
    created_at: datetime
    #: the operator's data protection officer, as the operator published it
    dpo: str | None
    authorities: tuple[str, ...]
    #: the regulator node's registration of this operator: not linked yet
    registration: str | None
    notices: tuple[PublicNotice, ...]
    sweep_minutes: int

    def notice_in(self, language: str) -> PublicNotice:
        return next((n for n in self.notices if n.language == language), self.notices[0])

    def who(self, language: str) -> tuple[str, str]:
        """The processor and how to reach them, as the notice in ``language`` says."""
        fields = dict(self.notice_in(language).fields)
        return fields.get("processor", ""), fields.get("contact", "")


def valid_id(deployment_id: str) -> str:
    """The id if it has the shape of a deployment id; :class:`NotFound` otherwise, before
    any database read."""
    if not _ID.fullmatch(deployment_id):
        raise NotFound("there is no such deployment")
    return deployment_id


def public_deployment(gate: Gate, deployment_id: str) -> PublicDeployment:
    """The deployment's public record; :class:`NotFound` for an unknown id or a draft."""
    record = gate.public_deployment(valid_id(deployment_id))
    notice, operator = _mapping(record["notice"]), _mapping(record["operator"])
    schedule = _mapping(record["retention_schedule"])
    packs = [str(p) for p in _sequence(record["jurisdiction"])]
    notices = tuple(
        _notice(language, notice, notice["languages"][language])
        for language in LANGUAGES
        if language in notice["languages"]
    )
    return PublicDeployment(
        id=str(record["id"]),
        name=str(record["name"]),
        status=str(record["status"]),
        purpose=str(record["purpose"]),
        place=str(record["place"]),
        jurisdiction="+".join(packs),
        retention_days=int(schedule["retention_days"]),
        alternative=str(record["alternative"]),
        created_at=datetime.fromisoformat(str(notice["published_at"])),
        dpo=str(operator["dpo"]) if operator.get("dpo") else None,
        authorities=tuple(AUTHORITIES[p] for p in packs if p in AUTHORITIES),
        registration=None,
        notices=notices,
        sweep_minutes=gate.settings.retention_sweep_minutes,
    )


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):  # pragma: no cover - the Gate's record is fixed
        raise TypeError(f"expected a mapping in the public record, not {type(value)}")
    return value


def _sequence(value: object) -> Sequence[object]:
    if not isinstance(value, list | tuple):  # pragma: no cover - the Gate's record is fixed
        raise TypeError(f"expected a list in the public record, not {type(value)}")
    return value


def _notice(language: str, notice: Mapping[str, Any], text: Mapping[str, Any]) -> PublicNotice:
    fields = tuple((f, str(text[f])) for f in REQUIRED_FIELDS if text.get(f))
    return PublicNotice(
        language, int(notice["version"]), str(notice["sha256"]), fields, str(text.get("plain", ""))
    )


def public_deployments(gate: Gate) -> list[PublicDeployment]:
    """Every public deployment of the installation, oldest first; drafts are not public."""
    found = []
    for d in gate.list_deployments():
        try:
            found.append(public_deployment(gate, d.id))
        except NotFound:
            continue
    return found


@dataclass(frozen=True)
class PersonRequest:
    request_id: str
    kind: str
    status: str
    received_at: datetime
    due_at: datetime
    answered_at: datetime | None
    text: str
    answer: str


def subject_requests(gate: Gate, access_code: str) -> list[PersonRequest]:
    """The requests and complaints of the holder of ``access_code``, newest first, in their
    own words, with the operator's answers."""
    return [
        PersonRequest(
            request_id=str(r["request_id"]),
            kind=str(r["kind"]),
            status=str(r["status"]),
            received_at=datetime.fromisoformat(str(r["received_at"])),
            due_at=datetime.fromisoformat(str(r["due_at"])),
            answered_at=_when(r["answered_at"]),
            text=str(r["text"] or ""),
            answer=str(r["reason"]) if r["status"] != "open" else "",
        )
        for r in gate.subject_requests(access_code)
    ]


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
