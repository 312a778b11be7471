"""What the pages read from the Gate that it does not publish yet: an adapter, one place.

* A deployment's public record (no key: anyone on site may read the notice, the retention
  schedule, who runs it and where to complain). Read today through ``gate.get_deployment``
  and ``gate.notice``, keeping only what the law makes public; when the Gate offers a public
  read of deployments, only :func:`public_deployment` changes.
* A person's own requests and their answers (``subject_requests``): read from the requests
  table by the pseudonym that ``gate.subject_view`` returned, until the Gate has
  ``subject_requests(access_code)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select

from facegate.consent.notices import LANGUAGES, REQUIRED_FIELDS
from facegate.core import aware
from facegate.errors import InvalidInput, NotFound
from facegate.gate import Gate
from facegate.storage import tables as t


def N_(message: str) -> str:  # noqa: N802 - gettext's marker, a keyword Babel extracts
    """Marks a message for the catalogues; the template translates it when shown."""
    return message


#: the notice's fields as a person reads them (CN-FR-5 / ISO 29184 order)
FIELD_LABELS: Final = {
    "processor": N_("Who is responsible"),
    "contact": N_("How to reach them"),
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
    "active": N_("in use"),
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
    location_type: str
    jurisdiction: str
    retention_days: int
    alternative: str
    created_at: datetime
    #: the data protection officer's public contact: not recorded by the Gate yet
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
    info = gate.get_deployment(valid_id(deployment_id))
    notices = []
    for language in LANGUAGES:
        n = gate.notice(info.id, language=language)
        if n.body.get("language") != language:
            continue  # the notice has no text of its own in this language
        fields = tuple((f, n.body[f]) for f in REQUIRED_FIELDS if n.body.get(f))
        notices.append(PublicNotice(language, n.version, n.sha256, fields, n.body.get("plain", "")))
    if not notices:
        raise NotFound("this deployment has no published notice")
    packs = info.jurisdiction.split("+")
    return PublicDeployment(
        id=info.id,
        name=info.name,
        status=info.status,
        purpose=info.purpose,
        location_type=info.location_type,
        jurisdiction=info.jurisdiction,
        retention_days=info.retention_days,
        alternative=info.alternative,
        created_at=info.created_at,
        dpo=None,
        authorities=tuple(AUTHORITIES[p] for p in packs if p in AUTHORITIES),
        registration=None,
        notices=tuple(notices),
        sweep_minutes=gate.settings.retention_sweep_minutes,
    )


def public_deployments(gate: Gate) -> list[PublicDeployment]:
    """Every deployment of the installation, newest last (their notices are public)."""
    return [public_deployment(gate, d.id) for d in gate.list_deployments()]


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


def subject_requests(gate: Gate, pseudonym: str) -> list[PersonRequest]:
    """The requests and complaints of the person with ``pseudonym`` (as ``subject_view``
    returned it for their access code), newest first, with the operator's answers."""
    if not isinstance(pseudonym, str) or not pseudonym:
        raise InvalidInput("no pseudonym")
    with gate.db.read() as s:
        rows = s.scalars(
            select(t.SubjectRequest)
            .where(t.SubjectRequest.pseudonym == pseudonym)
            .order_by(t.SubjectRequest.received_at.desc(), t.SubjectRequest.id)
            .limit(200)
        ).all()
        return [
            PersonRequest(
                request_id=r.id,
                kind=r.kind,
                status=r.status,
                received_at=aware(r.received_at),
                due_at=aware(r.due_at),
                answered_at=aware(r.answered_at) if r.answered_at else None,
                text=r.text or "",
                answer=r.reason if r.status != "open" else "",
            )
            for r in rows
        ]
