"""The console's door: Argon2 passwords, sealed sessions, a new session id at sign-in,
CSRF on every form, sign-in limits; principals from an in-memory directory until the Gate
stores them (the adapter in facegate.web.auth is the one place that will change)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from web_client import XSS, client, csrf

from facegate.actors import Actor
from facegate.errors import InvalidInput, Unauthenticated
from facegate.gate import Gate
from facegate.storage import tables as t
from facegate.web import passwords

PASSWORD = "correct horse battery staple"


class Directory:
    """Principals as the Gate will hold them: found by operator and name, got by id."""

    def __init__(self, *actors: Actor) -> None:
        self.actors = {a.principal_id: a for a in actors}

    def find(self, operator: str, name: str) -> Actor | None:
        return next(
            (a for a in self.actors.values() if a.operator_id == operator and a.name == name),
            None,
        )

    def get(self, principal_id: str) -> Actor | None:
        return self.actors.get(principal_id)


DPO = Actor(principal_id="prn_dpo", operator_id="op_local", role="dpo", name="Wang Fang")


def _console(gate: Gate, directory: Directory | None = None) -> TestClient:
    c = client(gate)
    c.app.state.web_principals = directory or Directory(DPO)
    return c


def _login(c: TestClient, password: str = PASSWORD, name: str = "Wang Fang") -> Response:
    token = csrf(c.get("/console/login").text)
    return c.post(
        "/console/login",
        data={"csrf_token": token, "operator": "op_local", "name": name, "password": password},
        follow_redirects=False,
    )


def test_sign_in_and_out(sqlite_gate: Gate) -> None:
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD, name=DPO.name)
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


def test_only_an_argon2id_hash_is_stored(sqlite_gate: Gate) -> None:
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD)
    with sqlite_gate.db.read() as s:
        row = s.get(t.WebLogin, DPO.principal_id)
        assert row is not None and row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash
    with pytest.raises(InvalidInput):
        passwords.set_password(sqlite_gate, DPO.principal_id, "short")
    with pytest.raises(InvalidInput):
        passwords.set_password(
            sqlite_gate, DPO.principal_id, "Wang Fang Wang", name="wang fang wang"
        )


def test_every_wrong_guess_gets_the_same_answer(sqlite_gate: Gate) -> None:
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD)
    other = Actor(principal_id="prn_nopw", operator_id="op_local", role="operator", name="Li")
    c = _console(sqlite_gate, Directory(DPO, other))
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


def test_a_password_change_ends_earlier_sessions(sqlite_gate: Gate) -> None:
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD)
    c = _console(sqlite_gate)
    _login(c)
    assert c.get("/console").status_code == 200
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD + " again")
    assert c.get("/console", follow_redirects=False).status_code == 303
    del_actor = Directory()  # the principal was removed
    c2 = _console(sqlite_gate)
    _login(c2, PASSWORD + " again")
    c2.app.state.web_principals = del_actor
    assert c2.get("/console", follow_redirects=False).status_code == 303


def test_console_forms_need_their_csrf_token(sqlite_gate: Gate) -> None:
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD)
    c = _console(sqlite_gate)
    c.get("/console/login")
    data = {"operator": "op_local", "name": "Wang Fang", "password": PASSWORD}
    assert c.post("/console/login", data=data).status_code == 403
    _login(c)
    assert c.post("/console/logout", data={}).status_code == 403
    assert c.get("/console").status_code == 200  # still signed in


def test_sign_in_attempts_are_limited(sqlite_gate: Gate) -> None:
    passwords.set_password(sqlite_gate, DPO.principal_id, PASSWORD)
    c = _console(sqlite_gate)
    codes = [_login(c, f"guess number {n}").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    assert _login(c).status_code == 429


def test_without_principals_in_the_gate_the_form_says_so(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)  # the Gate's own directory
    if hasattr(sqlite_gate, "find_principal"):
        pytest.skip("the Gate stores principals now")
    r = _login(c)
    assert r.status_code == 503 and "not set up" in r.text
