"""Find faces, align them and turn them into embeddings.

Detection runs dlib's HOG detector on a shrunk working copy; the box is mapped back to
the original photo, the 5 landmarks are found there at full resolution, and the aligned
150x150 chip goes to an :class:`EmbeddingBackend` (dlib by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facegate.config import RecognitionSettings
from facegate.errors import FaceError, FaceTooSmall, ManyFaces, NoFace
from facegate.recognition.backend import (
    CHIP_PADDING,
    CHIP_SIZE,
    EMBEDDING_DIM,
    DlibBackend,
    EmbeddingBackend,
)
from facegate.recognition.decode import DecodedImage
from facegate.recognition.models import (
    DETECTION_LOCK,
    MODEL_VERSION,
    face_detector,
    shape_predictor,
)
from facegate.recognition.working import WorkingImage, working_copy

__all__ = [
    "BatchResult",
    "DlibBackend",
    "EmbeddingBackend",
    "Extraction",
    "FaceBox",
    "FaceEngine",
]

#: the second, finer detection pass is only tried while the upsampled image stays under
#: this many pixels (HOG costs ~60 ms per megapixel), i.e. on small photos
_RETRY_PIXEL_BUDGET = 4_000_000


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


class FaceEngine:
    """Face detection, alignment and embedding. Safe to share between threads.

    Models load on first use (or :meth:`warm_up`), not on construction.
    """

    def __init__(
        self,
        settings: RecognitionSettings | None = None,
        backend: EmbeddingBackend | None = None,
    ) -> None:
        self.settings = settings if settings is not None else RecognitionSettings()
        self.backend: EmbeddingBackend = backend if backend is not None else DlibBackend()
        self.model_version = str(getattr(self.backend, "model_version", MODEL_VERSION))
        # shared with every engine: they all use the same dlib detector and predictor
        self._lock = DETECTION_LOCK

    def warm_up(self) -> None:
        """Load every model now (e.g. at server start) instead of on the first photo."""
        face_detector()
        shape_predictor()
        self.backend.embed_chips(np.zeros((1, CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8))

    # --- detection ---------------------------------------------------------------------

    def detect(self, image: DecodedImage) -> list[FaceBox]:
        """Every face found, largest first, in original-image pixels."""
        return [d.box for d in self._detect(image)]

    def _detect(self, image: DecodedImage) -> list[_Detection]:
        work = working_copy(image, max_side=self.settings.work_side)
        upsample = self.settings.detect_upsample
        rects = self._run_detector(work, upsample)
        if not rects and work.width * work.height * 4 ** (upsample + 1) <= _RETRY_PIXEL_BUDGET:
            # small photos often hold faces below HOG's 80-pixel window: look closer once
            rects = self._run_detector(work, upsample + 1)
        found = [_to_detection(r, work, image) for r in rects]
        found.sort(key=lambda d: (-d.raw.area, d.raw.top, d.raw.left))
        return found

    def _run_detector(self, work: WorkingImage, upsample: int) -> list[FaceBox]:
        detector = face_detector()
        with self._lock:
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
        result; the others are unaffected.
        """
        results: list[BatchResult | None] = []
        pending: list[tuple[int, _Detection, int, str]] = []
        chips: list[npt.NDArray[np.uint8]] = []
        for image in images:
            detections = self._detect(image)
            try:
                chosen = self._choose(detections, enrollment=enrollment)
            except FaceError as err:
                results.append(err)
                continue
            pending.append((len(results), chosen, len(detections), image.sha256))
            chips.append(self._chip(image, chosen.raw))
            results.append(None)
        if chips:
            embeddings = self.backend.embed_chips(np.stack(chips))
            if embeddings.shape != (len(chips), EMBEDDING_DIM):
                raise RuntimeError(f"embedding backend returned shape {embeddings.shape}")
            for (slot, chosen, found, sha), vector in zip(pending, embeddings, strict=True):
                embedding = np.array(vector, dtype=np.float32)
                embedding.setflags(write=False)
                results[slot] = Extraction(
                    embedding=embedding,
                    box=chosen.box,
                    faces_found=found,
                    others_ignored=found - 1,
                    image_sha256=sha,
                    model_version=self.model_version,
                )
        done = [r for r in results if r is not None]
        assert len(done) == len(images)  # every slot was filled above
        return done

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
