"""Helpers for the console's page tests: principals with passwords, signed-in clients, the
wizard's answers for a lawful deployment (the same facts as lawful.CN_SPEC, as a person
would tick them)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from lawful import ANSWERS, NECESSITY, prepare_operator
from web_client import client, csrf

from facegate.gate import Gate
from facegate.web import passwords

PASSWORD = "correct horse battery staple"
STAFF = {
    "Li Na": "operator",
    "Wang Fang": "dpo",
    "Reviewer One": "reviewer",
    "Reviewer Two": "reviewer",
    "Zhao Admin": "admin",
    "Sun Auditor": "auditor",
}
#: the wizard's answers for a lawful registration under cn
WIZARD: dict[str, Any] = {
    "name": "North gate",
    "purpose": "Residents open the compound gate with their face",
    "location": "residential_compound",
    "signage": "yes",
    "egress": "no",
    "law": "cn",
    "legal_basis": "consent",
    "scope": "application",
    "capabilities": ["verify", "identify"],
    "capture": "on_request",
    "liveness": "no",
    "alternative": "key card or the staffed gatehouse",
    "alternative_penalty": "no",
    "retention_days": "365",
    **ANSWERS,
}


def staff(gate: Gate) -> dict[str, str]:
    """The operator's staff (once per installation): name -> principal id."""
    prepare_operator(gate)
    known = {p.name: p.id for p in gate.list_principals()}
    for name, role in STAFF.items():
        if name not in known:
            known[name] = gate.create_principal(name, role).principal.id
            passwords.set_password(gate, known[name], PASSWORD, name=name)
    return known


def login(gate: Gate, name: str) -> TestClient:
    c = client(gate)
    token = csrf(c.get("/console/login").text)
    r = c.post(
        "/console/login",
        data={"csrf_token": token, "operator": "op_local", "name": name, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c


def post(
    c: TestClient, path: str, data: dict[str, Any], *, form_page: str | None = None, **kw: Any
) -> Any:
    """POST ``data`` with the CSRF token of ``form_page`` (default: the console home)."""
    token = csrf(c.get(form_page or "/console").text)
    return c.post(path, data={"csrf_token": token, **data}, **kw)


def register(c: TestClient, **changes: Any) -> Any:
    return post(c, "/console/deployments/new", {**WIZARD, **changes})


def deployment_id(html: str) -> str:
    found = re.search(r"/console/deployments/(dep_[0-9a-f]{24})", html)
    assert found, "no deployment on the page"
    return found.group(1)


def sign(gate: Gate, deployment: str) -> Any:
    dpo = login(gate, "Wang Fang")
    return post(
        dpo,
        f"/console/deployments/{deployment}/sign",
        {"necessity": NECESSITY, **ANSWERS},
        follow_redirects=False,
    )


def live_deployment(gate: Gate, **changes: Any) -> str:
    """A deployment registered through the wizard and signed by the DPO on the page."""
    staff(gate)
    r = register(login(gate, "Li Na"), **changes)
    assert r.status_code == 201, r.text
    dep = deployment_id(r.text)
    assert sign(gate, dep).status_code == 303
    return dep
