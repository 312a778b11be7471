"""Edges of the pages the first phase left open: HSTS behind a trusted TLS proxy (and only
then), QR codes and links from the configured public address, and session keys from a
secret of their own that the master key wraps (not the ledger's signing key)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lawful import live
from pydantic import ValidationError

from facegate.api.app import create_app
from facegate.config import ApiSettings
from facegate.gate import Gate
from facegate.storage import tables as t
from facegate.templates import MasterKey
from facegate.web.session_key import KEY, session_secret
from facegate.web.sessions import SessionCodec


def test_hsts_behind_a_trusted_proxy_that_says_https_and_only_then(sqlite_gate: Gate) -> None:
    forwarded = {"x-forwarded-proto": "https"}
    plain = TestClient(create_app(sqlite_gate), base_url="http://testserver")
    assert "strict-transport-security" not in plain.get("/", headers=forwarded).headers
    sqlite_gate.settings.api.trusted_proxies = ["*"]
    try:
        proxied = TestClient(create_app(sqlite_gate), base_url="http://testserver")
        assert "max-age" in proxied.get("/", headers=forwarded).headers["strict-transport-security"]
        assert "strict-transport-security" not in proxied.get("/").headers  # plain http
    finally:
        sqlite_gate.settings.api.trusted_proxies = []


def test_qr_codes_point_at_the_public_address_when_one_is_set(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate).id
    c = TestClient(create_app(sqlite_gate), base_url="https://10.0.0.7:8088")
    assert f"https://10.0.0.7:8088/d/{dep}" in c.get(f"/d/{dep}").text
    sqlite_gate.settings.api.public_url = "https://gate.example.org"
    try:
        page = c.get(f"/d/{dep}").text
        svg = c.get(f"/d/{dep}/qr.svg").text
    finally:
        sqlite_gate.settings.api.public_url = None
    assert f"https://gate.example.org/d/{dep}" in page and "10.0.0.7" not in page
    assert f"https://gate.example.org/d/{dep}" in svg  # the sign's QR code and its title


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "gate.example.org",
        "https://",
        "https://g.example/?x=1",
        "https://user:pw@g.example",
        "ftp://g.example",
    ],
)
def test_a_public_address_is_an_http_address_and_nothing_else(value: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        ApiSettings(public_url=value)


def test_a_public_address_loses_its_trailing_slash() -> None:
    assert ApiSettings(public_url=" https://gate.example.org/app/ ").public_url == (
        "https://gate.example.org/app"
    )
    assert ApiSettings(public_url="").public_url is None


def test_sessions_are_sealed_under_a_secret_only_the_master_key_opens(sqlite_gate: Gate) -> None:
    secret = session_secret(sqlite_gate)
    assert len(secret) == 32 and session_secret(sqlite_gate) == secret  # every process agrees
    with sqlite_gate.db.read() as s:
        stored = s.get(t.Meta, KEY)
        assert stored is not None and secret not in stored.value  # wrapped, never in clear
    codec = SessionCodec.for_gate(sqlite_gate)
    token = codec.seal(codec.new("portal", code="ABCDE"))
    assert SessionCodec(secret).open(token) is not None
    by_ledger_key = sqlite_gate.core.ledger.signing_key.private_bytes_raw() + b"facegate-web"
    assert SessionCodec(by_ledger_key).open(token) is None  # no longer the ledger's key
    sqlite_gate.rotate_master_key(MasterKey.generate())  # sessions survive: re-wrapped
    assert session_secret(sqlite_gate) == secret
    sqlite_gate.finish_master_rotation()
    assert SessionCodec.for_gate(sqlite_gate).open(token) is not None
