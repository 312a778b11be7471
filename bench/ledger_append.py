"""Durable ledger appends on SQLite, each event in the transaction of the state change it records.

Uses the real schema (Alembic migrations), the real engine settings (WAL, synchronous=FULL,
read back from the connection and reported), and ``LedgerStore.append``. Every event is an
enrollment: one protected-template row (random sealed bytes of a real template's size) plus
its ledger event, leaf, Merkle nodes and a freshly signed checkpoint, committed together.

Two modes, reported separately because they measure different things:

* ``per_transaction``: one template + one event per transaction, so one WAL fsync per event.
  This is what an online enroll/verify costs.
* ``batched``: ``--batch`` templates + their events per transaction (a bulk enrollment):
  durability is the same (nothing is acknowledged before its commit's fsync), the fsync and
  the checkpoint signature are shared by the batch.

* ``clients``: 1, 16 and 64 concurrent clients (threads), each appending one event at a time
  and waiting for its acknowledgement, through the group commit (:mod:`facegate.ledger.group`):
  concurrent single appends share one durable transaction. Two workloads: ``verify``, an
  event that records no other change, sent with ``GroupCommit.append`` as the service's
  ``record_alone`` sends every verification, identification and refusal; and ``enroll``, an
  event with its template row, sent with ``GroupCommit.submit``
  (stricter: the service commits an enrollment in a transaction of its own). Run on SQLite
  and, with ``--postgres URL`` (default: a temporary database on the local server, if one
  answers), on PostgreSQL.

At the end the whole ledger is re-verified (not timed), so the figures are for honest writes.

Usage:
    PYTHONPATH=src python bench/ledger_append.py [--quick] [--json] [--dir DIR]
        [--per-tx N] [--batched N] [--batch N] [--clients 1,16,64] [--repeat N]
        [--workloads verify,enroll]
        [--postgres URL|none]

Human-readable figures and the command go to stdout (to stderr with --json); the last
line on stdout is always one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import text  # noqa: E402

from facegate.ledger.events import Event, Kind  # noqa: E402
from facegate.ledger.group import GroupCommit  # noqa: E402
from facegate.ledger.store import LedgerStore  # noqa: E402
from facegate.storage import tables as t  # noqa: E402
from facegate.storage.db import Database, make_engine, migrate  # noqa: E402

TARGET_EVENTS_PER_S = 5000.0
SEALED_BYTES = 128 + 12 + 16  # a 1024-bit template, AES-GCM nonce and tag
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def setup(db: Database, subjects: int) -> None:
    """One operator, one deployment and ``subjects`` people to enroll (not timed)."""
    with db.transaction() as s:
        s.add(t.Operator(id="op_bench", name="bench", contact="", created_at=T0))
        s.flush()
        s.add(
            t.Deployment(
                id="dep_bench",
                operator_id="op_bench",
                name="bench",
                purpose="bench",
                necessity="bench",
                legal_basis="consent",
                location_type="office",
                signage=False,
                jurisdiction="cn",
                retention_days=365,
                alternative="badge",
                threshold=0.6,
                scheme="biohash-v1",
                model_version="bench",
                key_id="k",
                wrapped_key=b"k",
                status="active",
                created_at=T0,
            )
        )
        s.flush()
        ids = [f"sub_{i:012x}" for i in range(subjects)]
        s.add_all(
            t.Subject(
                id=sid,
                deployment_id="dep_bench",
                ref_hmac=sid,
                ref_sealed=b"x",
                pseudonym=os.urandom(16).hex(),
                created_at=T0,
            )
            for sid in ids
        )


def enrollment(n: int, subject_id: str, pseudonym: str) -> tuple[t.Template, Event]:
    template_id = f"tpl_{n:024x}"
    now = T0 + timedelta(microseconds=n)
    row = t.Template(
        id=template_id,
        subject_id=subject_id,
        deployment_id="dep_bench",
        scheme="biohash-v1",
        sealed=os.urandom(SEALED_BYTES),
        created_at=now,
        expires_at=now + timedelta(days=365),
    )
    event = Event(
        Kind.ENROLLED,
        now,
        operator="op_bench",
        deployment="dep_bench",
        subject=pseudonym,
        rule_ids=("CN-FR-5", "CN-FR-6"),
        details={
            "input_sha256": os.urandom(32).hex(),
            "template_id": template_id,
            "model_version": "dlib-resnet-v1",
            "scheme": "biohash-v1",
            "faces_found": 1,
        },
    )
    return row, event


def verification(n: int, subject_id: str, pseudonym: str) -> tuple[None, Event]:
    """A 1:1 verification's event: it records no other change (what the service's verify
    and every refusal append through the group commit)."""
    del subject_id
    event = Event(
        Kind.VERIFIED,
        T0 + timedelta(microseconds=n),
        operator="op_bench",
        deployment="dep_bench",
        subject=pseudonym,
        rule_ids=("CN-FR-5", "CN-FR-6"),
        by="key_bench",
        details={
            "input_sha256": os.urandom(32).hex(),
            "decision": "match",
            "score": 0.734512,
            "threshold": 0.6,
            "model_version": "dlib-resnet-v1",
        },
    )
    return None, event


WORKLOADS = {"enroll": enrollment, "verify": verification}


def run_mode(
    db: Database,
    store: LedgerStore,
    people: list[tuple[str, str]],
    *,
    events: int,
    batch: int,
    start: int,
    workload: str = "enroll",
) -> dict[str, Any]:
    latencies: list[float] = []
    clock = time.perf_counter
    began, cpu_began = clock(), time.process_time()
    done = 0
    while done < events:
        k = min(batch, events - done)
        work = [
            WORKLOADS[workload](start + done + j, *people[(start + done + j) % len(people)])
            for j in range(k)
        ]
        t0 = clock()
        with db.transaction() as s:
            s.add_all(row for row, _ in work if row is not None)
            store.append(s, [event for _, event in work], entropy=os.urandom)
        latencies.append(clock() - t0)
        done += k
    elapsed = clock() - began
    cpu = time.process_time() - cpu_began
    ms = sorted(x * 1000 for x in latencies)
    return {
        "events": events,
        "events_per_transaction": batch,
        "transactions": len(latencies),
        "seconds": round(elapsed, 3),
        "events_per_s": round(events / elapsed),
        # CPU time of this process per event: what the work costs, whatever else the machine
        # is doing (the wall-clock figure above also waits for fsync and for other processes).
        "cpu_us_per_event": round(cpu / events * 1e6, 1),
        "commit_ms": {
            "p50": round(statistics.median(ms), 3),
            "p99": round(ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))], 3),
        },
    }


def run_clients(
    db: Database,
    store: LedgerStore,
    people: list[tuple[str, str]],
    *,
    clients: int,
    events: int,
    start: int,
    workload: str = "enroll",
) -> dict[str, Any]:
    """``clients`` threads, each appending one enrollment at a time through the group commit
    and waiting for its acknowledgement; returns the acknowledged rate and ack latencies."""
    group = GroupCommit(db, store, entropy=os.urandom)
    per_client = -(-events // clients)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    acked: list[int] = [0] * clients
    clock = time.perf_counter

    def client(c: int) -> None:
        for j in range(per_client):
            n = start + c * per_client + j
            row, event = WORKLOADS[workload](n, *people[n % len(people)])

            def work(s: Any, row: t.Template | None = row, event: Event = event) -> list[Event]:
                if row is not None:
                    s.add(row)
                return [event]

            t0 = clock()
            if row is None:  # an event alone: what the service's record_alone sends
                group.append(event)
            else:
                group.submit(work)
            latencies[c].append(clock() - t0)
            acked[c] += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    began, cpu_began = clock(), time.process_time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = clock() - began
    cpu = time.process_time() - cpu_began
    ms = sorted(x * 1000 for lat in latencies for x in lat)
    total = sum(acked)
    return {
        "clients": clients,
        "events": total,
        "seconds": round(elapsed, 3),
        "events_per_s": round(total / elapsed),
        # this process's CPU (every thread) per event: steadier than the rate on a noisy VM
        "cpu_us_per_event": round(cpu / total * 1e6, 1),
        "transactions": group.transactions,
        "events_per_transaction": round(group.jobs / max(group.transactions, 1), 1),
        "ack_ms": {
            "p50": round(statistics.median(ms), 3),
            "p99": round(ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))], 3),
        },
    }


def _postgres(arg: str | None) -> tuple[str | None, Any]:
    """The PostgreSQL URL to measure, and how to drop it afterwards (a temporary database
    on the local server unless one was given; None if no server answers)."""
    if arg == "none":
        return None, lambda: None
    if arg:
        return arg, lambda: None
    import uuid

    import psycopg

    admin = os.environ.get(
        "FACEGATE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"facegate_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None, lambda: None

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.rsplit("/", 1)[0] + "/" + name, drop


def clients_on(
    url: str,
    counts: list[int],
    events: int,
    say: Any,
    *,
    repeat: int = 1,
    workloads: Any = (),
) -> tuple[dict[str, Any], bool]:
    """Every workload and client count on the database at ``url`` (fresh schema), ``repeat``
    times (the run with the median rate is reported, with every rate), then a full verify."""
    db = Database(make_engine(url))
    migrate(db.engine)
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    store = LedgerStore(origin="bench.facegate/ledger", signing_key=key, clock=lambda: T0)
    setup(db, 5000)
    with db.read() as s:
        people = list(s.execute(text("SELECT id, pseudonym FROM subjects ORDER BY id")).all())
    out: dict[str, Any] = {}
    start = 0
    for workload, n in ((w, n) for w in workloads or ("enroll",) for n in counts):
        runs = []
        for _ in range(repeat):
            runs.append(
                run_clients(
                    db, store, people, clients=n, events=events, start=start, workload=workload
                )
            )
            start += runs[-1]["events"]
        runs.sort(key=lambda r: r["events_per_s"])
        res = {**runs[len(runs) // 2], "repeats": [r["events_per_s"] for r in runs]}
        out.setdefault(workload, {})[str(n)] = res
        say(
            f"  {workload}, {n:>3} clients: {res['events_per_s']:>7,} acknowledged appends/s, "
            f"{res['events_per_transaction']} per transaction, {res['cpu_us_per_event']} µs CPU an "
            f"event; ack p50 "
            f"{res['ack_ms']['p50']} ms, p99 {res['ack_ms']['p99']} ms"
            + (f"; median of {res['repeats']}" if repeat > 1 else "")
        )
    ok = store.verify(db, key.public_key().public_bytes_raw()).ok
    say(f"  ledger re-verified: ok={ok}")
    db.dispose()
    return out, ok


def concurrent_runs(args: Any, tmp: Path, say: Any) -> tuple[dict[str, Any], bool]:
    """The client-count runs on SQLite (in ``tmp``) and PostgreSQL (if there is one)."""
    counts = [int(c) for c in args.clients.split(",") if c]
    client_events = args.client_events or (4_000 if args.quick else 20_000)
    say(f"group commit, SQLite: {client_events:,} events per client count ...")
    concurrent: dict[str, Any] = {}
    workloads = [w for w in args.workloads.split(",") if w]
    concurrent["sqlite"], ok = clients_on(
        f"sqlite:///{tmp / 'clients.db'}",
        counts,
        client_events,
        say,
        repeat=args.repeat,
        workloads=workloads,
    )
    pg_url, drop = _postgres(args.postgres)
    if pg_url is not None:
        say(f"group commit, PostgreSQL: {client_events:,} events per client count ...")
        try:
            concurrent["postgresql"], ok_pg = clients_on(
                pg_url, counts, client_events, say, repeat=args.repeat, workloads=workloads
            )
            ok = ok and ok_pg
        finally:
            drop()
    return concurrent, ok


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer events (under a minute)")
    parser.add_argument("--json", action="store_true", help="stdout: only the JSON line")
    parser.add_argument("--dir", type=Path, help="where to put the database (default: a temp dir)")
    parser.add_argument("--per-tx", type=int, help="events appended one per transaction")
    parser.add_argument("--batched", type=int, help="events appended in batches")
    parser.add_argument("--batch", type=int, default=500, help="events per batched transaction")
    parser.add_argument("--clients", default="1,16,64", help="concurrent clients to measure")
    parser.add_argument("--client-events", type=int, help="events per client-count run")
    parser.add_argument(
        "--workloads",
        default="verify,enroll",
        help="what each client appends: 'verify' (an event alone: verify, identify, every "
        "refusal) and/or 'enroll' (an event with its template row)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per client count (the median is reported)"
    )
    parser.add_argument("--postgres", help="PostgreSQL URL for the client runs ('none': skip)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    per_tx = args.per_tx or (3_000 if args.quick else 20_000)
    batched = args.batched or (30_000 if args.quick else 200_000)
    human: TextIO = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=human, flush=True)

    command = "PYTHONPATH=src python " + shlex.join(["bench/ledger_append.py", *sys.argv[1:]])
    say(f"$ {command}")
    say(f"python {platform.python_version()} on {platform.machine()}, {platform.platform()}")
    load_before = os.getloadavg()[0]
    say(f"load average {load_before:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        db = Database(make_engine(f"sqlite:///{Path(tmp) / 'facegate.db'}"))
        migrate(db.engine)
        with db.engine.connect() as conn:
            pragmas = {
                p: conn.execute(text(f"PRAGMA {p}")).scalar()
                for p in ("journal_mode", "synchronous")
            }
        say(f"SQLite {pragmas} (synchronous 2 = FULL: each commit fsyncs the WAL)")
        key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        store = LedgerStore(origin="bench.facegate/ledger", signing_key=key, clock=lambda: T0)
        setup(db, 5000)
        with db.read() as s:
            people = list(s.execute(text("SELECT id, pseudonym FROM subjects ORDER BY id")).all())
        results: dict[str, dict[str, Any]] = {}
        modes: list[tuple[str, int, int]] = [
            ("per_transaction", per_tx, 1),
            ("batched", batched, args.batch),
        ]
        start = 0
        for name, n, batch in modes:
            say(f"{name}: {n:,} events, {batch} per transaction ...")
            res = run_mode(db, store, people, events=n, batch=batch, start=start)
            start += n
            results[name] = res
            met = "meets" if res["events_per_s"] >= TARGET_EVENTS_PER_S else "below"
            say(
                f"  {res['events_per_s']:>8,} events/s ({met} {TARGET_EVENTS_PER_S:,.0f}); "
                f"commit p50 {res['commit_ms']['p50']} ms, p99 {res['commit_ms']['p99']} ms; "
                f"{res['cpu_us_per_event']} µs CPU per event"
            )
        t0 = time.perf_counter()
        report = store.verify(db, key.public_key().public_bytes_raw())
        verify_s = time.perf_counter() - t0
        say(
            f"ledger re-verified: ok={report.ok}, {report.size:,} entries, "
            f"{report.heads_checked:,} signed heads in {verify_s:.1f} s"
        )
        db_bytes = sum(f.stat().st_size for f in Path(tmp).iterdir())
        db.dispose()
        concurrent, ok_clients = concurrent_runs(args, Path(tmp), say)
    out = {
        "bench": "ledger_append",
        "command": command,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": pragmas,
        "per_transaction": results["per_transaction"],
        "batched": results["batched"],
        "concurrent_clients": concurrent,
        "verified": report.ok and ok_clients,
        "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "cpus": os.cpu_count(),
        "verify_s": round(verify_s, 2),
        "db_bytes": db_bytes,
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "met": {k: v["events_per_s"] >= TARGET_EVENTS_PER_S for k, v in results.items()},
        "met_64_clients": {
            f"{backend}/{workload}": runs["64"]["events_per_s"] >= TARGET_EVENTS_PER_S
            for backend, by_workload in concurrent.items()
            for workload, runs in by_workload.items()
            if "64" in runs
        },
    }
    print(json.dumps(out, sort_keys=True), flush=True)
    return 0 if out["verified"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
