"""What the transfer drills share (bench/leak_drill.py, bench/abuse_drill.py).

Every photo of the shared sets is embedded once by the service's own engine (cached like
the other benchmarks: ``facegate.evaluation.embeddings``); the drills then run the real Gate
(door, ledger, exports, watch) with :class:`DrillEngine`, which answers a photo it has seen
with that embedding instead of detecting it again, and answers a planted image with the
embedding an attacker chose (the most a face generator could ever give an attacker).
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.evaluation.runs import embedder  # noqa: E402
from facegate.recognition import FaceEngine  # noqa: E402
from facegate.recognition.decode import DecodedImage  # noqa: E402
from facegate.recognition.engine import Extraction, FaceBox  # noqa: E402

F64 = npt.NDArray[np.float64]
SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".webp"}


def default_faces() -> Path:
    env = os.environ.get("FACEGATE_FACES")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "faces"


@dataclass(frozen=True)
class Photo:
    path: Path
    identity: str  # folder/person for the folder sets; the file for in_the_wild and fixtures
    data: bytes
    embedding: F64


def every_photo(faces: Path) -> list[Photo]:
    """Every photo of the shared sets in which the engine finds a face."""
    paths = sorted(p for p in faces.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    cache = embedder()
    embedded = cache.embed(paths)
    cache.save()
    out = []
    for path in paths:
        vec = embedded[path]
        if vec is None:
            continue
        rel = path.relative_to(faces).parts
        identity = (
            f"{rel[0]}/{rel[1]}" if rel[0] in {"orl", "faces94", "celebrities"} else str(path)
        )
        out.append(Photo(path, identity, path.read_bytes(), np.asarray(vec, dtype=np.float64)))
    return out


class DrillEngine(FaceEngine):
    """The embeddings the real engine made for the drill's photos, and planted ones."""

    def __init__(self, photos: list[Photo]) -> None:
        super().__init__()
        self._known = {hashlib.sha256(p.data).hexdigest(): p.embedding for p in photos}

    def plant(self, embedding: npt.ArrayLike) -> bytes:
        pixels = np.frombuffer(os.urandom(64 * 64 * 3), dtype=np.uint8).reshape(64, 64, 3)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        self._known[hashlib.sha256(buf.getvalue()).hexdigest()] = np.asarray(embedding)
        return buf.getvalue()

    def _answer(self, image: DecodedImage) -> Extraction:
        vec = self._known.get(image.sha256)
        if vec is None:
            raise KeyError("the drill engine answers only photos it was given")
        return Extraction(
            embedding=np.asarray(vec, dtype=np.float32),
            box=FaceBox(0, 0, image.width, image.height),
            faces_found=1,
            others_ignored=0,
            image_sha256=image.sha256,
            model_version=self.model_version,
        )

    def extract_probe(self, image: DecodedImage) -> Extraction:
        return self._answer(image)

    def extract_for_enrollment(self, image: DecodedImage) -> Extraction:
        return self._answer(image)
