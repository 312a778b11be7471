"""Fixtures for the template tests: deterministic entropy, keys, and real dlib embeddings."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from facegate.templates.hazmat import _faces

Embed = Callable[[str], npt.NDArray[np.float64]]


class CountingEntropy:
    """Deterministic entropy: a hash stream, so sealed outputs are reproducible."""

    def __init__(self, label: bytes = b"test") -> None:
        self._label = label
        self._counter = itertools.count()

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self._label + str(next(self._counter)).encode()).digest()
        return out[:n]


@pytest.fixture
def entropy() -> CountingEntropy:
    return CountingEntropy()


@pytest.fixture
def make_entropy() -> type[CountingEntropy]:
    """Fresh deterministic entropy streams, for comparing two runs."""
    return CountingEntropy


@pytest.fixture
def key() -> bytes:
    return bytes(range(32))


@pytest.fixture
def other_key() -> bytes:
    return bytes(range(1, 33))


@pytest.fixture(scope="session")
def embedding_cache() -> Iterator[_faces.EmbeddingCache]:
    # One cache for the whole session: dlib takes ~0.3 s a photo.
    yield _faces.EmbeddingCache()


@pytest.fixture(scope="session")
def embed(faces_dir: Path, embedding_cache: _faces.EmbeddingCache) -> Embed:
    """The dlib embedding of ``fixtures/<name>`` (the largest face)."""

    def run(name: str) -> npt.NDArray[np.float64]:
        emb = embedding_cache.get(faces_dir / "fixtures" / name)
        assert emb is not None, f"dlib found no face in fixtures/{name}"
        return emb

    return run


#: 11 shared photos of 6 people: the encrypted modes' decisions are checked on all 55 pairs
HE_PHOTOS = (
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "Anthony_Hopkins_0001.jpg",
    "Anthony_Hopkins_0002.jpg",
    "knn/train/biden/biden2.jpg",
    "knn/train/kit_harington/john1.jpeg",
    "knn/train/kit_harington/john2.jpeg",
    "knn/train/rose_leslie/img1.jpg",
    "knn/train/rose_leslie/img2.jpg",
)


@pytest.fixture(scope="session")
def he_embeddings(embed: Embed) -> npt.NDArray[np.float64]:
    """The embeddings of :data:`HE_PHOTOS`, one row each."""
    return np.vstack([embed(p) for p in HE_PHOTOS])


@pytest.fixture(scope="session")
def he_comparisons(he_embeddings: npt.NDArray[np.float64]) -> tuple[object, object]:
    """Six comparisons among the first six photos, and the raw system's figures at 0.6, for
    the encrypted modes' bench functions."""
    from facegate.evaluation.datasets import Comparisons
    from facegate.evaluation.report import Unprotected

    x = he_embeddings[:6]
    a, b = np.array([0, 0, 1, 3, 4, 2]), np.array([1, 2, 2, 4, 5, 5])
    same = np.linalg.norm(x[a] - x[b], axis=1) <= 0.6
    data = Comparisons("photos", x, np.arange(6), a, b, same, np.zeros(6, int), a, b, 6, 0, 0)
    return data, Unprotected(1.0, 0.0, None, None, 0.6, None, 1.0, 0.0)
