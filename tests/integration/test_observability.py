"""Issue 12 item 9: request ids, JSON log lines without personal data, Prometheus metrics,
and ``serve`` taking its address from FACEGATE_API__* with TLS for direct exposure."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cli_runner import SRC, fg
from fastapi.testclient import TestClient
from lawful import consent, live

from facegate.api.app import create_app
from facegate.api.serving import uvicorn_options
from facegate.config import Settings, load_settings
from facegate.errors import ConfigError
from facegate.gate import Gate
from facegate.logs import JsonFormatter

Photo = Callable[[str], bytes]


@pytest.fixture
def client(gate: Gate) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = gate.issue_api_key(label="test").key
    with TestClient(create_app(gate)) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        sample = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if sample is None or sample[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(sample[3])
    return 0.0


def test_metrics_count_requests_decisions_refusals_and_sizes(
    client: tuple[TestClient, dict[str, str]], gate: Gate, photo: Photo
) -> None:
    c, auth = client
    dep = live(gate, name="Lobby").id
    files = {"image": ("a.jpg", photo("fixtures/obama.jpg"), "image/jpeg")}
    refused = c.post(
        f"/v1/deployments/{dep}/enroll", headers=auth, data={"subject_ref": "alice"}, files=files
    )
    assert refused.status_code == 403, refused.text
    rule = refused.json()["rule_id"]
    consent(gate, dep, "alice")
    assert (
        c.post(
            f"/v1/deployments/{dep}/enroll",
            headers=auth,
            data={"subject_ref": "alice"},
            files=files,
        ).status_code
        == 201
    )
    r = c.post(
        f"/v1/deployments/{dep}/verify",
        headers=auth,
        data={"subject_ref": "alice"},
        files={"image": ("b.jpg", photo("fixtures/obama2.jpg"), "image/jpeg")},
    )
    assert r.json()["decision"] == "match"
    c.get(f"/v1/ledger/checkpoint/{2**63}")
    text = c.get("/metrics").text
    assert _metric(text, "facegate_decisions_total", act="verify", decision="match") == 1
    assert _metric(text, "facegate_policy_refusals_total", rule_id=rule, act="enroll") == 1
    assert _metric(text, "facegate_gallery_templates", deployment=dep) == 1
    assert _metric(text, "facegate_ledger_entries") == gate.counts()["ledger_entries"]
    assert (
        _metric(
            text,
            "facegate_http_requests_total",
            method="GET",
            route="/v1/ledger/checkpoint/{size}",
            status="422",
        )
        == 1
    )
    assert (
        _metric(
            text,
            "facegate_http_request_duration_seconds_count",
            route="/v1/deployments/{deployment_id}/verify",
        )
        == 1
    )
    assert "facegate_witness_lag_entries" in text


def test_request_ids_and_log_lines_hold_nothing_personal(
    client: tuple[TestClient, dict[str, str]], gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    c, _ = client
    dep = live(gate, name="Lobby").id
    code = consent(gate, dep, "alice-smith-1984").access_code
    with caplog.at_level(logging.INFO, logger="facegate"):
        r = c.get(
            "/v1/subject/me?debug=alice-smith-1984",
            headers={"X-Access-Code": code, "X-Request-ID": "lb-42.a_b"},
        )
        assert r.headers["x-request-id"] == "lb-42.a_b"
        bad = c.get("/v1/subject/me", headers={"X-Access-Code": code, "X-Request-ID": "x y"})
        assert re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records]
    served = [line for line in lines if line["msg"] == "request"]
    assert served and served[0]["request_id"] == "lb-42.a_b"
    assert served[0]["route"] == "/v1/subject/me" and served[0]["status"] == 200
    everything = "\n".join(json.dumps(line) for line in lines)
    for secret in (code, "alice-smith-1984", "testclient", "debug"):
        assert secret not in everything


def test_serve_settings_flags_and_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_API__HOST", "0.0.0.0")
    monkeypatch.setenv("FACEGATE_API__PORT", "9443")
    settings = load_settings(home=tmp_path)
    opts = uvicorn_options(settings)
    assert (opts["host"], opts["port"], opts["proxy_headers"]) == ("0.0.0.0", 9443, False)
    assert uvicorn_options(settings, host="127.0.0.1", port=1)["port"] == 1  # flags win
    with pytest.raises(ConfigError, match="both"):
        uvicorn_options(settings, tls_cert=tmp_path / "c.pem")
    with pytest.raises(ConfigError, match="does not exist"):
        uvicorn_options(settings, tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_reads_the_port_from_the_environment_and_speaks_tls(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")
    cert, key = _self_signed(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": SRC, "FACEGATE_API__PORT": str(port)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facegate.cli",
            "serve",
            "--home",
            str(home),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        for _ in range(240):
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=False, timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert answer is not None and answer.status_code == 200, proc.stderr and proc.stderr.read()
        assert "x-request-id" in answer.headers
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; serve must not, so a
        # client on this machine cannot get a fresh rate-limit window per forged address
        statuses = [
            httpx.get(
                f"https://127.0.0.1:{port}/v1/subject/me",
                verify=False,
                timeout=10,
                headers={"X-Access-Code": f"guess-{i}", "X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i in range(12)
        ]
        assert statuses[-1] == 429, statuses
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line.get("route") == "/healthz" for line in logged), err


def test_serve_refuses_a_home_that_does_not_exist(tmp_path: Path) -> None:
    proc = fg(tmp_path / "nope", "serve", ok=False)
    assert proc.returncode == 1 and "facegate init" in proc.stderr
    assert not (tmp_path / "nope").exists()
    assert Settings(home=tmp_path).api.log_format == "json"


@pytest.mark.parametrize("verb", [["serve"], ["regulator", "serve"]])
@pytest.mark.parametrize("port", ["0", "99999"])
def test_a_port_out_of_range_is_refused_before_anything_starts(
    tmp_path: Path, verb: list[str], port: str
) -> None:
    proc = fg(tmp_path / "home", *verb, "--port", port, ok=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--port" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert "serving" not in proc.stdout
