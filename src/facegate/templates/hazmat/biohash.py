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

The random matrix comes from numpy's PCG64 bit generator seeded from the key, but the
Gaussians are drawn here (Box-Muller over the raw 64-bit outputs) rather than with
``Generator.standard_normal``: numpy keeps bit generator streams stable across releases but
not the distribution samplers, and templates stored today must match probes made after an
upgrade.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat._mean import MEAN, SPREAD

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

DIM: Final = 128
LEVELS: Final = 8
#: the thresholds cover ±SPAN·SPREAD; ~2.3% of projections fall outside and saturate
SPAN: Final = 2.0
DEFAULT_BITS: Final = 1024
_BLOCK_BITS: Final = DIM * LEVELS  # one orthogonal block of DIM directions
_MAX_BITS: Final = 8 * _BLOCK_BITS
_SEED_TAG: Final = b"facegate/v1/biohash-v1/transform\x00"
#: rows compared per step of :func:`hamming_many`; bounds its scratch memory to ~2 MiB
_CHUNK_ROWS: Final = 16384
_BYTE_PAIRS: Final = np.uint64(0x00FF00FF00FF00FF)
_ADD_FIELDS: Final = np.uint64(0x0001000100010001)

# dlib descriptors have norms of about 1.3 to 1.7. The bounds are wide on purpose: they only
# catch a zero vector, a unit-normalised vector from another model, or garbage.
_MIN_NORM: Final = 0.5
_MAX_NORM: Final = 4.0

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


def _embeddings(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``values`` as an n x 128 float64 matrix, refusing anything that is not embeddings."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != DIM:
        raise ValueError(f"an embedding has {DIM} values, got shape {np.shape(values)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("the embedding contains NaN or infinity")
    norms = np.linalg.norm(arr, axis=1)
    if np.any((norms < _MIN_NORM) | (norms > _MAX_NORM)):
        raise ValueError(
            f"embedding norm {float(norms.min()):.3g}..{float(norms.max()):.3g} is not that "
            f"of a dlib descriptor (about 1.3 to 1.7)"
        )
    return arr


def _uniform(bitgen: np.random.PCG64, n: int) -> npt.NDArray[np.float64]:
    """n doubles in (0, 1) from the raw stream: the top 53 bits, offset by half a step."""
    raw = np.asarray(bitgen.random_raw(n), dtype=np.uint64)
    return ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _normal(bitgen: np.random.PCG64, n: int) -> npt.NDArray[np.float64]:
    """n standard normal samples by Box-Muller (see the module docstring for why)."""
    half = (n + 1) // 2
    u1, u2 = _uniform(bitgen, half), _uniform(bitgen, half)
    radius = np.sqrt(-2.0 * np.log(u1))
    angle = 2.0 * np.pi * u2
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:n]


def _orthogonal(bitgen: np.random.PCG64) -> npt.NDArray[np.float64]:
    """A DIM x DIM random orthogonal matrix, uniformly (Haar) distributed."""
    q, r = np.linalg.qr(_normal(bitgen, DIM * DIM).reshape(DIM, DIM))
    # QR leaves the signs of Q's columns to the algorithm; fixing diag(R) > 0 makes Q
    # Haar-distributed and independent of the LAPACK build.
    return np.asarray(q * np.sign(np.diag(r)), dtype=np.float64)


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
        centred = _embeddings(embeddings) - _MEAN_VEC
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
    rotation = np.vstack([_orthogonal(bitgen).T for _ in range(directions // DIM)])
    dither = _uniform(bitgen, directions)[:, None]
    steps = (np.arange(LEVELS, dtype=np.float64)[None, :] + dither) / LEVELS  # in (0, 1)
    thresholds = (2.0 * steps - 1.0) * (SPAN * SPREAD)
    mask = np.asarray(bitgen.random_raw(bits // 64), dtype="<u8").view(np.uint8)
    for arr in (rotation, thresholds, mask):
        arr.setflags(write=False)
    return Transform(bits=bits, rotation=rotation, thresholds=thresholds, mask=mask)


def protect(embedding: npt.ArrayLike, seed: bytes, *, bits: int = DEFAULT_BITS) -> Template:
    """The biohash-v1 template of one embedding under ``seed``."""
    return transform(seed, bits=bits).protect(embedding)


# --- comparison -------------------------------------------------------------------------


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


def check_template(template: bytes, *, bits: int = DEFAULT_BITS) -> None:
    """Raise ValueError unless ``template`` has the length of a ``bits``-bit template."""
    if len(template) != check_bits(bits) // 8:
        raise ValueError(f"a {bits}-bit template is {bits // 8} bytes, got {len(template)}")


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
