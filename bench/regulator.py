"""The regulator node: witness round trip, cosigning rate, mirror replay rate.

A synthetic operator log (real facegate event shapes, Ed25519-signed checkpoints carrying the
verifiable-index line the ledger writes) is pushed to a real ``facegate regulator serve``
process on loopback, exactly as an operator's link does: the new entries to the mirror, then
``POST /add-checkpoint`` (c2sp.org/tlog-witness) with a consistency proof. The witness checks
the signature and proof, requires every entry, recomputes the Merkle root and the index root,
runs the monitor rules, saves atomically and cosigns.

* ``round_trip_ms``: one event appended per checkpoint; wall time of one push (entries +
  add-checkpoint), p50 and p99, over ``--rounds`` pushes, and of add-checkpoint alone.
* ``cosign_per_s``: checkpoints cosigned per second, one log pushing back to back, and
  ``--logs`` logs pushing at once (each log's checks are serialised by its row; logs are not).
* ``mirror_replay_per_s``: entries per second through the regulator's mirror in process (no
  HTTP): staging, Merkle root, index rebuild, monitor rules and the save, in checkpoints of
  ``--batch`` entries over ``--entries`` entries.

Usage:
    PYTHONPATH=src python bench/regulator.py [--quick] [--rounds N] [--logs N]
        [--entries N] [--batch N]

The last line on stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402

from facegate._internal.canonical import canonical_json  # noqa: E402
from facegate.ledger.checkpoint import Checkpoint, Signer, sign_checkpoint  # noqa: E402
from facegate.ledger.hasher import hash_leaf  # noqa: E402
from facegate.ledger.head_lines import head_extensions  # noqa: E402
from facegate.ledger.index_tree import IndexBuilder  # noqa: E402
from facegate.ledger.proofs import consistency_proof  # noqa: E402
from facegate.ledger.tree import MemoryNodeStore  # noqa: E402
from facegate.regulator.home import init_home  # noqa: E402
from facegate.regulator.link_client import RegulatorClient  # noqa: E402
from facegate.regulator.node import Regulator  # noqa: E402
from facegate.regulator.protocol import render_add_checkpoint  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ("consent.given", "enroll", "verify", "verify", "identify")


class SyntheticLog:
    """An operator log in memory: events of facegate's shapes, signed heads with index lines."""

    def __init__(self, origin: str, seed: int) -> None:
        self.origin = origin
        self.signer = Signer.from_seed(origin, bytes([seed]) * 32)
        self.leaves: list[bytes] = []
        self.store = MemoryNodeStore()
        self.index = IndexBuilder()
        self.add_event(
            "deployment.created", None, capabilities=["verify", "identify"], retention_days=365
        )

    @property
    def vkey(self) -> str:
        return self.signer.verifier().verifier_key()

    def add_event(self, kind: str, subject: str | None, **details: Any) -> None:
        n = len(self.leaves)
        doc = {
            "v": 1,
            "id": f"evt_{n:012x}",
            "kind": kind,
            "at": (T0 + timedelta(seconds=n)).isoformat(timespec="microseconds"),
            "operator": "op_bench",
            "deployment": "dep_bench",
            "subject": subject,
            "rules": ["CN-PIPL-13"],
            "details": {"input_sha256": f"{n:064x}", **details},
        }
        data = canonical_json(doc)
        self.leaves.append(data)
        self.store.append([hash_leaf(data)])
        self.index.add_leaf(n, data)

    def add(self) -> None:
        """One more event: people consent, enroll, then are verified and identified."""
        n = len(self.leaves)
        kind = KINDS[n % len(KINDS)]
        self.add_event(kind, f"{(n // len(KINDS)):032x}", score=0.9, decision="match")

    def note(self, prev: int) -> str:
        size = len(self.leaves)
        lines = head_extensions(index_root=self.index.root(), prev=prev)
        return sign_checkpoint(
            Checkpoint(self.origin, size, self.store.root(size), lines), self.signer
        )

    def body(self, old: int, prev: int) -> bytes:
        proof = consistency_proof(old, len(self.leaves), self.store).hashes if old else ()
        return render_add_checkpoint(old, list(proof), self.note(prev))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_regulator(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facegate.cli",
            "regulator",
            "serve",
            "--home",
            str(home),
            "--port",
            str(port),
            "--sweep-seconds",
            "3600",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the regulator did not start")


def push_rounds(url: str, log: SyntheticLog, rounds: int) -> tuple[list[float], list[float]]:
    """``rounds`` pushes of one new event each; (whole push, add-checkpoint alone) in s."""
    whole: list[float] = []
    alone: list[float] = []
    with RegulatorClient(url, origin=log.origin, signing_key=log.signer.private_key) as c:
        old = 0
        for _ in range(rounds + 1):
            log.add()
            t0 = time.perf_counter()
            c.push_entries(old, log.leaves[old:])
            t1 = time.perf_counter()
            answer = c.add_checkpoint(
                old,
                consistency_proof(old, len(log.leaves), log.store).hashes if old else (),
                log.note(old),
            )
            t2 = time.perf_counter()
            if not answer.ok:
                raise SystemExit(f"refused: {answer.status} {answer.text}")
            if old:  # the first push carries the whole log: not a steady-state figure
                whole.append(t2 - t0)
                alone.append(t2 - t1)
            old = len(log.leaves)
    return whole, alone


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def concurrent_rate(url: str, logs: list[SyntheticLog], rounds: int) -> float:
    done: list[int] = []
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=lambda lg=lg: done.append(len(push_rounds(url, lg, rounds)[0])))
        for lg in logs
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(done) / (time.perf_counter() - t0)


def mirror_replay(home: Path, entries: int, batch: int) -> dict[str, float]:
    """Entries per second through stage + add-checkpoint, in process."""
    log = SyntheticLog("replay.bench/ledger", 9)
    while len(log.leaves) < entries:
        log.add()
    with Regulator.open(home) as reg:
        reg.approve(log.origin, vkey=log.vkey)
        full = SyntheticLog("replay.bench/ledger", 9)  # re-signed heads at each batch end
        old = 0
        t0 = time.perf_counter()
        while old < len(log.leaves):
            new = min(old + batch, len(log.leaves))
            for data in log.leaves[len(full.leaves) : new]:
                full.leaves.append(data)
                full.store.append([hash_leaf(data)])
                full.index.add_leaf(len(full.leaves) - 1, data)
            t_sign = time.perf_counter()
            body = full.body(old, old)
            t0 += time.perf_counter() - t_sign  # the operator's signing is not the regulator's
            reg.stage_entries(log.origin, old, full.leaves[old:new])
            reg.add_checkpoint(body)
            old = new
        elapsed = time.perf_counter() - t0
    return {
        "entries": len(log.leaves),
        "batch": batch,
        "seconds": round(elapsed, 2),
        "entries_per_s": round(len(log.leaves) / elapsed),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small run for CI")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--logs", type=int, default=4)
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.entries, args.logs = 40, 2000, 2
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "reg"
        init_home(home, name="regulator.bench/witness")
        logs = [SyntheticLog(f"op{i}.bench/ledger", i + 1) for i in range(args.logs + 1)]
        with Regulator.open(home) as reg:
            for lg in logs:
                reg.approve(lg.origin, vkey=lg.vkey)
        proc, url = start_regulator(home)
        try:
            whole, alone = push_rounds(url, logs[0], args.rounds)
            many = concurrent_rate(url, logs[1:], args.rounds // 2)
        finally:
            proc.terminate()
            proc.wait(30)
        replay = mirror_replay(home, args.entries, args.batch)
    figures = {
        "bench": "regulator",
        "command": "python bench/regulator.py " + shlex.join(sys.argv[1:]),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, load {os.getloadavg()[0]:.1f}",
        "round_trip_ms": {
            "push_p50": round(statistics.median(whole) * 1000, 2),
            "push_p99": round(_pct(whole, 0.99) * 1000, 2),
            "add_checkpoint_p50": round(statistics.median(alone) * 1000, 2),
            "add_checkpoint_p99": round(_pct(alone, 0.99) * 1000, 2),
            "rounds": len(whole),
        },
        "cosign_per_s": {
            "one_log": round(len(whole) / sum(whole), 1),
            f"{args.logs}_logs": round(many, 1),
        },
        "mirror_replay_per_s": replay,
    }
    print(
        f"witness push p50 {figures['round_trip_ms']['push_p50']} ms, "
        f"p99 {figures['round_trip_ms']['push_p99']} ms; "
        f"{figures['cosign_per_s']} checkpoints/s; replay {replay['entries_per_s']} entries/s"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
