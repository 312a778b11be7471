"""Measure biohash-v1 against raw dlib on the shared photos, and pick its threshold.

    PYTHONPATH=src python -m facegate.templates.hazmat._calibrate [--keys 32] [--bits 1024]
        [--cache /tmp/facegate-embeddings.npz] [--faces DIR] [--classic]

For each set it prints the raw dlib accuracy (euclidean distance; at 0.6 and at the set's
best threshold) and the protected accuracy under many random keys (at the scheme's default
threshold and at the best one), then how similar one person's templates are under two keys,
and how fast :func:`biohash.hamming_many` runs on one core. ``--classic`` adds, for
comparison, plain signs of random projections of the L2-normalised centred embedding.

Sets: ``in_the_wild/master.csv`` (300 labelled pairs) and, for orl, faces94 and
celebrities, every same-person pair in a folder plus as many cross-person pairs drawn with
a fixed seed. Photos where dlib finds no face are left out of both columns alike.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import _faces, biohash
from facegate.templates.scheme import BioHashScheme

F64 = npt.NDArray[np.float64]
Protect = Callable[[F64, bytes], npt.NDArray[np.uint8]]


def key_seed(k: int) -> bytes:
    """Reproducible stand-ins for deployment transform seeds."""
    return hashlib.sha256(b"facegate calibration key %d" % k).digest()


def accuracy(scores: F64, same: npt.NDArray[np.bool_], threshold: float) -> float:
    """Accuracy when ``score >= threshold`` is called "same person"."""
    return float(np.mean((scores >= threshold) == same))


def best_accuracy(scores: F64, same: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """The best accuracy over all thresholds, and the threshold giving it."""
    cuts = np.unique(scores)
    accs = [accuracy(scores, same, float(t)) for t in cuts]
    i = int(np.argmax(accs))
    return accs[i], float(cuts[i])


def classic_protect(bits: int) -> Protect:
    """Classic BioHash for comparison: signs of Gaussian projections, normalised input."""

    def run(emb: F64, seed: bytes) -> npt.NDArray[np.uint8]:
        rng = np.random.default_rng(int.from_bytes(seed, "big"))
        matrix = rng.standard_normal((bits, biohash.DIM))
        x = emb - np.array(biohash.MEAN, dtype=np.float64)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return np.packbits((x @ matrix.T) > 0, axis=1)

    return run


def pair_sets(
    faces_dir: Path, cache: _faces.EmbeddingCache
) -> dict[str, tuple[F64, F64, npt.NDArray[np.bool_]]]:
    pairs = {"in_the_wild": _faces.master_pairs(faces_dir)}
    for name in _faces.FOLDER_SETS:
        pairs[name] = _faces.folder_pairs(faces_dir / name, seed=0)
    out = {}
    for name, plist in pairs.items():
        rows = list(_faces.usable(plist, cache))
        a = np.array([r[0] for r in rows])
        b = np.array([r[1] for r in rows])
        out[name] = (a, b, np.array([r[2] for r in rows]))
    return out


def protected_scores(protect: Protect, a: F64, b: F64, seed: bytes) -> F64:
    ta, tb = protect(a, seed), protect(b, seed)
    bits = 8 * ta.shape[1]
    return np.asarray(1.0 - np.bitwise_count(ta ^ tb).sum(axis=1) / bits, dtype=np.float64)


def report_accuracy(
    sets: dict[str, tuple[F64, F64, npt.NDArray[np.bool_]]],
    protect: Protect,
    threshold: float,
    n_keys: int,
) -> None:
    print(
        f"{'set':<12} {'pairs':>5}  {'raw@0.6':>7} {'raw best':>8}  "
        f"{'prot@' + format(threshold, '.2f'):>9} {'worst':>6}  {'prot best':>9} {'worst':>6}"
        f"  {'delta':>6}"
    )
    for name, (a, b, same) in sets.items():
        dist = np.linalg.norm(a - b, axis=1)
        raw_06 = accuracy(-dist, same, -0.6)
        raw_best, _ = best_accuracy(-dist, same)
        at_default, best = [], []
        for k in range(n_keys):
            scores = protected_scores(protect, a, b, key_seed(k))
            at_default.append(accuracy(scores, same, threshold))
            best.append(best_accuracy(scores, same)[0])
        print(
            f"{name:<12} {len(same):>5}  {raw_06:>7.2%} {raw_best:>8.2%}  "
            f"{np.mean(at_default):>9.2%} {min(at_default):>6.2%}  "
            f"{np.mean(best):>9.2%} {min(best):>6.2%}  {np.mean(best) - raw_best:>+6.2%}"
        )


def report_sweep(
    a: F64, b: F64, same: npt.NDArray[np.bool_], protect: Protect, n_keys: int
) -> None:
    cuts = np.round(np.arange(0.76, 0.861, 0.01), 2)
    table = np.array(
        [
            [accuracy(protected_scores(protect, a, b, key_seed(k)), same, t) for t in cuts]
            for k in range(n_keys)
        ]
    )
    print("threshold sweep on in_the_wild/master.csv (mean / worst key):")
    for t, m, w in zip(cuts, table.mean(axis=0), table.min(axis=0), strict=True):
        print(f"  {t:.2f}: {m:.2%} / {w:.2%}")


def report_distributions(
    sets: dict[str, tuple[F64, F64, npt.NDArray[np.bool_]]], protect: Protect
) -> None:
    print("similarity under one key (key 0): genuine mean/min, impostor mean/max")
    for name, (a, b, same) in sets.items():
        s = protected_scores(protect, a, b, key_seed(0))
        g, i = s[same], s[~same]
        print(f"  {name:<12} {g.mean():.3f}/{g.min():.3f}  {i.mean():.3f}/{i.max():.3f}")


def report_cross_key(embeddings: F64, scheme: BioHashScheme, n_keys: int) -> None:
    sims = []
    for k in range(0, 2 * n_keys, 2):
        t1 = scheme.protect_many(embeddings, key_seed(k))
        t2 = scheme.protect_many(embeddings, key_seed(k + 1))
        sims.append(1.0 - np.bitwise_count(t1 ^ t2).sum(axis=1) / scheme.bits)
    s = np.concatenate(sims)
    print(
        f"same photo, two keys ({s.size} comparisons): mean {s.mean():.4f}, sd {s.std():.4f}, "
        f"min {s.min():.4f}, max {s.max():.4f}; threshold {scheme.default_threshold:.2f}"
    )


def report_speed(bits: int, rows: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    gallery = rng.integers(0, 256, size=(rows, bits // 8), dtype=np.uint8)
    probe = gallery[rows // 2].tobytes()
    biohash.hamming_many(probe, gallery)  # warm up
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        biohash.hamming_many(probe, gallery)
        runs.append(time.perf_counter() - start)
    best = min(runs)
    print(
        f"hamming_many, {bits}-bit templates, {rows:,} rows: {best * 1e3:.1f} ms "
        f"= {rows / best / 1e6:.1f} M comparisons/s (one thread, best of 5)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=Path, default=_faces.default_faces_dir())
    ap.add_argument("--cache", type=Path, help="an .npz to keep embeddings between runs")
    ap.add_argument("--keys", type=int, default=32, help="random keys to average over")
    ap.add_argument("--bits", type=int, default=biohash.DEFAULT_BITS)
    ap.add_argument("--classic", action="store_true", help="also measure classic BioHash")
    args = ap.parse_args(argv)

    cache = _faces.EmbeddingCache(args.cache)
    sets = pair_sets(args.faces, cache)
    cache.save()
    scheme = BioHashScheme(bits=args.bits)

    def ours(emb: F64, seed: bytes) -> npt.NDArray[np.uint8]:
        return scheme.protect_many(emb, seed)

    print(f"== {scheme.name} ({scheme.params}), {args.keys} keys ==")
    report_accuracy(sets, ours, scheme.default_threshold, args.keys)
    report_sweep(*sets["in_the_wild"], ours, args.keys)
    report_distributions(sets, ours)
    photos = np.array(
        [e for e in cache.many(_faces.images(args.faces / "fixtures")).values() if e is not None]
    )
    everyone = np.concatenate([photos] + [s[0] for s in sets.values()])
    report_cross_key(np.unique(everyone, axis=0), scheme, min(args.keys, 8))
    report_speed(args.bits)
    if args.classic:
        print(f"== classic BioHash (signs, L2-normalised), {args.bits} bits ==")
        report_accuracy(sets, classic_protect(args.bits), 0.7, args.keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
