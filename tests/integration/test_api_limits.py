"""Issue 12 item 7: the subject routes' limits. X-Forwarded-For is believed only from a
configured proxy, one flooding address slows only itself, and one access code is limited
across addresses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from facegate.api.app import create_app
from facegate.config import ApiSettings, Settings
from facegate.gate import Gate
from facegate.recognition import FaceEngine

WRONG_CODE = {"X-Access-Code": "not-a-real-code"}


@pytest.fixture
def app(tmp_path: Path, face_engine: FaceEngine) -> Iterator[FastAPI]:
    """One app (one process, one limiter) with small limits and one trusted proxy."""
    api = ApiSettings(
        trusted_proxies=["10.0.0.1"], subject_rate_per_address=3, subject_rate_per_code=4
    )
    settings = Settings(home=tmp_path / "home", api=api)
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        yield create_app(gate)


@contextmanager
def peer(app: FastAPI, address: str) -> Iterator[TestClient]:
    """A client whose TCP connection comes from ``address``."""
    with TestClient(app, client=(address, 40000)) as c:
        yield c


def _statuses(c: TestClient, n: int, headers: dict[str, str]) -> list[int]:
    return [c.get("/v1/subject/me", headers=headers).status_code for _ in range(n)]


def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(app: FastAPI) -> None:
    with peer(app, "203.0.113.9") as attacker:
        seen = [
            attacker.get(
                "/v1/subject/me", headers={**WRONG_CODE, "X-Forwarded-For": f"198.51.100.{i}"}
            ).status_code
            for i in range(6)
        ]
    assert seen[:3] != [429] * 3 and seen[3:] == [429] * 3, seen


def test_a_flood_from_one_address_does_not_lock_out_another(app: FastAPI) -> None:
    with peer(app, "203.0.113.9") as flood, peer(app, "192.0.2.7") as user:
        assert _statuses(flood, 10, WRONG_CODE)[-1] == 429
        r = user.get("/v1/subject/me", headers={"X-Access-Code": "another-code"})
        assert r.status_code != 429, r.text
        body = flood.get("/v1/subject/me", headers=WRONG_CODE).json()
        assert body["error"] == "too_many_requests" and body["advice"]


def test_a_trusted_proxy_forwards_each_client_to_its_own_window(app: FastAPI) -> None:
    with peer(app, "10.0.0.1") as proxy:
        a = {"X-Access-Code": "code-a", "X-Forwarded-For": "198.51.100.1"}
        b = {"X-Access-Code": "code-b", "X-Forwarded-For": "198.51.100.2"}
        assert _statuses(proxy, 4, a)[-1] == 429
        assert _statuses(proxy, 1, b) != [429]
        # a client cannot pass itself off as another by prepending to the header
        forged = {**a, "X-Forwarded-For": "198.51.100.2, 198.51.100.1"}
        assert _statuses(proxy, 1, forged) == [429]


def test_one_access_code_is_limited_across_addresses(app: FastAPI) -> None:
    with peer(app, "10.0.0.1") as proxy:
        seen = [
            proxy.get(
                "/v1/subject/me",
                headers={**WRONG_CODE, "X-Forwarded-For": f"198.51.100.{i}"},
            )
            for i in range(6)
        ]
    statuses = [r.status_code for r in seen]
    assert 429 not in statuses[:4] and statuses[4:] == [429, 429], statuses
    assert "access code" in seen[-1].json()["message"]


def test_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from facegate.config import load_settings
    from facegate.errors import ConfigError

    monkeypatch.setenv("FACEGATE_API__TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    assert load_settings().api.trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]
    monkeypatch.setenv("FACEGATE_API__TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ConfigError, match="FACEGATE_API__TRUSTED_PROXIES"):
        load_settings()


def test_typing_a_code_another_way_is_the_same_code_to_the_limit(app: FastAPI) -> None:
    """Codes are read as people type them (case, dashes), so the per-code window must see
    one code however it is written, or a flood could vary the spelling."""
    code = "0BC1D-EFGH1-JKMNP-QRST0"
    spellings = [code, code.lower(), code.replace("-", ""), f" {code} ", "OBCID-EFGHL-JKMNP-QRSTO"]
    with peer(app, "10.0.0.1") as proxy:
        statuses = [
            proxy.get(
                "/v1/subject/me",
                headers={"X-Access-Code": spelled, "X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i, spelled in enumerate(spellings)
        ]
    assert 429 not in statuses[:4] and statuses[4] == 429, statuses
