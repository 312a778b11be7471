"""Recognise an image format from its first bytes and read the size its header claims.

Nothing here decodes pixels: the point is to refuse decompression bombs before any
decoder allocates memory for them. Formats are told apart by content, never by file name.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from facegate.errors import CorruptImage, UnsupportedImage

JPEG = "jpeg"
PNG = "png"
WEBP = "webp"
GIF = "gif"
PBM = "pbm"
PGM = "pgm"
PPM = "ppm"
BMP = "bmp"

#: our format name -> the Pillow plugin allowed to open it (nothing else is ever tried,
#: so Pillow's riskier plugins, e.g. EPS via Ghostscript, are unreachable)
PILLOW_FORMATS: dict[str, str] = {
    JPEG: "JPEG",
    PNG: "PNG",
    WEBP: "WEBP",
    GIF: "GIF",
    PBM: "PPM",
    PGM: "PPM",
    PPM: "PPM",
    BMP: "BMP",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNM_KINDS = {b"1": PBM, b"4": PBM, b"2": PGM, b"5": PGM, b"3": PPM, b"6": PPM}

# formats people do send but we do not accept, named so the refusal can say which
_KNOWN_UNSUPPORTED: tuple[tuple[bytes, int, str], ...] = (
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
    (b"%PDF", 0, "PDF"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
)

_PNM_TOKEN = re.compile(rb"\s*(?:#[^\n\r]*[\n\r]\s*)*(\d{1,10})(?!\d)")


@dataclass(frozen=True)
class ImageHeader:
    """What an image's header says about it, before any pixel is decoded."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff_format(data: bytes) -> str:
    """Name the format of ``data`` from its magic bytes; raise UnsupportedImage otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:1] == b"P" and data[1:2] in _PNM_KINDS and data[2:3].isspace():
        return _PNM_KINDS[data[1:2]]
    if data[:2] == b"BM" and len(data) >= 26:
        return BMP
    for magic, offset, name in _KNOWN_UNSUPPORTED:
        if data[offset : offset + len(magic)] == magic:
            raise UnsupportedImage(f"{name} images are not supported")
    if _looks_like_text(data):
        raise UnsupportedImage("the upload is text, not an image")
    raise UnsupportedImage("the upload is not an image format facegate recognises")


def read_header(data: bytes) -> ImageHeader:
    """Sniff the format and read the claimed width and height from the header alone."""
    fmt = sniff_format(data)
    try:
        width, height = _READERS[fmt](data)
    except (struct.error, IndexError, ValueError) as exc:
        # the magic matched but the header is cut short or malformed
        raise CorruptImage(f"the {fmt.upper()} header is damaged or incomplete") from exc
    if width <= 0 or height <= 0:
        raise CorruptImage(f"the {fmt.upper()} header claims an empty {width}x{height} image")
    return ImageHeader(format=fmt, width=width, height=height)


def _looks_like_text(data: bytes) -> bool:
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character may be cut at the 512-byte boundary
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch.isspace() for ch in text)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    # walk the marker segments up to the start of scan; the frame header (SOFn) has the size
    pos = 2
    size: tuple[int, int] | None = None
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ValueError("expected a JPEG marker")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # segments without a length
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan
            break
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2:
            raise ValueError("bad JPEG segment length")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            # several frame headers: keep the largest claim, whichever a decoder believes
            if size is None or width * height > size[0] * size[1]:
                size = (width, height)
        pos += length
    if size is None:
        raise ValueError("no JPEG frame header before the image data")
    return size


def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ValueError("PNG does not start with IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 start code")
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ValueError("bad VP8L signature")
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        if len(data) < 30:
            raise ValueError("short VP8X chunk")
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise ValueError("unknown WebP chunk")


def _gif_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack("<HH", data[6:10])
    # a frame may lie partly outside the logical screen and decoders grow the canvas to fit
    # it, so the first frame's extent counts too
    frame = _gif_first_frame_extent(data)
    if frame is not None:
        width, height = max(width, frame[0]), max(height, frame[1])
    return width, height


def _gif_first_frame_extent(data: bytes) -> tuple[int, int] | None:
    flags = data[10]
    pos = 13
    if flags & 0x80:
        pos += 3 * (2 ** ((flags & 0x07) + 1))
    while pos < len(data):
        block = data[pos]
        if block == 0x2C:  # image descriptor
            left, top, width, height = struct.unpack("<HHHH", data[pos + 1 : pos + 9])
            return left + width, top + height
        if block != 0x21:  # anything but an extension: give up, the decoder will judge
            return None
        pos += 2
        while pos < len(data) and data[pos] != 0:  # skip the extension's sub-blocks
            pos += data[pos] + 1
        pos += 1
    return None


def _pnm_size(data: bytes) -> tuple[int, int]:
    first = _PNM_TOKEN.match(data, 2)
    if first is None:
        raise ValueError("no PNM width")
    second = _PNM_TOKEN.match(data, first.end())
    if second is None:
        raise ValueError("no PNM height")
    return int(first.group(1)), int(second.group(1))


def _bmp_size(data: bytes) -> tuple[int, int]:
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", data[18:22])
        return width, height
    width, height = struct.unpack("<ii", data[18:26])
    return width, abs(height)  # a negative height means rows are stored top-down


_READERS = {
    JPEG: _jpeg_size,
    PNG: _png_size,
    WEBP: _webp_size,
    GIF: _gif_size,
    PBM: _pnm_size,
    PGM: _pnm_size,
    PPM: _pnm_size,
    BMP: _bmp_size,
}
