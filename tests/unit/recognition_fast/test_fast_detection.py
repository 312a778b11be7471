"""The fast engine: capped detection finds dlib's faces; parallel batches change nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from facegate.recognition import DecodedImage, Extraction, FaceEngine, decode_image
from facegate.recognition.engine import DETECT_PIXELS, detection_plan

#: large photos (scanned shrunk) and small ones (scanned as dlib does), with several faces
PHOTOS = (
    "in_the_wild/couple.jpg",
    "in_the_wild/selfie-many-people.jpg",
    "in_the_wild/img1.jpg",
    "in_the_wild/img11.jpg",
    "fixtures/obama.jpg",
    "fixtures/biden.jpg",
    "fixtures/Anthony_Hopkins_0001.jpg",
    "orl/s1/1.pgm",
    "faces94/9338535/9338535.1.jpg",
)


@pytest.fixture(scope="module")
def images(faces_dir: Path) -> dict[str, DecodedImage]:
    found = {}
    for name in PHOTOS:
        path = faces_dir / name
        if not path.is_file():  # the sets are fixed, but keep the test honest if one moves
            pytest.fail(f"missing shared photo {path}")
        found[name] = decode_image(path.read_bytes())
    return found


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    engine = FaceEngine(workers=2)
    engine.warm_up()
    return engine


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize(
    ("size", "plan"),
    [
        ((92, 112), (112, 1)),  # small: dlib's own one upsampling pass, full size
        ((500, 500), (500, 1)),  # exactly the budget with one pass
        ((800, 1000), (1000, 0)),  # under a megapixel: full size, no upsampling
        ((4000, 3000), (1154, 0)),  # shrunk to a megapixel
        ((6000, 100), (1600, 0)),  # a panorama: work_side caps it
    ],
)
def test_detection_plan(size: tuple[int, int], plan: tuple[int, int]) -> None:
    got = detection_plan(*size, max_side=1600, upsample=1)
    assert got == plan
    side, upsample = got
    scale = side / max(size)
    assert size[0] * size[1] * scale**2 * 4**upsample <= DETECT_PIXELS * 1.001


def test_detection_plan_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="pixel"):
        detection_plan(0, 10, max_side=1600, upsample=1)
    with pytest.raises(ValueError, match="workers"):
        FaceEngine(workers=0)


def test_capped_detection_finds_what_dlib_finds_on_the_full_photo(
    engine: FaceEngine, images: dict[str, DecodedImage]
) -> None:
    import dlib

    detector = dlib.get_frontal_face_detector()
    for name, image in images.items():
        reference = [
            (r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in detector(image.pixels, 1)
        ]
        ours = [(b.left, b.top, b.right, b.bottom) for b in engine.detect(image)]
        assert reference, name
        for box in reference:
            assert any(_iou(box, mine) >= 0.5 for mine in ours), (name, box, ours)
        assert len(ours) == len(reference), name


def test_parallel_batches_give_the_serial_answers(
    engine: FaceEngine, images: dict[str, DecodedImage]
) -> None:
    batch = list(images.values())
    serial = FaceEngine(backend=engine.backend, workers=1).embed_many(batch)
    parallel = engine.embed_many(batch)
    assert len(serial) == len(parallel) == len(batch)
    for one, other in zip(serial, parallel, strict=True):
        assert isinstance(one, Extraction) and isinstance(other, Extraction)
        assert (one.box, one.faces_found) == (other.box, other.faces_found)
        assert np.array_equal(one.embedding, other.embedding)


def test_detectors_run_side_by_side(engine: FaceEngine, images: dict[str, DecodedImage]) -> None:
    # one detector per thread: four threads at once must not crash or mix up results
    expected = {name: engine.detect(image) for name, image in images.items()}
    failures: list[BaseException | str] = []

    def work() -> None:
        try:
            for name, image in images.items():
                if engine.detect(image) != expected[name]:
                    failures.append(name)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("batch", [1, 4, 32])
def test_stream_gives_embed_many_answers_in_order(
    engine: FaceEngine, images: dict[str, DecodedImage], batch: int
) -> None:
    photos = list(images.values())
    expected = engine.embed_many(photos, enrollment=True)
    streamed = list(engine.embed_stream(iter(photos), enrollment=True, batch=batch))
    assert len(streamed) == len(expected)
    for one, other in zip(expected, streamed, strict=True):
        assert type(one) is type(other)  # couple.jpg etc. refuse enrollment in both
        if isinstance(one, Extraction) and isinstance(other, Extraction):
            assert one.box == other.box
            assert np.array_equal(one.embedding, other.embedding)
    assert list(engine.embed_stream([], batch=batch)) == []
    with pytest.raises(ValueError, match="batch"):
        list(engine.embed_stream(photos, batch=0))
