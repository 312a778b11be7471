"""Every face with its score and landmarks (the engine's own scan), and the quality measures
the enrollment gate reads, on real photos and on controlled changes of them."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from facegate.recognition import DecodedImage, FaceEngine, decode_image
from facegate.recognition.faces import find_faces, landmarks_68, probability_of
from facegate.recognition.quality import QualityMeasures, QualityPolicy, measure


def _variant(image: DecodedImage, change: str, amount: float) -> DecodedImage:
    img = Image.fromarray(np.asarray(image.pixels))
    if change == "blur":
        img = img.filter(ImageFilter.GaussianBlur(amount))
    elif change == "light":
        img = ImageEnhance.Brightness(img).enhance(amount)
    elif change == "mirror":
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    elif change == "rotate":
        img = img.rotate(amount, expand=True, fillcolor=(128, 128, 128))
    out = io.BytesIO()
    img.save(out, "PNG")
    return decode_image(out.getvalue())


def _measured(engine: FaceEngine, image: DecodedImage) -> QualityMeasures:
    (face,) = find_faces(engine, image, landmarks=5)
    return measure(image, face.box, face.landmarks)


@pytest.mark.parametrize(
    "photo", ["in_the_wild/selfie-many-people.jpg", "in_the_wild/couple.jpg", "orl/s1/1.pgm"]
)
def test_the_faces_are_the_engines_with_scores(
    engine: FaceEngine, load: object, photo: str
) -> None:
    image = load(photo)  # type: ignore[operator]
    found = find_faces(engine, image, landmarks=5)
    assert [f.box for f in found] == engine.detect(image)
    assert all(f.score >= 0 and len(f.landmarks) == 5 for f in found)
    for face in found:
        xs = [x for x, _ in face.landmarks]
        assert face.box.left <= min(xs) and max(xs) <= face.box.right
    assert find_faces(engine, image, limit=1) == [
        type(found[0])(found[0].box, found[0].score, (), found[0].raw)
    ]


def test_probability_is_monotone_in_the_score() -> None:
    values = [probability_of(s) for s in (0.0, 0.3, 1.0, 3.0)]
    assert values == sorted(values) and values[0] == 0.5 and values[-1] < 1


def test_68_landmarks_put_the_eyes_above_the_mouth(engine: FaceEngine, load: object) -> None:
    image = load("fixtures/obama.jpg")  # type: ignore[operator]
    (face,) = find_faces(engine, image)
    pts = landmarks_68(image, face.box)
    assert pts.shape == (68, 2)
    assert pts[36:48, 1].mean() < pts[48:68, 1].mean()


def test_the_measures_follow_blur_light_mirror_and_roll(engine: FaceEngine, load: object) -> None:
    image = load("fixtures/obama.jpg")  # type: ignore[operator]
    base = _measured(engine, image)
    sharpness = [_measured(engine, _variant(image, "blur", r)).sharpness for r in (2, 5, 10)]
    assert base.sharpness > sharpness[0] > sharpness[1] > sharpness[2]
    assert _measured(engine, _variant(image, "light", 0.3)).brightness < base.brightness * 0.4
    mirrored = _measured(engine, _variant(image, "mirror", 0))
    assert mirrored.yaw == pytest.approx(-base.yaw, abs=0.03)
    tilted = _measured(engine, _variant(image, "rotate", 20))
    assert abs(tilted.roll_degrees - base.roll_degrees) == pytest.approx(20, abs=4)


def _m(**changes: float) -> QualityMeasures:
    good = {"face_px": 200, "sharpness": 100.0, "yaw": 0.0, "roll_degrees": 0.0,
            "brightness": 120.0, "clipped": 0.01}  # fmt: skip
    return QualityMeasures(**{**good, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({}, []),
        ({"face_px": 40}, ["too small"]),
        ({"sharpness": 5.0}, ["blurred"]),
        ({"yaw": -0.6}, ["turned"]),
        ({"roll_degrees": 45.0}, ["tilted"]),
        ({"brightness": 12.0, "sharpness": 4.0}, ["too dark"]),  # not also "blurred"
        ({"brightness": 240.0}, ["overexposed"]),
        ({"clipped": 0.7}, ["overexposed"]),
    ],
)
def test_the_policy_says_why(changes: dict[str, float], words: list[str]) -> None:
    problems = QualityPolicy().problems(_m(**changes))
    assert len(problems) == len(words)
    for problem, word in zip(problems, words, strict=True):
        assert word in problem and ":" in problem  # what is wrong, then what to do
