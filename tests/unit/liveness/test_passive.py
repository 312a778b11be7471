"""PassiveLiveness: the authors' samples, the decision rule, laziness, threads, and
refusals of bad weights, thresholds and boxes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from facegate.errors import ConfigError
from facegate.liveness import DEFAULT_THRESHOLD, MODEL_VERSION, MODELS, PassiveLiveness
from facegate.liveness.models import default_weights_dir
from facegate.liveness.passive import decide
from facegate.recognition import DecodedImage, FaceBox, FaceEngine


def _box(detector: FaceEngine, image: DecodedImage) -> FaceBox:
    boxes = detector.detect(image)
    assert len(boxes) == 1
    return boxes[0]


def test_the_live_sample_passes_and_the_attacks_are_refused(
    liveness: PassiveLiveness, detector: FaceEngine, sample: dict[str, DecodedImage]
) -> None:
    results = {n: liveness.check(im, _box(detector, im)) for n, im in sample.items()}
    live = results["image_T1.jpg"]
    assert live.live and live.score > 0.95
    for name in ("image_F1.jpg", "image_F2.jpg"):
        assert not results[name].live and results[name].score < 0.3, name
    assert all(r.threshold == DEFAULT_THRESHOLD for r in results.values())
    assert all(r.model_version == MODEL_VERSION for r in results.values())
    assert live.to_dict()["live"] is True and 0 < live.to_dict()["context"] <= 1


def test_probabilities_are_two_softmax_rows(
    liveness: PassiveLiveness, detector: FaceEngine, sample: dict[str, DecodedImage]
) -> None:
    image = sample["image_F2.jpg"]
    probs = liveness.probabilities(image, _box(detector, image))
    assert probs.shape == (len(MODELS), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # F2 (a face on a screen): both models put most weight on an attack class
    assert (np.argmax(probs, axis=1) != 1).all()


def test_decision_rule() -> None:
    # the averaged live class must win and reach the threshold
    assert decide(np.array([[0.1, 0.8, 0.1], [0.2, 0.6, 0.2]]), 0.5) == (True, pytest.approx(0.7))
    assert decide(np.array([[0.1, 0.8, 0.1], [0.2, 0.6, 0.2]]), 0.75)[0] is False
    # 0.4 clears a 0.3 threshold but loses to class 2 (0.45): refused, as the authors do
    assert decide(np.array([[0.15, 0.4, 0.45]] * 2), 0.3) == (False, pytest.approx(0.4))
    assert decide(np.array([[0.3, 0.4, 0.3]] * 2), 0.3)[0] is True


def test_context_is_the_share_of_the_wanted_crop(
    liveness: PassiveLiveness, sample: dict[str, DecodedImage]
) -> None:
    image = sample["image_T1.jpg"]  # 480 x 640
    # a 100-pixel box fits 4.0x (400 < 479): full context
    assert liveness.context(image, FaceBox(190, 270, 290, 370)) == 1.0
    # a 150-pixel box: 2.7x needs 405 pixels and fits (4.0x would need 600): full context
    assert liveness.context(image, FaceBox(165, 245, 315, 395)) == 1.0
    # a 200-pixel box: 2.7x needs 540 > 479 pixels: 479 / 200 of 2.7
    assert liveness.context(image, FaceBox(140, 220, 340, 420)) == pytest.approx(479 / 200 / 2.7)


def test_threads_share_one_checker(
    detector: FaceEngine, sample: dict[str, DecodedImage], liveness: PassiveLiveness
) -> None:
    fresh = PassiveLiveness()  # loads on first use, from several threads at once
    jobs = [(im, _box(detector, im)) for im in sample.values()] * 4
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda job: fresh.check(*job), jobs))
    expected = [liveness.check(im, box) for im, box in jobs]
    assert [g.score for g in got] == pytest.approx([e.score for e in expected], abs=1e-6)


def test_nothing_loads_at_import_or_construction() -> None:
    code = (
        "import sys, facegate.liveness as l; c = l.PassiveLiveness(); "
        "print(c._sessions is None, 'onnxruntime' in sys.modules, 'onnx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "False", "False"]


def test_changed_weights_are_refused(tmp_path: Path, sample: dict[str, DecodedImage]) -> None:
    for m in MODELS:
        shutil.copy(default_weights_dir() / m.filename, tmp_path / m.filename)
    data = bytearray((tmp_path / MODELS[0].filename).read_bytes())
    data[-10] ^= 1  # one bit of one weight
    (tmp_path / MODELS[0].filename).write_bytes(bytes(data))
    checker = PassiveLiveness(weights_dir=tmp_path)
    with pytest.raises(ConfigError, match="not the shipped file"):
        checker.check(sample["image_T1.jpg"], FaceBox(100, 100, 300, 300))
    (tmp_path / MODELS[0].filename).unlink()
    with pytest.raises(ConfigError, match="cannot be read"):
        PassiveLiveness(weights_dir=tmp_path).warm_up()


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.01, float("nan")])
def test_bad_thresholds(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        PassiveLiveness(threshold=threshold)


@pytest.mark.parametrize(
    "box", [FaceBox(0, 0, 0, 10), FaceBox(400, 0, 481, 100), FaceBox(-1, 0, 50, 50)]
)
def test_boxes_outside_the_photo_are_refused(
    liveness: PassiveLiveness, sample: dict[str, DecodedImage], box: FaceBox
) -> None:
    with pytest.raises(ValueError, match="not a box inside"):
        liveness.check(sample["image_T1.jpg"], box)
