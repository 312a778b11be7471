"""A face engine for attack simulations: the real engine, except that an attacker may plant
a photo whose embedding is whatever it wants (the most an attacker could ever get from a
face generator). Everything else (decoding, the door, the watch, the ledger) is real."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

from facegate.recognition import FaceEngine
from facegate.recognition.decode import DecodedImage
from facegate.recognition.engine import BatchResult, Extraction, FaceBox


class ProbeEngine(FaceEngine):
    def __init__(self, real: FaceEngine) -> None:
        super().__init__(real.settings, real.backend)
        self._planted: dict[str, npt.NDArray[np.float32]] = {}

    def plant(self, embedding: npt.ArrayLike) -> bytes:
        """A PNG (random pixels) that this engine reads as ``embedding``."""
        pixels = np.frombuffer(os.urandom(96 * 96 * 3), dtype=np.uint8).reshape(96, 96, 3)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        data = buf.getvalue()
        import hashlib

        vec = np.asarray(embedding, dtype=np.float32).copy()
        vec.setflags(write=False)
        self._planted[hashlib.sha256(data).hexdigest()] = vec
        return data

    def _fake(self, image: DecodedImage) -> Extraction | None:
        vec = self._planted.get(image.sha256)
        if vec is None:
            return None
        return Extraction(
            embedding=vec,
            box=FaceBox(0, 0, image.width, image.height),
            faces_found=1,
            others_ignored=0,
            image_sha256=image.sha256,
            model_version=self.model_version,
        )

    def extract_probe(self, image: DecodedImage) -> Extraction:
        return self._fake(image) or super().extract_probe(image)

    def extract_for_enrollment(self, image: DecodedImage) -> Extraction:
        return self._fake(image) or super().extract_for_enrollment(image)

    def embed_many(
        self, images: Sequence[DecodedImage], *, enrollment: bool = False
    ) -> list[BatchResult]:
        real = [i for i in images if self._fake(i) is None]
        found = iter(super().embed_many(real, enrollment=enrollment) if real else [])
        return [self._fake(i) or next(found) for i in images]
