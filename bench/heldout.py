"""Held-out accuracy of the binary schemes (issue 16): 10-fold accuracy, EER and TAR at FAR
1e-3 / 1e-4 against the raw embedding, on the sets no choice of biohash-v2 looked at.

biohash-v2 was tuned on in_the_wild and orl; faces94, celebrities and an LFW-format set (the
official pairs format, 10 folds of 100 + 100) built from faces94, celebrities and
fixtures/knn/train are held out. Usage: ``python bench/heldout.py [--keys N]``; the last
stdout line is JSON ``{set: {scheme: {...}}}``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from facegate.evaluation import metrics, scan  # noqa: E402
from facegate.evaluation.report import key_seed  # noqa: E402
from facegate.evaluation.runs import embedder  # noqa: E402
from facegate.templates import get_scheme  # noqa: E402
from protection import default_faces, folder_set, in_the_wild, lfw_format  # noqa: E402

SCHEMES = ("biohash-v1:4096", "biohash-v2")


def figures(scores, pool, data) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    genuine = scores[data.same]
    return {
        "accuracy": metrics.kfold_accuracy(scores, data.same, data.folds),
        "eer": metrics.eer(genuine, pool),
        "tar_at_far_1e3": metrics.tar_at_far(genuine, pool, 1e-3),
        "tar_at_far_1e4": metrics.tar_at_far(genuine, pool, 1e-4),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=5)
    args = ap.parse_args()
    faces, cache, out = default_faces(), embedder(), {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {
            "in_the_wild (tuning)": in_the_wild(faces, cache),
            "orl (tuning)": folder_set(faces, "orl", cache),
            "faces94 (held out)": folder_set(faces, "faces94", cache),
            "celebrities (held out)": folder_set(faces, "celebrities", cache),
            "lfw-heldout (held out)": lfw_format(faces, cache, Path(tmp) / "l", 100, True),
        }
        for name, d in sets.items():
            x = d.embeddings
            raw = figures(
                -np.linalg.norm(x[d.a] - x[d.b], axis=1),
                -np.linalg.norm(x[d.pool_a] - x[d.pool_b], axis=1),
                d,
            )
            row = {"raw": raw}
            for sname in SCHEMES:
                per_key = []
                for k in range(args.keys):
                    t = get_scheme(sname).protect_many(x, key_seed(k))
                    per_key.append(
                        figures(
                            scan.pair_similarity(t, t, d.a, d.b),
                            scan.pair_similarity(t, t, d.pool_a, d.pool_b),
                            d,
                        )
                    )
                row[sname] = {
                    k: (
                        None
                        if any(f[k] is None for f in per_key)
                        else float(np.mean([f[k] for f in per_key]))
                    )
                    for k in raw
                }
            out[name] = row
            cells = "  ".join(
                f"{s}: {100 * (row[s]['accuracy'] - raw['accuracy']):+.2f}" for s in SCHEMES
            )
            print(f"{name}: raw {100 * raw['accuracy']:.2f}  {cells}", file=sys.stderr)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
