"""Who is acting: principals and their roles.

A principal is a person (or a service) acting for an operator, with one role and credentials
of its own (API keys; later a web login). What the law asks a person to do is done by a
principal with that role: a ``dpo`` signs the impact assessment, two different ``reviewer``
principals confirm a remote-identification match. Every ledger event names the principal.

The installation's owner (who holds the master key: the home directory's user) acts as the
``admin`` principal of the local operator when no key is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

Role = Literal["admin", "operator", "dpo", "reviewer", "auditor"]
ROLES: Final[tuple[Role, ...]] = ("admin", "operator", "dpo", "reviewer", "auditor")

#: what each role may do; acts not listed for a role are refused (Forbidden)
PERMISSIONS: Final[dict[str, frozenset[Role]]] = {
    # principals, keys and the operator's own identity
    "manage_principals": frozenset({"admin"}),
    "set_operator": frozenset({"admin"}),
    # deployments: drafting and changing them; ending one
    "manage_deployments": frozenset({"admin", "operator"}),
    # the impact assessment is signed by the data protection officer only
    "sign_pia": frozenset({"dpo"}),
    # consent desk and recognition
    "record_consent": frozenset({"admin", "operator"}),
    "process_faces": frozenset({"admin", "operator"}),
    "erase": frozenset({"admin", "operator", "dpo"}),
    # two-person review of remote identification (EU-AI-14)
    "review": frozenset({"reviewer"}),
    # people's requests and complaints
    "answer_requests": frozenset({"admin", "operator", "dpo"}),
    # reading: reports, ledger, evidence, lists
    "read": frozenset({"admin", "operator", "dpo", "reviewer", "auditor"}),
    # supervision duties: filings, incidents, self-checks, retention sweeps
    "supervise": frozenset({"admin", "dpo"}),
}


@dataclass(frozen=True)
class Actor:
    """The principal a call acts as."""

    principal_id: str
    operator_id: str
    role: Role
    name: str
    #: when the API key this call came with expires (None: not a key, e.g. a console session
    #: or the owner); a key it issues for its own principal may not outlive it
    key_expires_at: datetime | None = field(default=None, compare=False)

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]
