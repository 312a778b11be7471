"""FaceEngine on real photos: detection, the enrollment rules, probes and embeddings."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from facegate.config import RecognitionSettings
from facegate.errors import FaceError, FaceTooSmall, ManyFaces, NoFace
from facegate.recognition import (
    MODEL_VERSION,
    DecodedImage,
    Extraction,
    FaceBox,
    FaceEngine,
    decode_image,
)

Load = Callable[[str], DecodedImage]
Probe = Callable[[str], Extraction]
Encode = Callable[..., bytes]


def distance(a: Extraction, b: Extraction) -> float:
    return float(np.linalg.norm(a.embedding - b.embedding))


def iou(a: FaceBox, b: FaceBox) -> float:
    inter = FaceBox(
        max(a.left, b.left), max(a.top, b.top), min(a.right, b.right), min(a.bottom, b.bottom)
    )
    overlap = inter.area if inter.width > 0 and inter.height > 0 else 0
    return overlap / (a.area + b.area - overlap)


def grey_image(width: int = 400, height: int = 300) -> DecodedImage:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (128, 128, 128)).save(out, "PNG")
    return decode_image(out.getvalue())


def test_face_box_geometry() -> None:
    box = FaceBox(left=10, top=20, right=110, bottom=70)
    assert (box.width, box.height, box.area) == (100, 50, 5000)


def test_enrollment_of_one_face(engine: FaceEngine, load: Load) -> None:
    image = load("fixtures/obama.jpg")
    extraction = engine.extract_for_enrollment(image)
    assert extraction.embedding.shape == (128,)
    assert extraction.embedding.dtype == np.float32
    assert not extraction.embedding.flags["WRITEABLE"]
    assert (extraction.faces_found, extraction.others_ignored) == (1, 0)
    assert extraction.image_sha256 == image.sha256
    assert extraction.model_version == MODEL_VERSION == "dlib-resnet-v1"
    box = extraction.box
    assert 0 <= box.left < box.right <= image.width
    assert 0 <= box.top < box.bottom <= image.height
    assert box.width > 200  # the face fills a good part of this portrait


def test_enrollment_refuses_two_people(engine: FaceEngine, load: Load) -> None:
    with pytest.raises(ManyFaces, match="2 faces") as info:
        engine.extract_for_enrollment(load("in_the_wild/couple.jpg"))
    assert "exactly one" in str(info.value)
    assert info.value.advice


@pytest.mark.parametrize("enrollment", [True, False])
def test_no_face_in_a_blank_image(engine: FaceEngine, enrollment: bool) -> None:
    image = grey_image()
    with pytest.raises(NoFace) as info:
        if enrollment:
            engine.extract_for_enrollment(image)
        else:
            engine.extract_probe(image)
    assert info.value.advice


def test_small_face_is_refused_for_enrollment(
    engine: FaceEngine, obama_image: Image.Image, encode: Encode
) -> None:
    # a real face about 45 pixels across, below the default minimum of 60
    shrunk = obama_image.resize((obama_image.width // 6, obama_image.height // 6))
    image = decode_image(encode(shrunk, "PNG"))
    with pytest.raises(FaceTooSmall, match="pixels across") as info:
        engine.extract_for_enrollment(image)
    assert "closer" in info.value.advice
    assert engine.extract_probe(image).faces_found == 1  # probes take what there is


def test_min_face_px_comes_from_settings(engine: FaceEngine, load: Load) -> None:
    strict = FaceEngine(RecognitionSettings(min_face_px=1000), backend=engine.backend)
    with pytest.raises(FaceTooSmall, match="at least 1000"):
        strict.extract_for_enrollment(load("fixtures/obama.jpg"))


def test_probe_uses_the_largest_face_and_counts_the_rest(
    engine: FaceEngine, load: Load, probe: Probe
) -> None:
    image = load("in_the_wild/selfie-many-people.jpg")
    boxes = engine.detect(image)
    extraction = probe("in_the_wild/selfie-many-people.jpg")
    assert extraction.others_ignored > 0
    assert extraction.faces_found == len(boxes) == extraction.others_ignored + 1
    assert extraction.box == boxes[0] == max(boxes, key=lambda b: b.area)


def test_same_person_is_close_and_another_is_far(probe: Probe) -> None:
    obama = probe("fixtures/obama.jpg")
    assert distance(obama, probe("fixtures/obama2.jpg")) < 0.6
    assert distance(obama, probe("fixtures/biden.jpg")) > 0.6


def test_exif_rotated_photo_gives_the_same_embedding(
    engine: FaceEngine, probe: Probe, obama_image: Image.Image, encode: Encode
) -> None:
    # what a phone held sideways writes: pixels turned 90 degrees, orientation tag 6
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(obama_image.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif)
    rotated = decode_image(data)
    assert (rotated.width, rotated.height) == obama_image.size
    extraction = engine.extract_for_enrollment(rotated)
    assert distance(extraction, probe("fixtures/obama.jpg")) < 0.1


def test_large_photo_is_detected_on_a_working_copy_and_mapped_back(
    engine: FaceEngine, probe: Probe, obama_image: Image.Image, encode: Encode
) -> None:
    # twice the size: over work_side (1600), so detection runs on a shrunk copy
    doubled = obama_image.resize((obama_image.width * 2, obama_image.height * 2))
    image = decode_image(encode(doubled, "PNG"))
    assert max(image.width, image.height) > engine.settings.work_side
    extraction = engine.extract_for_enrollment(image)
    half = extraction.box
    original = probe("fixtures/obama.jpg").box
    mapped = FaceBox(half.left // 2, half.top // 2, half.right // 2, half.bottom // 2)
    # HOG's pyramid steps quantise boxes differently at each scale: compare by overlap
    assert iou(mapped, original) > 0.85
    assert distance(extraction, probe("fixtures/obama.jpg")) < 0.1


def test_tiny_photo_gets_a_closer_second_look(
    engine: FaceEngine, obama_image: Image.Image, encode: Encode, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the face is ~23 pixels here: too small for HOG at one upsampling pass
    tiny = obama_image.resize((obama_image.width // 12, obama_image.height // 12))
    image = decode_image(encode(tiny, "PNG"))
    passes: list[int] = []
    real = engine._run_detector

    def counting(work: object, upsample: int) -> list[FaceBox]:
        passes.append(upsample)
        return real(work, upsample)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_run_detector", counting)
    boxes = engine.detect(image)
    assert passes == [1, 2]
    assert len(boxes) == 1


def test_faces_near_the_edge_are_clipped_to_the_photo(engine: FaceEngine, load: Load) -> None:
    image = load("in_the_wild/selfie-many-people.jpg")
    for box in engine.detect(image):
        assert 0 <= box.left < box.right <= image.width
        assert 0 <= box.top < box.bottom <= image.height


def test_embed_many_keeps_order_and_reports_failures_in_place(
    engine: FaceEngine, load: Load, probe: Probe
) -> None:
    images = [
        load("fixtures/Anthony_Hopkins_0001.jpg"),
        grey_image(),
        load("in_the_wild/couple.jpg"),
        load("fixtures/Anthony_Hopkins_0002.jpg"),
    ]
    as_probes = engine.embed_many(images)
    assert isinstance(as_probes[1], NoFace)
    assert isinstance(as_probes[2], Extraction) and as_probes[2].others_ignored == 1
    as_enrollments = engine.embed_many(images, enrollment=True)
    assert isinstance(as_enrollments[2], ManyFaces)
    first, last = as_enrollments[0], as_enrollments[3]
    assert isinstance(first, Extraction) and isinstance(last, Extraction)
    assert first.image_sha256 == images[0].sha256
    assert distance(first, last) < 0.6  # an LFW genuine pair
    assert engine.embed_many([]) == []


class RecordingBackend:
    """A stand-in embedding backend: proves detection and alignment do not depend on dlib's."""

    model_version = "test-backend-v0"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def embed_chips(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        self.shapes.append(chips.shape)
        return np.ones((len(chips), 128), dtype=np.float32)


def test_any_backend_gets_aligned_chips(load: Load) -> None:
    backend = RecordingBackend()
    engine = FaceEngine(backend=backend)
    results = engine.embed_many(
        [load("fixtures/obama.jpg"), load("fixtures/biden.jpg"), grey_image()]
    )
    assert backend.shapes == [(2, 150, 150, 3)]  # one batch, only the photos with faces
    first = results[0]
    assert isinstance(first, Extraction)
    assert first.model_version == "test-backend-v0"
    assert isinstance(results[2], FaceError)


def test_engine_can_be_shared_between_threads(engine: FaceEngine, load: Load) -> None:
    image = load("fixtures/Anthony_Hopkins_0001.jpg")
    expected = engine.extract_for_enrollment(image).embedding
    outcomes: list[npt.NDArray[np.float32] | BaseException] = []

    def work() -> None:
        try:
            outcomes.append(engine.extract_for_enrollment(image).embedding)
        except BaseException as exc:  # reported below, not lost in the thread
            outcomes.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 4
    for outcome in outcomes:
        assert isinstance(outcome, np.ndarray)
        assert np.array_equal(outcome, expected)
