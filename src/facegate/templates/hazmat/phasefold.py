"""phasefold-v1: keyed random projections folded onto a circle (locality-sensitive, 1:1).

An embedding ``x`` (128 floats) becomes ``bits`` bits, two per feature:

1. project: ``t_i = w_i · x`` for ``features = bits / 2`` keyed directions ``w_i``, drawn as
   orthogonal random features (Yu et al., NeurIPS 2016: blocks of 128 orthonormal directions,
   each scaled by an independent chi(128) length, divided by the bandwidth ``h``), so each
   ``w_i`` is distributed as a Gaussian ``N(0, I / h²)`` and the blocks have less variance;
2. fold: keep only the phase ``(t_i + d_i) mod 2π`` with a keyed uniform dither ``d_i``: every
   projection is known only modulo its period ``2π h / |w_i h|`` (about ``0.56 h``);
3. quantise the phase into ``LEVELS`` = 4 quarter-turns and write each as a 2-bit Gray code,
   so the Hamming distance between two codes is their distance around the circle.

Comparing templates (:mod:`~facegate.templates.hazmat.hamming`) counts how far apart the
phases are. For two embeddings at euclidean distance ``d`` the phase difference of a feature is
``N(0, d² / h²)`` wrapped onto the circle, so the expected similarity falls from 1 at ``d = 0``
towards 0.5 (unrelated) at a few ``h``: a locality-sensitive code for a shift-invariant kernel
(Raginsky & Lazebnik, NIPS 2009, here with 4 phase levels instead of 1 bit). Two templates
made with different keys are independent fair coin flips (the dither makes every phase
uniform whatever the face), so they agree on half their bits.

Why fold (the irreversibility argument): each feature is a many-to-one function of ``x``
(every ``x + k·2π w_i / |w_i|²`` gives the same phase), so a template is consistent with a
lattice of embeddings rather than with a box around one, as a biohash-v1 template is with its
key. Recovering ``x`` from the phases with the key is a noisy system of modular linear
equations, the "continuous LWE" problem, which Bruna, Regev, Song and Tang (STOC 2021) show
is as hard as worst-case lattice problems when the frequencies are large (``|w| |x| ≳ 2√n``)
and the noise is not negligible (here the quantisation: a quarter turn). The hardness result
is asymptotic; what matters at n = 128 is what attacks achieve, which
``facegate bench protection`` measures. The bandwidth ``h`` sets the trade-off: a smaller
``h`` folds the face space more often and leaves a search no gradient to follow beyond a few
``h`` of the face, but accepts fewer genuine photos whose embeddings lie far apart.

Like biohash-v1, the random numbers are drawn from the raw PCG64 stream
(:mod:`~facegate.templates.hazmat.keyed_random`), so templates stay stable across numpy
releases.
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
from facegate.templates.hazmat.keyed_random import DIM, as_embeddings

__all__ = [
    "DEFAULT_BANDWIDTH",
    "DEFAULT_BITS",
    "LEVELS",
    "Transform",
    "check_bandwidth",
    "check_bits",
    "protect",
    "transform",
]

LEVELS: Final = 4
#: one block of orthogonal random features: DIM directions, two bits each
_BLOCK_BITS: Final = 2 * DIM
_MAX_BITS: Final = 65536
#: 2 KiB templates: 8192 features. Chosen by docs/template-protection.md's trade-off table:
#: at the default bandwidth, 16384 bits keep accuracy within about 0.4 points of the raw
#: embedding on the shared sets where 8192 lose up to 1.7.
DEFAULT_BITS: Final = 16384
#: in embedding units (dlib's same-person distances are about 0.2 to 0.6). Narrower folds
#: resist the stolen-key attack better and reject more genuine photos; see the trade-off.
DEFAULT_BANDWIDTH: Final = 0.2
_MIN_BANDWIDTH: Final = 0.05
_MAX_BANDWIDTH: Final = 2.0
_SEED_TAG: Final = b"facegate/v1/phasefold-v1/transform\x00"
#: Gray code of each quarter-turn: neighbours around the circle differ in one bit
_GRAY: Final = np.array([0b00, 0b01, 0b11, 0b10], dtype=np.uint8)

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]


def check_bits(bits: int) -> int:
    """``bits`` if it is a valid template length, else ValueError (TypeError if not an int)."""
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise TypeError(f"bits is an int, not {type(bits).__name__}")
    if bits <= 0 or bits % _BLOCK_BITS or bits > _MAX_BITS:
        raise ValueError(f"bits must be a multiple of {_BLOCK_BITS} up to {_MAX_BITS}, got {bits}")
    return bits


def check_bandwidth(bandwidth: float) -> float:
    """``bandwidth`` if it is a usable kernel width in embedding units, else ValueError."""
    if not isinstance(bandwidth, int | float) or isinstance(bandwidth, bool):
        raise TypeError(f"the bandwidth is a number, not {type(bandwidth).__name__}")
    if not _MIN_BANDWIDTH <= bandwidth <= _MAX_BANDWIDTH:
        raise ValueError(
            f"the bandwidth must be {_MIN_BANDWIDTH} to {_MAX_BANDWIDTH}, got {bandwidth}"
        )
    return float(bandwidth)


@dataclass(frozen=True, slots=True, eq=False)
class Transform:
    """The keyed transform of one seed, length and bandwidth. Holds key-equivalent material."""

    bits: int
    bandwidth: float
    frequencies: F64 = field(repr=False)  # features x DIM
    dither: F64 = field(repr=False)  # features, in radians

    @property
    def features(self) -> int:
        return self.bits // 2

    @property
    def template_bytes(self) -> int:
        return self.bits // 8

    def phases(self, embeddings: npt.ArrayLike) -> F64:
        """n x features phases in [0, 2π) (key-equivalent, for tooling and attacks)."""
        arr = as_embeddings(embeddings)
        return np.asarray(np.mod(arr @ self.frequencies.T + self.dither, 2.0 * np.pi))

    def protect(self, embedding: npt.ArrayLike) -> bytes:
        """The template of one embedding."""
        if np.ndim(embedding) != 1:
            raise ValueError(f"one embedding is a vector of {DIM}; use protect_many for more")
        return bytes(self.protect_many(embedding)[0])

    def protect_many(self, embeddings: npt.ArrayLike) -> U8:
        """Templates of n embeddings, as an n x template_bytes gallery matrix."""
        quarter = np.floor(self.phases(embeddings) * (LEVELS / (2.0 * np.pi))).astype(np.intp)
        code = _GRAY[np.minimum(quarter, LEVELS - 1)]  # n x features, 2 bits each
        bits = np.stack([code & 1, code >> 1], axis=2).reshape(len(code), self.bits)
        return np.ascontiguousarray(np.packbits(bits, axis=1, bitorder="little"))


@functools.lru_cache(maxsize=32)
def transform(
    seed: bytes, *, bits: int = DEFAULT_BITS, bandwidth: float = DEFAULT_BANDWIDTH
) -> Transform:
    """The transform for ``seed`` (32 bytes, e.g. ``keys.derive(dep_key, label=...)``).

    Cached like :func:`facegate.templates.hazmat.biohash.transform`.
    """
    if not isinstance(seed, bytes) or len(seed) < 16:
        raise ValueError("the transform seed is a secret of at least 16 bytes")
    check_bits(bits)
    width = check_bandwidth(bandwidth)
    # Length and bandwidth are hashed in, so no variant is a prefix or rescaling of another.
    params = struct.pack(">Id", bits, width)
    digest = hashlib.sha256(_SEED_TAG + params + seed).digest()
    bitgen = np.random.PCG64(np.random.SeedSequence(int.from_bytes(digest, "big")))
    blocks = []
    for _ in range(bits // _BLOCK_BITS):
        directions = keyed_random.orthogonal(bitgen).T  # rows are orthonormal
        # chi(DIM) lengths make each row distributed exactly as a Gaussian vector
        lengths = np.sqrt(
            np.sum(keyed_random.normal(bitgen, DIM * DIM).reshape(DIM, DIM) ** 2, axis=1)
        )
        blocks.append(directions * lengths[:, None])
    frequencies = np.vstack(blocks) / width
    dither = keyed_random.uniform(bitgen, bits // 2) * (2.0 * np.pi)
    for arr in (frequencies, dither):
        arr.setflags(write=False)
    return Transform(bits=bits, bandwidth=width, frequencies=frequencies, dither=dither)


def protect(
    embedding: npt.ArrayLike,
    seed: bytes,
    *,
    bits: int = DEFAULT_BITS,
    bandwidth: float = DEFAULT_BANDWIDTH,
) -> bytes:
    """The phasefold-v1 template of one embedding under ``seed``."""
    return transform(seed, bits=bits, bandwidth=bandwidth).protect(embedding)
