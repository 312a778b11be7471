"""The lawful threshold range of each template scheme (ISO-30136 in facegate's baseline pack):
the false-match rate of unrelated faces at each threshold, over the hardest shared photo sets.

    python bench/thresholds.py [--keys 2] [--json]

Prints, per scheme and key, the thresholds at which the false-match rate reaches 1e-2, 1e-3
and 1e-4, the rate at the scheme's default threshold, and the genuine acceptance there. The
last stdout line is JSON. ``THRESHOLD_RANGES`` in ``policy/packs/standards.py`` takes its floor
from the 1e-2 column.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from facegate.config import Settings
from facegate.core import engine_for
from facegate.evaluation.embeddings import EmbeddingCache, default_cache_path
from facegate.templates import get_scheme

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"
SETS = ("orl", "faces94", "celebrities")
SCHEMES = ("biohash-v1", "biohash-v1:4096", "biohash-v2", "phasefold-v1")


def _photos(root: Path) -> tuple[list[Path], list[str]]:
    photos, people = [], []
    for name in SETS:
        for person in sorted((root / name).iterdir()):
            if person.is_dir():
                for f in sorted(person.iterdir()):
                    photos.append(f)
                    people.append(f"{name}/{person.name}")
    return photos, people


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--faces", type=Path, default=FACES)
    ap.add_argument("--keys", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    photos, people = _photos(args.faces)
    with tempfile.TemporaryDirectory() as home:
        cache = EmbeddingCache(lambda: engine_for(Settings(home=Path(home))), default_cache_path())
        found = cache.embed(photos)
        cache.save()
    keep = [i for i, p in enumerate(photos) if found[p] is not None]
    emb = np.stack([found[photos[i]] for i in keep])  # type: ignore[misc]
    who = np.array([people[i] for i in keep])
    same = who[:, None] == who[None, :]
    upper = np.triu_indices(len(who), 1)
    out: dict[str, list[dict[str, float]]] = {}
    for name in SCHEMES:
        scheme = get_scheme(name)
        rows = []
        for k in range(args.keys):
            templates = scheme.protect_many(emb, bytes([k]) * 32)
            sims = np.stack([scheme.similarity_many(t, templates) for t in templates])[upper]
            genuine, impostor = sims[same[upper]], sims[~same[upper]]
            row = {f"fmr_{q:g}": float(np.quantile(impostor, 1 - q)) for q in (1e-2, 1e-3, 1e-4)}
            row["fmr_at_default"] = float((impostor >= scheme.default_threshold).mean())
            row["tar_at_default"] = float((genuine >= scheme.default_threshold).mean())
            rows.append(row)
            if not args.json:
                print(name, k, {key: round(v, 4) for key, v in row.items()})
        out[name] = rows
    print(json.dumps({"impostor_pairs": int((~same[upper]).sum()), "schemes": out}))


if __name__ == "__main__":
    main()
