"""Ledger Merkle proofs served from the SQLite store, at 10 million events.

Fills a real facegate database (Alembic schema, WAL, synchronous=FULL) through
``LedgerStore.append`` in large transactions, exactly as the product writes it (leaves, every
complete node, a signed head per append), then times for random leaves and tree sizes:

* ``generate``: an inclusion proof from stored nodes (``proofs.inclusion_proof`` over
  ``DbNodeReader``: one indexed query) inside an open read session, as wall time and as
  this thread's CPU time (which other processes on a busy machine cannot inflate);
* ``generate_gate``: the same as ``Gate.inclusion_proof`` does it: a fresh read session,
  the latest-head lookup and the node query;
* ``verify``: facegate's RFC 9162 check, and ``verify_independent``: the offline court
  verifier's own dozen-line check (``evidence_verify.root_from_inclusion``);
* the same for consistency proofs, and proof sizes against ceil(log2 n).

Targets at 10M events: generation under 1 ms, verification under 100 µs (p99), proofs of
at most ceil(log2 n) hashes. Building 10M events takes many minutes; ``--db PATH`` keeps the
database to reuse it on the next run. ``--quick`` uses 100,000 events.

Usage:
    PYTHONPATH=src python bench/ledger_proofs_db.py [--quick] [--json] [--leaves N]
        [--samples N] [--batch N] [--db PATH] [--seed N]

Human-readable figures and the command go to stdout (to stderr with --json); the last
line on stdout is always one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from facegate.ledger import records  # noqa: E402
from facegate.ledger.events import Event, Kind  # noqa: E402
from facegate.ledger.evidence_verify import root_from_inclusion  # noqa: E402
from facegate.ledger.proofs import (  # noqa: E402
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from facegate.ledger.store import DbNodeReader, LedgerStore  # noqa: E402
from facegate.ledger.tree import root_at  # noqa: E402
from facegate.storage.db import Database, make_engine, migrate  # noqa: E402

FULL_LEAVES = 10_000_000
QUICK_LEAVES = 100_000
TARGET_GENERATE_US = 1000.0
TARGET_VERIFY_US = 100.0
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def events(n: int, rng: random.Random) -> list[Event]:
    """Verify events of realistic size (a pseudonym, hashes, a score)."""
    return [
        Event(
            Kind.VERIFIED,
            T0,
            operator="op_bench",
            deployment="dep_bench",
            subject=f"{rng.getrandbits(128):032x}",
            rule_ids=("CN-FR-5", "CN-FR-6"),
            details={
                "input_sha256": f"{rng.getrandbits(256):064x}",
                "decision": "match",
                "score": 0.8123,
                "threshold": 0.6,
                "model_version": "dlib-resnet-v1",
            },
        )
        for _ in range(n)
    ]


def fill(db: Database, store: LedgerStore, n: int, batch: int, say: Callable[[str], None]) -> float:
    with db.read() as s:
        have = records.ledger_size(s)
    if have >= n:
        say(f"reusing the {have:,} events already in the database")
        return 0.0
    rng = random.Random(have)
    start = time.perf_counter()
    next_report = start + 15
    while have < n:
        k = min(batch, n - have)
        with db.transaction() as s:
            store.append(s, events(k, rng), entropy=os.urandom)
        have += k
        now = time.perf_counter()
        if now >= next_report:
            say(f"  ... {have:,} events ({have / (now - start):,.0f} events/s)")
            next_report = now + 15
    return time.perf_counter() - start


def summary(samples_ns: Sequence[int]) -> dict[str, float]:
    us = sorted(x / 1000 for x in samples_ns)
    p99 = us[min(len(us) - 1, round(0.99 * (len(us) - 1)))]
    return {
        "mean": round(statistics.fmean(us), 2),
        "p50": round(statistics.median(us), 2),
        "p99": round(p99, 2),
        "max": round(us[-1], 2),
    }


def time_inclusion(
    db: Database,
    pairs: Sequence[tuple[int, int]],
    roots: dict[int, bytes],
    leaves: dict[int, bytes],
) -> dict[str, Any]:
    gen: list[int] = []
    gen_cpu: list[int] = []
    gen_gate: list[int] = []
    ver: list[int] = []
    ver_ind: list[int] = []
    lengths: list[int] = []
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    with db.read() as s:
        reader = DbNodeReader(s)
        for index, size in pairs:
            c0, t0 = cpu(), clock()
            proof = inclusion_proof(index, size, reader)
            gen.append(clock() - t0)
            gen_cpu.append(cpu() - c0)
            leaf = leaves[index]
            t0 = clock()
            verify_inclusion(leaf, proof, roots[size])
            ver.append(clock() - t0)
            t0 = clock()
            ok = root_from_inclusion(leaf, index, size, proof.hashes) == roots[size]
            ver_ind.append(clock() - t0)
            assert ok
            lengths.append(len(proof.hashes))
    for index, size in pairs:
        t0 = clock()
        with db.read() as s:
            records.inclusion(s, index, size)
        gen_gate.append(clock() - t0)
    return {
        "samples": len(pairs),
        "generate_us": summary(gen),
        "generate_cpu_us": summary(gen_cpu),
        "generate_gate_us": summary(gen_gate),
        "verify_us": summary(ver),
        "verify_independent_us": summary(ver_ind),
        "proof_hashes": {"mean": round(statistics.fmean(lengths), 2), "max": max(lengths)},
    }


def time_consistency(
    db: Database, pairs: Sequence[tuple[int, int]], roots: dict[int, bytes]
) -> dict[str, Any]:
    gen: list[int] = []
    ver: list[int] = []
    lengths: list[int] = []
    clock = time.perf_counter_ns
    with db.read() as s:
        reader = DbNodeReader(s)
        for old, new in pairs:
            t0 = clock()
            proof = consistency_proof(old, new, reader)
            t1 = clock()
            verify_consistency(roots[old], roots[new], proof)
            t2 = clock()
            gen.append(t1 - t0)
            ver.append(t2 - t1)
            lengths.append(len(proof.hashes))
    return {
        "samples": len(pairs),
        "generate_us": summary(gen),
        "verify_us": summary(ver),
        "proof_hashes": {"mean": round(statistics.fmean(lengths), 2), "max": max(lengths)},
    }


def pick(n: int, samples: int, seed: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(index, size) and (old, new) pairs: half against the full log, half at random sizes."""
    rng = random.Random(seed)
    inc: list[tuple[int, int]] = []
    con: list[tuple[int, int]] = []
    for k in range(samples):
        size = n if k % 2 == 0 else rng.randrange(1, n + 1)
        inc.append((rng.randrange(size), size))
        new = n if k % 2 == 0 else rng.randrange(2, n + 1)
        con.append((rng.randrange(1, new), new))
    return inc, con


def show(say: Callable[[str], None], name: str, res: dict[str, Any], bound: int) -> None:
    say(f"{name} proofs from SQLite, {res['samples']:,} samples (µs):")
    labels = (
        "generate_us",
        "generate_cpu_us",
        "generate_gate_us",
        "verify_us",
        "verify_independent_us",
    )
    for label in labels:
        if label in res:
            v = res[label]
            say(
                f"  {label[:-3]:<22} mean {v['mean']:8.1f}  p50 {v['p50']:8.1f}  "
                f"p99 {v['p99']:8.1f}  max {v['max']:8.1f}"
            )
    h = res["proof_hashes"]
    say(f"  size: mean {h['mean']} hashes, max {h['max']} (ceil(log2 n) = {bound})")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LEAVES:,} events")
    parser.add_argument("--json", action="store_true", help="stdout: only the JSON line")
    parser.add_argument("--leaves", type=int, help=f"events in the log (default {FULL_LEAVES:,})")
    parser.add_argument("--samples", type=int, default=3000, help="proofs timed per kind")
    parser.add_argument("--batch", type=int, default=20_000, help="events per append")
    parser.add_argument("--db", type=Path, help="database file to keep and reuse")
    parser.add_argument("--seed", type=int, default=6962)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    n = args.leaves or (QUICK_LEAVES if args.quick else FULL_LEAVES)
    human: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=human, flush=True)

    command = "PYTHONPATH=src python " + shlex.join(["bench/ledger_proofs_db.py", *sys.argv[1:]])
    say(f"$ {command}")
    say(f"python {platform.python_version()} on {platform.machine()}, {platform.platform()}")
    load_before = os.getloadavg()[0]
    say(f"load average {load_before:.2f} on {os.cpu_count()} CPUs (other work inflates p99)")
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "facegate.db"
    else:
        path = args.db
    db = Database(make_engine(f"sqlite:///{path}"))
    migrate(db.engine)
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    store = LedgerStore(origin="bench.facegate/ledger", signing_key=key, clock=lambda: T0)
    say(f"filling {path} to {n:,} events, {args.batch:,} per transaction ...")
    build_s = fill(db, store, n, args.batch, say)
    with db.read() as s:
        n = records.ledger_size(s)
    db_bytes = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    say(f"log of {n:,} events, database {db_bytes / 2**30:.2f} GiB")

    inc_pairs, con_pairs = pick(n, args.samples, args.seed)
    sizes = {s for _, s in inc_pairs} | {s for pair in con_pairs for s in pair}
    with db.read() as s:
        reader = DbNodeReader(s)
        roots = {size: root_at(size, reader) for size in sizes}
        leaves = {i: records.entry(s, i).leaf_hash for i, _ in inc_pairs}
    gc.collect()
    inclusion = time_inclusion(db, inc_pairs, roots, leaves)
    gc.collect()
    consistency = time_consistency(db, con_pairs, roots)
    db.dispose()
    if tmp is not None:
        tmp.cleanup()

    bound = (n - 1).bit_length()
    gen, ver = inclusion["generate_us"], inclusion["verify_us"]
    met = (
        gen["p99"] < TARGET_GENERATE_US
        and ver["p99"] < TARGET_VERIFY_US
        and inclusion["verify_independent_us"]["p99"] < TARGET_VERIFY_US
        and inclusion["proof_hashes"]["max"] <= bound
    )
    for name, res in (("inclusion", inclusion), ("consistency", consistency)):
        show(say, name, res, bound)
    say(
        f"targets (inclusion p99): generate < {TARGET_GENERATE_US:.0f} µs, verify < "
        f"{TARGET_VERIFY_US:.0f} µs, size <= {bound}: {'met' if met else 'NOT met'}"
        + ("" if n >= FULL_LEAVES else f" (at {n:,} events, not 10M)")
    )
    report = {
        "bench": "ledger_proofs_db",
        "command": command,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "leaves": n,
        "build_s": round(build_s, 1),
        "db_bytes": db_bytes,
        "inclusion": inclusion,
        "consistency": consistency,
        "ceil_log2_n": bound,
        "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "cpus": os.cpu_count(),
        "targets": {
            "generate_p99_us": TARGET_GENERATE_US,
            "verify_p99_us": TARGET_VERIFY_US,
            "met": met,
        },
    }
    print(json.dumps(report, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
