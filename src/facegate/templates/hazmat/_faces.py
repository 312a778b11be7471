"""Offline tooling: dlib embeddings of the shared research photos.

Used only by the maintenance scripts next to it (``_derive_mean``, ``_calibrate``) and by the
tests; nothing at runtime imports it. It deliberately re-implements the small dlib pipeline
instead of importing ``facegate.recognition`` so that the template calibration does not move
whenever the recognition code is tuned: the numbers in ``_mean.py`` and the threshold in
``scheme.py`` were measured with exactly this pipeline (HOG detector with one upsample, the
largest face, the 5-point shape predictor, the ResNet descriptor without jitter).
"""

from __future__ import annotations

import csv
import functools
import os
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".pgm", ".webp", ".gif"})
#: photos are shrunk to this side before detection, as ``RecognitionSettings.work_side`` does
WORK_SIDE = 1600
#: the folder sets whose pairs are built from the directory layout ``<set>/<person>/<photo>``
FOLDER_SETS = ("orl", "faces94", "celebrities")

Embedding = npt.NDArray[np.float64]


def default_faces_dir() -> Path:
    """``$FACEGATE_FACES``, else ``../shared/data/faces`` beside the repository (as the tests)."""
    env = os.environ.get("FACEGATE_FACES")
    return Path(env) if env else Path(__file__).resolve().parents[5] / "shared" / "data" / "faces"


@dataclass(frozen=True, slots=True)
class Pair:
    a: Path
    b: Path
    same: bool


@functools.cache
def _models() -> tuple[Any, Any, Any]:
    import dlib
    import face_recognition_models as frm

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
        dlib.face_recognition_model_v1(frm.face_recognition_model_location()),
    )


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    from PIL import Image

    with Image.open(path) as im:
        # Pillow sniffs the format from the bytes, so img47.jpg (really WebP) loads too.
        rgb = im.convert("RGB")
        if max(rgb.size) > WORK_SIDE:
            rgb.thumbnail((WORK_SIDE, WORK_SIDE))
        return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def embed(path: Path) -> Embedding | None:
    """The descriptor of the largest face in ``path``, or None when dlib finds no face."""
    detector, shaper, net = _models()
    img = load_rgb(path)
    faces = list(detector(img, 1))
    if not faces:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    shape = shaper(img, face)
    return np.asarray(net.compute_face_descriptor(img, shape), dtype=np.float64)


class EmbeddingCache:
    """Embeds each photo once; photos with no detectable face are remembered as None.

    With ``store`` (an ``.npz`` path outside the repository) the embeddings survive between
    runs of the maintenance scripts, which otherwise spend minutes re-running dlib.
    """

    def __init__(self, store: Path | None = None) -> None:
        self._seen: dict[Path, Embedding | None] = {}
        self._store = store
        if store is not None and store.exists():
            with np.load(store) as data:
                for name in data.files:
                    vec = data[name]
                    self._seen[Path(name)] = vec if vec.size else None

    def get(self, path: Path) -> Embedding | None:
        key = path.resolve()
        if key not in self._seen:
            self._seen[key] = embed(key)
        return self._seen[key]

    def many(self, paths: Iterable[Path]) -> dict[Path, Embedding | None]:
        return {p: self.get(p) for p in paths}

    def save(self) -> None:
        if self._store is None:
            return
        arrays = {
            str(k): (v if v is not None else np.zeros(0, dtype=np.float64))
            for k, v in self._seen.items()
        }
        np.savez(self._store, **arrays)  # type: ignore[arg-type]


def images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def people(set_dir: Path) -> dict[str, list[Path]]:
    """``{person: [photo, ...]}`` for a ``<set>/<person>/<photo>`` folder set."""
    return {d.name: images(d) for d in sorted(set_dir.iterdir()) if d.is_dir()}


def master_pairs(faces_dir: Path) -> list[Pair]:
    """The 300 labelled pairs of ``in_the_wild/master.csv``."""
    base = faces_dir / "in_the_wild"
    with (base / "master.csv").open(newline="") as fh:
        return [
            Pair(base / row["file_x"], base / row["file_y"], row["Decision"].strip() == "Yes")
            for row in csv.DictReader(fh)
        ]


def folder_pairs(set_dir: Path, *, seed: int = 0) -> list[Pair]:
    """Every same-person pair, then as many cross-person pairs drawn with ``seed``."""
    groups = people(set_dir)
    genuine = [
        Pair(photos[i], photos[j], True)
        for photos in groups.values()
        for i in range(len(photos))
        for j in range(i + 1, len(photos))
    ]
    rng = random.Random(seed)
    names = sorted(groups)
    impostor: set[tuple[Path, Path]] = set()
    while len(impostor) < len(genuine):
        x, y = rng.sample(names, 2)
        a, b = rng.choice(groups[x]), rng.choice(groups[y])
        impostor.add((min(a, b), max(a, b)))
    return genuine + [Pair(a, b, False) for a, b in sorted(impostor)]


def usable(
    pairs: Sequence[Pair], cache: EmbeddingCache
) -> Iterator[tuple[Embedding, Embedding, bool]]:
    """The pairs whose two photos both have a face, as embeddings."""
    for pair in pairs:
        ea, eb = cache.get(pair.a), cache.get(pair.b)
        if ea is not None and eb is not None:
            yield ea, eb, pair.same
