"""``make serve`` end to end: ``facegate serve --demo`` prints the landing page's address
and a first console login for the demo operator, and that login really signs in (a real
server process, a plain HTTP client speaking the forms as a browser would)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cli_runner import SRC
from web_client import csrf


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until_printed(proc: subprocess.Popen[str], pattern: str, seen: list[str]) -> re.Match[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        found = re.search(pattern, " ".join(" ".join(seen).split()))
        if found:
            return found
    raise AssertionError("serve never printed it:\n" + "".join(seen))


def _cookie(response: httpx.Response, jar: dict[str, str]) -> None:
    """Keep the session cookie by hand: it is Secure, and this client speaks plain HTTP to
    127.0.0.1 (a browser treats loopback as secure; httpx does not)."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";")[0]


def test_serve_demo_prints_a_login_that_signs_in(tmp_path: Path) -> None:
    port = _port()
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "300", "FACEGATE_API__LOG_FORMAT": "text"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facegate.cli",
            "serve",
            "--demo",
            "--home",
            str(tmp_path / "home"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        landing = _until_printed(proc, r"landing page: (http://\S+/)", seen).group(1)
        login = _until_printed(
            proc, r"/console: operator (.+?), name (.+?), password (\S+) \(shown once", seen
        )
        operator, name, password = login.groups()
        for _ in range(240):
            try:
                if httpx.get(landing, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert landing == f"http://127.0.0.1:{port}/"
        assert "Demo: residential compound gate" in httpx.get(landing).text
        jar: dict[str, str] = {}
        form = httpx.get(landing + "console/login")
        _cookie(form, jar)
        signed = httpx.post(
            landing + "console/login",
            data={
                "csrf_token": csrf(form.text),
                "operator": operator,
                "name": name,
                "password": password,
            },
            headers={"cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/console"
        _cookie(signed, jar)
        home = httpx.get(
            landing + "console", headers={"cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        )
        assert home.status_code == 200 and f"<strong>{name}</strong>" in home.text
        assert "1 in use" in home.text  # the demo deployment, live
    finally:
        proc.terminate()
        proc.wait(timeout=30)
