"""Embedding backends: aligned face chips in, 128-D embeddings out.

Detection and alignment live in :mod:`facegate.recognition.engine`; a backend only runs
the network, so dlib and other runtimes of the same network (e.g. ONNX) are
interchangeable.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from facegate.recognition.models import MODEL_VERSION, NETWORK_LOCK, face_recognition_model

__all__ = [
    "CHIP_PADDING",
    "CHIP_SIZE",
    "EMBEDDING_DIM",
    "DlibBackend",
    "EmbeddingBackend",
    "available_cores",
    "check_chips",
]

#: side of the aligned chip the network takes, and the margin around the landmarks;
#: these are the values dlib's own ``compute_face_descriptor`` uses
CHIP_SIZE = 150
CHIP_PADDING = 0.25
EMBEDDING_DIM = 128


def available_cores() -> int:
    """CPU cores this process may run on (respects affinity masks / cgroup cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@runtime_checkable
class EmbeddingBackend(Protocol):
    """Runs the face-embedding network. Implementations must be safe to call from threads."""

    def embed_chips(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """N x 150 x 150 x 3 uint8 RGB chips (``dlib.get_face_chip(img, shape, size=150,
        padding=0.25)``) -> N x 128 float32 embeddings. N may be 0."""
        ...


def check_chips(chips: npt.NDArray[np.uint8]) -> None:
    """Raise ValueError unless ``chips`` is N x 150 x 150 x 3 uint8 (a programming error)."""
    if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(
            f"chips must be N x {CHIP_SIZE} x {CHIP_SIZE} x 3 uint8, "
            f"got {chips.shape} {chips.dtype}"
        )


class DlibBackend:
    """dlib's own ResNet (``dlib_face_recognition_resnet_model_v1``), on the CPU."""

    model_version = MODEL_VERSION

    def embed_chips(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        check_chips(chips)
        if len(chips) == 0:
            return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
        batch = [np.ascontiguousarray(chip) for chip in chips]
        model = face_recognition_model()
        with NETWORK_LOCK:  # the network keeps per-call scratch tensors
            vectors = model.compute_face_descriptor(batch)
        out = np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)
        return out.reshape(len(chips), EMBEDDING_DIM)
