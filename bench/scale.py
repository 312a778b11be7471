"""Beyond one machine on Ray (issue 15): batch enrollment photos/s at 1 and 2 workers, and a
1:N gallery of simulated templates sharded across actors against one exhaustive scan.

* ``enroll``: real photos (faces94, two per person) enrolled through
  :func:`facegate.scale.enroll.run_batch` against a signed roster, on a local Ray cluster of
  two CPUs, with 1 and then 2 embedding workers (each run its own deployment; the wall time
  includes starting the workers and loading their models).
* ``sharded``: ``--templates`` random 1024-bit templates (SIMULATED: random bytes, one per
  person) made inside 2 shard actors; each probe is a stored template with 3% of its bits
  flipped; p50/p99 of the sharded search, and recall@1 against one exhaustive FAISS scan of
  the same templates in this process (the answer one gallery would give).

Usage:
    PYTHONPATH=src python bench/scale.py [--quick] [--templates N] [--photos N] [--skip-enroll]

The last line on stdout is one JSON object with every figure.
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
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import numpy as np  # noqa: E402

FACES = Path(os.environ.get("FACEGATE_FACES", "/work/shared/data/faces"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def enroll_runs(photos: int, say: Any) -> dict[str, Any]:
    from lawful import consent, live

    from facegate.config import Settings
    from facegate.gate import Gate
    from facegate.scale.enroll import run_batch
    from facegate.scale.roster import issue_roster, open_roster

    people = sorted(p.name for p in (FACES / "faces94").iterdir() if p.is_dir())[: photos // 2]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        for ref in people:
            (folder / ref).mkdir(parents=True)
            for k in (1, 2):
                src = FACES / "faces94" / ref / f"{ref}.{k}.jpg"
                (folder / ref / f"{k}.jpg").write_bytes(src.read_bytes())
        gate = Gate.open(settings=Settings(home=Path(tmp) / "home"), create=True)
        for workers in (1, 2):
            dep = live(
                gate, name=f"Lobby {workers}", location="office", alternative="staff badge"
            ).id
            for ref in people:
                consent(gate, dep, ref)
            roster = open_roster(gate.core, issue_roster(gate.core, dep), dep)
            t0 = time.perf_counter()
            report = run_batch(gate.core, gate.actor, dep, folder, roster, workers=workers, chunk=8)
            wall = time.perf_counter() - t0
            out[str(workers)] = {
                "photos": report.total,
                "enrolled": report.enrolled,
                "skipped": report.skipped,
                "seconds": round(wall, 2),
                "photos_per_s": round(report.enrolled / wall, 2),
            }
            say(
                f"  {workers} worker(s): {report.enrolled}/{report.total} photos in {wall:.1f} s"
                f" = {report.enrolled / wall:.2f} photos/s"
            )
        gate.close()
    out["scaling"] = round(out["2"]["photos_per_s"] / out["1"]["photos_per_s"], 2)
    return out


def sharded_run(total: int, probes: int, say: Any) -> dict[str, Any]:
    import faiss

    from facegate.scale.shards import ShardedGallery, simulated_rows

    width, seed, shards = 128, 2026, 2
    gallery = ShardedGallery(shards, width)
    t0 = time.perf_counter()
    gallery.simulate(total, seed=seed)
    built = time.perf_counter() - t0
    say(f"  {total:,} simulated templates in {shards} shards, made in {built:.0f} s")
    # the same templates, regenerated here as Shard.simulate makes them, for one exhaustive scan
    bounds = [total * k // shards for k in range(shards + 1)]
    full = np.empty((total, width), np.uint8)
    for k in range(shards):
        for lo in range(bounds[k], bounds[k + 1], 500_000):
            n = min(500_000, bounds[k + 1] - lo)
            full[lo : lo + n] = simulated_rows(lo, n, seed, width, 1)[2]
    rng = np.random.default_rng(7)
    latencies, agree = [], 0
    faiss.omp_set_num_threads(1)
    for row in rng.integers(0, total, probes):
        probe = full[row].copy()
        flips = rng.choice(width * 8, size=width * 8 * 3 // 100, replace=False)
        for bit in flips:
            probe[bit // 8] ^= 1 << (bit % 8)
        t0 = time.perf_counter()
        hits = gallery.search(probe.tobytes(), top=1)
        latencies.append((time.perf_counter() - t0) * 1000)
        _, rows = faiss.knn_hamming(probe[None, :], full, 1)
        agree += hits[0].template_id == f"t{int(rows[0][0])}"
    gallery.close()
    res = {
        "templates": total,
        "simulated": True,
        "template_bits": width * 8,
        "shards": shards,
        "probes": probes,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(pct(latencies, 0.99), 2),
        "recall_at_1_vs_exhaustive": agree / probes,
        "build_s": round(built, 1),
    }
    say(
        f"  search p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms; recall@1 against one "
        f"exhaustive scan {res['recall_at_1_vs_exhaustive']:.3f}"
    )
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M templates, 24 photos")
    parser.add_argument("--templates", type=int, help="simulated templates (default 10M)")
    parser.add_argument("--photos", type=int, help="photos to enroll per run (default 60)")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--skip-enroll", action="store_true")
    args = parser.parse_args(argv)
    total = args.templates or (1_000_000 if args.quick else 10_000_000)
    photos = args.photos or (24 if args.quick else 60)
    command = "PYTHONPATH=src python " + shlex.join(["bench/scale.py", *sys.argv[1:]])

    def say(line: str) -> None:
        print(line, flush=True)

    say(f"$ {command}")
    say(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    from facegate.scale.cluster import connect

    connect(num_cpus=2)
    out: dict[str, Any] = {
        "bench": "scale",
        "command": command,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    if not args.skip_enroll:
        say(f"Ray batch enrollment, {photos} photos per run:")
        out["batch_enrollment"] = enroll_runs(photos, say)
    say("sharded 1:N:")
    out["sharded"] = sharded_run(total, args.probes, say)
    out["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
