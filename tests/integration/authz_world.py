"""The installation the authorization matrix runs against, and the credentials it tries.

Operator A (the installation's own operator) has a principal of every role, each with its own
key, live deployments (one searched remotely, so that matches wait for reviewers) and people
with access codes. Operator B shares the installation with a deployment of its own. Besides
them: a forged key, a revoked key, the key of a revoked principal, an expired key, an A admin
key scoped to another deployment, and an access code sent as if it were an API key.

Each request builder makes the resources it acts on (a fresh deployment, person, request,
principal, key), so that what one cell of the matrix does cannot change another's answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from lawful import CN_SPEC, NECESSITY, OPERATOR, consent, draft, form, live
from transfers_support import agreement

from facegate.actors import ROLES
from facegate.api.app import create_app
from facegate.api.routes.subject import limiter
from facegate.config import ApiSettings, Settings
from facegate.gate import Gate
from facegate.recognition import FaceEngine

Photo = Callable[[str], bytes]
OBAMA, OBAMA2 = "fixtures/obama.jpg", "fixtures/obama2.jpg"

#: credentials tried on every route that takes an API key
KEY_CREDENTIALS = (
    "no key",
    "forged key",
    *ROLES,
    "another operator's admin",
    "revoked key",
    "revoked principal",
    "expired key",
    "key scoped to another deployment",
    "access code as key",
)
#: credentials tried on the routes for people (the access code is their only credential)
CODE_CREDENTIALS = ("no code", "unknown code", "API key as code", "own code", "another's code")
#: credentials tried on web pages (sessions are cookies: headers must open nothing)
WEB_CREDENTIALS = ("no key", "admin", "access code header")
#: credentials tried on the CompreFace-compatible routes (a service key in x-api-key, scoped
#: to one deployment; "service <role>": a key of that role scoped to A's service deployment)
SERVICE_CREDENTIALS = (
    "no key",
    "forged key",
    "revoked key",
    "expired key",
    "bearer instead",
    "unscoped key",
    *(f"service {role}" for role in ROLES),
    "another operator's service key",
)


@dataclass
class Req:
    """One request: method, URL, and what to send."""

    method: str
    url: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    content: bytes | None = None


@dataclass
class World:
    gate: Gate
    client: TestClient
    photo: Photo
    now: list[datetime]
    dep: str  # A's live deployment; "alice" is enrolled
    remote: str  # A's remote-identification deployment; "obama" is enrolled
    elsewhere: str  # the A deployment the scoped key is scoped to
    egress: str  # A's deployment whose data may leave; "obama" is enrolled, consenting
    service: str  # A's deployment served through the CompreFace API (keys scoped to it)
    b_gate: Gate  # operator B's admin
    entry: int  # a ledger entry of A's (alice's consent)
    keys: dict[str, str] = field(default_factory=dict)
    #: ids of A's that another operator's answers must never contain
    secrets: set[str] = field(default_factory=set)
    _n: Iterator[int] = field(default_factory=itertools.count)

    # --- fresh resources of A --------------------------------------------------------------

    def name(self, prefix: str) -> str:
        return f"{prefix}-{next(self._n)}"

    def live(self) -> str:
        dep = live(self.gate, name=self.name("Gate")).id
        self.secrets.add(dep)
        return dep

    def draft(self) -> str:
        dep = draft(self.gate, name=self.name("Draft")).id
        self.secrets.add(dep)
        return dep

    def person(self, dep: str | None = None) -> tuple[str, str]:
        """A consented person of ``dep`` (default: the shared deployment): (ref, code)."""
        ref = self.name("person")
        return ref, consent(self.gate, dep or self.dep, ref).access_code

    def request_id(self) -> str:
        _, code = self.person()
        return self.gate.subject_complaint(code, "My record names the wrong flat.").request_id

    def identification(self) -> str:
        found = self.gate.identify(self.remote, self.photo(OBAMA2))
        assert found.decision == "pending", found
        assert found.identification_id is not None
        return found.identification_id

    def principal(self) -> str:
        return self.gate.create_principal(self.name("clerk"), "operator").principal.id

    def others_key(self) -> str:
        """A key of an A principal other than any credential of the matrix."""
        pid = self.principal()
        return self.gate.issue_api_key(principal_id=pid, label="victim").id

    def recipient(self) -> str:
        """A recipient of the egress deployment, every term of its agreement stated."""
        terms = agreement(name=self.name("Recipient Co"))
        return self.gate.add_recipient(self.egress, **terms).id

    def enrolled(self, dep: str | None = None) -> tuple[str, str]:
        """A consented person with one template: (ref, template id)."""
        ref, _ = self.person(dep)
        return ref, self.gate.enroll(dep or self.dep, ref, self.photo(OBAMA)).template_id

    def service_headers(self, credential: str) -> dict[str, str]:
        if credential == "no key":
            return {}
        if credential == "bearer instead":
            return {"Authorization": f"Bearer {self.keys['service operator']}"}
        return {"x-api-key": self.keys[credential]}

    def image(self, rel: str = OBAMA) -> dict[str, tuple[str, bytes, str]]:
        return {"image": ("face.jpg", self.photo(rel), "image/jpeg")}

    def consent_body(self) -> dict[str, object]:
        ref = self.name("walk-in")
        return {
            "subject_ref": ref,
            "method": "signed_form",
            "form_sha256": form(ref),
            "adult_attested": True,
            "notice_version": 1,
        }

    def headers(self, credential: str) -> dict[str, str]:
        if credential in ("no key", "no code"):
            return {}
        if credential == "access code header":
            return {"X-Access-Code": self.person()[1]}
        return {"Authorization": f"Bearer {self.keys[credential]}"}


def build(home: Path, engine: FaceEngine, photo: Photo) -> World:
    now = [datetime.now(UTC)]
    gate = Gate.open(settings=Settings(home=home), engine=engine, clock=lambda: now[0], create=True)
    gate.set_operator(**OPERATOR)
    dep = live(gate, name="Lobby").id
    consent(gate, dep, "alice")
    entry = gate.counts()["ledger_entries"] - 1
    gate.enroll(dep, "alice", photo(OBAMA))
    remote = live(
        gate,
        name="Station",
        purpose="Find missing persons at the station",
        location="office",
        capabilities=["verify", "remote_identification"],
    ).id
    consent(gate, remote, "obama")
    gate.enroll(remote, "obama", photo(OBAMA))
    assert gate.identify(remote, photo(OBAMA2)).decision == "pending"  # a log to purge
    elsewhere = live(gate, name="Garage").id
    egress = live(gate, name="Exports", egress=True).id
    service = live(gate, name="Kiosk").id
    consent(gate, egress, "obama", egress=True, disclosure=True)
    gate.enroll(egress, "obama", photo(OBAMA))
    b = gate.create_operator("Other Property Co", contact="+86 21 5555 0199")
    b_gate = gate.acting_as(b.api_key.key)
    b_gate.set_operator(**{**OPERATOR, "name": "Other Property Co"})
    b_gate.create_deployment(**{**CN_SPEC, "name": "B's gate"})
    app = create_app(gate)
    app.state.subject_limiter = limiter(  # the matrix sends many codes from one address
        ApiSettings(subject_rate_per_address=10**6, subject_rate_per_code=10**6)
    )
    world = World(
        gate=gate, client=TestClient(app), photo=photo, now=now, dep=dep, remote=remote,
        elsewhere=elsewhere, egress=egress, service=service, b_gate=b_gate, entry=entry,
    )  # fmt: skip
    _credentials(world, b.api_key.key)
    world.secrets |= {dep, remote, elsewhere, egress, service}
    world.secrets |= {p.id for p in gate.list_principals()}
    return world


def _credentials(world: World, b_admin: str) -> None:
    gate, keys = world.gate, world.keys
    for role in ROLES:
        keys[role] = gate.create_principal(f"The {role}", role).api_key.key
    keys["forged key"] = "fg_" + "0" * 48
    keys["another operator's admin"] = b_admin
    clerk = gate.create_principal("Revoked clerk", "operator")
    keys["revoked principal"] = clerk.api_key.key
    gate.revoke_principal(clerk.principal.id)
    operator = gate.authenticate(keys["operator"]).principal_id
    revoked = gate.issue_api_key(principal_id=operator, label="lost laptop")
    gate.revoke_api_key(revoked.id)
    keys["revoked key"] = revoked.key
    keys["expired key"] = gate.issue_api_key(principal_id=operator, expires_days=1).key
    admin = gate.authenticate(keys["admin"]).principal_id
    keys["key scoped to another deployment"] = gate.issue_api_key(
        principal_id=admin, deployment_id=world.elsewhere, label="garage kiosk"
    ).key
    keys["access code as key"] = consent(gate, world.dep, "bearer-holder").access_code
    keys["unscoped key"] = keys["operator"]
    for role in ROLES:
        pid = gate.authenticate(keys[role]).principal_id
        scoped = gate.issue_api_key(principal_id=pid, deployment_id=world.service, label="kiosk")
        keys[f"service {role}"] = scoped.key
    b_service = world.b_gate.create_deployment(**{**CN_SPEC, "name": "B's kiosk"}).id
    keys["another operator's service key"] = world.b_gate.issue_api_key(
        deployment_id=b_service, label="B's kiosk"
    ).key
    keys["API key as code"] = keys["admin"]
    keys["unknown code"] = "0" * 32
    world.now[0] += timedelta(days=2)  # the expired key is now past its day
    assert NECESSITY  # the DPO's statement used by live() (lawful.py)
