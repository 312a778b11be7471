"""working_copy: large photos are shrunk for detection, and coordinates map back."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facegate.recognition import DecodedImage, working_copy

Load = Callable[[str], DecodedImage]


def test_small_photo_is_used_as_is(load: Load) -> None:
    image = load("fixtures/obama.jpg")
    work = working_copy(image, max_side=1600)
    assert work.pixels is image.pixels
    assert work.scale == 1.0
    assert work.to_original(100) == 100


def test_large_photo_is_shrunk_and_remembers_the_scale(load: Load) -> None:
    image = load("in_the_wild/img40.jpg")  # 3061 x 4600
    work = working_copy(image, max_side=1600)
    assert max(work.width, work.height) == 1600
    assert work.pixels.shape == (work.height, work.width, 3)
    assert work.pixels.dtype == np.uint8 and work.pixels.flags["C_CONTIGUOUS"]
    assert abs(work.scale - 1600 / 4600) < 1e-3
    assert abs(work.to_original(work.width) - image.width) <= 2
    assert abs(work.to_original(work.height) - image.height) <= 2
