"""Every face in a photo: its box, its detection score and its landmarks.

:meth:`FaceEngine.detect` answers "where are the faces" for the recognition flows; this
module adds what a caller who wants to *see* the faces asks for (a detect route, a quality
gate, an active liveness challenge): dlib's detection score and the landmarks, 5 points
(the aligner's layout) or dlib's 68 iBUG points (eyelids, for a blink).

The scan is the engine's: the same working copy, the same upsampling plan and the same
second, closer look at small photos, so a face found here is a face the engine embeds.

The score is dlib's HOG detector margin (the SVM's distance past its decision boundary):
0 is the weakest face the detector reports, about 1 a clear frontal face, and it is not a
probability. :func:`probability_of` squashes it into (0.5, 1) for clients that want one,
and says so; nothing calibrates it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.recognition.decode import DecodedImage
from facegate.recognition.engine import (
    _DETECTORS,
    _RETRY_PIXEL_BUDGET,
    FaceBox,
    FaceEngine,
    _to_detection,
    detection_plan,
)
from facegate.recognition.models import DETECTION_LOCK, _dlib, _LoadOnce, _model_path
from facegate.recognition.models import shape_predictor as five_point_predictor
from facegate.recognition.working import working_copy

__all__ = ["FoundFace", "face_landmarks", "find_faces", "landmarks_68", "probability_of"]

Point = tuple[float, float]


@dataclass(frozen=True)
class FoundFace:
    """One face: ``box`` clipped to the photo, dlib's margin ``score`` and, when asked,
    the landmarks in original-image pixels (5 points: two corners of each eye and the
    base of the nose; 68 points: the iBUG layout)."""

    box: FaceBox
    score: float
    landmarks: tuple[Point, ...] = ()
    #: the box as detected, possibly past the photo's edges (landmarks are found in it)
    raw: FaceBox | None = None


def probability_of(score: float) -> float:
    """A detection score squashed into (0.5, 1): ``1 / (1 + exp(-2 * score))``. Monotone in
    the score, uncalibrated; for clients whose schema wants a probability."""
    return 1.0 / (1.0 + math.exp(-2.0 * score))


def find_faces(
    engine: FaceEngine, image: DecodedImage, *, landmarks: int = 0, limit: int = 0
) -> list[FoundFace]:
    """Every face the engine's scan finds, largest first, with its score and (``landmarks``
    5 or 68) its landmarks; ``limit`` > 0 keeps the largest ``limit`` faces."""
    if landmarks not in (0, 5, 68):
        raise ValueError("landmarks is 0 (none), 5 or 68")
    found = _scored(engine, image)
    if limit > 0:
        found = found[:limit]
    if landmarks:
        return [
            FoundFace(f.box, f.score, _landmarks(image, f.raw or f.box, landmarks), f.raw)
            for f in found
        ]
    return found


def _scored(engine: FaceEngine, image: DecodedImage) -> list[FoundFace]:
    side, upsample = detection_plan(
        image.width,
        image.height,
        max_side=engine.settings.work_side,
        upsample=engine.settings.detect_upsample,
        pixels=engine.detect_pixels,
    )
    work = working_copy(image, max_side=side)
    found = _run(work.pixels, upsample)
    if not found and work.width * work.height * 4 ** (upsample + 1) <= _RETRY_PIXEL_BUDGET:
        found = _run(work.pixels, upsample + 1)  # as the engine: small photos, a closer look
    faces = []
    for box, score in found:
        detection = _to_detection(box, work, image)
        faces.append(FoundFace(detection.box, round(score, 4), raw=detection.raw))
    faces.sort(key=lambda f: (-(f.raw or f.box).area, f.box.top, f.box.left))
    return [f for f in faces if f.box.width > 0 and f.box.height > 0]


def _run(pixels: npt.NDArray[np.uint8], upsample: int) -> list[tuple[FaceBox, float]]:
    with _DETECTORS.detector() as detector:
        rects, scores, _kinds = detector.run(pixels, upsample, 0.0)
    # dlib's right/bottom are inclusive; run() at threshold 0 reports what detector() does
    return [
        (FaceBox(r.left(), r.top(), r.right() + 1, r.bottom() + 1), float(score))
        for r, score in zip(rects, scores, strict=True)
    ]


def _load_68() -> Any:
    return _dlib().shape_predictor(_model_path("pose_predictor_model_location"))


#: dlib's 68-point predictor (~100 MB), loaded at the first blink challenge, never at import
_PREDICTOR_68 = _LoadOnce(_load_68)


def _landmarks(image: DecodedImage, box: FaceBox, count: int) -> tuple[Point, ...]:
    dlib = _dlib()
    predictor = five_point_predictor() if count == 5 else _PREDICTOR_68.get()
    rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
    with DETECTION_LOCK:  # the predictors are shared by the process (see the engine)
        shape = predictor(image.pixels, rect)
    return tuple((float(p.x), float(p.y)) for p in shape.parts())


def face_landmarks(image: DecodedImage, box: FaceBox) -> tuple[Point, ...]:
    """The 5 landmarks of the face in ``box`` (eye corners, nose base), as the aligner
    finds them."""
    return _landmarks(image, box, 5)


def landmarks_68(image: DecodedImage, box: FaceBox) -> npt.NDArray[np.float64]:
    """The 68 iBUG landmarks of the face in ``box`` (68 x 2, original-image pixels)."""
    return np.asarray(_landmarks(image, box, 68), dtype=np.float64)


def as_lists(points: Sequence[Point]) -> list[list[int]]:
    """Landmarks as whole pixels, ``[[x, y], ...]`` (what a JSON client draws)."""
    return [[round(x), round(y)] for x, y in points]
