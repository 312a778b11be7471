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
