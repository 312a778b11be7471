"""Ledger Merkle proofs at scale: inclusion and consistency proof cost on a large tree.

Builds an in-memory store of complete subtrees (facegate.ledger.tree.MemoryNodeStore) for
10 million leaves (100,000 with --quick) through append_plan in batches, then times, for
random leaves and tree sizes, building inclusion proofs from stored nodes and verifying them
(RFC 9162 §2.1.3.2), and the same for consistency proofs. Reports mean, p50, p99 and max, and
proof sizes. Targets at 10M leaves: generation under 1 ms, verification under 100 µs (p99).

Usage:
    PYTHONPATH=src python bench/ledger_proofs.py [--quick] [--json] [--leaves N]
        [--samples N] [--batch N] [--seed N]

Human-readable figures and the command go to stdout (to stderr with --json); the last
line on stdout is always one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.ledger.hasher import hash_leaf  # noqa: E402
from facegate.ledger.proofs import (  # noqa: E402
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from facegate.ledger.tree import MemoryNodeStore, root_at  # noqa: E402

FULL_LEAVES = 10_000_000
QUICK_LEAVES = 100_000
TARGET_GENERATE_US = 1000.0
TARGET_VERIFY_US = 100.0


def leaf_data(i: int) -> bytes:
    return b"facegate bench leaf " + i.to_bytes(8, "big")


def build(n: int, batch: int, say: Callable[[str], None]) -> tuple[MemoryNodeStore, float]:
    store = MemoryNodeStore()
    start = time.perf_counter()
    next_report = start + 10
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        store.append([hash_leaf(leaf_data(i)) for i in range(lo, hi)])
        now = time.perf_counter()
        if now >= next_report:
            say(f"  ... {hi:,} leaves ({hi / (now - start):,.0f} leaves/s)")
            next_report = now + 10
    return store, time.perf_counter() - start


def summary(samples_ns: Sequence[int]) -> dict[str, float]:
    us = sorted(s / 1000 for s in samples_ns)
    p99 = us[min(len(us) - 1, round(0.99 * (len(us) - 1)))]
    return {
        "mean": round(statistics.fmean(us), 2),
        "p50": round(statistics.median(us), 2),
        "p99": round(p99, 2),
        "max": round(us[-1], 2),
    }


def time_inclusion(
    store: MemoryNodeStore, pairs: Sequence[tuple[int, int]], roots: dict[int, bytes]
) -> dict[str, Any]:
    gen: list[int] = []
    ver: list[int] = []
    lengths: list[int] = []
    clock = time.perf_counter_ns
    for index, size in pairs:
        t0 = clock()
        proof = inclusion_proof(index, size, store)
        t1 = clock()
        leaf = hash_leaf(leaf_data(index))
        t2 = clock()
        verify_inclusion(leaf, proof, roots[size])
        t3 = clock()
        gen.append(t1 - t0)
        ver.append(t3 - t2)
        lengths.append(len(proof.hashes))
    return {
        "samples": len(pairs),
        "generate_us": summary(gen),
        "verify_us": summary(ver),
        "proof_hashes": {"mean": round(statistics.fmean(lengths), 2), "max": max(lengths)},
        "proof_bytes": {"mean": round(32 * statistics.fmean(lengths), 1), "max": 32 * max(lengths)},
    }


def time_consistency(
    store: MemoryNodeStore, pairs: Sequence[tuple[int, int]], roots: dict[int, bytes]
) -> dict[str, Any]:
    gen: list[int] = []
    ver: list[int] = []
    lengths: list[int] = []
    clock = time.perf_counter_ns
    for old, new in pairs:
        t0 = clock()
        proof = consistency_proof(old, new, store)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LEAVES:,} leaves")
    parser.add_argument("--json", action="store_true", help="stdout: only the JSON line")
    parser.add_argument("--leaves", type=int, help=f"tree size (default {FULL_LEAVES:,})")
    parser.add_argument("--samples", type=int, default=5000, help="proofs timed per kind")
    parser.add_argument("--batch", type=int, default=65536, help="leaves per append")
    parser.add_argument("--seed", type=int, default=6962)
    args = parser.parse_args(argv)
    n = args.leaves or (QUICK_LEAVES if args.quick else FULL_LEAVES)
    if n < 2 or args.samples < 1 or args.batch < 1:
        parser.error("need at least 2 leaves, 1 sample and a batch of 1")

    human: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=human, flush=True)

    command = "PYTHONPATH=src python " + shlex.join(["bench/ledger_proofs.py", *sys.argv[1:]])
    say(f"$ {command}")
    say(f"python {platform.python_version()} on {platform.machine()}, {platform.platform()}")
    say(f"building a tree of {n:,} leaves in batches of {args.batch:,} ...")
    store, build_s = build(n, args.batch, say)
    say(
        f"built: {store.node_count:,} complete nodes in {build_s:.1f} s "
        f"({n / build_s:,.0f} leaves/s, {store.node_count / n:.3f} nodes per leaf)"
    )

    rng = random.Random(args.seed)
    # Half the proofs against the full tree, half against random earlier sizes (ragged edges).
    inc_pairs: list[tuple[int, int]] = []
    con_pairs: list[tuple[int, int]] = []
    for k in range(args.samples):
        size = n if k % 2 == 0 else rng.randrange(1, n + 1)
        inc_pairs.append((rng.randrange(size), size))
        new = n if k % 2 == 0 else rng.randrange(2, n + 1)
        con_pairs.append((rng.randrange(1, new), new))
    sizes = {s for _, s in inc_pairs} | {s for pair in con_pairs for s in pair}
    t0 = time.perf_counter()
    roots = {s: root_at(s, store) for s in sizes}
    root_us = (time.perf_counter() - t0) / len(sizes) * 1e6

    inclusion_proof(0, n, store)  # warm up
    gc.collect()
    inclusion = time_inclusion(store, inc_pairs, roots)
    gc.collect()
    consistency = time_consistency(store, con_pairs, roots)

    gen, ver = inclusion["generate_us"], inclusion["verify_us"]
    met = gen["p99"] < TARGET_GENERATE_US and ver["p99"] < TARGET_VERIFY_US
    say(f"root of a random size: {root_us:.1f} µs (one batched read of popcount(size) nodes)")
    for name, res in (("inclusion", inclusion), ("consistency", consistency)):
        g, v, h = res["generate_us"], res["verify_us"], res["proof_hashes"]
        say(f"{name} proofs, {res['samples']:,} samples:")
        say(
            f"  generate  mean {g['mean']:8.1f} µs  p50 {g['p50']:8.1f}  p99 {g['p99']:8.1f}"
            f"  max {g['max']:8.1f}"
        )
        say(
            f"  verify    mean {v['mean']:8.1f} µs  p50 {v['p50']:8.1f}  p99 {v['p99']:8.1f}"
            f"  max {v['max']:8.1f}"
        )
        say(
            f"  size      mean {h['mean']:.1f} hashes, max {h['max']} "
            f"({32 * h['max']} bytes; ceil(log2 n) = {(n - 1).bit_length()})"
        )
    say(
        f"targets (inclusion p99): generate < {TARGET_GENERATE_US:.0f} µs, verify < "
        f"{TARGET_VERIFY_US:.0f} µs: {'met' if met else 'NOT met'}"
        + ("" if n >= FULL_LEAVES else f" (at {n:,} leaves, not 10M)")
    )

    report = {
        "bench": "ledger_proofs",
        "command": command,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "leaves": n,
        "batch": args.batch,
        "build_s": round(build_s, 2),
        "build_leaves_per_s": round(n / build_s),
        "nodes": store.node_count,
        "root_at_us": round(root_us, 2),
        "inclusion": inclusion,
        "consistency": consistency,
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
