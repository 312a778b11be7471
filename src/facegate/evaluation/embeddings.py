"""Face embeddings of benchmark photos, with a cache on disk.

The benchmarks embed every photo with the service's own engine (``facegate.recognition``;
``facegate.core.engine_for`` gives the ONNX backend by default), so the figures describe what
the service does. dlib's detector dominates the cost (a few tenths of a second a photo), so
embeddings are cached in an ``.npz`` keyed by the SHA-256 of the photo's bytes and the model
version: renaming or copying a photo costs nothing, editing it re-embeds it.

The cache holds raw embeddings: it is benchmark tooling for research photos and lives outside
any facegate home; the service itself never writes an embedding to disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.errors import FacegateError
from facegate.recognition import FaceEngine, decode_image

__all__ = ["EmbeddingCache", "default_cache_path"]

F64 = npt.NDArray[np.float64]
Progress = Callable[[int, int], None]

#: photos embedded per engine call (one onnxruntime batch)
_BATCH: Final = 32


def default_cache_path() -> Path:
    """``$FACEGATE_BENCH_CACHE``, else ``~/.cache/facegate/bench-embeddings.npz``."""
    env = os.environ.get("FACEGATE_BENCH_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "facegate" / "bench-embeddings.npz"


class EmbeddingCache:
    """The embedding of the largest face in each photo; ``None`` where no face is found.

    ``engine`` is made on first need by ``make_engine``, so a fully cached run loads no model.
    """

    def __init__(self, make_engine: Callable[[], FaceEngine], path: Path | None = None) -> None:
        self._make_engine = make_engine
        self._engine: FaceEngine | None = None
        self._path = path
        self._known: dict[str, F64 | None] = {}
        self._dirty = False
        self._model: str | None = None
        if path is not None and path.exists():
            with np.load(path) as data:
                for name in data.files:
                    vec = np.asarray(data[name], dtype=np.float64)
                    self._known[name] = vec if vec.size else None

    @property
    def engine(self) -> FaceEngine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _model_version(self) -> str:
        # the model version is a property of the engine, which may not be built yet; the
        # engine is only built when a photo is missing from the cache
        if self._model is None:
            from facegate.recognition import MODEL_VERSION

            self._model = MODEL_VERSION if self._engine is None else str(self._engine.model_version)
        return self._model

    def _key(self, data: bytes) -> str:
        return f"{self._model_version()}:{hashlib.sha256(data).hexdigest()}"

    def embed(
        self, paths: Sequence[Path], *, progress: Progress | None = None
    ) -> dict[Path, F64 | None]:
        """Embeddings of ``paths`` (cached ones without touching the engine)."""
        keys = {p: self._key(p.read_bytes()) for p in paths}
        missing = [p for p in paths if keys[p] not in self._known]
        done = len(paths) - len(missing)
        for batch in _chunks(missing, _BATCH):
            self._embed_batch(batch, keys)
            done += len(batch)
            if progress is not None:
                progress(done, len(paths))
        return {p: self._known[keys[p]] for p in paths}

    def _embed_batch(self, batch: Sequence[Path], keys: dict[Path, str]) -> None:
        limits = self.engine.settings
        decoded = []
        for path in batch:
            try:
                decoded.append(decode_image(path.read_bytes(), limits=limits))
            except FacegateError:
                self._known[keys[path]] = None
        results = self.engine.embed_many(decoded, enrollment=False) if decoded else []
        ok = [p for p in batch if keys[p] not in self._known]
        for path, result in zip(ok, results, strict=True):
            if isinstance(result, FacegateError):
                self._known[keys[path]] = None
            else:
                self._known[keys[path]] = np.asarray(result.embedding, dtype=np.float64)
        self._dirty = True

    def save(self) -> None:
        """Write the cache (atomically) if anything new was embedded."""
        if self._path is None or not self._dirty:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: (v if v is not None else np.zeros(0)) for k, v in self._known.items()}
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._dirty = False


def _chunks(items: Sequence[Path], n: int) -> Iterable[Sequence[Path]]:
    for start in range(0, len(items), n):
        yield items[start : start + n]
