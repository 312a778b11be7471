"""The console's door: Argon2 passwords, sealed sessions, a new session id at sign-in,
CSRF on every form, sign-in limits; the principals are the Gate's own (found by operator and
name, active only), each with the role the Gate gave it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from lawful import OPERATOR, prepare_operator
from web_client import XSS, client, csrf

from facegate.actors import Actor
from facegate.errors import InvalidInput, Unauthenticated
from facegate.gate import Gate
from facegate.storage import tables as t
from facegate.web import passwords

PASSWORD = "correct horse battery staple"


@pytest.fixture
def dpo(sqlite_gate: Gate) -> Actor:
    """Wang Fang, the operator's DPO: a principal of the Gate, with a password."""
    prepare_operator(sqlite_gate)
    made = sqlite_gate.create_principal("Wang Fang", "dpo").principal
    actor = sqlite_gate.get_principal(made.id)
    assert actor is not None
    passwords.set_password(sqlite_gate, actor.principal_id, PASSWORD, name=actor.name)
    return actor


def _console(gate: Gate) -> TestClient:
    return client(gate)  # the Gate's own principals (facegate.web.auth.GatePrincipals)


def _login(
    c: TestClient, password: str = PASSWORD, name: str = "Wang Fang", operator: str = "op_local"
) -> Response:
    token = csrf(c.get("/console/login").text)
    return c.post(
        "/console/login",
        data={"csrf_token": token, "operator": operator, "name": name, "password": password},
        follow_redirects=False,
    )


def test_sign_in_and_out(sqlite_gate: Gate, dpo: Actor) -> None:
    c = _console(sqlite_gate)
    assert c.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    c.get("/console/login")
    before = c.cookies.get("fg_session")
    r = _login(c)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert c.cookies.get("fg_session") != before  # a new session id at sign-in
    home = c.get("/console")
    assert "Wang Fang" in home.text and "(dpo)" in home.text
    out = c.post("/console/logout", data={"csrf_token": csrf(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_the_operator_is_named_by_id_or_by_name(sqlite_gate: Gate, dpo: Actor) -> None:
    for operator in (dpo.operator_id, OPERATOR["name"]):
        r = _login(_console(sqlite_gate), operator=operator, name="wang fang")
        assert r.status_code == 303, operator
    assert _login(_console(sqlite_gate), operator="Another operator").status_code == 401


def test_only_an_argon2id_hash_is_stored(sqlite_gate: Gate, dpo: Actor) -> None:
    with sqlite_gate.db.read() as s:
        row = s.get(t.WebLogin, dpo.principal_id)
        assert row is not None and row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash
    with pytest.raises(InvalidInput):
        passwords.set_password(sqlite_gate, dpo.principal_id, "short")
    with pytest.raises(InvalidInput):
        passwords.set_password(
            sqlite_gate, dpo.principal_id, "Wang Fang Wang", name="wang fang wang"
        )


def test_every_wrong_guess_gets_the_same_answer(sqlite_gate: Gate, dpo: Actor) -> None:
    sqlite_gate.create_principal("Li", "operator")  # a principal without a password
    c = _console(sqlite_gate)
    for name, password in (
        ("Wang Fang", "wrong password!"),
        ("Nobody", PASSWORD),
        ("Li", PASSWORD),
    ):
        r = _login(c, password, name)
        assert r.status_code == 401 and passwords.WRONG in r.text
    with pytest.raises(Unauthenticated):
        passwords.verify_password(sqlite_gate, None, PASSWORD)


def test_the_login_form_escapes_what_it_echoes(sqlite_gate: Gate) -> None:
    c = _console(sqlite_gate)
    r = _login(c, "whatever password", XSS)
    assert r.status_code == 401 and XSS not in r.text and "&lt;script&gt;" in r.text


def test_a_password_change_ends_earlier_sessions(sqlite_gate: Gate, dpo: Actor) -> None:
    c = _console(sqlite_gate)
    _login(c)
    assert c.get("/console").status_code == 200
    passwords.set_password(sqlite_gate, dpo.principal_id, PASSWORD + " again")
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_revoking_a_principal_ends_its_sessions_and_its_sign_in(
    sqlite_gate: Gate, dpo: Actor
) -> None:
    c = _console(sqlite_gate)
    assert _login(c).status_code == 303
    assert c.get("/console").status_code == 200
    sqlite_gate.revoke_principal(dpo.principal_id)
    assert c.get("/console", follow_redirects=False).status_code == 303
    again = _login(_console(sqlite_gate))  # the right password, the same answer as a wrong one
    assert again.status_code == 401 and passwords.WRONG in again.text


def test_console_forms_need_their_csrf_token(sqlite_gate: Gate, dpo: Actor) -> None:
    c = _console(sqlite_gate)
    c.get("/console/login")
    data = {"operator": "op_local", "name": "Wang Fang", "password": PASSWORD}
    assert c.post("/console/login", data=data).status_code == 403
    _login(c)
    assert c.post("/console/logout", data={}).status_code == 403
    assert c.get("/console").status_code == 200  # still signed in


def test_sign_in_attempts_are_limited(sqlite_gate: Gate, dpo: Actor) -> None:
    c = _console(sqlite_gate)
    codes = [_login(c, f"guess number {n}").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    assert _login(c).status_code == 429
