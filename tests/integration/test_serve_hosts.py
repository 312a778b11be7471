"""Issue 15 item 1 end to end: two real ``facegate serve`` processes (two hosts, each with
its own home) on one PostgreSQL database, the second with ``--workers 2``. An enrollment
through host A is identified through host B; a withdrawal through B is gone from A."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from lawful import consent, live

from facegate.config import Settings
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facegate.cli",
            "serve",
            "--home",
            str(home),
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # each worker loads its models first
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"serve did not start: {proc.stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
        time.sleep(0.5)


@pytest.fixture
def two_hosts(pg_url: str, tmp_path: Path) -> Iterator[tuple[str, str, str, str]]:
    master = base64.b64encode(os.urandom(32)).decode()
    settings = Settings(home=tmp_path / "a", database_url=pg_url, master_key=master)
    with Gate.open(settings=settings, create=True) as gate:
        dep = live(gate, location="office", alternative="staff badge").id
        consent(gate, dep, "obama")
        key = gate.create_principal("front desk", "operator").api_key.key
    (tmp_path / "b").mkdir(mode=0o700)
    env = {
        **os.environ,
        "FACEGATE_DATABASE_URL": pg_url,
        "FACEGATE_MASTER_KEY": master,
        "FACEGATE_API__LOG_FORMAT": "text",
    }
    a, a_url = _serve(tmp_path / "a", env)
    try:
        b, b_url = _serve(tmp_path / "b", env, "--workers", "2")
    except BaseException:
        a.terminate()
        raise
    try:
        yield a_url, b_url, dep, key
    finally:
        for proc in (a, b):
            proc.terminate()
            proc.wait(timeout=30)


def test_enroll_on_one_host_identify_on_the_other(
    two_hosts: tuple[str, str, str, str], photo: Photo
) -> None:
    a, b, dep, key = two_hosts
    auth = {"Authorization": f"Bearer {key}"}

    def identify(base: str) -> dict[str, object]:
        r = httpx.post(
            f"{base}/v1/deployments/{dep}/identify",
            headers=auth,
            files={"image": ("p.jpg", photo("fixtures/obama2.jpg"), "image/jpeg")},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert identify(b)["decision"] == "unknown"
    r = httpx.post(
        f"{a}/v1/deployments/{dep}/enroll",
        headers=auth,
        data={"subject_ref": "obama"},
        files={"image": ("a.jpg", photo("fixtures/obama.jpg"), "image/jpeg")},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    for _ in range(4):  # both of B's workers, whichever answers
        found = identify(b)
        assert (found["decision"], found["subject_ref"]) == ("match", "obama")
    assert identify(a)["subject_ref"] == "obama"
    r = httpx.post(
        f"{b}/v1/deployments/{dep}/consents/withdraw",
        headers=auth,
        json={"subject_ref": "obama"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["templates_erased"] == 1
    assert identify(a)["decision"] == "unknown"
