"""The console's guards on every page: a sign-in before anything (and back to the page
asked for, never to another site), the role's permission before any act, a CSRF token and
a same-site origin on every form, no framing, and every echoed field escaped."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from lawful import consent
from web_client import XSS, client, csrf, scripts_are_files_only
from web_console import WIZARD, live_deployment, login, post, register, staff

from facegate.gate import Gate

GET_PAGES = (
    "/console",
    "/console/deployments",
    "/console/deployments/new",
    "/console/desk",
    "/console/faces",
    "/console/review",
    "/console/requests",
    "/console/ledger",
    "/console/reports",
    "/console/principals",
    "/console/account",
)
#: every form of the console: path (with {dep} for a deployment) and a harmless body
POSTS = (
    ("/console/deployments/new", WIZARD),
    ("/console/deployments/{dep}/sign", {"necessity": "n"}),
    ("/console/deployments/{dep}/change", {"retention_days": "30"}),
    ("/console/deployments/{dep}/end", {"reason": "the purpose is met now", "confirm": "yes"}),
    ("/console/desk/{dep}/refusal", {"how": "spoken"}),
    ("/console/desk/{dep}/consent", {"subject": "s", "method": "explicit_click"}),
    ("/console/faces/{dep}/verify", {"subject": "s"}),
    ("/console/review/idn_x", {"decision": "confirm"}),
    ("/console/requests/req_x/answer", {"reason": "r"}),
    ("/console/ledger/verify", {}),
    ("/console/reports/pia", {"deployment": "{dep}", "format": "html"}),
    ("/console/principals", {"name": "Mallory", "role": "admin"}),
    ("/console/keys", {"label": "k"}),
    ("/console/account", {"current": "x", "new": "y", "again": "y"}),
    ("/console/logout", {}),
)


def test_every_page_needs_a_sign_in_and_comes_back_after_it(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)
    for path in GET_PAGES:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/console/login"), path
    assert c.get("/console/reports", follow_redirects=False).headers["location"] == (
        "/console/login?next=/console/reports"
    )
    staff(sqlite_gate)
    tricked = c.get("/console/login", params={"next": f"/console/{XSS}"}).text
    assert XSS not in tricked and 'name="next" value="/console"' in tricked
    page = c.get("/console/login?next=/console/ledger").text
    token = csrf(page)
    assert 'name="next" value="/console/ledger"' in page
    for target, lands in (
        ("/console/ledger", "/console/ledger"),
        ("//evil.example/x", "/console"),
        ("https://evil.example", "/console"),
        ("/console\\@evil", "/console"),
    ):
        again = client(sqlite_gate)
        token = csrf(again.get("/console/login").text)
        r = again.post(
            "/console/login",
            follow_redirects=False,
            data={
                "csrf_token": token,
                "operator": "op_local",
                "name": "Li Na",
                "password": "correct horse battery staple",
                "next": target,
            },
        )
        assert r.headers["location"] == lands, target


def test_each_role_sees_and_does_only_what_it_may(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    auditor = login(sqlite_gate, "Sun Auditor")
    for path in (
        "/console",
        "/console/deployments",
        f"/console/deployments/{dep}",
        "/console/ledger",
        "/console/reports",
        "/console/requests",
        "/console/review",
    ):
        assert auditor.get(path).status_code == 200, path
    for path in (
        "/console/deployments/new",
        "/console/desk",
        f"/console/desk/{dep}",
        "/console/faces",
        "/console/principals",
    ):
        r = auditor.get(path)
        assert r.status_code == 403 and "(role auditor) may not" in r.text, path
    home = auditor.get("/console").text
    assert 'href="/console/desk"' not in home and 'href="/console/principals"' not in home
    before = sqlite_gate.counts()["ledger_entries"]
    refused = post(auditor, f"/console/desk/{dep}/refusal", {"how": "spoken"})
    assert refused.status_code == 403
    assert sqlite_gate.counts()["ledger_entries"] == before
    assert login(sqlite_gate, "Li Na").get("/console/principals").status_code == 403
    assert login(sqlite_gate, "Zhao Admin").get("/console/principals").status_code == 200


def test_every_form_needs_its_token_and_this_site_as_origin(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    c = login(sqlite_gate, "Zhao Admin")
    token = csrf(c.get("/console").text)
    before = sqlite_gate.counts()
    for path, body in POSTS:
        url = path.format(dep=dep)
        data = {k: (v.format(dep=dep) if isinstance(v, str) else v) for k, v in body.items()}
        assert c.post(url, data=data).status_code == 403, url  # no token
        assert c.post(url, data={**data, "csrf_token": "0" * 64}).status_code == 403, url
        foreign = c.post(
            url, data={**data, "csrf_token": token}, headers={"origin": "https://evil.example"}
        )
        assert foreign.status_code == 403 and "another site" in foreign.text, url
    assert sqlite_gate.counts() == before
    assert c.get("/console").status_code == 200  # still signed in: logout was refused too


def test_no_console_page_can_be_framed_or_run_inline_script(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    c = login(sqlite_gate, "Zhao Admin")
    for path in (
        *GET_PAGES,
        f"/console/deployments/{dep}",
        f"/console/desk/{dep}",
        f"/console/faces/{dep}",
        f"/console/reports/pia?deployment={dep}",
        "/console/reports/filing",
        f"/console/deployments/{dep}/change",
    ):
        r = c.get(path)
        assert r.status_code == 200, path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY"
        scripts_are_files_only(r.text)


def _escaped(html: str) -> None:
    assert XSS not in html and "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_every_echoed_field_of_the_wizard_is_escaped(sqlite_gate: Gate) -> None:
    staff(sqlite_gate)
    c = login(sqlite_gate, "Li Na")
    text_fields = (
        "name",
        "purpose",
        "necessity",
        "alternative",
        "risk_team",
        "accountable",
        "authority",
        "instrument",
        "area",
        "lawfulness",
        "impact",
        "risks",
        "safeguards",
        "conclusion",
    )
    r = register(c, location="toilet", **{f: XSS for f in text_fields})  # refused: echoed
    assert r.status_code == 403
    _escaped(r.text)
    assert r.text.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= len(text_fields)
    odd = register(c, location=XSS, law=XSS, legal_basis=XSS, capabilities=[XSS], scope=XSS)
    assert odd.status_code in (400, 403)
    assert XSS not in odd.text and "<img src=x" not in odd.text


def test_operator_and_person_text_is_escaped_wherever_the_console_shows_it(
    sqlite_gate: Gate,
) -> None:
    dep = live_deployment(sqlite_gate, name=XSS, purpose=f"Open the gate {XSS}", alternative=XSS)
    code = consent(sqlite_gate, dep, XSS).access_code
    sqlite_gate.subject_complaint(code, f"Complaint {XSS}")
    c = login(sqlite_gate, "Zhao Admin")
    for path in (
        "/console",
        "/console/deployments",
        f"/console/deployments/{dep}",
        f"/console/desk/{dep}",
        "/console/requests",
        "/console/reports",
        f"/console/reports/pia?deployment={dep}",
        "/console/ledger",
    ):
        html = c.get(path).text
        assert XSS not in html and "<img src=x" not in html, path
    desk = f"/console/desk/{dep}"
    echoed = post(
        c,
        f"/console/desk/{dep}/consent",
        {"subject": XSS, "method": "signed_form", "guardian": XSS, "form_sha256": XSS, "age": XSS},
        form_page=desk,
    )
    assert echoed.status_code == 400
    _escaped(echoed.text)
    made = post(c, "/console/principals", {"name": XSS, "role": "auditor"})
    _escaped(made.text)
    faces = post(c, f"/console/faces/{dep}/verify", {"subject": XSS}, form_page=desk)
    assert XSS not in faces.text and "<img src=x" not in faces.text


@pytest.mark.parametrize("who", ["Li Na", "Wang Fang"])
def test_signing_in_starts_a_new_session_id(sqlite_gate: Gate, who: str) -> None:
    staff(sqlite_gate)
    c: TestClient = client(sqlite_gate)
    c.get("/console/login")
    planted = c.cookies.get("fg_session")
    signed = login(sqlite_gate, who)
    assert signed.cookies.get("fg_session") != planted
    c.cookies.set("fg_session", str(planted), domain="testserver.local")
    assert c.get("/console", follow_redirects=False).status_code == 303
    assert re.search(r"Signed in as <strong>[^<]+</strong>", signed.get("/console").text)
