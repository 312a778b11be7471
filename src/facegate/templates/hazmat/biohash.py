"""biohash-v1: a keyed, cancelable binary transform of dlib face embeddings.

An embedding ``x`` (128 floats) becomes ``bits`` bits:

1. centre: ``x - MEAN``, where ``MEAN`` is a public average over many people (``_mean.py``);
2. rotate: multiply by a keyed random orthogonal matrix (``bits / 8 / 128`` independent
   128 x 128 blocks, each the Q of a Gaussian matrix's QR decomposition, so the projection
   directions of a block are orthonormal, as in BioHashing);
3. quantise each projection against ``LEVELS`` = 8 thresholds spread evenly over
   ``±SPAN·SPREAD`` with a keyed dither, as a thermometer code (bit ``j`` says "above
   threshold ``j``");
4. XOR with a keyed mask, and pack to bytes (1024 bits -> 128 bytes).

Why not plain signs of a projection of the L2-normalised vector (classic BioHash)? Signs
keep only the angle around ``MEAN``, and dlib's embeddings are calibrated for *euclidean*
distance: their distance from ``MEAN`` varies and carries identity. Measured on the shared
photos (``_calibrate.py --classic``), classic signs lose 2.1 accuracy points on the
celebrity set against raw dlib at the best threshold of each; the thermometer code keeps the
length, since its Hamming distance approximates the L1 distance of the rotated vectors,
which tracks the euclidean one, and loses 0.6 (0.3 at 2048 bits). The thermometer
bits are biased (the outer thresholds are rarely crossed), so the keyed mask is what makes
templates under two keys agree on only half their bits.

Properties: without the key (seed) nothing relates a template to an embedding, or two
templates of one person under different keys (similarity ~0.5, as for random bits); a new
key cancels and re-issues. With the key, a template reveals its embedding only up to the
quantisation; the templates are therefore also encrypted at rest, and the seed is derived
from a deployment key that is itself stored wrapped.

The random matrix comes from numpy's PCG64 bit generator seeded from the key, with the
Gaussians drawn by :mod:`~facegate.templates.hazmat.keyed_random` (Box-Muller over the raw
64-bit outputs) rather than ``Generator.standard_normal``: numpy keeps bit generator streams
stable across releases but not the distribution samplers, and templates stored today must
match probes made after an upgrade.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import keyed_random
from facegate.templates.hazmat._mean import MEAN, SPREAD
from facegate.templates.hazmat.hamming import (
    as_gallery,
    hamming,
    hamming_many,
    similarity,
    similarity_many,
)
from facegate.templates.hazmat.keyed_random import as_embeddings

__all__ = [
    "DEFAULT_BITS",
    "DIM",
    "LEVELS",
    "MEAN",
    "SPAN",
    "SPREAD",
    "Transform",
    "as_gallery",
    "check_bits",
    "check_template",
    "hamming",
    "hamming_many",
    "protect",
    "similarity",
    "similarity_many",
    "transform",
]

DIM: Final = keyed_random.DIM
LEVELS: Final = 8
#: the thresholds cover ±SPAN·SPREAD; ~2.3% of projections fall outside and saturate
SPAN: Final = 2.0
DEFAULT_BITS: Final = 1024
_BLOCK_BITS: Final = DIM * LEVELS  # one orthogonal block of DIM directions
_MAX_BITS: Final = 8 * _BLOCK_BITS
_SEED_TAG: Final = b"facegate/v1/biohash-v1/transform\x00"

_MEAN_VEC: Final = np.array(MEAN, dtype=np.float64)
_MEAN_VEC.setflags(write=False)

Template = bytes
U8 = npt.NDArray[np.uint8]


def check_bits(bits: int) -> int:
    """``bits`` if it is a valid template length, else ValueError (TypeError if not an int)."""
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise TypeError(f"bits is an int, not {type(bits).__name__}")
    # Whole orthogonal blocks, so every direction of the space is sampled equally; a multiple
    # of 64 also lets Hamming distances run on uint64 words.
    if bits <= 0 or bits % _BLOCK_BITS or bits > _MAX_BITS:
        raise ValueError(f"bits must be a multiple of {_BLOCK_BITS} up to {_MAX_BITS}, got {bits}")
    return bits


@dataclass(frozen=True, slots=True, eq=False)
class Transform:
    """The keyed transform of one seed and length. Holds key-equivalent material."""

    bits: int
    rotation: npt.NDArray[np.float64] = field(repr=False)  # directions x DIM
    thresholds: npt.NDArray[np.float64] = field(repr=False)  # directions x LEVELS
    mask: U8 = field(repr=False)  # bits / 8

    @property
    def template_bytes(self) -> int:
        return self.bits // 8

    def protect(self, embedding: npt.ArrayLike) -> Template:
        """The template of one embedding."""
        if np.ndim(embedding) != 1:
            raise ValueError(f"one embedding is a vector of {DIM}; use protect_many for more")
        return bytes(self.protect_many(embedding)[0])

    def protect_many(self, embeddings: npt.ArrayLike) -> U8:
        """Templates of n embeddings, as an n x template_bytes gallery matrix."""
        centred = as_embeddings(embeddings) - _MEAN_VEC
        projected = centred @ self.rotation.T  # n x directions
        above = projected[:, :, None] > self.thresholds[None, :, :]  # n x directions x LEVELS
        packed = np.packbits(above.reshape(len(centred), self.bits), axis=1, bitorder="little")
        return np.ascontiguousarray(packed ^ self.mask)


@functools.lru_cache(maxsize=32)
def transform(seed: bytes, *, bits: int = DEFAULT_BITS) -> Transform:
    """The transform for ``seed`` (32 bytes, e.g. ``keys.derive(dep_key, label=...)``).

    Cached: building it costs a few QR decompositions, and a deployment uses one seed. The
    cache keeps key-equivalent material in memory, as the unwrapped keys already are.
    """
    if not isinstance(seed, bytes) or len(seed) < 16:
        raise ValueError("the transform seed is a secret of at least 16 bytes")
    check_bits(bits)
    directions = bits // LEVELS
    # The length is hashed in so that a 2048-bit transform is not an extension of the
    # 1024-bit one made from the same seed.
    digest = hashlib.sha256(_SEED_TAG + struct.pack(">I", bits) + seed).digest()
    bitgen = np.random.PCG64(np.random.SeedSequence(int.from_bytes(digest, "big")))
    rotation = np.vstack([keyed_random.orthogonal(bitgen).T for _ in range(directions // DIM)])
    dither = keyed_random.uniform(bitgen, directions)[:, None]
    steps = (np.arange(LEVELS, dtype=np.float64)[None, :] + dither) / LEVELS  # in (0, 1)
    thresholds = (2.0 * steps - 1.0) * (SPAN * SPREAD)
    mask = np.asarray(bitgen.random_raw(bits // 64), dtype="<u8").view(np.uint8)
    for arr in (rotation, thresholds, mask):
        arr.setflags(write=False)
    return Transform(bits=bits, rotation=rotation, thresholds=thresholds, mask=mask)


def protect(embedding: npt.ArrayLike, seed: bytes, *, bits: int = DEFAULT_BITS) -> Template:
    """The biohash-v1 template of one embedding under ``seed``."""
    return transform(seed, bits=bits).protect(embedding)


# --- comparison (Hamming, shared with the other binary schemes) ----------------------------


def check_template(template: bytes, *, bits: int = DEFAULT_BITS) -> None:
    """Raise ValueError unless ``template`` has the length of a ``bits``-bit template."""
    if len(template) != check_bits(bits) // 8:
        raise ValueError(f"a {bits}-bit template is {bits // 8} bytes, got {len(template)}")
