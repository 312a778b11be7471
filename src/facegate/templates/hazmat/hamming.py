"""Hamming comparison of binary templates, vectorised for 1:N search.

Shared by every binary scheme (:mod:`~facegate.templates.hazmat.biohash`,
:mod:`~facegate.templates.hazmat.phasefold`): a template is a byte string whose length is a
multiple of 8, so distances run on uint64 words with ``np.bitwise_count`` (popcount).
Similarity is ``1 - hamming / bits``: 1 for identical templates, about 0.5 for unrelated ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["as_gallery", "hamming", "hamming_many", "similarity", "similarity_many"]

U8 = npt.NDArray[np.uint8]

#: rows compared per step of :func:`hamming_many`; bounds its scratch memory to ~2 MiB
_CHUNK_ROWS: Final = 16384
_BYTE_PAIRS: Final = np.uint64(0x00FF00FF00FF00FF)
_ADD_FIELDS: Final = np.uint64(0x0001000100010001)


def _as_u8(template: bytes | U8, what: str) -> U8:
    if isinstance(template, bytes | bytearray | memoryview):
        arr = np.frombuffer(template, dtype=np.uint8)
    elif isinstance(template, np.ndarray) and template.dtype == np.uint8 and template.ndim == 1:
        arr = template
    else:
        raise TypeError(f"the {what} is bytes or a 1-D uint8 array")
    if arr.size == 0 or arr.size % 8:
        raise ValueError(f"the {what} is a multiple of 8 bytes, got {arr.size}")
    return arr


def hamming(a: bytes | U8, b: bytes | U8) -> int:
    """The number of differing bits between two templates of equal length."""
    x, y = _as_u8(a, "template"), _as_u8(b, "template")
    if x.size != y.size:
        raise ValueError(f"templates of {x.size} and {y.size} bytes cannot be compared")
    return int(np.bitwise_count(x.view(np.uint64) ^ y.view(np.uint64)).sum())


def hamming_many(probe: bytes | U8, gallery: U8) -> npt.NDArray[np.int64]:
    """Hamming distances from ``probe`` to every row of ``gallery`` (n x template bytes).

    One pass over the matrix as uint64 words: XOR, then popcount (``np.bitwise_count``),
    then a row sum. Rows go in chunks so the scratch space stays in cache for any n.
    """
    p = _as_u8(probe, "probe")
    if not isinstance(gallery, np.ndarray) or gallery.dtype != np.uint8 or gallery.ndim != 2:
        raise TypeError("the gallery is an n x template-bytes uint8 matrix")
    if gallery.shape[1] != p.size:
        raise ValueError(
            f"gallery rows are {gallery.shape[1]} bytes but the probe is {p.size} bytes"
        )
    words = np.ascontiguousarray(gallery).view(np.uint64)
    pw = np.ascontiguousarray(p).view(np.uint64)
    n, width = words.shape
    out = np.empty(n, dtype=np.int64)
    scratch = np.empty((min(n, _CHUNK_ROWS), width), dtype=np.uint64)
    counts = np.empty(scratch.shape, dtype=np.uint8)
    for start in range(0, n, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n)
        k = stop - start
        np.bitwise_xor(words[start:stop], pw, out=scratch[:k])
        np.bitwise_count(scratch[:k], out=counts[:k])
        out[start:stop] = _row_sums(counts[:k])
    return out


def _row_sums(counts: U8) -> npt.NDArray[np.int64]:
    """Sum each row of per-word popcounts (each <= 64).

    numpy's reduction over a short uint8 axis is the slowest step of :func:`hamming_many`;
    when a row's counts fill whole uint64 lanes, add them in-register instead ("SWAR"):
    fold 8 byte counts into 4 16-bit fields (each <= 128), then one multiply puts the sum
    of the 4 fields (<= 512, so no carries) in the top 16 bits. About twice as fast.
    """
    if counts.shape[1] % 8:
        return np.asarray(counts.sum(axis=1, dtype=np.int64), dtype=np.int64)
    lanes = counts.view(np.uint64)
    fields = (lanes & _BYTE_PAIRS) + ((lanes >> np.uint64(8)) & _BYTE_PAIRS)
    sums = (fields * _ADD_FIELDS) >> np.uint64(48)
    if sums.shape[1] == 2:  # 1024-bit templates: skip the generic reduction
        return np.asarray(sums[:, 0] + sums[:, 1], dtype=np.int64)
    return np.asarray(sums.sum(axis=1), dtype=np.int64)


def similarity(a: bytes | U8, b: bytes | U8) -> float:
    """1 - hamming / bits: 1 for identical templates, about 0.5 for unrelated ones."""
    bits = 8 * _as_u8(a, "template").size
    return 1.0 - hamming(a, b) / bits


def similarity_many(probe: bytes | U8, gallery: U8) -> npt.NDArray[np.float64]:
    """:func:`similarity` of ``probe`` to every row of ``gallery``."""
    bits = 8 * _as_u8(probe, "probe").size
    return 1.0 - hamming_many(probe, gallery) / bits


def as_gallery(templates: Iterable[bytes]) -> U8:
    """Stack equal-length templates into the matrix :func:`hamming_many` takes."""
    rows = [np.frombuffer(t, dtype=np.uint8) for t in templates]
    if not rows:
        raise ValueError("a gallery needs at least one template")
    widths = {r.size for r in rows}
    if len(widths) != 1:
        raise ValueError(f"templates of different lengths cannot share a gallery: {widths}")
    return np.ascontiguousarray(np.vstack(rows))
