"""Model loading: lazy, once, thread-safe, and a clear error when the files are missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dlib
import numpy as np
import pytest

from facegate.errors import ConfigError
from facegate.recognition import models

SRC = Path(__file__).resolve().parents[3] / "src"


def test_importing_and_constructing_loads_no_model() -> None:
    script = textwrap.dedent(
        """
        import sys
        from facegate.recognition import FaceEngine, DlibBackend, decode_image, models
        FaceEngine()
        DlibBackend()
        loaders = (models._detector, models._shape_predictor, models._recognition_model)
        assert all(loader._value is None for loader in loaders), "a model was loaded"
        assert "dlib" not in sys.modules, "dlib was imported"
        """
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, env={"PYTHONPATH": str(SRC)}, timeout=60
    )


def test_models_are_loaded_once_and_shared() -> None:
    assert models.face_detector() is models.face_detector()
    assert models.shape_predictor() is models.shape_predictor()
    assert models.face_recognition_model() is models.face_recognition_model()
    # the 5-point model, not the 68-point one
    blank = np.zeros((100, 100, 3), dtype=np.uint8)
    assert models.shape_predictor()(blank, dlib.rectangle(10, 10, 90, 90)).num_parts == 5


def test_concurrent_first_use_loads_once() -> None:
    calls: list[int] = []

    def slow_loader() -> object:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while loading
        return object()

    once = models._LoadOnce(slow_loader)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(once.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(seen) == 8 and all(value is seen[0] for value in seen)


def test_a_failed_load_is_retried() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConfigError("not yet")
        return "loaded"

    once = models._LoadOnce(flaky)
    with pytest.raises(ConfigError):
        once.get()
    assert once.get() == "loaded"


def test_missing_model_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "face_recognition_models", None)
    with pytest.raises(ConfigError, match="not installed") as info:
        models._model_path("face_recognition_model_location")
    assert "pip install" in info.value.advice
