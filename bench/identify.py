"""1:N identification over protected templates: latency, recall@1, adds, memory, start-up.

For each gallery size (10k, 100k, 1M; --quick: 10k, 100k) the gallery holds real templates
of the people in the shared photo sets (orl, faces94, celebrities; --quick: orl), one photo
each, among synthetic distractors, all made by the real scheme (the default,
biohash-v1:4096, or ``--scheme``) under one random deployment key. Distractors are
protected templates of random embeddings MEAN + SPREAD * N(0, I), the public centring
constants of the scheme. The other photos of the enrolled people are the probes.
For each size it reports:

- search p50/p99 for one probe (``Gallery.search(top=1)``: a FAISS exact Hamming scan; for
  biohash-v1:4096 a scan of the first 1024 bits for a shortlist, ranked by whole templates),
  and numpy's exhaustive full-length ``similarity_many`` pass for comparison;
- recall@1 against exhaustive search (the gallery's best score equals numpy's best), for
  the probes and for as many strangers (fresh distractors, in no gallery), and rank-1
  accuracy (the best template is the probe's own person);
- add latency p50/p99/max (``Gallery.add``, one template at a time, into the full gallery);
- memory per template: what Python allocated (``tracemalloc``: the matrix, ids and maps)
  while the gallery was filled, / size; ids are the length of real ones (28 characters);
- start-up: a real store (SQLite, subjects, wrapped data keys, sealed templates, as
  consent + enrollment leave them, without the ledger) is written, then a fresh ``Gate``
  rebuilds the gallery with ``load_gallery``; wall and CPU seconds (--quick: 10k only).

Usage:
    python bench/identify.py [--quick] [--json] [--scheme NAME] [--sizes 10000,100000,1000000]
        [--startup-sizes 10000,100000,1000000] [--probes N] [--faces DIR]

Human-readable figures and the command go to stdout (to stderr with --json); the last
line on stdout is always one JSON object with every figure. The machine is shared: each
timing also gives the load average, and start-up gives CPU seconds beside wall seconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.gallery import Gallery  # noqa: E402
from facegate.templates import TemplateProtector  # noqa: E402
from facegate.templates.hazmat import keys  # noqa: E402
from facegate.templates.hazmat._mean import MEAN, SPREAD  # noqa: E402
from facegate.templates.scheme import DEFAULT_SCHEME, TemplateScheme, get_scheme  # noqa: E402

FOLDER_SETS = ("orl", "faces94", "celebrities")
SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm"}
U8 = npt.NDArray[np.uint8]


def default_faces_dir() -> Path:
    env = os.environ.get("FACEGATE_FACES")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "faces"


def load_average() -> float:
    return os.getloadavg()[0]


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))


# --- real faces ------------------------------------------------------------------------


def real_embeddings(faces: Path, sets: Sequence[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
    """One embedding per photo with a face, and its person (``set/folder``)."""
    from facegate.errors import FaceError
    from facegate.recognition import FaceEngine, decode_image
    from facegate.recognition.onnx import OnnxBackend

    engine = FaceEngine(backend=OnnxBackend())  # the model converted once, cached per user
    paths = [
        p for s in sets for p in sorted((faces / s).rglob("*")) if p.suffix.lower() in SUFFIXES
    ]
    images = [decode_image(p.read_bytes()) for p in paths]
    out: list[npt.NDArray[np.float32]] = []
    people: list[str] = []
    for path, result in zip(paths, engine.embed_many(images), strict=True):
        if isinstance(result, FaceError):
            continue
        out.append(result.embedding)
        people.append("/".join(path.relative_to(faces).parts[:2]))
    return np.stack(out), people


def split_enrolled(people: list[str]) -> tuple[list[int], list[int]]:
    """The first photo of each person is enrolled, the rest are probes."""
    enrolled: dict[str, int] = {}
    probes: list[int] = []
    for i, person in enumerate(people):
        if person in enrolled:
            probes.append(i)
        else:
            enrolled[person] = i
    return list(enrolled.values()), probes


def distractors(
    scheme: TemplateScheme,
    seed: bytes,
    n: int,
    rng: np.random.Generator,
    chunk: int = 100_000,
) -> U8:
    """Protected templates of ``n`` random embeddings, MEAN + SPREAD * N(0, I)."""
    out = np.empty((n, scheme.template_bytes), dtype=np.uint8)
    mean = np.asarray(MEAN, dtype=np.float64)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        faces = mean + SPREAD * rng.standard_normal((m, 128))
        out[start : start + m] = scheme.protect_many(faces, seed)
    return out


# --- search ----------------------------------------------------------------------------


def bench_size(
    n: int,
    *,
    protector: TemplateProtector,
    seed: bytes,
    real: U8,
    people: list[str],
    probes: U8,
    probe_people: list[str],
    rng: np.random.Generator,
    n_adds: int,
) -> dict[str, Any]:
    n_synthetic = n - len(real)
    if n_synthetic < n_adds:
        raise SystemExit(f"gallery size {n} is too small for {len(real)} real templates")
    fake = distractors(protector.scheme, seed, n_synthetic, rng)
    bulk = n_synthetic - n_adds
    template_ids = [f"tpl_{i:024x}" for i in range(n_synthetic)]
    subject_ids = [f"sub_{i:024x}" for i in range(n_synthetic)]
    gc.collect()
    tracemalloc.start()
    gallery = Gallery(
        protector.scheme.template_bytes,
        protector.similarity_many,
        capacity=n,
        prefix_bytes=protector.scheme.search_prefix_bytes,
    )
    gallery.add_many(template_ids[:bulk], subject_ids[:bulk], fake[:bulk])
    for i, person in enumerate(people):
        gallery.add(f"tpl_real{i:020x}", person, real[i].tobytes())
    # the id strings were made above, as a load makes them from its rows: count them too
    held = tracemalloc.get_traced_memory()[0] + sum(
        sys.getsizeof(template_ids[i]) + sys.getsizeof(subject_ids[i]) for i in range(bulk)
    )
    tracemalloc.stop()
    adds: list[float] = []
    for i in range(bulk, n_synthetic):
        row = fake[i].tobytes()
        start = time.perf_counter()
        gallery.add(template_ids[i], subject_ids[i], row)
        adds.append(time.perf_counter() - start)
    assert len(gallery) == n

    # the same rows as one matrix, for the exhaustive reference
    matrix = np.empty((n, protector.scheme.template_bytes), dtype=np.uint8)
    matrix[:bulk] = fake[:bulk]
    matrix[bulk : bulk + len(real)] = real
    matrix[bulk + len(real) :] = fake[bulk:]
    del fake

    for probe in probes[:3]:  # warm up
        gallery.search(probe.tobytes(), top=1)
    # strangers: people in nobody's gallery, whose best match is a chance one
    strangers = distractors(protector.scheme, seed, len(probes), rng)
    stranger_agree = 0
    for probe in strangers:
        hit = gallery.search(probe.tobytes(), top=1)[0]
        best = protector.similarity_many(probe.tobytes(), matrix).max()
        stranger_agree += bool(np.isclose(hit.score, best))
    searches: list[float] = []
    exhaustive: list[float] = []
    agree = correct = 0
    for probe, person in zip(probes, probe_people, strict=True):
        raw = probe.tobytes()
        start = time.perf_counter()
        hit = gallery.search(raw, top=1)[0]
        searches.append(time.perf_counter() - start)
        start = time.perf_counter()
        scores = protector.similarity_many(raw, matrix)
        exhaustive.append(time.perf_counter() - start)
        agree += bool(np.isclose(hit.score, scores.max()))
        correct += hit.subject_id == person
    return {
        "templates": n,
        "real_templates": len(real),
        "probes": len(probes),
        "search_p50_ms": percentile_ms(searches, 50),
        "search_p99_ms": percentile_ms(searches, 99),
        "numpy_exhaustive_p50_ms": percentile_ms(exhaustive, 50),
        "recall_at_1_vs_exhaustive": agree / len(probes),
        "stranger_recall_at_1_vs_exhaustive": stranger_agree / len(strangers),
        "rank1_accuracy": correct / len(probes),
        "add_p50_ms": percentile_ms(adds, 50),
        "add_p99_ms": percentile_ms(adds, 99),
        "add_max_ms": max(adds) * 1000.0,
        "adds_timed": len(adds),
        "memory_bytes_per_template": held / (bulk + len(people)),
        "matrix_bytes_per_template": gallery.nbytes / n,
        "load_average": load_average(),
    }


# --- start-up ----------------------------------------------------------------------------


def build_store(home: Path, n: int, rng: np.random.Generator, say: Callable[[str], None]) -> str:
    """A store holding ``n`` consenting subjects with one sealed template each."""
    from sqlalchemy import insert

    from facegate.gate import Gate
    from facegate.storage import tables as tb

    start = time.perf_counter()
    with Gate.open(home, create=True) as gate:
        dep = gate.create_deployment(
            name="Bench",
            purpose="Staff pass the turnstile by face",
            location="office",
            alternative="staff badge",
        )
        core = gate._core  # the bench writes rows directly: a million enrollments take hours
        with core.db.read() as s:
            row = s.get(tb.Deployment, dep.id)
            assert row is not None
        protector = core.keyring.protector(row)
        seed = keys.derive(protector.deployment_key, label=keys.TEMPLATE_TRANSFORM)
        now = core.clock()
        expires = now + timedelta(days=365)
        chunk = 20_000
        for first in range(0, n, chunk):
            m = min(chunk, n - first)
            templates = distractors(protector.scheme, seed, m, rng)
            data_keys, subjects, sealed = [], [], []
            for i in range(m):
                sid = f"sub_{rng.bytes(12).hex()}"
                tid = f"tpl_{rng.bytes(12).hex()}"
                key, wrapped = protector.new_data_key(subject_id=sid)
                data_keys.append({"subject_id": sid, "wrapped": wrapped, "created_at": now})
                subjects.append(
                    {
                        "id": sid,
                        "deployment_id": dep.id,
                        "ref_hmac": core.keyring.ref_hmac(row, f"person-{first + i}"),
                        "ref_sealed": core.keyring.seal_ref(row, sid, key, f"person-{first + i}"),
                        "pseudonym": rng.bytes(16).hex(),
                        "created_at": now,
                    }
                )
                sealed.append(
                    {
                        "id": tid,
                        "subject_id": sid,
                        "deployment_id": dep.id,
                        "scheme": row.scheme,
                        "sealed": protector.seal_template(
                            templates[i].tobytes(), subject_id=sid, template_id=tid, data_key=key
                        ),
                        "created_at": now,
                        "expires_at": expires,
                    }
                )
            # the key store first, as consent does
            with core.keyring.keystore._db.transaction() as s:
                s.execute(insert(tb.DataKey), data_keys)
            with core.db.transaction() as s:
                s.execute(insert(tb.Subject), subjects)
                s.execute(insert(tb.Template), sealed)
    say(f"  store of {n:,} written in {time.perf_counter() - start:.1f} s")
    return dep.id


def bench_startup(n: int, rng: np.random.Generator, say: Callable[[str], None]) -> dict[str, Any]:
    from facegate.flows.biometrics import load_gallery
    from facegate.gate import Gate

    with tempfile.TemporaryDirectory(prefix="fg-bench-store-") as tmp:
        home = Path(tmp) / "home"
        dep_id = build_store(home, n, rng, say)
        gc.collect()
        with Gate.open(home) as gate:  # a fresh Gate: nothing cached from the build
            wall, cpu = time.perf_counter(), time.process_time()
            gallery = load_gallery(gate._core, dep_id)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert len(gallery) == n
        return {
            "templates": n,
            "startup_s": wall,
            "startup_cpu_s": cpu,
            "load_average": load_average(),
        }


# --- main ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--json", action="store_true", help="stdout: only the JSON line")
    parser.add_argument(
        "--scheme",
        default=DEFAULT_SCHEME,
        help="template scheme of the searches (start-up uses the service default)",
    )
    parser.add_argument("--sizes", default=None, help="gallery sizes, comma-separated")
    parser.add_argument("--startup-sizes", default=None, help="store sizes for start-up")
    parser.add_argument("--probes", type=int, default=None, help="probes per size")
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    args = parser.parse_args(argv)
    human: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=human, flush=True)

    command = shlex.join(
        ["python", "bench/identify.py", *(argv if argv is not None else sys.argv[1:])]
    )
    say(f"command: {command}")
    default_sizes = "10000,100000" if args.quick else "10000,100000,1000000"
    default_startup = "10000" if args.quick else "10000,100000,1000000"
    sizes = [int(x) for x in (args.sizes or default_sizes).split(",") if x]
    startup = args.startup_sizes if args.startup_sizes is not None else default_startup
    startup_sizes = [int(x) for x in startup.split(",") if x]
    n_probes = args.probes or (100 if args.quick else 300)
    rng = np.random.default_rng(6)

    start = time.perf_counter()
    embeddings, people = real_embeddings(args.faces, ["orl"] if args.quick else FOLDER_SETS)
    enrolled, probe_rows = split_enrolled(people)
    protector = TemplateProtector("dep_bench", keys.new_key(), scheme=get_scheme(args.scheme))
    seed = keys.derive(protector.deployment_key, label=keys.TEMPLATE_TRANSFORM)
    templates = np.stack([np.frombuffer(protector.protect(e), dtype=np.uint8) for e in embeddings])
    chosen = rng.permutation(probe_rows)[:n_probes]
    say(
        f"{len(embeddings)} real templates of {len(enrolled)} people "
        f"({', '.join(['orl'] if args.quick else FOLDER_SETS)}) in "
        f"{time.perf_counter() - start:.1f} s; {len(chosen)} probes"
    )

    results = []
    say(
        "size       search p50/p99 ms  numpy p50  recall@1 (strangers)  rank-1  "
        "add p50/p99/max ms  B/tpl"
    )
    for n in sizes:
        r = bench_size(
            n,
            protector=protector,
            seed=seed,
            real=templates[enrolled],
            people=[people[i] for i in enrolled],
            probes=templates[chosen],
            probe_people=[people[i] for i in chosen],
            rng=rng,
            n_adds=1000,
        )
        results.append(r)
        say(
            f"{n:>9,}  {r['search_p50_ms']:7.2f} /{r['search_p99_ms']:6.2f}  "
            f"{r['numpy_exhaustive_p50_ms']:9.2f}  {r['recall_at_1_vs_exhaustive']:8.4f} "
            f"({r['stranger_recall_at_1_vs_exhaustive']:.4f})  "
            f"{r['rank1_accuracy']:6.4f}  {r['add_p50_ms']:5.3f}/{r['add_p99_ms']:5.3f}/"
            f"{r['add_max_ms']:5.1f}  {r['memory_bytes_per_template']:5.0f}"
            f"  (load {r['load_average']:.1f})"
        )

    startups = []
    if startup_sizes:
        say("start-up: load_gallery from a store (decrypt every sealed template)")
    for n in startup_sizes:
        r = bench_startup(n, rng, say)
        startups.append(r)
        say(
            f"  {n:>9,} templates: {r['startup_s']:.2f} s wall, {r['startup_cpu_s']:.2f} s CPU"
            f"  (load {r['load_average']:.1f})"
        )

    report = {
        "bench": "identify",
        "command": command,
        "quick": args.quick,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "scheme": protector.scheme.name,
        "search": results,
        "startup": startups,
    }
    print(json.dumps(report, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
