"""A secure sketch for dlib embeddings, measured but not offered as a scheme.

Every scheme facegate stores compares templates by a *graded* similarity, and a graded
similarity is a slope: an attacker holding the key climbs it (:mod:`.attacks`). The family
that hides the slope is the secure sketch, or fuzzy commitment; IronMask (Kim et al., CVPR
2021) is its best-known form for face embeddings, and is what this module measures:

1. centre the embedding on the public mean face and scale it to unit length: ``t``;
2. draw a random codeword ``c``: ``alpha`` of the 128 coordinates set to ``±1/sqrt(alpha)``,
   the rest zero (``C(128, alpha) * 2^alpha`` codewords);
3. draw a random orthogonal ``P`` with ``P t = c`` (a Haar-random rotation followed by the
   rotation, in the plane of the two, that takes its image of ``t`` to ``c``);
4. store ``P`` and ``SHA-256(c)`` only. ``P`` alone is consistent with every codeword.

A probe ``t'`` is accepted when the codeword nearest ``P t'`` (its ``alpha`` largest
coordinates, with their signs) hashes to the stored digest; the verifier then holds
``c`` and so ``t = Pᵀc`` exactly, and can compare with the raw system's own distance. There
is no key: an attacker who steals everything sees ``P`` and the digest, and can only guess
faces and check them, all or nothing. What the guesses win is measured here, beside what
the sketch costs in accuracy, so that the trade-off table of
``docs/template-protection.md`` covers this family too.

This is measurement code: random draws come from a seeded generator, and ``P`` would take
``128 * 128 * 2`` bytes as float16 per template.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.evaluation import metrics
from facegate.evaluation.attacks import guesses
from facegate.evaluation.datasets import Comparisons
from facegate.templates.hazmat._mean import MEAN

__all__ = ["SketchFigures", "codebook_bits", "decode", "enroll", "sketch_figures"]

F64 = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

DIM: Final = 128
_MEAN: Final = np.asarray(MEAN, dtype=np.float64)
#: the raw-distance score given to a pair whose probe does not open the sketch
_REJECTED: Final = -1e9
#: a codebook this small is searched outright: 2^40 SHA-256 hashes are about a day of one
#: GPU, so every target counts as opened
BRUTE_FORCE_BITS: Final = 40.0


def codebook_bits(alpha: int) -> float:
    """log2 of the number of codewords: the cost of guessing ``c`` outright, in hashes."""
    return math.log2(math.comb(DIM, alpha)) + alpha


def _unit(embeddings: F64) -> F64:
    centred = np.atleast_2d(np.asarray(embeddings, dtype=np.float64)) - _MEAN
    # the mean face itself has no direction: it stays the zero vector and opens nothing
    norms = np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    return np.asarray(centred / norms)


def _digest(support: Ints, signs: npt.NDArray[np.int8]) -> bytes:
    order = np.argsort(support)
    packed = np.stack([support[order], signs[order]]).astype(np.int16).tobytes()
    return hashlib.sha256(b"sketch codeword\x00" + packed).digest()


@dataclass(frozen=True, slots=True, eq=False)
class Sketch:
    rotation: F64  # P, orthogonal, P t = c
    digest: bytes  # SHA-256 of c


def enroll(embedding: F64, *, alpha: int, rng: np.random.Generator) -> Sketch:
    """The sketch of one embedding, with a fresh random codeword and rotation."""
    t = _unit(embedding)[0]
    support = rng.choice(DIM, alpha, replace=False)
    signs = rng.choice(np.array([-1, 1], dtype=np.int8), alpha)
    c = np.zeros(DIM)
    c[support] = signs / math.sqrt(alpha)
    q, r = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    q = q * np.sign(np.diag(r))  # Haar-distributed
    u = q @ t
    # the rotation in the plane of u and c that takes u to c
    cos = float(np.clip(u @ c, -1.0, 1.0))
    w = c - cos * u
    norm = float(np.linalg.norm(w))
    if norm < 1e-12:
        plane = np.eye(DIM)
    else:
        w /= norm
        sin = math.sqrt(max(0.0, 1.0 - cos * cos))
        plane = (
            np.eye(DIM)
            + (cos - 1.0) * (np.outer(u, u) + np.outer(w, w))
            + sin * (np.outer(w, u) - np.outer(u, w))
        )
    return Sketch(rotation=plane @ q, digest=_digest(support, signs))


def decode(sketch: Sketch, probes: F64, *, alpha: int) -> npt.NDArray[np.bool_]:
    """Whether each probe embedding opens ``sketch`` (its nearest codeword hashes right)."""
    v = _unit(probes) @ sketch.rotation.T
    top = np.argpartition(-np.abs(v), alpha - 1, axis=1)[:, :alpha]
    signs = np.where(np.take_along_axis(v, top, axis=1) >= 0, 1, -1).astype(np.int8)
    return np.array([_digest(top[i], signs[i]) == sketch.digest for i in range(len(v))], dtype=bool)


@dataclass(frozen=True, slots=True)
class SketchFigures:
    name: str
    alpha: int
    codebook_bits: float
    accuracy: float
    unprotected_accuracy: float
    #: share of attack targets for which the attacker ends with an embedding the raw
    #: system accepts: a guess opened the sketch (then ``t = Pᵀc`` exactly), or else the
    #: public mean face, which needs no template, is accepted
    stolen_key_attack_acceptance: float
    #: share of targets opened by a guess or, for a codebook of at most BRUTE_FORCE_BITS,
    #: by trying every codeword (the rest of the acceptance is the mean face's)
    opened_by_guess: float
    template_bytes: int


def sketch_figures(
    data: Comparisons,
    *,
    alpha: int,
    unprotected_accuracy: float,
    reference_threshold: float,
    targets: Ints,
    seed: int = 0,
) -> SketchFigures:
    """Accuracy and stolen-template attack of the sketch with ``alpha`` on one set."""
    rng = np.random.default_rng(seed)
    x = data.embeddings
    sketches = {int(i): enroll(x[i], alpha=alpha, rng=rng) for i in np.unique(data.a)}
    opened = np.zeros(len(data.a), dtype=bool)
    for i, sketch in sketches.items():
        rows = np.flatnonzero(data.a == i)
        opened[rows] = decode(sketch, x[data.b[rows]], alpha=alpha)
    distance = np.linalg.norm(x[data.a] - x[data.b], axis=1)
    # opened: the verifier holds t exactly, and compares as the raw system does
    scores = np.where(opened, -distance, _REJECTED)
    accuracy = metrics.kfold_accuracy(scores, data.same, data.folds)

    accepted, guessed = [], []
    for target in targets:
        sketch = enroll(x[target], alpha=alpha, rng=rng)
        # the attacker's collection: other people only (as in the attacks on the schemes)
        tries = guesses(x[data.people != data.people[target]], rng.bytes(32))
        brute = codebook_bits(alpha) <= BRUTE_FORCE_BITS
        hit = brute or bool(decode(sketch, tries, alpha=alpha).any())
        guessed.append(hit)
        mean_face = float(np.linalg.norm(x[target] - _MEAN)) <= reference_threshold
        accepted.append(hit or mean_face)
    return SketchFigures(
        name=f"sketch@a={alpha}",
        alpha=alpha,
        codebook_bits=codebook_bits(alpha),
        accuracy=accuracy,
        unprotected_accuracy=unprotected_accuracy,
        stolen_key_attack_acceptance=float(np.mean(accepted)) if accepted else 0.0,
        opened_by_guess=float(np.mean(guessed)) if guessed else 0.0,
        template_bytes=DIM * DIM * 2 + 32,
    )
