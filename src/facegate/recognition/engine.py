"""Find faces, align them and turn them into embeddings.

Detection runs dlib's HOG detector on a working copy of at most :data:`DETECT_PIXELS`
pixels (upsampling included); the box is mapped back to the original photo, the 5
landmarks are found there at full resolution, and the aligned 150x150 chip goes to an
:class:`EmbeddingBackend` (dlib by default).

Speed: HOG costs ~60 ms per megapixel it scans, and dlib's usual "upsample once" makes a
12-megapixel photo a 48-megapixel scan. Capping the scan at one megapixel finds the same
faces on the shared photos (``bench/throughput.py`` reports recall against dlib on the
full photo), because faces that matter are large in large photos; small photos still get
dlib's exact treatment. Detection runs on several threads at once, each with a detector
of its own (dlib releases the GIL while it scans; one detector shared by two threads
crashes), and the chips of a batch go to the network in one call.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.config import RecognitionSettings
from facegate.errors import ConfigError, FaceError, FaceTooSmall, ManyFaces, NoFace
from facegate.recognition.backend import (
    CHIP_PADDING,
    CHIP_SIZE,
    EMBEDDING_DIM,
    DlibBackend,
    EmbeddingBackend,
    available_cores,
)
from facegate.recognition.decode import DecodedImage
from facegate.recognition.models import (
    DETECTION_LOCK,
    MODEL_VERSION,
    shape_predictor,
)
from facegate.recognition.working import WorkingImage, working_copy

__all__ = [
    "DETECT_PIXELS",
    "BatchResult",
    "DlibBackend",
    "EmbeddingBackend",
    "Extraction",
    "FaceBox",
    "FaceEngine",
    "detection_plan",
]

#: the most pixels the HOG detector scans for one photo, upsampling included. A photo of
#: up to 500x500 keeps dlib's one upsampling pass (faces down to ~40 pixels); larger ones
#: are scanned at about one megapixel, where a face needs ~8% of the photo's side.
#: On the 872 shared photos it finds 860 of the 861 faces dlib finds on the full photo
#: (the one missed is 44 pixels wide) in 9 s of detection instead of 50 s; recall is
#: reported by ``python bench/throughput.py``.
DETECT_PIXELS = 1_000_000

#: the second, finer detection pass is only tried while the upsampled image stays under
#: this many pixels (HOG costs ~60 ms per megapixel), i.e. on small photos
_RETRY_PIXEL_BUDGET = 4_000_000


def detection_plan(
    width: int, height: int, *, max_side: int, upsample: int, pixels: int = DETECT_PIXELS
) -> tuple[int, int]:
    """``(working copy's longest side, upsampling passes)`` for a ``width`` x ``height``
    photo, so the detector scans at most ``pixels`` (and the copy has at most ``max_side``
    a side): upsampling passes are dropped first, then the photo is shrunk."""
    if width < 1 or height < 1 or pixels < 1:
        raise ValueError("a photo and a pixel budget are at least one pixel")
    area = width * height
    while upsample > 0 and area * 4**upsample > pixels:
        upsample -= 1
    longest = max(width, height)
    scale = min(1.0, max_side / longest, math.sqrt(pixels / area))
    return max(1, math.floor(longest * scale)), upsample


class _DetectorPool:
    """dlib HOG detectors, one per concurrent caller.

    A detector keeps scratch state, so one must not scan for two threads at once, and dlib
    lets go of the GIL while scanning, so separate detectors run truly in parallel. Each
    takes ~0.4 s to build; they are made on demand and kept for reuse, so there are never
    more than the most threads that ever detected at once.
    """

    def __init__(self) -> None:
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    @contextmanager
    def detector(self) -> Iterator[Any]:
        with self._lock:
            found = self._idle.pop() if self._idle else None
        if found is None:
            found = _new_detector()
        try:
            yield found
        finally:
            with self._lock:
                self._idle.append(found)

    def fill(self, count: int) -> None:
        """Build detectors until at least ``count`` are idle (e.g. one per worker)."""
        with self._lock:
            missing = count - len(self._idle)
        made = [_new_detector() for _ in range(max(0, missing))]
        with self._lock:
            self._idle.extend(made)


def _new_detector() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise ConfigError("dlib is not installed", advice="pip install dlib-bin") from exc
    return dlib.get_frontal_face_detector()


#: every engine draws from one pool: detectors are interchangeable and slow to build
_DETECTORS = _DetectorPool()


@dataclass(frozen=True)
class FaceBox:
    """A face's box in original-image pixels; ``right``/``bottom`` are exclusive, so
    ``pixels[top:bottom, left:right]`` is the face."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class Extraction:
    """One face's embedding and where it came from."""

    #: float32, shape (128,), read-only
    embedding: npt.NDArray[np.float32] = field(repr=False, compare=False)
    box: FaceBox
    faces_found: int
    others_ignored: int
    image_sha256: str
    model_version: str


#: one item of :meth:`FaceEngine.embed_many`: the extraction, or why there is none
BatchResult = Extraction | FaceError


@dataclass(frozen=True)
class _Detection:
    box: FaceBox  # clipped to the photo, for callers
    raw: FaceBox  # as detected, possibly past the edges: landmarks and size use this


@dataclass(frozen=True)
class _Prepared:
    """A photo's chosen face, ready for the network."""

    chosen: _Detection
    found: int
    sha256: str
    chip: npt.NDArray[np.uint8] = field(repr=False, compare=False)


class FaceEngine:
    """Face detection, alignment and embedding. Safe to share between threads.

    Models load on first use (or :meth:`warm_up`), not on construction.
    """

    def __init__(
        self,
        settings: RecognitionSettings | None = None,
        backend: EmbeddingBackend | None = None,
        *,
        workers: int | None = None,
        detect_pixels: int = DETECT_PIXELS,
    ) -> None:
        """``workers``: threads that detect and align the photos of one
        :meth:`embed_many` call (default: one per available core); ``detect_pixels``: the
        most pixels one detection scans (see :data:`DETECT_PIXELS`). At most
        ``settings.detect_threads`` detections run at once, however many threads ask."""
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if detect_pixels < 1:
            raise ValueError("detect_pixels must be at least 1")
        self.settings = settings if settings is not None else RecognitionSettings()
        self.backend: EmbeddingBackend = backend if backend is not None else DlibBackend()
        self.model_version = str(getattr(self.backend, "model_version", MODEL_VERSION))
        self.workers = workers if workers is not None else available_cores()
        self.detect_pixels = detect_pixels
        # the shape predictor is shared by every engine and holds the GIL while it runs
        # (~0.2 ms), so one lock costs nothing and keeps its use one thread at a time
        self._lock = DETECTION_LOCK
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        # detections at once: the shared pool builds a detector (~40 MB of scan buffers,
        # kept) for each concurrent scan, so without a cap it grows to the most requests
        # ever in flight; past the cores more scans only queue anyway
        self.detect_threads = self.settings.detect_threads or available_cores()
        self._detect_slots = threading.BoundedSemaphore(self.detect_threads)

    def warm_up(self) -> None:
        """Load every model now (e.g. at server start) instead of on the first photo."""
        _DETECTORS.fill(min(self.workers, self.detect_threads))
        shape_predictor()
        self.backend.embed_chips(np.zeros((1, CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8))

    # --- detection ---------------------------------------------------------------------

    def detect(self, image: DecodedImage) -> list[FaceBox]:
        """Every face found, largest first, in original-image pixels."""
        return [d.box for d in self._detect(image)]

    def _detect(self, image: DecodedImage) -> list[_Detection]:
        side, upsample = detection_plan(
            image.width,
            image.height,
            max_side=self.settings.work_side,
            upsample=self.settings.detect_upsample,
            pixels=self.detect_pixels,
        )
        work = working_copy(image, max_side=side)
        rects = self._run_detector(work, upsample)
        if not rects and work.width * work.height * 4 ** (upsample + 1) <= _RETRY_PIXEL_BUDGET:
            # small photos often hold faces below HOG's 80-pixel window: look closer once
            rects = self._run_detector(work, upsample + 1)
        found = [_to_detection(r, work, image) for r in rects]
        found.sort(key=lambda d: (-d.raw.area, d.raw.top, d.raw.left))
        return found

    def _run_detector(self, work: WorkingImage, upsample: int) -> list[FaceBox]:
        with self._detect_slots, _DETECTORS.detector() as detector:
            rects = detector(work.pixels, upsample)
        # dlib's right/bottom are inclusive
        return [FaceBox(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in rects]

    # --- extraction --------------------------------------------------------------------

    def extract_for_enrollment(self, image: DecodedImage) -> Extraction:
        """The embedding of the one face in ``image``.

        Raises NoFace, ManyFaces (more than one face) or FaceTooSmall.
        """
        result = self.embed_many([image], enrollment=True)[0]
        if isinstance(result, FaceError):
            raise result
        return result

    def extract_probe(self, image: DecodedImage) -> Extraction:
        """The embedding of the largest face in ``image``; other faces are counted, not used.

        Raises NoFace.
        """
        result = self.embed_many([image], enrollment=False)[0]
        if isinstance(result, FaceError):
            raise result
        return result

    def embed_many(
        self, images: Sequence[DecodedImage], *, enrollment: bool = False
    ) -> list[BatchResult]:
        """Extract one face per image, embedding all of them in one backend call.

        With ``enrollment`` each image must hold exactly one large enough face (as in
        :meth:`extract_for_enrollment`), otherwise the largest face is used (as in
        :meth:`extract_probe`). A photo that fails gets its error in its place in the
        result; the others are unaffected. Photos are detected and aligned on
        ``workers`` threads at once.
        """
        if len(images) > 1 and self.workers > 1:
            prepared = list(
                self._executor().map(lambda im: self._prepare(im, enrollment=enrollment), images)
            )
        else:
            prepared = [self._prepare(image, enrollment=enrollment) for image in images]
        return self._finish(prepared)

    def _finish(self, prepared: Sequence[_Prepared | FaceError]) -> list[BatchResult]:
        """Embed the chips of ``prepared`` in one backend call; errors stay in place."""
        ready = [p for p in prepared if isinstance(p, _Prepared)]
        vectors = iter(self._embed([p.chip for p in ready]))
        results: list[BatchResult] = []
        for item in prepared:
            if isinstance(item, FaceError):
                results.append(item)
                continue
            embedding = np.array(next(vectors), dtype=np.float32)
            embedding.setflags(write=False)
            results.append(
                Extraction(
                    embedding=embedding,
                    box=item.chosen.box,
                    faces_found=item.found,
                    others_ignored=item.found - 1,
                    image_sha256=item.sha256,
                    model_version=self.model_version,
                )
            )
        return results

    def embed_stream(
        self, images: Iterable[DecodedImage], *, enrollment: bool = False, batch: int = 32
    ) -> Iterator[BatchResult]:
        """:meth:`embed_many` over a long run of photos (bulk enrollment), one result per
        photo, in order. Photos are detected and aligned on the ``workers`` threads while
        the caller's thread embeds the previous ``batch`` of chips, so no core waits for
        the other stage; at most ``2 * batch`` photos are held at once."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        pool = self._executor()
        queued: deque[Future[_Prepared | FaceError]] = deque()
        source = iter(images)
        exhausted = False
        while queued or not exhausted:
            while not exhausted and len(queued) < 2 * batch:
                image = next(source, None)
                if image is None:
                    exhausted = True
                else:
                    queued.append(pool.submit(self._prepare, image, enrollment=enrollment))
            ready = [queued.popleft().result() for _ in range(min(batch, len(queued)))]
            yield from self._finish(ready)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="facegate-detect")
            return self._pool

    def _prepare(self, image: DecodedImage, *, enrollment: bool) -> _Prepared | FaceError:
        detections = self._detect(image)
        try:
            chosen = self._choose(detections, enrollment=enrollment)
        except FaceError as err:
            return err
        return _Prepared(chosen, len(detections), image.sha256, self._chip(image, chosen.raw))

    def _embed(self, chips: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        if not chips:
            return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
        embeddings = self.backend.embed_chips(np.stack(chips))
        if embeddings.shape != (len(chips), EMBEDDING_DIM):
            raise RuntimeError(f"embedding backend returned shape {embeddings.shape}")
        return embeddings

    def _choose(self, detections: list[_Detection], *, enrollment: bool) -> _Detection:
        if not detections:
            raise NoFace("no face was found in the photo")
        if not enrollment:
            return detections[0]
        if len(detections) > 1:
            raise ManyFaces(
                f"{len(detections)} faces were found in the photo; enrollment needs exactly one"
            )
        face = detections[0]
        side = min(face.raw.width, face.raw.height)
        if side < self.settings.min_face_px:
            raise FaceTooSmall(
                f"the face is only {side} pixels across; enrollment needs at least "
                f"{self.settings.min_face_px}"
            )
        return face

    def _chip(self, image: DecodedImage, raw: FaceBox) -> npt.NDArray[np.uint8]:
        import dlib

        rect = dlib.rectangle(raw.left, raw.top, raw.right - 1, raw.bottom - 1)
        predictor = shape_predictor()
        with self._lock:
            shape = predictor(image.pixels, rect)
        chip: npt.NDArray[np.uint8] = dlib.get_face_chip(
            image.pixels, shape, size=CHIP_SIZE, padding=CHIP_PADDING
        )
        return chip


def _to_detection(found: FaceBox, work: WorkingImage, image: DecodedImage) -> _Detection:
    raw = FaceBox(
        left=round(work.to_original(found.left)),
        top=round(work.to_original(found.top)),
        right=round(work.to_original(found.right)),
        bottom=round(work.to_original(found.bottom)),
    )
    box = FaceBox(
        left=min(max(raw.left, 0), image.width),
        top=min(max(raw.top, 0), image.height),
        right=min(max(raw.right, 0), image.width),
        bottom=min(max(raw.bottom, 0), image.height),
    )
    return _Detection(box=box, raw=raw)
