"""biohash-v2: biohash-v1's thermometer code, with more rotations and a wider span.

An embedding ``x`` (128 floats) becomes 16384 bits:

1. centre: ``x - MEAN`` (:mod:`~facegate.templates.hazmat._mean_v2`, from the tuning photos
   only);
2. rotate: ``ROTATIONS`` = 16 independent keyed random orthogonal 128 x 128 blocks (2048
   directions);
3. quantise each projection against ``LEVELS`` = 8 keyed-dither thresholds spread evenly
   over ``±SPAN·SPREAD`` with ``SPAN`` = 3 (biohash-v1: 2), as a thermometer code;
4. XOR a keyed mask. Templates are 2048 bytes.

Why: Hamming distance between thermometer codes estimates the L1 distance of the rotated
vectors, and dlib is calibrated for the euclidean (L2) one. Averaging L1 over more random
rotations converges to a multiple of L2, and a wider span saturates fewer projections. On the
tuning photos (in_the_wild, orl), the RMS error of the euclidean distance predicted from the
Hamming distance, for pairs 0.4 to 0.8 apart (where decisions are made), falls from 17.6 and
12.5 thousandths (biohash-v1:4096) to 6.3 and 6.2. Measured on held-out photos:
docs/template-protection.md.

The first 1024 bits are the first rotation at 8 levels: a complete 1024-bit code by
themselves, which a 1:N search scans first (``search_prefix_bytes``) before ranking a
shortlist by the whole template, so 1:N search costs what biohash-v1 costs.

Same properties and same caveat as biohash-v1: without the seed nothing relates a template to
an embedding; with it, the template is invertible up to the quantisation.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import keyed_random
from facegate.templates.hazmat._mean_v2 import MEAN, SPREAD
from facegate.templates.hazmat.keyed_random import as_embeddings

__all__ = ["BITS", "LEVELS", "MEAN", "ROTATIONS", "SPAN", "SPREAD", "Transform", "transform"]

DIM: Final = keyed_random.DIM
LEVELS: Final = 8
ROTATIONS: Final = 16
SPAN: Final = 3.0
BITS: Final = ROTATIONS * DIM * LEVELS
#: the first rotation: a whole 1024-bit code, for the 1:N shortlist
PREFIX_BYTES: Final = DIM * LEVELS // 8
_SEED_TAG: Final = b"facegate/v1/biohash-v2/transform\x00"

_MEAN_VEC: Final = np.array(MEAN, dtype=np.float64)
_MEAN_VEC.setflags(write=False)

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True, eq=False)
class Transform:
    """The keyed transform of one seed. Holds key-equivalent material."""

    rotation: npt.NDArray[np.float64] = field(repr=False)  # directions x DIM
    thresholds: npt.NDArray[np.float64] = field(repr=False)  # directions x LEVELS
    mask: U8 = field(repr=False)  # BITS / 8

    @property
    def bits(self) -> int:
        return BITS

    @property
    def template_bytes(self) -> int:
        return BITS // 8

    def protect(self, embedding: npt.ArrayLike) -> bytes:
        """The template of one embedding."""
        if np.ndim(embedding) != 1:
            raise ValueError(f"one embedding is a vector of {DIM}; use protect_many for more")
        return bytes(self.protect_many(embedding)[0])

    def protect_many(self, embeddings: npt.ArrayLike) -> U8:
        """Templates of n embeddings, as an n x 2048 gallery matrix."""
        centred = as_embeddings(embeddings) - _MEAN_VEC
        out = np.empty((len(centred), BITS // 8), dtype=np.uint8)
        # in chunks: the n x 2048 x 8 comparison is 16 bytes an embedding-bit otherwise
        for start in range(0, len(centred), 512):
            part = centred[start : start + 512] @ self.rotation.T
            above = part[:, :, None] > self.thresholds[None, :, :]
            out[start : start + len(part)] = np.packbits(
                above.reshape(len(part), BITS), axis=1, bitorder="little"
            )
        return np.ascontiguousarray(out ^ self.mask)


@functools.lru_cache(maxsize=16)
def transform(seed: bytes) -> Transform:
    """The transform for ``seed`` (32 bytes, e.g. ``keys.derive(dep_key, label=...)``).

    Cached like biohash-v1's: building it costs 16 QR decompositions.
    """
    if not isinstance(seed, bytes) or len(seed) < 16:
        raise ValueError("the transform seed is a secret of at least 16 bytes")
    digest = hashlib.sha256(_SEED_TAG + seed).digest()
    bitgen = np.random.PCG64(np.random.SeedSequence(int.from_bytes(digest, "big")))
    rotation = np.vstack([keyed_random.orthogonal(bitgen).T for _ in range(ROTATIONS)])
    dither = keyed_random.uniform(bitgen, ROTATIONS * DIM)[:, None]
    steps = (np.arange(LEVELS, dtype=np.float64)[None, :] + dither) / LEVELS  # in (0, 1)
    thresholds = (2.0 * steps - 1.0) * (SPAN * SPREAD)
    mask = np.asarray(bitgen.random_raw(BITS // 64), dtype="<u8").view(np.uint8)
    for arr in (rotation, thresholds, mask):
        arr.setflags(write=False)
    return Transform(rotation=rotation, thresholds=thresholds, mask=mask)
