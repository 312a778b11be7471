"""Issue 12 (hardening report): concurrent detections are capped by a setting, so the shared
pool of dlib detectors (each ~40 MB of scan buffers, kept for reuse) cannot grow to the most
requests ever in flight. A stand-in detector that takes a while to scan shows how many scans
run at once and how many detectors were built; the real one is not needed for that."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from PIL import Image

from facegate.config import RecognitionSettings
from facegate.recognition import engine as engine_module
from facegate.recognition.decode import decode_image
from facegate.recognition.engine import FaceEngine, _DetectorPool


class SlowDetectors:
    """Counts detectors built, and scans running at once (the peak)."""

    def __init__(self) -> None:
        self.built = 0
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def new(self) -> Any:
        with self.lock:
            self.built += 1

        def scan(_pixels: Any, _upsample: int) -> list[Any]:
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
            time.sleep(0.05)  # long enough for every thread to ask at once
            with self.lock:
                self.running -= 1
            return []

        return scan


@pytest.fixture
def detectors(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowDetectors]:
    fake = SlowDetectors()
    monkeypatch.setattr(engine_module, "_DETECTORS", _DetectorPool())  # a fresh, empty pool
    monkeypatch.setattr(engine_module, "_new_detector", fake.new)
    yield fake


def _photo() -> Any:
    out = io.BytesIO()
    Image.fromarray(np.full((120, 160, 3), 128, dtype=np.uint8)).save(out, format="PNG")
    return decode_image(out.getvalue())


def _storm(engine: FaceEngine, requests: int) -> None:
    photo = _photo()
    with ThreadPoolExecutor(requests) as pool:
        assert list(pool.map(lambda _: engine.detect(photo), range(requests))) == [[]] * requests


def test_detections_at_once_are_capped_by_the_setting(detectors: SlowDetectors) -> None:
    engine = FaceEngine(RecognitionSettings(detect_threads=2))
    _storm(engine, 12)
    assert detectors.peak == 2  # twelve requests, two scans at a time
    assert detectors.built == 2  # and two detectors' buffers, not twelve


def test_without_a_cap_the_pool_grows_to_the_concurrency(detectors: SlowDetectors) -> None:
    """What the cap prevents (and that the stand-in shows it): a large cap lets every
    concurrent request build a detector of its own."""
    engine = FaceEngine(RecognitionSettings(detect_threads=64))
    _storm(engine, 12)
    assert detectors.built > 2 and detectors.peak > 2


def test_the_default_is_one_per_core() -> None:
    assert FaceEngine().detect_threads == engine_module.available_cores()
    with pytest.raises(ValueError):
        RecognitionSettings(detect_threads=0)
