"""Load test (issue 15): locust, headless, on loopback, against ``facegate serve --workers N``
on PostgreSQL, for N = 1, 2 and 4: a mix of verify, identify and a person's short life
(consent, enroll, withdrawal) from ``--users`` concurrent users (bench/locustfile.py).

The installation is made first (one live deployment, ``--people`` people of faces94 enrolled
with two photos each), in a temporary PostgreSQL database; each worker count gets a fresh
server process on the same database. Reports, per worker count: requests, requests/s, p50
and p99 latency (ms) over all requests and per kind, and errors (every non-2xx answer counts;
the expected figure is 0).

Usage:
    PYTHONPATH=src python bench/load.py [--users 32] [--seconds 60] [--workers 1,2,4]

The last line on stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

FACES = Path(os.environ.get("FACEGATE_FACES", "/work/shared/data/faces"))
ADMIN = os.environ.get("FACEGATE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def install(url: str, home: Path, photos: Path, people: int, master: str) -> tuple[str, str]:
    from lawful import consent, live

    from facegate.config import Settings
    from facegate.gate import Gate

    refs = sorted(p.name for p in (FACES / "faces94").iterdir() if p.is_dir())[:people]
    settings = Settings(home=home, database_url=url, master_key=master)
    with Gate.open(settings=settings, create=True) as gate:
        dep = live(gate, location="office", alternative="staff badge").id
        for ref in refs:
            (photos / ref).mkdir(parents=True)
            consent(gate, dep, ref)
            for k in (1, 2, 9):
                image = (FACES / "faces94" / ref / f"{ref}.{k}.jpg").read_bytes()
                (photos / ref / f"{k}.jpg").write_bytes(image)
                if k != 9:  # photo 9 is the probe
                    gate.enroll(dep, ref, image)
        key = gate.create_principal("load test", "operator").api_key.key
    return dep, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(home: Path, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "facegate.cli",
        "serve",
        "--home",
        str(home),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = open(home.parent / f"serve-{workers}.log", "wb")  # noqa: SIM115 - the server's
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                time.sleep(2 * workers)  # let every worker finish warming
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("facegate serve did not start")


def locust(base: str, env: dict[str, str], users: int, seconds: int, out: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(max(1, users // 4)),
        "-t",
        f"{seconds}s",
        "--host",
        base,
        "--csv",
        str(out),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    subprocess.run(cmd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(f"{out}_stats.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    kinds = {}
    for row in rows:
        kinds[row["Name"]] = {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "p50_ms": float(row["50%"] or 0),
            "p99_ms": float(row["99%"] or 0),
            "rps": round(float(row["Requests/s"]), 2),
        }
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--people", type=int, default=12)
    args = parser.parse_args(argv)
    command = "PYTHONPATH=src python " + shlex.join(["bench/load.py", *sys.argv[1:]])
    print(f"$ {command}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    import psycopg

    name = f"facegate_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    master = base64.b64encode(os.urandom(32)).decode()
    tmp = Path(tempfile.mkdtemp())
    results: dict[str, Any] = {}
    try:
        dep, key = install(url, tmp / "home", tmp / "photos", args.people, master)
        env = {
            **os.environ,
            "FACEGATE_DATABASE_URL": url,
            "FACEGATE_MASTER_KEY": master,
            "FACEGATE_API__LOG_FORMAT": "text",
            "FACEGATE_LOAD_KEY": key,
            "FACEGATE_LOAD_DEPLOYMENT": dep,
            "FACEGATE_LOAD_PHOTOS": str(tmp / "photos"),
            "PYTHONPATH": str(ROOT / "src"),
        }
        for workers in (int(w) for w in args.workers.split(",")):
            proc, base = serve(tmp / "home", env, workers)
            try:
                kinds = locust(base, env, args.users, args.seconds, tmp / f"w{workers}")
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            total = kinds.pop("Aggregated")
            results[str(workers)] = {**total, "by_kind": kinds}
            print(
                f"  {workers} worker(s), {args.users} users: {total['rps']} req/s, p50 "
                f"{total['p50_ms']:.0f} ms, p99 {total['p99_ms']:.0f} ms, errors "
                f"{total['errors']} of {total['requests']}",
                flush=True,
            )
            if total["errors"]:  # what was answered, so that a failure can be read
                failures = (tmp / f"w{workers}_failures.csv").read_text(errors="replace")
                print(failures[:3000], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    out = {
        "bench": "load",
        "command": command,
        "users": args.users,
        "seconds": args.seconds,
        "backend": "postgresql",
        "cpus": os.cpu_count(),
        "workers": results,
        "errors": sum(r["errors"] for r in results.values()),
    }
    print(json.dumps(out, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
