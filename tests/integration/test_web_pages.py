"""The public pages: headers on every response, no inline script, escaping of every value
that an operator or a visitor controls, languages, QR codes, offline API docs."""

from __future__ import annotations

import re

import pytest
from lawful import OPERATOR, PACK_SPEC, consent, draft, live, sign
from web_client import XSS, client, scripts_are_files_only

from facegate.errors import PolicyDenied
from facegate.gate import Gate

PAGES = ("/", "/portal", "/console/login", "/regulator", "/docs", "/redoc")


def _deployment(gate: Gate, name: str = "North gate", **kw: object) -> str:
    """A live deployment (every legal fact given, its assessment signed by a DPO)."""
    return live(gate, name=name, **kw).id


def test_every_response_carries_the_security_headers(sqlite_gate: Gate) -> None:
    dep = _deployment(sqlite_gate)
    c = client(sqlite_gate)
    for path in (*PAGES, f"/d/{dep}", "/v1/ledger/checkpoint", "/nowhere", "/static/site.css"):
        r = c.get(path, headers={"accept": "text/html"})
        assert r.status_code in (200, 404), path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, path
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)  # type: ignore[union-attr]
        assert script_src == "'self'", path  # no inline script, no eval, no CDN
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
        if r.headers["content-type"].startswith("text/html"):
            assert r.headers["cache-control"] == "no-store", path
            scripts_are_files_only(r.text)


def test_strict_transport_security_only_over_https(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)
    assert "max-age" in c.get("/").headers["strict-transport-security"]
    c.base_url = "http://testserver"  # type: ignore[assignment]
    assert "strict-transport-security" not in c.get("/").headers


def test_operator_text_is_escaped_on_every_public_page(sqlite_gate: Gate) -> None:
    dep = _deployment(sqlite_gate, name=XSS, purpose=f"Open the gate {XSS}", alternative=XSS)
    c = client(sqlite_gate)
    for path in ("/", f"/d/{dep}", f"/d/{dep}?lang=zh-CN"):
        html = c.get(path).text
        assert XSS not in html and "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path
    svg = c.get(f"/d/{dep}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<script>" not in svg.content and b"&lt;script&gt;" in svg.content


def test_the_deployment_page_publishes_what_the_law_asks(sqlite_gate: Gate) -> None:
    dep = _deployment(sqlite_gate, retention_days=30)
    c = client(sqlite_gate)
    html = c.get(f"/d/{dep}?lang=en").text
    for needed in (
        "Retention schedule",
        "Status: in use",  # live: its assessment signed
        "At most 30 days from enrolment",
        "key card",  # the non-face alternative
        "You may say no",
        "How to complain",
        "the Cyberspace Administration of China",
        "Data protection officer",
        OPERATOR["dpo"],  # as the operator published it
        'lang="zh-CN"',  # the Chinese notice is on the page too
        "Face recognition is used here",  # the plain version
        f"https://testserver/d/{dep}",  # the QR code's address, printed
        '<svg role="img"',
    ):
        assert needed in html, needed
    zh = c.get(f"/d/{dep}?lang=zh-CN")
    assert (
        '<html lang="zh-CN">' in zh.text
        and "保存期限表" in zh.text
        and "此处使用人脸识别" in zh.text
    )
    assert "fg_lang=zh-CN" in zh.headers["set-cookie"]


def test_a_draft_is_not_public_until_its_assessment_is_signed(sqlite_gate: Gate) -> None:
    dep = draft(sqlite_gate, name="Side gate").id
    c = client(sqlite_gate)
    assert "Side gate" not in c.get("/").text
    assert c.get(f"/d/{dep}", headers={"accept": "text/html"}).status_code == 404
    assert c.get(f"/d/{dep}/qr.svg").status_code == 404
    sign(sqlite_gate, dep)
    assert "Side gate" in c.get("/").text and c.get(f"/d/{dep}").status_code == 200


def test_language_from_choice_then_cookie_then_browser(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)
    assert '<html lang="zh-CN">' in c.get("/", headers={"accept-language": "zh-CN,zh"}).text
    assert '<html lang="en">' in c.get("/", headers={"accept-language": "fr"}).text
    c.get("/?lang=en")
    assert '<html lang="en">' in c.get("/", headers={"accept-language": "zh-CN"}).text
    assert '<html lang="en">' in c.get("/?lang=xx", headers={"accept-language": "en"}).text


def test_unknown_pages_are_pages_for_browsers_and_json_for_the_api(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)
    for path in ("/nowhere", "/d/dep_000000000000000000000000", "/d/<script>", "/d/x/qr.svg"):
        r = c.get(path, headers={"accept": "text/html"})
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "<script>" not in r.text.replace('<script src="/static/vendor/htmx.min.js"', "")
    api = c.get("/v1/nowhere", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"] == "not_found"  # the error shape


def test_api_docs_are_served_from_this_machine(sqlite_gate: Gate) -> None:
    c = client(sqlite_gate)
    for path in ("/docs", "/redoc"):
        html = c.get(path).text
        assert "cdn" not in html.lower() and "https://" not in html, path
        for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert c.get(src).status_code == 200, src
    assert "unsafe-inline" in c.get("/redoc").headers["content-security-policy"]
    assert c.get("/docs/oauth2-redirect").status_code == 404
    # only the API: /v1, CompreFace's /api/v1, the health check and the ledger's C2SP
    # tlog-tiles, no page
    assert not [
        p
        for p in c.get("/openapi.json").json()["paths"]
        if not p.startswith(("/v1", "/api/v1"))
        and p not in {"/healthz", "/checkpoint", "/tile/{path}"}
    ]


def test_landing_page_names_the_operator_and_the_checkpoint(sqlite_gate: Gate) -> None:
    dep = _deployment(sqlite_gate)
    c = client(sqlite_gate)
    html = c.get("/?lang=en").text
    assert f'href="/d/{dep}"' in html and "North gate" in html
    for language in ("en", "zh-CN"):
        page = c.get(f"/?lang={language}").text
        assert f"<strong>{OPERATOR['name']}</strong>: {OPERATOR['contact']}" in page, language
    assert sqlite_gate.checkpoint().splitlines()[0] in html
    assert sqlite_gate.ledger_key() in html
    for area in ('href="/portal"', 'href="/console"', 'href="/regulator"', 'href="/docs"'):
        assert area in html


def test_regulator_charts_count_the_ledger(sqlite_gate: Gate) -> None:
    dep = _deployment(sqlite_gate)
    consent(sqlite_gate, dep, "a")
    consent(sqlite_gate, dep, "b")
    sqlite_gate.withdraw_consent(dep, "b")
    c = client(sqlite_gate)
    html = c.get("/regulator").text
    size = sqlite_gate.checkpoint().splitlines()[1]
    assert f"Ledger size {size}" in html
    rows = re.findall(
        r"<tr><th scope=\"row\">[^<]+</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", html
    )
    assert rows[-1][1:] == ("2", "1")  # today: two consents, one withdrawal
    assert sum(int(r[0]) for r in rows) == int(size)
    with pytest.raises(PolicyDenied) as denied:  # emotion recognition in a shop (EU-AI-5)
        draft(
            sqlite_gate,
            **PACK_SPEC["eu"],
            location="shop",
            capabilities=["verify", "emotion_recognition"],
        )
    html = c.get("/regulator").text
    assert f"<code>{denied.value.rule_id}</code>" in html
