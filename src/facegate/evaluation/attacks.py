"""Stolen-key attacks: rebuild an embedding from a protected template and its key.

The attacker of ISO/IEC 30136's irreversibility test holds the database and every key (so
the transform seed of the deployment) and a public collection of other people's faces, and
wants an embedding that the *unprotected* system accepts as the template's owner. The
strongest attack implemented for each scheme:

* **biohash-v1** and **biohash-v2**, inversion: XOR the keyed mask off, read each
  direction's thermometer level, take the middle of its quantisation interval, rotate back.
  Exact up to the quantisation.
* **phasefold-v1**, phase retrieval by gradient ascent: decode each feature's quarter-turn,
  then maximise ``Σ cos(w_i · y + d_i - φ_i)`` (the template's own similarity, made smooth)
  with Adam from the best-scoring starting points.
* **every scheme**, a dictionary: the public mean face, each face of the attacker's
  collection, and synthetic faces drawn around the mean with the collection's covariance
  (at full and half spread), scored against the template with the key.

The attacker can check each candidate with the key, so the attack returns the candidate
whose template is most similar to the stolen one. Only the genuine embedding tells whether
it succeeded; the attack never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import _mean_v2, biohash, biohash2, hamming, phasefold
from facegate.templates.hazmat._mean import MEAN
from facegate.templates.scheme import (
    BioHashScheme,
    BioHashV2Scheme,
    PhaseFoldScheme,
    TemplateScheme,
)

__all__ = ["AttackResult", "guesses", "invert"]

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

_MEAN: Final = np.asarray(MEAN, dtype=np.float64)
_MEAN_V2: Final = np.asarray(_mean_v2.MEAN, dtype=np.float64)
#: starting points of the phase-retrieval ascent (the best-scoring candidates)
_STARTS: Final = 8
_STEPS: Final = 200
#: synthetic faces drawn from the attacker's prior, at each spread
_SYNTHETIC: Final = 1000


@dataclass(frozen=True, slots=True, eq=False)
class AttackResult:
    embedding: F64
    #: the protected similarity of the rebuilt embedding to the stolen template
    similarity: float
    #: which attack produced it: "inversion", "ascent", "dictionary" or "mean face"
    method: str


def _scores(scheme: TemplateScheme, seed: bytes, template: bytes, candidates: F64) -> F64:
    gallery = scheme.protect_many(_valid(candidates), seed)
    return np.asarray(hamming.similarity_many(template, gallery), dtype=np.float64)


def _valid(candidates: F64) -> F64:
    # an optimiser may wander out of the plausible norm range the transforms accept
    norms = np.linalg.norm(candidates, axis=1, keepdims=True)
    return np.asarray(candidates * np.clip(norms, 0.6, 3.5) / np.maximum(norms, 1e-12))


def guesses(dictionary: F64, seed: bytes) -> F64:
    """What the attacker can try without looking at the template: the public mean face, the
    collection of other people's faces, and synthetic faces drawn from it (rows)."""
    pool = [_MEAN[None, :]]
    if dictionary.size:
        faces = np.asarray(dictionary, dtype=np.float64)
        pool.append(faces)
        if len(faces) > 2:
            pool.append(_synthetic(faces, seed))
    return np.vstack(pool)


def invert(
    scheme: TemplateScheme, seed: bytes, template: bytes, *, dictionary: F64
) -> AttackResult:
    """The attacker's best embedding for ``template``, made with the transform ``seed``.

    ``dictionary`` holds embeddings of other people (the attacker's public photos).
    """
    pool = [("mean face", _MEAN[None, :])]
    if dictionary.size:
        faces = np.asarray(dictionary, dtype=np.float64)
        pool.append(("dictionary", faces))
        if len(faces) > 2:
            pool.append(("synthetic", _synthetic(faces, seed)))
    if isinstance(scheme, BioHashScheme):
        t = biohash.transform(seed, bits=scheme.bits)
        pool.append(("inversion", _thermometer_inverse(t, template, _MEAN)[None, :]))
    elif isinstance(scheme, BioHashV2Scheme):
        t2 = biohash2.transform(seed)
        pool.append(("inversion", _thermometer_inverse(t2, template, _MEAN_V2)[None, :]))
    elif isinstance(scheme, PhaseFoldScheme):
        seeds = np.vstack([c for _, c in pool])
        best = seeds[np.argsort(-_scores(scheme, seed, template, seeds))[:_STARTS]]
        pool.append(("ascent", _phase_ascent(scheme, seed, template, best)))
    labels = [label for label, c in pool for _ in range(len(c))]
    candidates = np.vstack([c for _, c in pool])
    scores = _scores(scheme, seed, template, candidates)
    k = int(np.argmax(scores))
    return AttackResult(candidates[k], float(scores[k]), labels[k])


def _synthetic(faces: F64, seed: bytes) -> F64:
    """Faces drawn from a Gaussian fitted to the attacker's collection, around the public
    mean, at full and at half spread (closer to the middle, where most people are near)."""
    rng = np.random.default_rng(int.from_bytes(seed[:8], "big"))
    centred = faces - faces.mean(axis=0)
    cov = centred.T @ centred / max(1, len(faces) - 1) + 1e-6 * np.eye(faces.shape[1])
    draws = rng.multivariate_normal(np.zeros(faces.shape[1]), cov, size=_SYNTHETIC)
    scale = np.where(np.arange(_SYNTHETIC) % 2 == 0, 1.0, 0.5)[:, None]
    return np.asarray(_MEAN + scale * draws)


def _thermometer_inverse(
    t: biohash.Transform | biohash2.Transform, template: bytes, mean: F64
) -> F64:
    """Each direction's level gives an interval of its projection; rotate the middles back."""
    raw = np.frombuffer(template, dtype=np.uint8) ^ t.mask
    above = np.unpackbits(raw, bitorder="little").reshape(-1, biohash.LEVELS)
    level = above.sum(axis=1)  # how many thresholds each projection exceeds
    th = t.thresholds
    step = th[:, 1] - th[:, 0]
    lower = np.where(level > 0, th[np.arange(len(th)), np.maximum(level - 1, 0)], th[:, 0] - step)
    upper = np.where(
        level < biohash.LEVELS,
        th[np.arange(len(th)), np.minimum(level, biohash.LEVELS - 1)],
        th[:, -1] + step,
    )
    projections = (lower + upper) / 2.0
    # the rotation is a stack of orthogonal blocks: least squares is the mean of R_k^T p_k
    blocks = t.rotation.shape[0] // biohash.DIM
    centred = t.rotation.T @ projections / blocks
    return np.asarray(centred + mean)


def _phase_ascent(scheme: PhaseFoldScheme, seed: bytes, template: bytes, starts: F64) -> F64:
    t = phasefold.transform(seed, bits=scheme.bits, bandwidth=scheme.bandwidth)
    bits = np.unpackbits(np.frombuffer(template, dtype=np.uint8), bitorder="little")
    gray = bits[0::2] | (bits[1::2] << 1)
    quarter = np.array([0, 1, 3, 2])[gray]  # inverse of the Gray code
    target = (quarter + 0.5) * (np.pi / 2.0)  # the middle of each quarter-turn
    # float32 halves the cost; the optimum is refined well below the quantisation anyway
    w = t.frequencies.astype(np.float32)
    d = (t.dither - target).astype(np.float32)
    y = np.array(starts, dtype=np.float32)
    m, v = np.zeros_like(y), np.zeros_like(y)
    lr = 0.04 * scheme.bandwidth
    for step in range(1, _STEPS + 1):
        residual = y @ w.T + d  # starts x features: phase minus the cell's middle
        grad = -(np.sin(residual) @ w) / w.shape[0]  # ascent direction of mean cos
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        rate = lr * (0.1 + 0.9 * (1.0 - step / _STEPS))  # anneal to settle in a peak
        y = y + rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-12)
    return np.asarray(y, dtype=np.float64)
