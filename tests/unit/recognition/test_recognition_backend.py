"""DlibBackend: chips in, dlib's own descriptors out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dlib
import numpy as np
import numpy.typing as npt
import pytest

from facegate.recognition import (
    CHIP_PADDING,
    CHIP_SIZE,
    DecodedImage,
    DlibBackend,
    EmbeddingBackend,
    FaceEngine,
)
from facegate.recognition.models import face_recognition_model, shape_predictor

Load = Callable[[str], DecodedImage]


def test_dlib_backend_fits_the_protocol() -> None:
    assert isinstance(DlibBackend(), EmbeddingBackend)


def test_chip_embeddings_equal_dlibs_own_pipeline(engine: FaceEngine, load: Load) -> None:
    # the chip route (detect, landmarks, get_face_chip, embed) must be exactly what
    # compute_face_descriptor(image, shape) does, so an ONNX backend can slot in
    image = load("fixtures/obama.jpg")
    box = engine.detect(image)[0]
    rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
    shape = shape_predictor()(image.pixels, rect)
    direct = np.asarray(face_recognition_model().compute_face_descriptor(image.pixels, shape))
    chip = dlib.get_face_chip(image.pixels, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
    via_chips = DlibBackend().embed_chips(np.stack([chip, chip]))
    assert via_chips.shape == (2, 128) and via_chips.dtype == np.float32
    assert np.allclose(via_chips[0], direct, atol=1e-6)
    assert np.array_equal(via_chips[0], via_chips[1])
    assert np.allclose(engine.extract_for_enrollment(image).embedding, direct, atol=1e-6)


def test_empty_batch() -> None:
    out = DlibBackend().embed_chips(np.empty((0, 150, 150, 3), dtype=np.uint8))
    assert out.shape == (0, 128) and out.dtype == np.float32


@pytest.mark.parametrize(
    "chips",
    [
        np.zeros((1, 150, 150), dtype=np.uint8),
        np.zeros((1, 120, 120, 3), dtype=np.uint8),
        np.zeros((1, 150, 150, 3), dtype=np.float32),
    ],
)
def test_malformed_chips_are_a_programming_error(chips: npt.NDArray[Any]) -> None:
    with pytest.raises(ValueError, match="chips must be"):
        DlibBackend().embed_chips(chips)
