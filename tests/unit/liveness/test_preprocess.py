"""The authors' crop: box arithmetic by hand, and the resize held to OpenCV's own output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegate.liveness.preprocess import crop_box, face_crop, fitted_scale, resize_linear

from .data.make_cv2_vectors import SIZES, synthetic

VECTORS = Path(__file__).with_name("data") / "cv2_resize.npz"


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_resize_equals_opencv(height: int, width: int) -> None:
    expected = np.load(VECTORS)[f"{height}x{width}"]
    np.testing.assert_array_equal(resize_linear(synthetic(height, width), 80, 80), expected)


def test_the_vectors_are_not_trivial() -> None:
    vectors = np.load(VECTORS)
    # the shrink, the enlargement and the exact halving all differ from plain sampling
    for key, (h, w) in [("480x640", (480, 640)), ("40x100", (40, 100)), ("160x160", (160, 160))]:
        src = synthetic(h, w)
        nearest = src[(np.arange(80) * h) // 80][:, (np.arange(80) * w) // 80]
        assert (vectors[key] != nearest).any()


def test_resize_by_hand() -> None:
    # 1 row, 2 columns -> 4 columns: OpenCV's half-pixel centres give 10, 12.5->13, 17.5->18, 20
    # (edges pinned); 2048-scale fixed point rounds half up here
    img = np.array([[[10], [20]]], dtype=np.uint8)
    assert resize_linear(img, 4, 1)[0, :, 0].tolist() == [10, 13, 18, 20]
    # an exact 2x shrink is the rounded mean of each 2x2 block
    block = np.array([[1, 2], [3, 5]], dtype=np.uint8).reshape(2, 2, 1)
    assert resize_linear(block, 1, 1)[0, 0, 0] == 3  # (11 + 2) >> 2


def test_crop_box_inside_the_photo() -> None:
    # a 100-pixel box centred at (300, 300) in a 640x480 photo, grown 2.7x: 270 pixels
    assert crop_box(640, 480, (250, 250, 350, 350), 2.7) == (165, 165, 435, 435)


def test_crop_box_slides_back_inside() -> None:
    # centred at (50, 240): the grown box starts at -85 and slides right by 85
    assert crop_box(640, 480, (0, 190, 100, 290), 2.7) == (0, 105, 270, 375)
    # near the bottom right corner it slides up and left to end at the last pixel
    assert crop_box(640, 480, (580, 420, 640, 480), 4.0) == (399, 239, 639, 479)


def test_crop_box_shrinks_the_scale_to_the_photo() -> None:
    # a 200-pixel box in a 480-high photo can grow to 479 / 200 = 2.395, not 4.0
    assert fitted_scale(640, 480, (200, 100, 400, 300), 4.0) == pytest.approx(2.395)
    assert crop_box(640, 480, (200, 100, 400, 300), 4.0) == (60, 0, 539, 479)


@pytest.mark.parametrize(
    ("box", "scale"), [((5, 5, 5, 9), 2.7), ((0, 0, 10, 10), 0.0), ((0, 0, 10, 10), -1.0)]
)
def test_bad_boxes_and_scales(box: tuple[int, int, int, int], scale: float) -> None:
    with pytest.raises(ValueError):
        crop_box(640, 480, box, scale)


def test_face_crop_is_bgr_and_sized() -> None:
    rgb = np.zeros((200, 300, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    rgb[..., 2] = 30  # blue
    crop = face_crop(rgb, (100, 50, 160, 110), 2.7, 80)
    assert crop.shape == (80, 80, 3) and crop.dtype == np.uint8
    assert (crop[..., 0] == 30).all() and (crop[..., 2] == 200).all()


def test_face_crop_takes_the_grown_box() -> None:
    # a photo whose left half is black and right half white: a box on the boundary,
    # grown, sees both halves in equal parts
    rgb = np.zeros((400, 400, 3), dtype=np.uint8)
    rgb[:, 200:] = 255
    crop = face_crop(rgb, (180, 180, 220, 220), 2.7, 80)
    assert crop[:, :39].max() == 0 and crop[:, 41:].min() == 255
