"""Write the bad images of the corpus (deterministic bytes; run again to regenerate).

    python tests/data/bad_inputs/make_images.py

Each is small on disk and wrong in one way a real upload can be: cut short, empty, not an
image, a decompression bomb, a header claiming a huge canvas, a format's odd corners, or a
pixel layout (16-bit, CMYK) a naive decoder mishandles. None holds a face or a person.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent / "images"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, idat: bytes | None, depth: int = 8, color: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr) + (_chunk(b"IDAT", idat) if idat is not None else b"")
    return b"\x89PNG\r\n\x1a\n" + body + (_chunk(b"IEND", b"") if idat is not None else b"")


def _gradient(mode: str = "RGB") -> Image.Image:
    ramp = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (96, 1))
    return Image.fromarray(np.dstack([ramp, ramp[::-1], ramp]), "RGB").convert(mode)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def images() -> dict[str, bytes]:
    jpeg = _save(_gradient(), "JPEG", quality=90)
    webp = _save(_gradient(), "WEBP")
    return {
        "empty.jpg": b"",
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "text.jpg": b"this is a text file with a .jpg name\n" * 8,
        # 20000 x 20000 RGB whose pixels are zeros: a megabyte of them compresses to 1 KB
        "bomb.png": _png(20000, 20000, zlib.compress(b"\x00" * (1 << 20), 9)),
        "huge_header.png": _png(30000, 30000, None),
        "webp_truncated.webp": webp[:40],
        # VP8X claiming a 16384 x 16384 canvas, then nothing
        "webp_huge_canvas.webp": b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X"
        + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2,
        # a logical screen of 65535 x 65535 and no image at all
        "gif_huge_screen.gif": b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;",
        "gif_no_frames.gif": b"GIF89a" + struct.pack("<HH", 64, 64) + b"\x00\x00\x00;",
        "png_16bit.png": _save(
            Image.fromarray((np.arange(96 * 128).reshape(96, 128) * 5).astype(np.uint16)), "PNG"
        ),
        "cmyk.jpg": _save(_gradient("CMYK"), "JPEG"),
        "pgm_huge_header.pgm": b"P5\n60000 60000\n255\n" + b"\x00" * 64,
    }  # fmt: skip


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, data in images().items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
