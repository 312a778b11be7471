"""Fixtures for the liveness tests: the authors' sample photos, the shipped weights read
by the reader under test, one PassiveLiveness and one detector for the whole run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from facegate.liveness import PassiveLiveness
from facegate.liveness.models import MODELS, default_weights_dir
from facegate.liveness.pth_format import read_state_dict
from facegate.recognition import DecodedImage, FaceEngine, decode_image

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = Path(
    os.environ.get(
        "FACEGATE_PAD_SAMPLES",
        ROOT.parent / "shared" / "data" / "models" / "silent-face-anti-spoofing",
    )
)
SAMPLE_NAMES = ("image_T1.jpg", "image_F1.jpg", "image_F2.jpg")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not all((SAMPLES / n).is_file() for n in SAMPLE_NAMES):
        pytest.fail(f"the authors' sample photos are not in {SAMPLES}; set FACEGATE_PAD_SAMPLES")
    return SAMPLES


@pytest.fixture(scope="session")
def states() -> dict[str, dict[str, npt.NDArray[np.generic]]]:
    """Each shipped model's state dict, by model name."""
    return {
        m.name: read_state_dict((default_weights_dir() / m.filename).read_bytes()) for m in MODELS
    }


@pytest.fixture(scope="session")
def liveness() -> PassiveLiveness:
    checker = PassiveLiveness()
    checker.warm_up()
    return checker


@pytest.fixture(scope="session")
def detector() -> FaceEngine:
    """Only its detector is used: no embedding model is loaded."""
    return FaceEngine()


@pytest.fixture(scope="session")
def sample(samples_dir: Path) -> dict[str, DecodedImage]:
    return {n: decode_image((samples_dir / n).read_bytes()) for n in SAMPLE_NAMES}
