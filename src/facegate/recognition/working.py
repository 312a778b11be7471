"""A shrunk working copy of a photo for face detection, and the way back to full size.

Detection cost grows with the pixel count while faces in large photos stay detectable
when shrunk, so detection runs on a copy at most ``work_side`` pixels a side; landmarks
and embeddings are then computed on the original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image

from facegate.recognition.decode import DecodedImage

__all__ = ["WorkingImage", "working_copy"]


@dataclass(frozen=True)
class WorkingImage:
    """``pixels`` is the photo scaled by ``scale`` (<= 1.0): working = original * scale."""

    pixels: npt.NDArray[np.uint8] = field(repr=False, compare=False)
    scale: float
    width: int
    height: int

    def to_original(self, value: float) -> float:
        """A coordinate or length on the working copy, in original-image pixels."""
        return value / self.scale


def working_copy(image: DecodedImage, *, max_side: int) -> WorkingImage:
    """``image`` shrunk so neither side exceeds ``max_side``; small photos are not copied."""
    longest = max(image.width, image.height)
    if longest <= max_side:
        return WorkingImage(pixels=image.pixels, scale=1.0, width=image.width, height=image.height)
    scale = max_side / longest
    width = max(1, round(image.width * scale))
    height = max(1, round(image.height * scale))
    # Pillow's resize with reducing_gap: a box pre-shrink by a whole factor, then bilinear;
    # close to Lanczos at a fraction of the cost. The box step is done here, band by band,
    # so the full photo is never copied into a Pillow image (4 bytes a pixel) first.
    fx = int(image.width / width / _REDUCING_GAP) or 1
    fy = int(image.height / height / _REDUCING_GAP) or 1
    reduced = _box_reduce(image.pixels, fx, fy)
    shrunk = Image.fromarray(reduced).resize(
        (width, height),
        Image.Resampling.BILINEAR,
        box=(0, 0, image.width / fx, image.height / fy),
    )
    pixels = np.array(shrunk, dtype=np.uint8, order="C")
    pixels.setflags(write=False)
    # the exact ratio per axis differs by rounding; the mean keeps the mapping unbiased
    exact = (width / image.width + height / image.height) / 2
    return WorkingImage(pixels=pixels, scale=exact, width=width, height=height)


#: as in Pillow's ``Image.resize(..., reducing_gap=2.0)``
_REDUCING_GAP = 2.0
#: output rows per band of the box step
_BAND_ROWS = 64


def _box_reduce(pixels: npt.NDArray[np.uint8], fx: int, fy: int) -> npt.NDArray[np.uint8]:
    """Pillow's ``Image.reduce((fx, fy))`` of the photo, done on bands of ``fy``-aligned
    rows: no block spans two bands, so the result is the same, and only one band at a
    time is copied into Pillow's 4-bytes-a-pixel form."""
    if fx == fy == 1:
        return pixels
    height = pixels.shape[0]
    step = _BAND_ROWS * fy
    bands = [
        np.asarray(Image.fromarray(pixels[top : top + step]).reduce((fx, fy)), dtype=np.uint8)
        for top in range(0, height, step)
    ]
    return np.concatenate(bands, axis=0)
