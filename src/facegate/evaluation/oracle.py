"""The bound on every scheme: an ideal template that reveals nothing but accept or reject.

Whatever a protection scheme stores, an attacker who holds the database and every key can
run the comparison offline, so the least a stolen template gives away is an *oracle*: for
any embedding the attacker makes up, "would this be accepted as the person?". The best
template protection conceivable leaks exactly that and nothing else. Modelled here as a
ball: it accepts a probe within euclidean distance ``radius`` of the enrolled embedding
(what the raw system does, so it costs accuracy only through the radius), and, having
accepted, scores the pair as the raw system does.

The attack on the oracle uses the same guesses as the attacks on the real schemes
(:func:`facegate.evaluation.attacks.guesses`: the public mean face, other people's faces,
synthetic faces drawn from them). One accepted guess is enough: from a point inside a ball,
bisecting towards the outside along each of the 128 axes finds the boundary, and the
boundary gives the centre, the enrolled embedding, in a few thousand more offline queries.
So the share of targets for which some guess is accepted is what the ideal scheme concedes
at that radius; no real scheme can do better against this attacker at the same accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.evaluation import metrics
from facegate.evaluation.attacks import guesses
from facegate.evaluation.datasets import Comparisons
from facegate.templates.hazmat._mean import MEAN

__all__ = ["CURVE_RADII", "OracleFigures", "oracle_bound", "oracle_curve", "oracle_figures"]

Ints = npt.NDArray[np.intp]

_REJECTED = -1e9


@dataclass(frozen=True, slots=True)
class OracleFigures:
    radius: float
    accuracy: float
    unprotected_accuracy: float
    #: share of targets for which a guess is accepted (and the embedding then found), or
    #: the public mean face is accepted by the raw system at its reference threshold
    stolen_key_attack_acceptance: float


def oracle_figures(
    data: Comparisons,
    *,
    radius: float,
    unprotected_accuracy: float,
    reference_threshold: float,
    targets: Ints,
    seed: int = 0,
) -> OracleFigures:
    """Accuracy and attack of the ideal accept/reject template of ``radius`` on one set."""
    x = data.embeddings
    distance = np.linalg.norm(x[data.a] - x[data.b], axis=1)
    scores = np.where(distance <= radius, -distance, _REJECTED)
    accuracy = metrics.kfold_accuracy(scores, data.same, data.folds)
    rng = np.random.default_rng(seed)
    mean = np.asarray(MEAN, dtype=np.float64)
    accepted = []
    for target in targets:
        tries = guesses(x[data.people != data.people[target]], rng.bytes(32))
        nearest = float(np.linalg.norm(tries - x[target], axis=1).min())
        mean_face = float(np.linalg.norm(x[target] - mean)) <= reference_threshold
        accepted.append(nearest <= radius or mean_face)
    return OracleFigures(
        radius=radius,
        accuracy=accuracy,
        unprotected_accuracy=unprotected_accuracy,
        stolen_key_attack_acceptance=float(np.mean(accepted)) if accepted else 0.0,
    )


#: radii of the fine curve that :func:`oracle_bound` reads "the same accuracy" off
CURVE_RADII: Final = tuple(round(0.30 + 0.01 * k, 2) for k in range(61))


def oracle_curve(
    data: Comparisons,
    *,
    unprotected_accuracy: float,
    reference_threshold: float,
    targets: Ints,
    radii: Sequence[float] = CURVE_RADII,
    seed: int = 0,
) -> tuple[OracleFigures, ...]:
    """:func:`oracle_figures` at many radii, drawing the attacker's guesses once."""
    x = data.embeddings
    distance = np.linalg.norm(x[data.a] - x[data.b], axis=1)
    rng = np.random.default_rng(seed)
    mean = np.asarray(MEAN, dtype=np.float64)
    nearest, mean_ok = [], []
    for target in targets:
        tries = guesses(x[data.people != data.people[target]], rng.bytes(32))
        nearest.append(float(np.linalg.norm(tries - x[target], axis=1).min()))
        mean_ok.append(float(np.linalg.norm(x[target] - mean)) <= reference_threshold)
    near, by_mean = np.asarray(nearest), np.asarray(mean_ok, dtype=bool)
    out = []
    for radius in radii:
        scores = np.where(distance <= radius, -distance, _REJECTED)
        accepted = (near <= radius) | by_mean
        out.append(
            OracleFigures(
                radius=float(radius),
                accuracy=metrics.kfold_accuracy(scores, data.same, data.folds),
                unprotected_accuracy=unprotected_accuracy,
                stolen_key_attack_acceptance=float(accepted.mean()) if accepted.size else 0.0,
            )
        )
    return tuple(out)


def oracle_bound(curve: Sequence[OracleFigures], accuracy: float) -> float | None:
    """The ideal scheme's attack acceptance at ``accuracy``: at the smallest radius of the
    curve whose accuracy reaches it (None if no radius does)."""
    for point in sorted(curve, key=lambda f: f.radius):
        if point.accuracy >= accuracy - 1e-12:
            return point.stolen_key_attack_acceptance
    return None
