"""How long a change made by one process takes to be applied by another (issue 15).

Two Gates on one database (PostgreSQL: two hosts with their own homes; SQLite: two workers
of one home); B runs the feed listener of ``facegate serve``. A commits ``--changes`` gallery
changes one at a time (a template removal: a real feed row in its own transaction); the time
from A's commit returning to B's follower having applied it is recorded. PostgreSQL wakes B by
NOTIFY; SQLite polls (every 0.5 s), so its figure is about half the poll period.

Usage:
    PYTHONPATH=src python bench/sync.py [--changes 200]

The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import select  # noqa: E402

from facegate.config import Settings  # noqa: E402
from facegate.gate import Gate  # noqa: E402
from facegate.storage import tables as t  # noqa: E402
from facegate.sync import feed  # noqa: E402
from facegate.sync.listen import FeedListener  # noqa: E402

ADMIN = os.environ.get("FACEGATE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def measure(a: Gate, b: Gate, changes: int) -> dict[str, Any]:
    assert b.core.follower is not None
    listener = FeedListener(b.core.follower, b.db.engine).start()
    time.sleep(1.0)
    lags = []
    try:
        for i in range(changes):
            with a.db.transaction() as s:
                feed.templates_removed(s, "dep_bench", [f"tpl_{i}"])
            committed = time.perf_counter()
            with a.db.read() as s:
                target = s.scalar(select(t.ChangeFeedState.last))
            while b.core.follower.position < target:
                time.sleep(0.0005)
            lags.append((time.perf_counter() - committed) * 1000)
    finally:
        listener.stop()
    lags.sort()
    return {
        "changes": changes,
        "p50_ms": round(statistics.median(lags), 2),
        "p99_ms": round(lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))], 2),
        "max_ms": round(lags[-1], 2),
        "notifications": listener.notifications,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args(argv)
    command = "PYTHONPATH=src python " + shlex.join(["bench/sync.py", *sys.argv[1:]])
    print(f"$ {command}\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    import psycopg

    out: dict[str, Any] = {"bench": "sync", "command": command}
    name = f"facegate_sync_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    master = base64.b64encode(os.urandom(32)).decode()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for backend in ("postgresql", "sqlite"):
                home_a, home_b = Path(tmp) / f"{backend}-a", Path(tmp) / f"{backend}-b"
                db = url if backend == "postgresql" else None
                a = Gate.open(
                    settings=Settings(home=home_a, database_url=db, master_key=master), create=True
                )
                if backend == "postgresql":
                    home_b.mkdir(mode=0o700)
                else:
                    home_b = home_a
                b = Gate.open(settings=Settings(home=home_b, database_url=db, master_key=master))
                out[backend] = measure(a, b, args.changes)
                r = out[backend]
                print(
                    f"  {backend}: applied by the other process p50 {r['p50_ms']} ms, p99 "
                    f"{r['p99_ms']} ms, max {r['max_ms']} ms ({r['notifications']} notifications)"
                )
                b.close()
                a.close()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    out["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
