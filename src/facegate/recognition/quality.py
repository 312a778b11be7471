"""Is a face good enough to become a template? Size, sharpness, pose and exposure.

A template made from a blurred, turned, dark or tiny face matches its owner badly for as
long as it is kept, and the person never learns why. Enrollment therefore measures the face
first and refuses it with the reason, so the person can retake the photo:

* **size**: the face box's shorter side, in pixels;
* **sharpness**: the variance of the Laplacian (Pech-Pacheco et al. 2000) of the face, in
  grey levels, on the face crop resized to :data:`SHARPNESS_SIDE` pixels so that the measure
  does not depend on the photo's resolution;
* **pose**: yaw from the 5 landmarks (the nose base's offset along the eye line, in eye
  distances: :func:`facegate.liveness.active.yaw_ratio`) and roll (the eye line's angle);
* **exposure**: the face crop's mean grey level and the share of its pixels clipped to
  black or white.

The thresholds of :class:`QualityPolicy` were measured on the shared photos (every photo
with one face enrolls) and on degraded copies of them (``python bench/quality.py`` prints
both), so that the photos people use pass and the degradations are refused.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from facegate.liveness.active import yaw_ratio
from facegate.recognition.decode import DecodedImage
from facegate.recognition.engine import FaceBox

__all__ = ["SHARPNESS_SIDE", "QualityMeasures", "QualityPolicy", "measure"]

#: the side the face crop is resized to before the Laplacian
SHARPNESS_SIDE = 112
#: grey levels counted as clipped (crushed shadows, blown highlights)
_DARK, _BRIGHT = 8, 247


@dataclass(frozen=True)
class QualityMeasures:
    face_px: int
    sharpness: float
    yaw: float
    roll_degrees: float
    brightness: float
    clipped: float

    def to_dict(self) -> dict[str, float | int]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class QualityPolicy:
    """The bounds a face must keep to be enrolled (see the module docstring for how they
    were chosen); each bound that fails gives one reason a person understands."""

    min_face_px: int = 60
    min_sharpness: float = 15.0
    max_yaw: float = 0.4
    max_roll_degrees: float = 30.0
    min_brightness: float = 30.0
    max_brightness: float = 215.0
    max_clipped: float = 0.5

    def problems(self, m: QualityMeasures) -> list[str]:
        """Why the face should not be enrolled (empty: it may be)."""
        found = []
        if m.face_px < self.min_face_px:
            found.append(
                f"the face is too small ({m.face_px} pixels across, at least "
                f"{self.min_face_px}): come closer or use a sharper camera"
            )
        # a dark face has little contrast: "too dark" below says it, "blurred" would mislead
        if m.sharpness < self.min_sharpness and m.brightness >= self.min_brightness:
            found.append(
                f"the face is blurred (sharpness {m.sharpness:.0f}, at least "
                f"{self.min_sharpness:.0f}): hold still and let the camera focus"
            )
        if abs(m.yaw) > self.max_yaw:
            found.append(
                f"the head is turned (yaw {abs(m.yaw):.2f}, at most {self.max_yaw:.2f}): "
                "look straight at the camera"
            )
        if abs(m.roll_degrees) > self.max_roll_degrees:
            found.append(
                f"the head is tilted ({abs(m.roll_degrees):.0f} degrees, at most "
                f"{self.max_roll_degrees:.0f}): hold it upright"
            )
        if m.brightness < self.min_brightness:
            found.append(
                f"the face is too dark (mean grey {m.brightness:.0f} of 255, at least "
                f"{self.min_brightness:.0f}): add light in front of the person"
            )
        elif m.brightness > self.max_brightness or m.clipped > self.max_clipped:
            found.append(
                f"the face is overexposed or washed out (mean grey {m.brightness:.0f} of 255, "
                f"{m.clipped:.0%} of it clipped): avoid direct light or a flash"
            )
        return found


def _grey(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    rgb = pixels.astype(np.float64)
    grey: npt.NDArray[np.float64] = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return grey


def _laplacian_variance(grey: npt.NDArray[np.float64]) -> float:
    """Variance of the 4-neighbour Laplacian over the inner pixels."""
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    return float(lap.var())


def measure(
    image: DecodedImage, box: FaceBox, landmarks5: tuple[tuple[float, float], ...]
) -> QualityMeasures:
    """The quality measures of the face in ``box`` with its 5 landmarks."""
    crop = image.pixels[box.top : box.bottom, box.left : box.right]
    if crop.size == 0:
        raise ValueError(f"{box} holds no pixels of the photo")
    grey = _grey(crop)
    resized = np.asarray(
        Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).resize(
            (SHARPNESS_SIDE, SHARPNESS_SIDE), Image.Resampling.BILINEAR
        ),
        dtype=np.float64,
    )
    pts = np.asarray(landmarks5, dtype=np.float64)
    left_eye, right_eye = pts[[2, 3]].mean(axis=0), pts[[0, 1]].mean(axis=0)
    dx, dy = right_eye - left_eye
    return QualityMeasures(
        face_px=min(box.width, box.height),
        sharpness=_laplacian_variance(resized),
        yaw=yaw_ratio(pts),
        roll_degrees=math.degrees(math.atan2(dy, dx)),
        brightness=float(grey.mean()),
        clipped=float(((grey <= _DARK) | (grey >= _BRIGHT)).mean()),
    )
