"""Randomness drawn from a key, stable across numpy releases; what an embedding is.

Template transforms are defined by the numbers drawn here, so those numbers must never
change: numpy keeps its bit generator streams (PCG64) stable across releases but not its
distribution samplers, so uniforms, Gaussians and random rotations are made here from the raw
64-bit outputs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["DIM", "MAX_NORM", "MIN_NORM", "as_embeddings", "normal", "orthogonal", "uniform"]

#: the dimension of a dlib face embedding, and of the random rotations
DIM = 128
# dlib descriptors have norms of about 1.3 to 1.7. The bounds are wide on purpose: they only
# catch a zero vector, a unit-normalised vector from another model, or garbage.
MIN_NORM = 0.5
MAX_NORM = 4.0


def uniform(bitgen: np.random.PCG64, n: int) -> npt.NDArray[np.float64]:
    """n doubles in (0, 1) from the raw stream: the top 53 bits, offset by half a step."""
    raw = np.asarray(bitgen.random_raw(n), dtype=np.uint64)
    return ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def normal(bitgen: np.random.PCG64, n: int) -> npt.NDArray[np.float64]:
    """n standard normal samples by Box-Muller over the raw stream."""
    half = (n + 1) // 2
    u1, u2 = uniform(bitgen, half), uniform(bitgen, half)
    radius = np.sqrt(-2.0 * np.log(u1))
    angle = 2.0 * np.pi * u2
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:n]


def orthogonal(bitgen: np.random.PCG64) -> npt.NDArray[np.float64]:
    """A DIM x DIM random orthogonal matrix, uniformly (Haar) distributed."""
    q, r = np.linalg.qr(normal(bitgen, DIM * DIM).reshape(DIM, DIM))
    # QR leaves the signs of Q's columns to the algorithm; fixing diag(R) > 0 makes Q
    # Haar-distributed and independent of the LAPACK build.
    return np.asarray(q * np.sign(np.diag(r)), dtype=np.float64)


def as_embeddings(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``values`` as an n x 128 float64 matrix, refusing anything that is not embeddings."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != DIM:
        raise ValueError(f"an embedding has {DIM} values, got shape {np.shape(values)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("the embedding contains NaN or infinity")
    norms = np.linalg.norm(arr, axis=1)
    if np.any((norms < MIN_NORM) | (norms > MAX_NORM)):
        raise ValueError(
            f"embedding norm {float(norms.min()):.3g}..{float(norms.max()):.3g} is not that "
            f"of a dlib descriptor (about 1.3 to 1.7)"
        )
    return arr
