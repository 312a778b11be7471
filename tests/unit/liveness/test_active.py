"""Active challenges (blink, turn) on synthetic landmark runs, and on real photos: a real
blink in a frame sequence of the shared faces94 set, and real turned heads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from facegate.liveness.active import eye_aspect_ratio, judge, yaw_ratio
from facegate.recognition import DecodedImage, FaceEngine, decode_image

F64 = npt.NDArray[np.float64]


def face68(
    yaw_deg: float = 0.0, ear: float = 0.3, scale: float = 1.0, roll_deg: float = 0.0
) -> F64:
    """68 iBUG landmarks of a simple 3-D face turned by ``yaw_deg`` toward the person's
    left (the nose moves toward +x), with eyes open to aspect ratio ``ear``."""
    pts3 = np.zeros((68, 3))
    pts3[:, 1] = 80.0  # the points this module ignores sit on the chin line
    for first, centre in ((36, -32.0), (42, 32.0)):
        outer, inner = (centre - 15, centre + 15) if first == 36 else (centre + 15, centre - 15)
        h = ear * 30.0
        pts3[first + 0] = (outer, 0, 0)
        pts3[first + 3] = (inner, 0, 0)
        for upper, lower, x in ((1, 5, 2 / 3), (2, 4, 1 / 3)):
            px = outer + (inner - outer) * (1 - x)
            pts3[first + upper] = (px, -h / 2, 0)
            pts3[first + lower] = (px, h / 2, 0)
    pts3[33] = (0.0, 40.0, 30.0)  # nose base, in front of the eye plane
    t = math.radians(yaw_deg)
    x = pts3[:, 0] * math.cos(t) + pts3[:, 2] * math.sin(t)
    pts = np.stack([x, pts3[:, 1]], axis=1) * scale
    r = math.radians(roll_deg)
    rot = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    return pts @ rot.T + (320.0, 240.0)


def five(pts68: F64) -> F64:
    """dlib's 5-point layout from 68 points: image-right eye corners, image-left, nose."""
    return pts68[[45, 42, 36, 39, 33]]


def test_synthetic_measures() -> None:
    assert eye_aspect_ratio(face68(ear=0.3)) == pytest.approx(0.3)
    assert yaw_ratio(face68(0)) == pytest.approx(0.0, abs=1e-12)
    # the nose sits 30 units before the eyes, which are 64 apart: 30/64 * tan(yaw)
    assert yaw_ratio(face68(30)) == pytest.approx(30 / 64 * math.tan(math.radians(30)))
    assert yaw_ratio(face68(30), mirrored=True) == pytest.approx(-yaw_ratio(face68(30)))
    # tilting the head in the image plane changes nothing
    assert yaw_ratio(face68(25, roll_deg=20)) == pytest.approx(yaw_ratio(face68(25)))
    assert yaw_ratio(five(face68(25))) == pytest.approx(yaw_ratio(face68(25)))


def test_blink() -> None:
    run = [face68(ear=e) for e in (0.3, 0.31, 0.12, 0.05, 0.14, 0.29)]
    result = judge("blink", run)
    assert result.passed and result.frames == 6
    assert result.values == pytest.approx([0.3, 0.31, 0.12, 0.05, 0.14, 0.29])


@pytest.mark.parametrize(
    ("ears", "reason"),
    [
        ((0.3, 0.28, 0.3, 0.27), "no blink"),  # open throughout
        ((0.3, 0.05, 0.08), "did not reopen"),
        ((0.05, 0.06, 0.3), "no blink"),  # closed, then open: not a blink
        ((0.05, 0.06, 0.1), "never seen open"),
        ((0.3, 0.2, 0.3), "no blink"),  # a squint: 0.2 is more than 0.6 x 0.3
    ],
)
def test_not_a_blink(ears: tuple[float, ...], reason: str) -> None:
    result = judge("blink", [face68(ear=e) for e in ears])
    assert not result.passed and reason in result.reason


def test_turns() -> None:
    run = [face68(y) for y in (2, 0, 10, 20, 35)]
    assert judge("turn_left", run).passed
    right = judge("turn_right", run)
    assert not right.passed and "further" in right.reason
    # a mirrored preview shows the same head movement the other way round
    assert judge("turn_right", run, mirrored=True).passed
    assert judge("turn_right", [face68(-y) for y in (0, 15, 40)]).passed
    assert judge("turn_left", [five(face68(y)) for y in (0, 15, 40)]).passed


def test_turns_that_fail() -> None:
    never_frontal = judge("turn_left", [face68(y) for y in (25, 35, 45)])
    assert not never_frontal.passed and "facing the camera" in never_frontal.reason
    too_small = judge("turn_left", [face68(y) for y in (0, 10, 20)])
    assert not too_small.passed and "further" in too_small.reason


def test_a_jump_between_frames_fails() -> None:
    cut = [face68(0), face68(15), face68(40, scale=2.0)]  # another, larger face
    result = judge("turn_left", cut)
    assert not result.passed and "moved or changed" in result.reason


@pytest.mark.parametrize(
    ("challenge", "frames", "message"),
    [
        ("blink", [five(face68())] * 3, "68-point"),
        ("nod", [face68()] * 3, "unknown challenge"),
        ("blink", [face68()], "2 to 300 frames"),
        ("blink", [face68(), five(face68())], "same landmark layout"),
        ("turn_left", [face68()[:30]] * 2, "68 or 5"),
        ("turn_left", [np.full((5, 2), np.nan)] * 2, "finite"),
    ],
)
def test_misuse_is_a_value_error(challenge: Any, frames: list[F64], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        judge(challenge, frames)


# --- real photos ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def landmarks68(detector: FaceEngine) -> Any:
    """The 68 landmarks (dlib's iBUG model) of the largest face facegate's detector finds."""
    import dlib
    import face_recognition_models as frm

    predictor = dlib.shape_predictor(frm.pose_predictor_model_location())

    def find(path: Path, *, flip: bool = False) -> F64:
        image = decode_image(path.read_bytes())
        if flip:
            pixels = np.ascontiguousarray(image.pixels[:, ::-1])
            image = DecodedImage(pixels, image.format, image.width, image.height, image.sha256)
        box = detector.detect(image)[0]
        rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
        shape = predictor(image.pixels, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    return find


def test_a_real_blink(faces_dir: Path, landmarks68: Any) -> None:
    # faces94/vstros is a frame sequence: her eyes are closed in frames 2, 4 and 12
    frames = {i: landmarks68(faces_dir / f"faces94/vstros/vstros.{i}.jpg") for i in (1, 2, 3, 5, 6)}
    assert judge("blink", [frames[i] for i in (1, 2, 3)]).passed
    still = judge("blink", [frames[i] for i in (1, 3, 5, 6)])
    assert not still.passed and "no blink" in still.reason


def test_real_turned_heads(faces_dir: Path, landmarks68: Any) -> None:
    # the largest face of the selfie looks toward his right, the couple's toward her left
    selfie = landmarks68(faces_dir / "in_the_wild/selfie-many-people.jpg")
    couple = landmarks68(faces_dir / "in_the_wild/couple.jpg")
    assert yaw_ratio(selfie) < -0.25 and yaw_ratio(couple) > 0.1
    # the same photo mirrored turns the other way
    flipped = landmarks68(faces_dir / "in_the_wild/selfie-many-people.jpg", flip=True)
    assert yaw_ratio(flipped) == pytest.approx(-yaw_ratio(selfie), abs=0.05)
    frontal = landmarks68(faces_dir / "faces94/vstros/vstros.1.jpg")
    assert abs(yaw_ratio(frontal)) < 0.1
