"""Fixtures for the ONNX face-embedding tests: real photos, dlib chips, a converted model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from facegate.recognition.onnx import OnnxBackend, ensure_onnx_model

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm"}
FACE_SETS = ("orl", "faces94", "celebrities", "in_the_wild", "fixtures")


class DlibFaces:
    """dlib's HOG detector, 5-point shape predictor and ResNet, as face_recognition uses."""

    def __init__(self) -> None:
        import dlib
        import face_recognition_models as frm

        self._dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.resnet = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def chips(self, image: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
        out = []
        for rect in self.detector(image, 1):
            shape = self.shape(image, rect)
            chip = self._dlib.get_face_chip(image, shape, size=150, padding=0.25)
            out.append(np.asarray(chip, dtype=np.uint8))
        return out

    def descriptors(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        return np.array(
            [np.asarray(self.resnet.compute_face_descriptor(c)) for c in chips],
            dtype=np.float32,
        ).reshape(-1, 128)


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    from PIL import Image

    with Image.open(path) as im:  # opens by content: img47.jpg is really WebP
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def image_paths(faces_dir: Path, per_set: int | None = None) -> list[Path]:
    paths: list[Path] = []
    for name in FACE_SETS:
        found = sorted(
            p for p in (faces_dir / name).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )
        if per_set is not None:
            # spread the sample over the set (people are grouped by folder)
            step = max(1, len(found) // per_set)
            found = found[::step][:per_set]
        paths.extend(found)
    return paths


def collect_chips(faces: DlibFaces, paths: list[Path]) -> tuple[npt.NDArray[np.uint8], list[str]]:
    chips: list[npt.NDArray[np.uint8]] = []
    names: list[str] = []
    for path in paths:
        for i, chip in enumerate(faces.chips(load_rgb(path))):
            chips.append(chip)
            names.append(f"{path.parent.name}/{path.name}#{i}")
    return np.stack(chips) if chips else np.zeros((0, 150, 150, 3), np.uint8), names


def cosine(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    return np.asarray(
        (a64 * b64).sum(axis=1) / (np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1))
    )


@pytest.fixture(scope="session")
def dlib_faces() -> DlibFaces:
    return DlibFaces()


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_onnx_model(cache_dir=tmp_path_factory.mktemp("onnx-cache"))


@pytest.fixture(scope="session")
def backend(model_path: Path) -> Iterator[OnnxBackend]:
    yield OnnxBackend(model_path=model_path)


@pytest.fixture(scope="session")
def sample_chips(faces_dir: Path, dlib_faces: DlibFaces) -> tuple[npt.NDArray[np.uint8], list[str]]:
    """Chips of every face in 8 photos from each of the five shared sets."""
    chips, names = collect_chips(dlib_faces, image_paths(faces_dir, per_set=8))
    assert len(chips) >= 30, f"only {len(chips)} faces found in the sample"
    return chips, names
