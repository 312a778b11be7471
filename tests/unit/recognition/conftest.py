"""Fixtures for the recognition tests: one engine per session, embeddings cached by file."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from facegate.recognition import DecodedImage, Extraction, FaceEngine, decode_image

Loader = Callable[[str], DecodedImage]
Prober = Callable[[str], Extraction]


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    """Shared so dlib's models load once for the whole run."""
    engine = FaceEngine()
    engine.warm_up()
    return engine


@pytest.fixture(scope="session")
def face_bytes(faces_dir: Path) -> Callable[[str], bytes]:
    def read(relative: str) -> bytes:
        return (faces_dir / relative).read_bytes()

    return read


@pytest.fixture(scope="session")
def load(face_bytes: Callable[[str], bytes]) -> Loader:
    cache: dict[str, DecodedImage] = {}

    def decoded(relative: str) -> DecodedImage:
        if relative not in cache:
            cache[relative] = decode_image(face_bytes(relative))
        return cache[relative]

    return decoded


@pytest.fixture(scope="session")
def probe(engine: FaceEngine, load: Loader) -> Prober:
    """``probe("fixtures/obama.jpg")``: the largest face's extraction, computed once."""
    cache: dict[str, Extraction] = {}

    def extract(relative: str) -> Extraction:
        if relative not in cache:
            cache[relative] = engine.extract_probe(load(relative))
        return cache[relative]

    return extract


@pytest.fixture(scope="session")
def obama_image(faces_dir: Path) -> Image.Image:
    with Image.open(faces_dir / "fixtures" / "obama.jpg") as im:
        return im.convert("RGB")


Encoder = Callable[..., bytes]


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


@pytest.fixture(scope="session")
def encode() -> Encoder:
    """``encode(image, "PNG", **params)``: the image saved by Pillow, as bytes."""
    return _encode
