"""The face crop each MiniFASNet was trained on, made the way the authors make it.

The authors (``generate_patches.py``) take the detector's box ``(x, y, w, h)``, grow it
about its centre by the model's scale (2.7 or 4.0), shrinking the scale where the grown box
would not fit in the photo, slide it back inside the photo, cut it out (both corners
included) and resize the cut to 80x80 with OpenCV's ``cv2.resize`` (bilinear), in the BGR
order OpenCV reads photos in. :func:`crop_box` is that box arithmetic and
:func:`resize_linear` reproduces OpenCV's bilinear resize of 8-bit images in plain numpy,
fixed-point rounding included, so facegate needs no OpenCV (the tests hold its output
against vectors OpenCV made; 4.5.5 and 5.1.0 agree to the byte).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["crop_box", "face_crop", "fitted_scale", "resize_linear"]

#: OpenCV's fixed-point precision for bilinear weights (INTER_RESIZE_COEF_BITS)
_COEF_BITS = 11
_COEF_SCALE = 1 << _COEF_BITS


def fitted_scale(width: int, height: int, box: tuple[int, int, int, int], scale: float) -> float:
    """The scale the crop gets: ``scale``, or less where the grown box would not fit in
    the photo (it may be as large as the photo less one pixel, as in the authors' code)."""
    left, top, right, bottom = box
    box_w, box_h = right - left, bottom - top
    if box_w < 1 or box_h < 1 or width < 2 or height < 2:
        raise ValueError(f"no crop for a {box_w}x{box_h} box in a {width}x{height} photo")
    if scale <= 0:
        raise ValueError("the crop scale must be positive")
    return min((height - 1) / box_h, (width - 1) / box_w, scale)


def crop_box(
    width: int, height: int, box: tuple[int, int, int, int], scale: float
) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)``, all four inclusive, of the crop around ``box``
    (``left, top, right, bottom`` with right/bottom exclusive, as :class:`FaceBox` has
    them) in a ``width`` x ``height`` photo, grown by ``scale``."""
    left, top, right, bottom = box
    box_w, box_h = right - left, bottom - top
    scale = fitted_scale(width, height, box, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = left + box_w / 2, top + box_h / 2
    x0, y0, x1, y1 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x0 < 0:
        x1 -= x0
        x0 = 0
    if y0 < 0:
        y1 -= y0
        y0 = 0
    if x1 > width - 1:
        x0 -= x1 - width + 1
        x1 = width - 1
    if y1 > height - 1:
        y0 -= y1 - height + 1
        y1 = height - 1
    # int() of the authors' code truncates toward zero
    return math.trunc(x0), math.trunc(y0), math.trunc(x1), math.trunc(y1)


def _taps(
    src: int, dst: int, *, clamp: bool
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """Source indices and fixed-point weights along one axis, as OpenCV computes them:
    positions in float32; along x a position outside the image is pinned to the edge
    pixel with weight (1, 0), along y (``clamp=False``) the weights stay and only the row
    indices are pinned, so an edge row is weighted twice."""
    pos = ((np.arange(dst, dtype=np.float64) + 0.5) * (src / dst) - 0.5).astype(np.float32)
    first = np.floor(pos).astype(np.intp)
    frac = (pos - first.astype(np.float32)).astype(np.float32)
    if clamp:
        before = first < 0
        frac[before], first[before] = 0.0, 0
        after = first >= src - 1
        frac[after], first[after] = 0.0, src - 1
    # saturate_cast<short> rounds half to even, like np.rint
    w0 = np.rint((np.float32(1.0) - frac) * np.float32(_COEF_SCALE)).astype(np.int64)
    second = np.clip(first + 1, 0, src - 1)
    return np.clip(first, 0, src - 1), second, np.stack([w0, _COEF_SCALE - w0])


def _area_half(img: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    # OpenCV turns an exact 2x bilinear shrink into its 2x2 box average
    s = img.astype(np.int32)
    total = s[0::2, 0::2] + s[1::2, 0::2] + s[0::2, 1::2] + s[1::2, 1::2]
    return ((total + 2) >> 2).astype(np.uint8)


def resize_linear(img: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """``cv2.resize(img, (width, height))`` (INTER_LINEAR) for an H x W x C uint8 array."""
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError("resize_linear takes an H x W x C uint8 array")
    src_h, src_w = img.shape[:2]
    if min(src_h, src_w, width, height) < 1:
        raise ValueError("cannot resize to or from an empty image")
    if (src_w, src_h) == (width, height):
        return img.copy()
    if (src_w, src_h) == (2 * width, 2 * height):
        return _area_half(img)
    x0, x1, wx = _taps(src_w, width, clamp=True)
    y0, y1, wy = _taps(src_h, height, clamp=False)
    s = img.astype(np.int64)
    # horizontal pass in 2^11 fixed point, as OpenCV keeps it (int32 rows)
    rows = s[:, x0, :] * wx[0][None, :, None] + s[:, x1, :] * wx[1][None, :, None]
    # vertical pass as OpenCV's SIMD code does it: each row >> 4, multiplied by the
    # weight keeping the high 16 bits, then rounded by 2 bits
    top = ((rows[y0] >> 4) * wy[0][:, None, None]) >> 16
    bottom = ((rows[y1] >> 4) * wy[1][:, None, None]) >> 16
    out: npt.NDArray[np.uint8] = np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)
    return out


def face_crop(
    rgb: npt.NDArray[np.uint8],
    box: tuple[int, int, int, int],
    scale: float,
    size: int,
) -> npt.NDArray[np.uint8]:
    """The ``size`` x ``size`` BGR crop of ``rgb`` (H x W x 3) around ``box`` at ``scale``."""
    height, width = rgb.shape[:2]
    left, top, right, bottom = crop_box(width, height, box, scale)
    patch = np.ascontiguousarray(rgb[top : bottom + 1, left : right + 1, ::-1])
    return resize_linear(patch, size, size)
