"""Turn uploaded bytes into an upright RGB pixel array, or refuse them with a clear error.

Every check that can be made from the header (size in bytes, claimed width and height) is
made before Pillow decodes anything, so a decompression bomb is refused without allocating
its pixels. Whatever goes wrong inside Pillow comes out as one of facegate's image errors.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from facegate.config import RecognitionSettings
from facegate.errors import (
    ConfigError,
    CorruptImage,
    DecompressionBomb,
    FacegateError,
    ImageTooLarge,
    UnsupportedImage,
)
from facegate.recognition import budget
from facegate.recognition.headers import PILLOW_FORMATS, ImageHeader, read_header

__all__ = ["DecodedImage", "decode_image"]

_WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_DEEP_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
#: Pillow's bytes per pixel by mode (the rest, RGB included, are stored 4 to a pixel)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
#: modes Pillow cannot reduce, and what they become first
_WIDEN_BEFORE_REDUCE = {
    "1": "L",
    "P": "RGBA",
    "I;16": "I",
    "I;16L": "I",
    "I;16B": "I",
    "I;16N": "I",
}
#: the decoder's own state (zlib windows and the like), later detection's working copy
_SLACK = 4 * 1024 * 1024
#: the most pixels face detection scans (the engine's retry budget)
_SCAN_PIXELS = 4_000_000
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB photo. ``pixels`` is read-only, HxWx3 uint8, C-contiguous."""

    pixels: npt.NDArray[np.uint8] = field(repr=False, compare=False)
    format: str
    width: int
    height: int
    #: hex SHA-256 of the bytes as uploaded, before any decoding
    sha256: str
    #: width / the width the header claims: below 1 when a large photo was decoded reduced
    #: (``decode_pixels``), so that its pixels stay within the decode budget
    scale: float = 1.0


def decode_image(data: bytes, *, limits: RecognitionSettings | None = None) -> DecodedImage:
    """Decode ``data`` (JPEG, PNG, WebP, GIF first frame, PBM/PGM/PPM or BMP).

    Raises CorruptImage, UnsupportedImage, ImageTooLarge or DecompressionBomb, and nothing else.
    """
    limits = limits if limits is not None else RecognitionSettings()
    try:
        return _decode(bytes(data), limits)
    except FacegateError:
        raise
    except MemoryError as exc:
        raise ImageTooLarge("the photo needs more memory to decode than is available") from exc
    except Exception as exc:  # promised: nothing but facegate's image errors escapes
        raise CorruptImage(f"the image could not be decoded ({type(exc).__name__})") from exc


def _decode(data: bytes, limits: RecognitionSettings) -> DecodedImage:
    if not data:
        raise CorruptImage(
            "the upload is empty (0 bytes)", advice="Check that the photo was attached and retry."
        )
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"the upload is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes"
        )
    header = read_header(data)
    _check_dimensions(header.width, header.height, header.format, limits)
    digest = hashlib.sha256(data).hexdigest()
    pixels, scale = _decode_with_pillow(data, header, limits)  # holds its budget share
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise CorruptImage(f"the {header.format.upper()} image decoded to an unexpected shape")
    pixels.setflags(write=False)
    return DecodedImage(
        pixels=pixels,
        format=header.format,
        width=int(pixels.shape[1]),
        height=int(pixels.shape[0]),
        sha256=digest,
        scale=scale,
    )


def _check_dimensions(width: int, height: int, fmt: str, limits: RecognitionSettings) -> None:
    # Pillow warns above its own global MAX_IMAGE_PIXELS; staying under it too means that
    # warning never fires for an image we let through, without touching the global
    pillow_cap = Image.MAX_IMAGE_PIXELS
    max_pixels = limits.max_pixels if pillow_cap is None else min(limits.max_pixels, pillow_cap)
    if width > limits.max_side or height > limits.max_side or width * height > max_pixels:
        raise DecompressionBomb(
            f"the {fmt.upper()} header claims {width}x{height} pixels; the limit is "
            f"{limits.max_side} pixels a side and {max_pixels:,} pixels in all",
            advice=(
                f"If the photo really is that large, resize it (at most {limits.max_side} "
                f"pixels a side, {max_pixels / 1e6:.0f} megapixels) and retry."
            ),
        )


def _decode_with_pillow(
    data: bytes, header: ImageHeader, limits: RecognitionSettings
) -> tuple[npt.NDArray[np.uint8], float]:
    """The upright RGB pixels, and their scale (decoded width / the image's width)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # someone flipped Pillow's global; a truncated photo would then decode half grey
        raise ConfigError(
            "image decoding is misconfigured: PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on",
            advice="Remove the code that sets LOAD_TRUNCATED_IMAGES; facegate needs it off.",
        )
    name = header.format.upper()
    pool = budget.shared(limits.decode_budget_mb, limits.decode_wait_s)
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[header.format]]) as im:
            if im.size != (header.width, header.height):
                # e.g. a GIF frame that grows the canvas: judge what the decoder will allocate
                _check_dimensions(im.width, im.height, header.format, limits)
            claimed = im.width
            if im.format == "JPEG":  # the decoder itself scales by 1/2, 1/4 or 1/8
                factor = _reduction(im.width, im.height, limits.decode_pixels)
                im.draft(None, (-(-im.width // factor), -(-im.height // factor)))
            factor = _reduction(im.width, im.height, limits.decode_pixels)
            with pool.reserve(_peak_bytes(im, factor)) as lease:
                im.load()  # decode now, inside this guard, so truncation surfaces here
                # after load: a PNG's EXIF may follow its pixels, and reading it decodes them
                transpose = _TRANSPOSE_FOR_ORIENTATION.get(_orientation(im))
                rgb = _to_rgb(_reduced(im, factor))
                scale = rgb.width / claimed
                if transpose is not None:
                    rgb = rgb.transpose(transpose)
                # one copy out (the image's bytes, viewed read-only), while the file is open
                pixels: npt.NDArray[np.uint8] = np.asarray(rgb, dtype=np.uint8)
                # kept until the pixels are freed: they and the detection that runs on them
                lease.keep(pixels, pixels.nbytes + _detection_bytes(rgb.width * rgb.height))
                return pixels, scale
    except FacegateError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecompressionBomb(f"Pillow refused the {name} image as a bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptImage(f"the file starts like a {name} image but is not one") from exc
    except ValueError as exc:
        if "decompressed data too large" in str(exc).lower():
            # a compressed metadata chunk (e.g. PNG zTXt) that inflates without bound
            raise DecompressionBomb(f"the {name} image holds a compressed bomb") from exc
        raise CorruptImage(f"the {name} image is damaged: {exc}") from exc
    except (OSError, SyntaxError, EOFError, IndexError, TypeError, KeyError) as exc:
        raise CorruptImage(f"the {name} image is damaged or truncated: {exc}") from exc


def _reduction(width: int, height: int, max_pixels: int) -> int:
    """The smallest integer factor that brings ``width`` x ``height`` to ``max_pixels``."""
    factor = max(1, math.isqrt(width * height // max_pixels))
    while -(-width // factor) * -(-height // factor) > max_pixels:
        factor += 1
    return factor


def _reduced(im: Image.Image, factor: int) -> Image.Image:
    """``im`` box-reduced by ``factor``; the full-size pixels are freed at once."""
    if factor == 1:
        return im
    wide = _WIDEN_BEFORE_REDUCE.get(im.mode)
    if wide == "RGBA" and "transparency" not in im.info:
        wide = "RGB"
    source = im.convert(wide) if wide else im
    small = source.reduce(factor)
    small.info = dict(im.info)
    im.close()  # frees the decoder's buffer now rather than when the file closes
    return small


def _peak_bytes(im: Image.Image, factor: int) -> int:
    """The most bytes decoding ``im`` holds at once, from its header: the decoder's buffer
    (and a widened copy) while reducing, then the reduced image, its RGB conversion, a
    rotated copy (EXIF is only read once decoded, so one is always counted) and the
    output array."""
    full = im.width * im.height
    small = -(-im.width // factor) * -(-im.height // factor)
    decoded = full * _BYTES_PER_PIXEL.get(im.mode, 4)
    reducing = decoded + full * 4 * (im.mode in _WIDEN_BEFORE_REDUCE) + small * 4
    conversion = 0 if im.mode == "RGB" else 9 if im.mode in _DEEP_MODES else 8
    after = small * (4 + conversion + 4 + 3)
    return (reducing if factor > 1 else decoded) + after + _SLACK + _detection_bytes(small)


def _detection_bytes(pixels: int) -> int:
    """What face detection on a photo of ``pixels`` holds: dlib's HOG scan takes ~10 bytes
    per pixel scanned (measured: 41 MB for its largest, a 4-megapixel retry), and the scan
    is capped by the engine at 4 megapixels (a working copy, upsampled at most 4 times)."""
    return 10 * min(_SCAN_PIXELS, 4 * pixels) + _SLACK


def _orientation(im: Image.Image) -> int:
    # broken EXIF is common in real photos and says nothing about the pixels: ignore it
    try:
        return int(im.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:
        return 1


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in _DEEP_MODES:
        return Image.fromarray(_deep_to_8bit(np.asarray(im))).convert("RGB")
    if im.mode == "1":
        return im.convert("L").convert("RGB")
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        # transparent areas become white, not black, so they read as a plain backdrop
        out = Image.new("RGB", rgba.size, _WHITE)
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    if im.mode == "RGB":
        return im
    try:
        return im.convert("RGB")
    except ValueError as exc:  # e.g. LAB, which Pillow cannot turn into RGB
        raise UnsupportedImage(f"{im.mode} colour images are not supported") from exc


def _deep_to_8bit(values: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8]:
    """Scale 16-bit or 32-bit greyscale to 0..255 (values already in 0..255 are kept).

    float32 and in place: exact for 16-bit values, and 4 bytes a pixel rather than the
    8 of float64 and its temporaries (this runs on the reduced image, see _peak_bytes)."""
    wide = values.astype(np.float32)
    top = float(np.nanmax(wide)) if wide.size else 0.0
    if values.dtype.kind == "f" and top <= 1.0:
        wide *= 255.0  # floating point images are usually in 0..1
    elif top > 255.0:
        wide *= 255.0 / 65535.0
    np.nan_to_num(wide, copy=False)
    np.rint(wide, out=wide)
    np.clip(wide, 0, 255, out=wide)
    out: npt.NDArray[np.uint8] = wide.astype(np.uint8)
    return out
