"""The regulator console on the regulator node: officials sign in with a login kept in the
regulator's home (Argon2id, the same sealed sessions and CSRF tokens as the operator's
pages); the overview shows each operator's state, risk and witness freshness; an operator's
page shows its findings, what it filed, the orders issued and acknowledged, and charts of
its ledger (from the entries the witness mirrored, refusals counted by rule)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cli_runner import fg
from fastapi.testclient import TestClient
from lawful import PACK_SPEC, consent, draft, live
from regulator_support import Clock, new_regulator, push_gate
from sqlalchemy import update
from web_client import XSS, csrf, scripts_are_files_only

from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.regulator.app import create_regulator_app
from facegate.regulator.node import Regulator
from facegate.regulator.tables import RegLog
from facegate.regulator.web_logins import set_login

PASSWORD = "inspecting since dawn"


@pytest.fixture
def reg(tmp_path: Path, sqlite_gate: Gate) -> Iterator[Regulator]:
    """A regulator witnessing ``sqlite_gate``'s ledger, with a live deployment, a consent
    and a refused registration pushed to it, and an official's login."""
    clock = Clock(sqlite_gate.core.clock())
    node, _token = new_regulator(tmp_path / "reg", clock=clock)
    node.approve(sqlite_gate.core.ledger.origin, vkey=sqlite_gate.ledger_key())
    dep = live(sqlite_gate).id
    consent(sqlite_gate, dep, "flat-7")
    with pytest.raises(PolicyDenied):
        draft(
            sqlite_gate,
            **PACK_SPEC["eu"],
            location="shop",
            capabilities=["verify", "emotion_recognition"],
        )
    push_gate(node, sqlite_gate, 0)
    set_login(node.core, "Inspector Zhou", PASSWORD)
    yield node
    node.close()


def _client(reg: Regulator) -> TestClient:
    return TestClient(create_regulator_app(reg), base_url="https://testserver")


def _login(c: TestClient, name: str = "Inspector Zhou", password: str = PASSWORD) -> int:
    token = csrf(c.get("/console/login").text)
    r = c.post(
        "/console/login",
        follow_redirects=False,
        data={"csrf_token": token, "name": name, "password": password},
    )
    return r.status_code


def test_officials_sign_in_with_their_own_login(reg: Regulator) -> None:
    c = _client(reg)
    assert c.get("/", follow_redirects=False).headers["location"] == "/console"
    assert c.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    c.get("/console/login")
    planted = c.cookies.get("fg_session")
    assert _login(c, password="not the password") == 401
    assert _login(c, name="Nobody") == 401
    token = csrf(c.get("/console/login").text)
    echoed = c.post("/console/login", data={"csrf_token": token, "name": XSS, "password": "x"})
    assert echoed.status_code == 401 and XSS not in echoed.text and "&lt;script&gt;" in echoed.text
    assert _login(c, name="  inspector   ZHOU ") == 303  # names fold like principals'
    assert c.cookies.get("fg_session") != planted  # a new session id at sign-in
    assert c.get("/console").status_code == 200
    token = csrf(c.get("/console").text)
    assert c.post("/console/logout", data={}).status_code == 403  # no token
    out = c.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and c.get("/console", follow_redirects=False).status_code == 303
    assert _login(c) == 303
    reg.core.clock.advance(seconds=1)  # type: ignore[attr-defined]
    set_login(reg.core, "Inspector Zhou", "a new password now")  # ends earlier sessions
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_the_overview_shows_state_risk_and_witness_freshness(reg: Regulator) -> None:
    c = _client(reg)
    _login(c)
    r = c.get("/console")
    assert r.status_code == 200
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    scripts_are_files_only(r.text)
    assert "facegate.local/ledger" in r.text and "active" in r.text
    assert "never co-signed" not in r.text and "size " in r.text
    reg.core.clock.advance(hours=2)  # type: ignore[attr-defined]
    assert "stale" in c.get("/console").text  # no push within the agreed interval


def test_an_operators_page_has_findings_filings_orders_and_charts(
    reg: Regulator, sqlite_gate: Gate
) -> None:
    origin = sqlite_gate.core.ledger.origin
    due = reg.core.now() + timedelta(days=3)
    reg.issue_order(origin, kind="rectify", reason=f"Fix the signage {XSS}", due_at=due)
    with reg.core.db.transaction() as s:
        s.execute(update(RegLog).where(RegLog.origin == origin).values(operator_name=XSS))
    c = _client(reg)
    _login(c)
    home = c.get("/console").text
    assert XSS not in home and "&lt;script&gt;" in home
    log_id = re.search(r'href="/console/logs/([^"]+)"', home).group(1)  # type: ignore[union-attr]
    page = c.get(f"/console/logs/{log_id}")
    assert page.status_code == 200
    html = page.text
    assert XSS not in html and "<img src=x" not in html
    assert "rectify" in html and "not acknowledged yet" in html
    assert html.count('class="chart"') == 3
    assert "<code>EU-AI-5</code>" in html  # the refused registration, counted by rule
    assert c.get("/console/logs/log_nonsense").status_code == 404


def test_the_login_is_made_on_the_regulators_host(tmp_path: Path) -> None:
    home = tmp_path / "reg"
    fg(None, "regulator", "init", "--home", str(home), "--name", "reg.test/w")
    shown = fg(
        None,
        "regulator",
        "login",
        "--name",
        "Inspector Qian",
        "--generate",
        "--json",
        "--home",
        str(home),
    )
    password = json.loads(shown.stdout)["password"]
    assert len(password.split("-")) == 5
    node = Regulator.open(home)
    try:
        c = _client(node)
        assert _login(c, "Inspector Qian", password) == 303
    finally:
        node.close()
