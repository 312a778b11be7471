"""Turn uploaded bytes into an upright RGB pixel array, or refuse them with a clear error.

Every check that can be made from the header (size in bytes, claimed width and height) is
made before Pillow decodes anything, so a decompression bomb is refused without allocating
its pixels. Whatever goes wrong inside Pillow comes out as one of facegate's image errors.
"""

from __future__ import annotations

import hashlib
import io
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
from facegate.recognition.headers import PILLOW_FORMATS, ImageHeader, read_header

__all__ = ["DecodedImage", "decode_image"]

_WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_DEEP_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
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
    pixels = _decode_with_pillow(data, header, limits)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise CorruptImage(f"the {header.format.upper()} image decoded to an unexpected shape")
    pixels.setflags(write=False)
    return DecodedImage(
        pixels=pixels,
        format=header.format,
        width=int(pixels.shape[1]),
        height=int(pixels.shape[0]),
        sha256=digest,
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
) -> npt.NDArray[np.uint8]:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # someone flipped Pillow's global; a truncated photo would then decode half grey
        raise ConfigError(
            "image decoding is misconfigured: PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on",
            advice="Remove the code that sets LOAD_TRUNCATED_IMAGES; facegate needs it off.",
        )
    name = header.format.upper()
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[header.format]]) as im:
            if im.size != (header.width, header.height):
                # e.g. a GIF frame that grows the canvas: judge what the decoder will allocate
                _check_dimensions(im.width, im.height, header.format, limits)
            im.load()  # decode now, inside this guard, so truncation surfaces here
            rgb = _to_rgb(im)
            transpose = _TRANSPOSE_FOR_ORIENTATION.get(_orientation(im))
            if transpose is not None:
                rgb = rgb.transpose(transpose)
            # copy out while the file is open: a closed Pillow image has no pixels
            return np.array(rgb, dtype=np.uint8, order="C")
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
    """Scale 16-bit or 32-bit greyscale to 0..255 (values already in 0..255 are kept)."""
    wide = values.astype(np.float64)
    if values.dtype.kind == "f" and wide.size and float(np.nanmax(wide)) <= 1.0:
        wide = wide * 255.0  # floating point images are usually in 0..1
    elif wide.size and float(np.nanmax(wide)) > 255.0:
        wide = wide * (255.0 / 65535.0)
    out: npt.NDArray[np.uint8] = np.clip(np.nan_to_num(np.rint(wide)), 0, 255).astype(np.uint8)
    return out
