"""The person's portal over HTTP: the access code only in a POST form and a sealed cookie,
CSRF and fixation defences, the rate limit shared with the subject API, and the whole
journey on a real photo: see, download and check the evidence, complain, erase."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from lawful import consent, live
from web_client import XSS, client, csrf

from facegate.api.ratelimit import SubjectLimiter
from facegate.gate import Gate
from facegate.ledger.evidence_verify import verify_bundle

Photo = Callable[[str], bytes]


def _person(gate: Gate, photo: Photo) -> tuple[str, str]:
    dep = live(gate, name="North gate").id
    code = consent(gate, dep, "flat-12a").access_code
    gate.enroll(dep, "flat-12a", photo("fixtures/obama.jpg"))
    return dep, code


def _open(c: TestClient, code: str) -> str:
    token = csrf(c.get("/portal").text)
    r = c.post("/portal/open", data={"csrf_token": token, "code": code})
    assert r.status_code == 200, r.text
    return r.text


def _sid_cookie(c: TestClient) -> str:
    return str(c.cookies.get("fg_session"))


def test_the_whole_journey(sqlite_gate: Gate, photo: Photo) -> None:
    dep, code = _person(sqlite_gate, photo)
    c = client(sqlite_gate)
    html = _open(c, code.lower())  # codes are read case-insensitively
    assert "North gate" in html and f'href="/d/{dep}"' in html
    assert "Protected face templates" in html and code not in html
    bundle = c.get("/portal/evidence")
    assert bundle.headers["content-disposition"].startswith("attachment;")
    assert verify_bundle(bundle.content, log_key=sqlite_gate.ledger_key()).events
    checked = c.post(
        "/portal/verify",
        data={"csrf_token": csrf(html)},
        files={"bundle": ("mine.json", bundle.content, "application/json")},
    )
    assert "Authentic" in checked.text
    complaint = f"The camera also films the playground {XSS}"
    after = c.post("/portal/complaints", data={"csrf_token": csrf(html), "text": complaint})
    assert after.status_code == 200 and "Waiting for the operator" in after.text
    assert XSS not in after.text and "&lt;script&gt;" in after.text
    (asked,) = sqlite_gate.open_requests()
    assert asked["text"] == complaint  # the operator reads the person's words
    sqlite_gate.answer_request(str(asked["request_id"]), reason=f"Camera re-aimed on 1 May {XSS}")
    page = c.get("/portal/me").text
    assert "Camera re-aimed on 1 May" in page and XSS not in page
    assert "The camera also films the playground" in page  # the person's own words
    done = c.post("/portal/erase", data={"csrf_token": csrf(page), "confirm": "yes"})
    assert done.status_code == 200 and "Erasure receipt" in done.text
    assert sqlite_gate.counts()["subjects"] == 0
    assert c.get("/portal/me", follow_redirects=False).status_code == 303  # signed out
    again = c.post("/portal/open", data={"csrf_token": csrf(c.get("/portal").text), "code": code})
    assert again.status_code == 401 and "not valid" in again.text
    assert sqlite_gate.verify_ledger().ok


def test_the_code_never_travels_in_a_url(sqlite_gate: Gate, photo: Photo) -> None:
    _dep, code = _person(sqlite_gate, photo)
    c = client(sqlite_gate)
    html = _open(c, code)
    urls = re.findall(r'(?:href|action|src|hx-post)="([^"]*)"', html)
    assert urls and not [u for u in urls if code in u or "code=" in u]
    assert '<form method="post" action="/portal/open"' in client(sqlite_gate).get("/portal").text
    assert code not in _sid_cookie(c)  # sealed, not merely signed


def test_cookies_are_secure_httponly_strict(sqlite_gate: Gate, photo: Photo) -> None:
    _dep, code = _person(sqlite_gate, photo)
    c = client(sqlite_gate)
    token = csrf(c.get("/portal").text)
    r = c.post("/portal/open", data={"csrf_token": token, "code": code})
    cookie = r.headers["set-cookie"].lower()
    for flag in ("httponly", "secure", "samesite=strict", "path=/", "max-age=900"):
        assert flag in cookie, flag


def test_a_post_without_its_csrf_proof_changes_nothing(sqlite_gate: Gate, photo: Photo) -> None:
    _dep, code = _person(sqlite_gate, photo)
    c = client(sqlite_gate)
    page = _open(c, code)
    token = csrf(page)
    other = client(sqlite_gate)
    foreign = csrf(other.get("/portal").text)
    for data, headers in (
        ({"confirm": "yes"}, {}),
        ({"confirm": "yes", "csrf_token": foreign}, {}),
        ({"confirm": "yes", "csrf_token": "0" * 64}, {}),
        ({"confirm": "yes", "csrf_token": token}, {"origin": "https://evil.example"}),
        ({"confirm": "yes", "csrf_token": token}, {"origin": "null"}),  # a sandboxed frame
        ({"confirm": "yes", "csrf_token": token}, {"sec-fetch-site": "cross-site"}),
    ):
        r = c.post("/portal/erase", data=data, headers=headers)
        assert r.status_code == 403 and "csrf_rejected" in r.text, (data, headers)
    cookieless = client(sqlite_gate)
    r = cookieless.post("/portal/erase", data={"confirm": "yes", "csrf_token": token})
    assert r.status_code == 403
    assert sqlite_gate.counts()["subjects"] == 1
    unconfirmed = c.post("/portal/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and sqlite_gate.counts()["subjects"] == 1


def test_signing_in_starts_a_new_session_id(sqlite_gate: Gate, photo: Photo) -> None:
    """Session fixation: a session planted before sign-in gives no access after it."""
    _dep, code = _person(sqlite_gate, photo)
    victim = client(sqlite_gate)
    token = csrf(victim.get("/portal").text)
    planted = _sid_cookie(victim)
    victim.post("/portal/open", data={"csrf_token": token, "code": code})
    assert _sid_cookie(victim) != planted
    assert victim.get("/portal/me").status_code == 200
    attacker = client(sqlite_gate)
    attacker.cookies.set("fg_session", planted, domain="testserver")
    assert attacker.get("/portal/me", follow_redirects=False).status_code == 303
    forged = client(sqlite_gate)
    forged.cookies.set("fg_session", planted[:-3] + "AAA", domain="testserver")
    assert forged.get("/portal/me", follow_redirects=False).status_code == 303


def test_bad_codes_are_clear_errors_and_rate_limited(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)
    c.app.state.subject_limiter = SubjectLimiter(per_address=(3, 60.0))  # type: ignore[attr-defined]
    token = csrf(c.get("/portal").text)
    assert c.post("/portal/open", data={"csrf_token": token, "code": " "}).status_code == 400
    wrong = c.post("/portal/open", data={"csrf_token": token, "code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    assert wrong.status_code == 401 and 'aria-invalid="true"' in wrong.text
    long = c.post("/portal/open", data={"csrf_token": token, "code": "A" * 65})
    assert long.status_code == 400
    # the same bucket as the subject API: its use counts too
    api = c.get("/v1/subject/me", headers={"X-Access-Code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    assert api.status_code in (401, 429)
    limited = c.post("/portal/open", data={"csrf_token": token, "code": "AAAAA"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert "Too many tries" in limited.text


def test_checking_a_forged_bundle_says_so(sqlite_gate: Gate, photo: Photo) -> None:
    _dep, code = _person(sqlite_gate, photo)
    c = client(sqlite_gate)
    page = _open(c, code)
    bundle = json.loads(c.get("/portal/evidence").content)
    leaf = base64.b64decode(bundle["entries"][-1]["leaf"]).replace(b'"kind"', b'"kinD"')
    bundle["entries"][-1]["leaf"] = base64.b64encode(leaf).decode()
    for content in (json.dumps(bundle).encode(), b"not json", json.dumps({"format": XSS}).encode()):
        r = c.post(
            "/portal/verify",
            data={"csrf_token": csrf(page)},
            files={"bundle": ("b.json", content, "application/json")},
            headers={"hx-request": "true"},
        )
        assert r.status_code == 200 and "Does not verify" in r.text
        assert "<html" not in r.text  # htmx gets the fragment only
        assert XSS not in r.text
    no_file = c.post("/portal/verify", data={"csrf_token": csrf(page)})
    assert no_file.status_code == 400
