"""decode_image: every bad upload gets the right error, every supported photo decodes upright."""

from __future__ import annotations

import contextlib
import hashlib
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageOps

from facegate.config import RecognitionSettings
from facegate.errors import (
    ConfigError,
    CorruptImage,
    DecompressionBomb,
    ImageError,
    ImageTooLarge,
    UnsupportedImage,
)
from facegate.recognition import DecodedImage, decode_image
from facegate.recognition.headers import read_header

Read = Callable[[str], bytes]
Encode = Callable[..., bytes]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_bytes(
    width: int, height: int, idat: bytes, *, bit_depth: int = 8, colour: int = 2
) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def png16(pixels: npt.NDArray[np.uint16]) -> bytes:
    """A 16-bit RGB PNG (Pillow cannot write one, so by hand)."""
    height, width, _ = pixels.shape
    rows = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))
    return png_bytes(width, height, zlib.compress(rows), bit_depth=16, colour=2)


def assert_well_formed(image: DecodedImage, data: bytes) -> None:
    assert image.pixels.dtype == np.uint8
    assert image.pixels.shape == (image.height, image.width, 3)
    assert image.pixels.flags["C_CONTIGUOUS"]
    assert not image.pixels.flags["WRITEABLE"]
    assert image.sha256 == hashlib.sha256(data).hexdigest()


def mean_abs_diff(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def small(obama_image: Image.Image) -> Image.Image:
    """A real photo, small enough that encoding it in every format is quick."""
    return obama_image.resize((182, 227))


@pytest.fixture
def open_spy(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every call of Pillow's Image.open; the list stays empty if none was made."""
    calls: list[object] = []
    real_open = Image.open

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    return calls


# --- bad input -------------------------------------------------------------------------------


def test_empty_upload_is_corrupt() -> None:
    with pytest.raises(CorruptImage, match="empty") as info:
        decode_image(b"")
    assert info.value.advice


def test_truncated_jpeg_is_corrupt(face_bytes: Read) -> None:
    data = face_bytes("fixtures/obama.jpg")
    with pytest.raises(CorruptImage, match="truncated"):
        decode_image(data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("cut", [0.25, 0.75, 0.99])
@pytest.mark.parametrize("name", ["fixtures/32bit.png", "in_the_wild/img47.jpg"])
def test_truncated_png_and_webp_are_corrupt(face_bytes: Read, name: str, cut: float) -> None:
    data = face_bytes(name)
    with pytest.raises(CorruptImage):
        decode_image(data[: int(len(data) * cut)])


def test_jpeg_cut_inside_its_header_is_corrupt(face_bytes: Read) -> None:
    with pytest.raises(CorruptImage):
        decode_image(face_bytes("fixtures/obama.jpg")[:300])


def test_png_bomb_is_refused_unread(open_spy: list[object]) -> None:
    # 100000 x 100000 RGB would be 30 GB; the compressed data is a kilobyte of zeros
    bomb = png_bytes(100_000, 100_000, zlib.compress(b"\x00" * 1_000_000, 9))
    assert len(bomb) < 2_000
    with pytest.raises(DecompressionBomb, match="100000x100000") as info:
        decode_image(bomb)
    assert open_spy == []
    assert info.value.advice


def test_png_bomb_within_side_limit_is_refused_by_pixel_count(open_spy: list[object]) -> None:
    bomb = png_bytes(12_000, 12_000, zlib.compress(b"\x00" * 100_000, 9))
    with pytest.raises(DecompressionBomb):
        decode_image(bomb)
    assert open_spy == []


def _jpeg_claiming(data: bytes, width: int, height: int) -> bytes:
    at = 2
    while data[at + 1] != 0xC0:  # walk the segments to the baseline frame header
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    # marker (2), length (2), precision (1), then height and width
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def _huge_headers(obama_jpeg: bytes) -> dict[str, bytes]:
    side = 30_000
    tail = b"\x00" * 64
    return {
        "jpeg": _jpeg_claiming(obama_jpeg, side, side),
        "png": png_bytes(side, side, zlib.compress(b"\x00" * 10_000)),
        "gif": b"GIF89a" + struct.pack("<HHBBB", side, side, 0, 0, 0) + tail,
        "webp-vp8x": (
            b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00"
            + (side - 1).to_bytes(3, "little") * 2
            + tail
        ),
        "webp-vp8l": (
            b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f"
            + struct.pack("<I", (16383) | (16383 << 14))
            + tail
        ),
        "bmp": b"BM" + b"\x00" * 12 + struct.pack("<Iii", 40, side, -side) + tail,
        "pgm": b"P5\n# made by hand\n30000 30000\n255\n" + tail,
        "ppm": b"P6 30000 30000 255\n" + tail,
    }


@pytest.mark.parametrize(
    "kind", ["jpeg", "png", "gif", "webp-vp8x", "webp-vp8l", "bmp", "pgm", "ppm"]
)
def test_huge_header_is_refused_unread(face_bytes: Read, open_spy: list[object], kind: str) -> None:
    data = _huge_headers(face_bytes("fixtures/obama.jpg"))[kind]
    with pytest.raises(DecompressionBomb):
        decode_image(data)
    assert open_spy == []


def test_gif_frame_larger_than_its_screen_counts(open_spy: list[object]) -> None:
    # a tiny logical screen, then a first frame that claims 30000 x 30000
    screen = b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 30_000, 30_000, 0) + b"\x02\x00\x3b"
    with pytest.raises(DecompressionBomb):
        decode_image(screen + frame)
    assert open_spy == []


def test_compressed_text_bomb_in_png_is_refused() -> None:
    text = b"Comment\x00\x00" + zlib.compress(b"A" * 50_000_000, 9)
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00" + b"\x80" * 12))
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 1, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"zTXt", text) + idat + png_chunk(b"IEND", b"")
    with pytest.raises(DecompressionBomb):
        decode_image(data)


@pytest.mark.parametrize(
    "text",
    [
        b"Hello, this is not a photo.\n",
        b'{"image": "obama.jpg"}',
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "Gr\u00fc\u00dfe, \u4f60\u597d".encode(),
    ],
)
def test_text_is_unsupported(text: bytes) -> None:
    with pytest.raises(UnsupportedImage, match="text") as info:
        decode_image(text)
    assert "JPEG" in info.value.advice


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"II*\x00" + b"\x00" * 64, "TIFF"), (b"\x00\x00\x00\x1cftypheic" + b"\x00" * 64, "HEIC")],
)
def test_known_but_unsupported_formats_are_named(data: bytes, name: str) -> None:
    with pytest.raises(UnsupportedImage, match=name):
        decode_image(data)


def test_unknown_binary_is_unsupported() -> None:
    noise = random.Random(7).randbytes(4096)
    with pytest.raises(UnsupportedImage):
        decode_image(b"\x00\x01" + noise)


def test_jpeg_magic_followed_by_garbage_is_corrupt(face_bytes: Read) -> None:
    noise = random.Random(11).randbytes(8192)
    with pytest.raises(CorruptImage):
        decode_image(b"\xff\xd8\xff\xe0" + noise)
    # a real JPEG's metadata, then garbage where the frame header should be
    with pytest.raises(CorruptImage):
        decode_image(face_bytes("fixtures/obama.jpg")[:600] + noise)


def test_png_with_broken_checksum_is_corrupt(small: Image.Image, encode: Encode) -> None:
    data = bytearray(encode(small, "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 40] ^= 0xFF
    with pytest.raises(CorruptImage):
        decode_image(bytes(data))


def test_upload_over_max_bytes_is_too_large(face_bytes: Read) -> None:
    data = face_bytes("fixtures/obama.jpg")
    with pytest.raises(ImageTooLarge, match="bytes") as info:
        decode_image(data, limits=RecognitionSettings(max_bytes=len(data) - 1))
    assert not isinstance(info.value, DecompressionBomb)


@pytest.mark.parametrize(
    "limits", [RecognitionSettings(max_side=1000), RecognitionSettings(max_pixels=1_000_000)]
)
def test_limits_from_settings_apply(
    face_bytes: Read, open_spy: list[object], limits: RecognitionSettings
) -> None:
    # obama.jpg is 910 x 1137 = 1.03 megapixels
    with pytest.raises(DecompressionBomb) as info:
        decode_image(face_bytes("fixtures/obama.jpg"), limits=limits)
    assert open_spy == []
    assert "resize" in info.value.advice


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (Image.DecompressionBombError("too many pixels"), DecompressionBomb),
        (Image.DecompressionBombWarning("many pixels"), DecompressionBomb),
        (OSError("decoder error"), CorruptImage),
        (RuntimeError("surprise"), CorruptImage),
        (MemoryError(), ImageTooLarge),
    ],
)
def test_pillow_failures_become_image_errors(
    face_bytes: Read,
    monkeypatch: pytest.MonkeyPatch,
    raised: BaseException,
    expected: type[ImageError],
) -> None:
    def failing_open(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(Image, "open", failing_open)
    with pytest.raises(expected):
        decode_image(face_bytes("fixtures/obama.jpg"))


def test_refuses_to_run_with_truncated_loading_on(
    face_bytes: Read, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ConfigError):
        decode_image(face_bytes("fixtures/obama.jpg"))


def test_pillow_global_limit_is_left_alone(face_bytes: Read) -> None:
    before = Image.MAX_IMAGE_PIXELS
    decode_image(face_bytes("fixtures/obama.jpg"), limits=RecognitionSettings(max_pixels=10**9))
    assert before == Image.MAX_IMAGE_PIXELS


# --- fuzzing: nothing but facegate's image errors ever escapes -------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_image_errors(data: bytes) -> None:
    with contextlib.suppress(ImageError):
        decode_image(data)


@pytest.fixture(scope="module")
def tiny_files(small: Image.Image, encode: Encode) -> list[bytes]:
    tiny = small.resize((24, 30))
    return [
        encode(tiny, "JPEG", quality=80),
        encode(tiny, "PNG"),
        encode(tiny.convert("RGBA"), "PNG"),
        encode(tiny, "GIF"),
        encode(tiny, "WEBP", lossless=True),
        encode(tiny, "WEBP", quality=50),
        encode(tiny, "BMP"),
        encode(tiny.convert("L"), "PPM"),
    ]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_real_files_raise_only_image_errors(
    tiny_files: list[bytes], data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(tiny_files))
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(damaged)))
    try:
        image = decode_image(bytes(damaged[:cut]))
    except ImageError:
        return
    assert image.pixels.shape == (image.height, image.width, 3)


# --- supported photos ------------------------------------------------------------------------


def test_real_jpeg(face_bytes: Read) -> None:
    data = face_bytes("fixtures/obama.jpg")
    image = decode_image(data)
    assert_well_formed(image, data)
    assert (image.format, image.width, image.height) == ("jpeg", 910, 1137)


def test_webp_named_jpg_is_decoded_as_webp(face_bytes: Read) -> None:
    data = face_bytes("in_the_wild/img47.jpg")
    image = decode_image(data)
    assert_well_formed(image, data)
    assert (image.format, image.width, image.height) == ("webp", 1350, 1800)


def test_32bit_png_with_alpha(face_bytes: Read, faces_dir: Any) -> None:
    data = face_bytes("fixtures/32bit.png")
    image = decode_image(data)
    assert_well_formed(image, data)
    assert (image.format, image.width, image.height) == ("png", 626, 1200)
    with Image.open(faces_dir / "fixtures" / "32bit.png") as im:
        assert np.array_equal(image.pixels, np.asarray(im.convert("RGB")))


def test_orl_pgm(face_bytes: Read) -> None:
    data = face_bytes("orl/s1/1.pgm")
    image = decode_image(data)
    assert_well_formed(image, data)
    assert (image.format, image.width, image.height) == ("pgm", 92, 112)
    # greyscale comes out as three equal channels
    assert np.array_equal(image.pixels[..., 0], image.pixels[..., 2])


def test_transparent_areas_become_white(small: Image.Image, encode: Encode) -> None:
    rgba = small.convert("RGBA")
    alpha = np.full((small.height, small.width), 255, dtype=np.uint8)
    alpha[:, :50] = 0  # the left strip fully transparent
    rgba.putalpha(Image.fromarray(alpha))
    image = decode_image(encode(rgba, "PNG"))
    assert (image.pixels[:, :50] == 255).all()
    assert np.array_equal(image.pixels[:, 50:], np.asarray(small)[:, 50:])


def test_16bit_rgb_png_from_a_real_photo(small: Image.Image) -> None:
    eight = np.asarray(small)
    data = png16(eight.astype(np.uint16) * 257)
    image = decode_image(data)
    assert_well_formed(image, data)
    assert image.format == "png"
    assert np.abs(image.pixels.astype(int) - eight).max() <= 1


def test_16bit_greyscale_png_and_pgm(small: Image.Image, encode: Encode) -> None:
    grey = np.asarray(small.convert("L"))
    deep = Image.fromarray(grey.astype(np.uint16) * 257)
    assert deep.mode == "I;16"
    for fmt, name in (("PNG", "png"), ("PPM", "pgm")):
        image = decode_image(encode(deep, fmt))
        assert image.format == name
        assert np.abs(image.pixels[..., 1].astype(int) - grey).max() <= 1


def test_gif_from_a_real_photo_gives_its_first_frame(small: Image.Image, encode: Encode) -> None:
    inverted = ImageOps.invert(small)
    data = encode(small, "GIF", save_all=True, append_images=[inverted], duration=100, loop=0)
    image = decode_image(data)
    assert_well_formed(image, data)
    assert image.format == "gif"
    reference = np.asarray(small)
    assert mean_abs_diff(image.pixels, reference) < 12  # palette quantisation only
    assert mean_abs_diff(image.pixels, np.asarray(inverted)) > 60


@pytest.mark.parametrize(
    ("mode", "fmt", "params", "name", "tolerance"),
    [
        ("RGB", "PNG", {}, "png", 0.0),
        ("P", "PNG", {}, "png", 12.0),
        ("L", "PNG", {}, "png", 0.0),
        ("LA", "PNG", {}, "png", 0.0),
        ("1", "PNG", {}, "png", 0.0),
        ("RGB", "WEBP", {"lossless": True}, "webp", 0.0),
        ("RGBA", "WEBP", {"lossless": True}, "webp", 0.0),
        ("RGB", "BMP", {}, "bmp", 0.0),
        ("RGB", "PPM", {}, "ppm", 0.0),
        ("L", "PPM", {}, "pgm", 0.0),
        ("1", "PPM", {}, "pbm", 0.0),
        ("L", "JPEG", {"quality": 95}, "jpeg", 3.0),
        ("CMYK", "JPEG", {"quality": 95}, "jpeg", 4.0),
    ],
)
def test_modes_and_formats(
    small: Image.Image,
    encode: Encode,
    mode: str,
    fmt: str,
    params: dict[str, object],
    name: str,
    tolerance: float,
) -> None:
    source = small.convert(mode)
    data = encode(source, fmt, **params)
    image = decode_image(data)
    assert_well_formed(image, data)
    assert (image.format, image.width, image.height) == (name, small.width, small.height)
    expected = np.asarray(source.convert("RGB"))
    assert mean_abs_diff(image.pixels, expected) <= tolerance


# (stored pixels, EXIF orientation): what a camera writes for an upright scene
_STORED_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(small: Image.Image, encode: Encode, orientation: int) -> None:
    how = _STORED_FOR_ORIENTATION[orientation]
    stored = small.transpose(how) if how is not None else small
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = decode_image(encode(stored, "PNG", exif=exif))
    assert np.array_equal(image.pixels, np.asarray(small))


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_is_ignored(small: Image.Image, encode: Encode) -> None:
    data = encode(small, "PNG", exif=b"Exif\x00\x00MM\x00*garbage")
    assert np.array_equal(decode_image(data).pixels, np.asarray(small))


@pytest.mark.parametrize(
    "name",
    [
        "fixtures/obama.jpg",
        "fixtures/32bit.png",
        "in_the_wild/img47.jpg",
        "orl/s2/3.pgm",
        "in_the_wild/img49.jpg",
    ],
)
def test_header_sizes_agree_with_pillow(face_bytes: Read, faces_dir: Any, name: str) -> None:
    header = read_header(face_bytes(name))
    with Image.open(faces_dir / name) as im:
        assert (header.width, header.height) == im.size


def test_decoded_images_compare_by_content_hash(face_bytes: Read) -> None:
    data = face_bytes("orl/s1/1.pgm")
    assert decode_image(data) == decode_image(data)
    assert hash(decode_image(data)) == hash(decode_image(data))
