"""Helpers for the web page tests: a client on https (the cookies are Secure) and forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from facegate.api.app import create_app
from facegate.gate import Gate

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def client(gate: Gate) -> TestClient:
    return TestClient(create_app(gate), base_url="https://testserver")


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def scripts_are_files_only(html: str) -> None:
    """No inline script, no event-handler attribute, no style attribute: the CSP would
    block them, and a page must not need them."""
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert 'src="/static/' in attrs and not body.strip(), attrs
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "an on* attribute"
    assert not re.search(r"<[^>]+\sstyle\s*=", html), "a style attribute"
